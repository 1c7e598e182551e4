// Where the engine's time comes from: the steady clock for holds, cooldowns and rates, the
// wall clock for the time stamped on decisions. Tests pass a clock they move by hand.
//
//   EngineOptions options;
//   options.clock = std::make_shared<MyClock>();  // empty: real_clock()
#pragma once

#include <chrono>
#include <memory>

namespace pressure::policy {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual std::chrono::system_clock::time_point wall() const = 0;
};

// std::chrono's steady and system clocks.
std::shared_ptr<const Clock> real_clock();

}  // namespace pressure::policy
