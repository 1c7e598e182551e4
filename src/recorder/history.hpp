// Answers from a recorded history: how much each line of each target stalled over a period, its
// worst window and its peak, and the share over equal buckets for plotting. Pure: works on the
// Series a Store returns.
//
//   auto series = store.series("/batch.slice", since_us, until_us);
//   for (auto& s : *series) { Summary sum = summarize(s, std::chrono::minutes(1)); ... }
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "recorder/store.hpp"

namespace pressure::recorder {

// The stall between two consecutive points of a series. A counter that went backwards (the
// cgroup was recreated, the machine rebooted) gives no interval there.
struct Interval {
  std::int64_t start_us = 0, end_us = 0;
  std::uint64_t stall_us = 0;
  double share() const;  // 0..1
};
std::vector<Interval> intervals(const Series& series);

struct Summary {
  std::string target;
  Resource resource = Resource::cpu;
  Line line = Line::some;
  std::int64_t covered_us = 0;  // time with a known stall (sum of intervals)
  std::uint64_t stall_us = 0;   // stalled within it
  double share = 0;             // stall / covered, 0..1 (0 when nothing is covered)
  // The worst window of about `window` (consecutive intervals) and the worst single interval.
  double worst_share = 0;
  std::int64_t worst_start_us = 0, worst_end_us = 0;
  double peak_share = 0;
  std::int64_t peak_start_us = 0, peak_end_us = 0;
  Percent max_avg10;  // the kernel's highest 10 s average seen, and when
  std::int64_t max_avg10_us = 0;
};
Summary summarize(const Series& series, std::chrono::microseconds window);

// A stretch of consecutive intervals each stalled at least a threshold: "when" it was short.
struct Episode {
  std::int64_t start_us = 0, end_us = 0;
  std::uint64_t stall_us = 0;
  double share() const;  // over the episode, 0..1
};
// Episodes of at least `min_length`, in time order.
std::vector<Episode> episodes(const Series& series, double threshold, std::chrono::microseconds min_length);

// The share in each of `count` equal buckets of [since, until]: stall over covered time of the
// intervals (or their parts) inside the bucket; NaN where nothing is covered.
std::vector<double> resample(const Series& series, std::int64_t since_us, std::int64_t until_us,
                             std::size_t count);

}  // namespace pressure::recorder
