#include <pressure/admit.hpp>
#include <pressure/window.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

namespace pressure {

Result<Admission> admit(const Target& target, const std::vector<Condition>& conditions,
                        const ReaderOptions& options) {
  if (conditions.empty()) return fail(Errc::invalid_argument, "admit needs at least one condition");
  Reader reader(target, options);
  std::chrono::microseconds longest{0};
  for (const Condition& c : conditions) {
    if (c.metric == Condition::Metric::window) longest = std::max(longest, c.window);
  }
  Result<Snapshot> before = reader.snapshot();
  if (!before) return tl::unexpected(before.error());
  Snapshot after = *before;
  if (longest.count() > 0) {
    std::this_thread::sleep_for(longest);
    Result<Snapshot> again = reader.snapshot();
    if (!again) return tl::unexpected(again.error());
    after = std::move(*again);
  }
  Admission a;
  a.admitted = true;
  std::string values, refused;
  for (const Condition& c : conditions) {
    const Result<Pressure>& p = after[c.resource];
    if (!p) return tl::unexpected(p.error());
    const std::optional<Stall>& stall = (*p)[c.line];
    if (!stall)
      return fail(Errc::unavailable, "the kernel prints no '" + std::string(to_string(c.line)) +
                                         "' line for " + std::string(to_string(c.resource)) + " here");
    double value = 0;
    if (auto avg = c.average(*stall)) {
      value = avg->value();
    } else {
      const Result<Pressure>& p0 = (*before)[c.resource];
      // The share over the sampled span: the longest window (shorter windows see the same
      // stretch, which is the best estimate two samples give).
      value = p0 && (*p0)[c.line]
                  ? stall_share(*(*p0)[c.line], *stall, after.monotonic - before->monotonic) * 100.0
                  : std::nan("");
    }
    a.measured.push_back(value);
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s=%.2f%%", c.subject().c_str(), value);
    values += (values.empty() ? "" : ", ") + std::string(buf);
    if (!c.holds(value) && refused.empty()) {
      a.admitted = false;
      char limit[48];
      std::snprintf(limit, sizeof limit, "%g%%", c.percent);
      refused = std::string(buf) + " is not " + std::string(to_string(c.op)) + limit;
    }
  }
  a.reason = a.admitted ? "admitted: " + values : "refused: " + refused;
  return a;
}

}  // namespace pressure
