// The whole library: #include <pressure/pressure.hpp> (every public header; the
// `public_headers` test holds it to that).
//
//   pressure::Result<pressure::Pressure> m = pressure::memory();
//   if (m && m->full) std::cout << m->full->avg10 << "% " << m->full->total_us << "us\n";
#pragma once

#include <pressure/admit.hpp>
#include <pressure/cgroup_identity.hpp>
#include <pressure/cgroup_set.hpp>
#include <pressure/condition.hpp>
#include <pressure/decay.hpp>
#include <pressure/environment.hpp>
#include <pressure/error.hpp>
#include <pressure/io.hpp>
#include <pressure/levels.hpp>
#include <pressure/memory.hpp>
#include <pressure/monitor.hpp>
#include <pressure/parse.hpp>
#include <pressure/reader.hpp>
#include <pressure/selector.hpp>
#include <pressure/trigger.hpp>
#include <pressure/types.hpp>
#include <pressure/version.hpp>
#include <pressure/wait.hpp>
#include <pressure/window.hpp>
