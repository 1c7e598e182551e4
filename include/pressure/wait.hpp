// Sleeping until pressure has ended, instead of sampling it: the decay model says when the
// kernel's averages can first be below their thresholds, and the reader looks only then.
//
//   pressure::Reader reader{pressure::Target::cgroup("vm.slice")};
//   auto ended = pressure::wait_until_ended(reader, pressure::Resource::memory, pressure::Line::full,
//                                           {}, std::chrono::minutes(10));
//   if (ended && *ended) release_memory();     // avg10 < 0.01, avg60 < 0.03, total flat for 10 s
#pragma once

#include <chrono>

#include <pressure/decay.hpp>
#include <pressure/reader.hpp>

namespace pressure {

// True once PressureEnded says so, false if `timeout` passes first. Between looks it sleeps
// until the verdict's next_check (at most until the timeout): if no new stall comes, a look
// or two is all it takes.
Result<bool> wait_until_ended(Reader& reader, Resource resource, Line line, EndCriteria criteria,
                              std::chrono::nanoseconds timeout);

}  // namespace pressure
