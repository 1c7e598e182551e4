#include "recorder/history.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace pressure::recorder {

double Interval::share() const {
  if (end_us <= start_us) return 0.0;
  return std::min(1.0, static_cast<double>(stall_us) / static_cast<double>(end_us - start_us));
}

std::vector<Interval> intervals(const Series& series) {
  std::vector<Interval> out;
  for (std::size_t i = 1; i < series.points.size(); ++i) {
    const Point& a = series.points[i - 1];
    const Point& b = series.points[i];
    if (b.time_us <= a.time_us || b.total_us < a.total_us) continue;
    // Stall can never exceed the time that passed; clamp rather than report over 100 %.
    std::uint64_t span = static_cast<std::uint64_t>(b.time_us - a.time_us);
    out.push_back(Interval{a.time_us, b.time_us, std::min(b.total_us - a.total_us, span)});
  }
  return out;
}

Summary summarize(const Series& series, std::chrono::microseconds window) {
  Summary s;
  s.target = series.target;
  s.resource = series.resource;
  s.line = series.line;
  for (std::size_t k = 0; k < series.points.size(); ++k)
    if (k == 0 || series.points[k].avg10 > s.max_avg10) {
      s.max_avg10 = series.points[k].avg10;
      s.max_avg10_us = series.points[k].time_us;
    }
  std::vector<Interval> all = intervals(series);
  if (all.empty()) return s;
  for (std::size_t k = 0; k < all.size(); ++k) {
    const Interval& i = all[k];
    s.covered_us += i.end_us - i.start_us;
    s.stall_us += i.stall_us;
    if (k == 0 || i.share() > s.peak_share) {
      s.peak_share = i.share();
      s.peak_start_us = i.start_us;
      s.peak_end_us = i.end_us;
    }
  }
  s.share = s.covered_us > 0 ? static_cast<double>(s.stall_us) / static_cast<double>(s.covered_us) : 0.0;

  // Worst window: runs of consecutive intervals spanning about `window` (at least 90 % of it,
  // or the whole period when it is shorter), with prefix sums over stall and covered time.
  std::int64_t w = std::max<std::int64_t>(1, window.count());
  std::int64_t whole = all.back().end_us - all.front().start_us;
  std::int64_t least = whole < w ? whole : w - w / 10;
  std::vector<std::uint64_t> stall(all.size() + 1, 0);
  std::vector<std::int64_t> covered(all.size() + 1, 0);
  for (std::size_t i = 0; i < all.size(); ++i) {
    stall[i + 1] = stall[i] + all[i].stall_us;
    covered[i + 1] = covered[i] + (all[i].end_us - all[i].start_us);
  }
  std::size_t j = 0;
  bool found = false;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (j < i) j = i;
    // Grow [i, j] while it stays within the window.
    while (j + 1 < all.size() && all[j + 1].end_us - all[i].start_us <= w) ++j;
    std::int64_t span = all[j].end_us - all[i].start_us;
    if (span < least) continue;
    std::int64_t cov = covered[j + 1] - covered[i];
    double share = cov > 0 ? static_cast<double>(stall[j + 1] - stall[i]) / static_cast<double>(cov) : 0.0;
    if (!found || share > s.worst_share) {
      found = true;
      s.worst_share = share;
      s.worst_start_us = all[i].start_us;
      s.worst_end_us = all[j].end_us;
    }
  }
  if (!found) {  // every interval is longer than the window (downsampled data): the peak is it
    s.worst_share = s.peak_share;
    s.worst_start_us = s.peak_start_us;
    s.worst_end_us = s.peak_end_us;
  }
  return s;
}

double Episode::share() const {
  if (end_us <= start_us) return 0.0;
  return std::min(1.0, static_cast<double>(stall_us) / static_cast<double>(end_us - start_us));
}

std::vector<Episode> episodes(const Series& series, double threshold, std::chrono::microseconds min_length) {
  std::vector<Episode> out;
  std::optional<Episode> open;
  auto close = [&] {
    if (open && open->end_us - open->start_us >= min_length.count()) out.push_back(*open);
    open.reset();
  };
  for (const Interval& i : intervals(series)) {
    if (i.share() < threshold) {
      close();
      continue;
    }
    if (open && open->end_us == i.start_us) {
      open->end_us = i.end_us;
      open->stall_us += i.stall_us;
    } else {
      close();
      open = Episode{i.start_us, i.end_us, i.stall_us};
    }
  }
  close();
  return out;
}

std::vector<double> resample(const Series& series, std::int64_t since_us, std::int64_t until_us,
                             std::size_t count) {
  std::vector<double> stall(count, 0.0), covered(count, 0.0);
  std::vector<double> out(count, std::numeric_limits<double>::quiet_NaN());
  if (count == 0 || until_us <= since_us) return out;
  double width = static_cast<double>(until_us - since_us) / static_cast<double>(count);
  for (const Interval& i : intervals(series)) {
    // Spread the interval's stall evenly over its time, into the buckets it overlaps.
    double a = static_cast<double>(std::max(i.start_us, since_us) - since_us);
    double b = static_cast<double>(std::min(i.end_us, until_us) - since_us);
    if (b <= a) continue;
    double rate = i.share();
    auto first =
        static_cast<std::size_t>(std::clamp(std::floor(a / width), 0.0, static_cast<double>(count - 1)));
    auto last =
        static_cast<std::size_t>(std::clamp(std::floor(b / width), 0.0, static_cast<double>(count - 1)));
    for (std::size_t k = first; k <= last; ++k) {
      double lo = std::max(a, static_cast<double>(k) * width);
      double hi = std::min(b, static_cast<double>(k + 1) * width);
      if (hi <= lo) continue;
      covered[k] += hi - lo;
      stall[k] += (hi - lo) * rate;
    }
  }
  for (std::size_t k = 0; k < count; ++k)
    if (covered[k] > 0) out[k] = stall[k] / covered[k];
  return out;
}

}  // namespace pressure::recorder
