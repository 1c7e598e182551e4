// Stall share over any window, from `total` deltas: no EWMA lag, no 2 s steps.
//
//   auto before = reader.snapshot();  sleep(1);  auto after = reader.snapshot();
//   double s = pressure::stall_share(*before, *after, pressure::Resource::memory,
//                                    pressure::Line::full);   // 0.25 = stalled 25 % of the time
#pragma once

#include <chrono>

#include <pressure/types.hpp>

namespace pressure {

// Fraction of `elapsed` spent stalled, in [0, 1]. NaN when elapsed is not positive or the
// counter went backwards (the cgroup was recreated).
double stall_share(const Stall& before, const Stall& after, std::chrono::nanoseconds elapsed);

// The same between two snapshots of one target. NaN when the line is absent in either.
double stall_share(const Snapshot& before, const Snapshot& after, Resource resource, Line line);

}  // namespace pressure
