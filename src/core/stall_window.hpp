// Stall growth over a sliding window from samples of `total`, and the kernel's event rule on
// it. The polling fallback fires on this; kernel triggers use it to report what they saw.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace pressure::core {

class StallWindow {
 public:
  using Clock = std::chrono::steady_clock;

  explicit StallWindow(std::chrono::microseconds window) : m_window(window) {}

  // A reading of `total` (µs) at `t`; times must not go backwards. A counter that goes
  // backwards (a recreated cgroup) restarts the window.
  void add(Clock::time_point t, std::uint64_t total_us);

  struct Growth {
    std::uint64_t stall_us = 0;        // stall within the span
    std::chrono::nanoseconds span{0};  // the window, or less while samples are younger
    double share() const;              // stall / span, in [0, 1]
  };
  // Stall within [now - window, newest sample], interpolating between the samples that bracket
  // the window's start. Empty with fewer than two samples.
  std::optional<Growth> growth() const;

  // The kernel's rule (psi.c update_triggers): growth within the window reaches `stall_us`,
  // and at most one event per window. Records the event when it says yes.
  bool should_fire(std::uint64_t stall_us);

  std::chrono::microseconds window() const { return m_window; }

 private:
  struct Sample {
    Clock::time_point t;
    std::uint64_t total_us;
  };
  std::chrono::microseconds m_window;
  std::deque<Sample> m_samples;
  std::optional<Clock::time_point> m_last_event;
};

}  // namespace pressure::core
