// The kernel's PSI averages reproduced exactly, so a program can predict when avg10/avg60/avg300
// will have decayed below a threshold and sleep until then instead of sampling.
//
//   auto t = pressure::time_until_below(m->full->avg10, pressure::Average::avg10,
//                                       pressure::Percent::from_hundredths(1));
//   if (!t.never) sleep_for(t.latest);       // printed avg10 is 0.00 by then, if no new stall
//
//   pressure::PressureEnded ended{pressure::Resource::memory, pressure::Line::full, {}};
//   auto verdict = ended.observe(*reader.snapshot());   // ended? else when to look again
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <pressure/error.hpp>
#include <pressure/types.hpp>

namespace pressure {

enum class Average { avg10, avg60, avg300 };
inline constexpr std::array<Average, 3> k_averages{Average::avg10, Average::avg60, Average::avg300};
std::string_view to_string(Average average) noexcept;
Percent average_of(const Stall& stall, Average average);

struct DecayPrediction {
  bool never = false;                    // the background stall keeps the average at or above the threshold
  unsigned updates_min = 0;              // kernel updates until the printed value is below the threshold,
  unsigned updates_max = 0;              // for the lowest and highest true value behind the printed one
  std::chrono::nanoseconds earliest{0};  // wall time bounds: the phase of the kernel's 2 s
  std::chrono::nanoseconds latest{0};    // clock is unknown to user space
  std::chrono::nanoseconds estimate{0};
};

// When the printed `average`, now `printed`, falls strictly below `threshold`, if every period
// from now on carries `background_percent` of stall (the kernel truncates to whole percents).
DecayPrediction time_until_below(Percent printed, Average average, Percent threshold,
                                 unsigned background_percent = 0);

// "avg10=0.01,avg60=0.03": each average to be strictly below its value.
struct Thresholds {
  std::array<std::optional<Percent>, 3> below;
  std::optional<Percent>& operator[](Average a) { return below[static_cast<std::size_t>(a)]; }
  const std::optional<Percent>& operator[](Average a) const { return below[static_cast<std::size_t>(a)]; }
  std::string to_string() const;
};
Result<Thresholds> parse_thresholds(std::string_view text);

// The latest of the per-average predictions for one line: when all listed averages are below.
DecayPrediction time_until_below(const Stall& printed, const Thresholds& thresholds,
                                 unsigned background_percent = 0);

// "Pressure has ended": `total` has not moved for `quiet` and every listed average is below its
// threshold. observe() says whether it has, and if not, when it can next be true if no new
// stall comes, so a caller sleeps until then instead of sampling.
struct EndCriteria {
  Thresholds below = default_thresholds();
  std::chrono::nanoseconds quiet{std::chrono::seconds(10)};
  static Thresholds default_thresholds();  // avg10 < 0.01 and avg60 < 0.03
};

class PressureEnded {
 public:
  PressureEnded(Resource resource, Line line, EndCriteria criteria);

  struct Verdict {
    bool ended = false;
    std::chrono::steady_clock::time_point next_check;  // when it can first be true
    std::string reason;                                // why not yet, for people
  };
  Verdict observe(const Snapshot& snapshot);

 private:
  Resource m_resource;
  Line m_line;
  EndCriteria m_criteria;
  std::optional<std::uint64_t> m_last_total;
  std::chrono::steady_clock::time_point m_last_moved;
};

}  // namespace pressure
