// The kernel's PSI averaging in its own fixed point (kernel/sched/psi.c,
// include/linux/sched/loadavg.h): what time_until_below() and PressureEnded compute with, and
// what the tests check against live kernels. Internal to the library: the public API is
// <pressure/decay.hpp>.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <utility>

#include <pressure/decay.hpp>

namespace pressure {

// A value x in the kernel's fixed point means x / 2048 percent.
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

// The reference's closed-form upper bound (pure exponential, no truncation), for comparison:
// floor(ln(T/A) / ln r) + 1 updates, 0 when A < T (and when T <= 0 or either is NaN).
unsigned closed_form_updates(double from_percent, double threshold_percent, Average average);

}  // namespace pressure
