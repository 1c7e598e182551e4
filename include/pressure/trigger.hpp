// Trigger specs: "how much stall within how long", as users write them and as the kernel wants.
//
//   auto spec = pressure::parse_trigger_spec("memory full 100ms/1s");   // or "cpu some 10%/2s"
//   spec->kernel_text();                    // "full 100000 1000000"
//   pressure::round_for_unprivileged(*spec); // window 2s, stall 200ms: same share, allowed
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <pressure/error.hpp>
#include <pressure/types.hpp>

namespace pressure {

struct TriggerSpec {
  Resource resource = Resource::memory;
  Line line = Line::some;
  std::chrono::microseconds stall{0};   // at least this much stall ...
  std::chrono::microseconds window{0};  // ... within any window this long

  // "memory full 100ms/1s"
  std::string to_string() const;
  // What is written to the pressure file: "full 100000 1000000".
  std::string kernel_text() const;
  // stall / window, in [0, 1].
  double share() const;
  friend bool operator==(const TriggerSpec&, const TriggerSpec&) = default;
};

inline constexpr std::chrono::microseconds k_max_trigger_window{10'000'000};
// The kernel's WINDOW_MIN_US before 6.4 (smaller windows need 6.4+ and CAP_SYS_RESOURCE); also
// keeps a polling watch from waking more often than every 50 ms.
inline constexpr std::chrono::microseconds k_min_trigger_window{500'000};
// Without CAP_SYS_RESOURCE the kernel (6.4+, 6.1.42+) accepts only whole multiples of 2 s.
inline constexpr std::chrono::microseconds k_unprivileged_window_step{2'000'000};

// "<resource> <some|full> <stall>/<window>", stall in us, ms, s or % of the window, window in
// us, ms or s (decimals allowed: "1.5s"). 0 < stall <= window, 500 ms <= window <= 10 s; irq
// takes only "full".
Result<TriggerSpec> parse_trigger_spec(std::string_view text);

// The shortest exact text of a duration in the units parse_duration reads: "2s", "150ms", "500us".
std::string format_duration(std::chrono::microseconds duration);

// A duration with a unit: "150ms", "2s", "1.5s", "500us". Bare numbers are refused.
Result<std::chrono::microseconds> parse_duration(std::string_view text);

// True if an unprivileged process may arm `spec` (its window is a whole multiple of 2 s).
bool allowed_unprivileged(const TriggerSpec& spec);

// The smallest allowed window at least as long as spec.window, with the stall scaled to keep
// the same share: "memory full 100ms/1s" -> "memory full 200ms/2s".
TriggerSpec round_for_unprivileged(const TriggerSpec& spec);

}  // namespace pressure
