// Arming a kernel PSI trigger: open the pressure file for writing, write the spec, keep the fd.
#pragma once

#include <string>

#include <pressure/io.hpp>
#include <pressure/trigger.hpp>

#include "sys/fd.hpp"
#include "sys/files.hpp"

namespace pressure::sys {

// An armed trigger on `path` (a /proc/pressure file or a cgroup's X.pressure), ready for epoll
// with EPOLLPRI. Errors say why the kernel refused: permission (also the unprivileged 2 s
// window rule), unsupported (PSI disabled), gone (dead cgroup), invalid_argument.
Result<Fd> arm_trigger(const Io& io, const std::string& path, Scope scope, const TriggerSpec& spec);

}  // namespace pressure::sys
