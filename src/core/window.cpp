#include <pressure/window.hpp>

#include <algorithm>
#include <limits>

namespace pressure {

double stall_share(const Stall& before, const Stall& after, std::chrono::nanoseconds elapsed) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (elapsed.count() <= 0 || after.total_us < before.total_us) return nan;
  double stalled_ns = static_cast<double>(after.total_us - before.total_us) * 1000.0;
  // The kernel aggregates per-CPU times, so a delta can exceed the wall window by a hair.
  return std::clamp(stalled_ns / static_cast<double>(elapsed.count()), 0.0, 1.0);
}

double stall_share(const Snapshot& before, const Snapshot& after, Resource resource, Line line) {
  const Result<Pressure>& b = before[resource];
  const Result<Pressure>& a = after[resource];
  if (!b || !a || !(*b)[line] || !(*a)[line]) return std::numeric_limits<double>::quiet_NaN();
  return stall_share(*(*b)[line], *(*a)[line], after.monotonic - before.monotonic);
}

}  // namespace pressure
