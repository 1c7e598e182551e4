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

// kernel/sched/psi.c and include/linux/sched/loadavg.h, in the kernel's fixed point: a value x
// means x / 2048 percent.
namespace ewma {
inline constexpr unsigned k_fshift = 11;
inline constexpr std::uint64_t k_fixed_1 = 1ULL << k_fshift;
inline constexpr std::array<std::uint64_t, 3> k_exp{1677, 1981, 2034};  // EXP_10s, EXP_60s, EXP_300s
// PSI_FREQ is 2*HZ+1 jiffies: 2 s plus one tick, 2.001 s at HZ=1000 to 2.010 s at HZ=100.
inline constexpr std::chrono::nanoseconds k_period_min{2'001'000'000};
inline constexpr std::chrono::nanoseconds k_period_max{2'010'000'000};
inline constexpr std::chrono::nanoseconds k_period_typical{2'004'000'000};  // HZ=250

// newload = load*exp + active*(FIXED_1-exp), rounded up when rising, floored when falling.
std::uint64_t calc_load(std::uint64_t load, std::uint64_t exp, std::uint64_t active);
// exp^n in fixed point, rounding at every multiply, as the kernel does for missed periods.
std::uint64_t fixed_power_int(std::uint64_t x, unsigned frac_bits, unsigned n);
std::uint64_t calc_load_n(std::uint64_t load, std::uint64_t exp, std::uint64_t active, unsigned n);
// What the pressure file prints for x: LOAD_INT.LOAD_FRAC, truncated.
Percent printed(std::uint64_t fixed);
// The fixed-point values that print as `p`: [first, last].
std::pair<std::uint64_t, std::uint64_t> fixed_range(Percent p);
}  // namespace ewma

// One group's three averages, advanced exactly as update_averages()/calc_avgs() do.
class KernelAverages {
 public:
  KernelAverages() = default;
  // Starts from the printed values (the lowest fixed value that prints so).
  explicit KernelAverages(const Stall& printed);
  // One period passed with `stall` of it stalled (capped at the period, then truncated to a
  // whole percent); `missed` periods before it had no update and count as zero stall.
  void update(std::chrono::nanoseconds stall, std::chrono::nanoseconds period = ewma::k_period_typical,
              unsigned missed = 0);
  std::uint64_t fixed(Average a) const { return m_fixed[static_cast<std::size_t>(a)]; }
  void set_fixed(Average a, std::uint64_t value) { m_fixed[static_cast<std::size_t>(a)] = value; }
  Percent printed(Average a) const { return ewma::printed(fixed(a)); }

 private:
  std::array<std::uint64_t, 3> m_fixed{};
};

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

// The reference's closed-form upper bound (pure exponential, no truncation), for comparison:
// floor(ln(T/A) / ln r) + 1 updates, 0 when A < T (and when T <= 0 or either is NaN).
unsigned closed_form_updates(double from_percent, double threshold_percent, Average average);

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
