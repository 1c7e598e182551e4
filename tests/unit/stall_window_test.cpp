#include <gtest/gtest.h>

#include "core/stall_window.hpp"

namespace pressure::core {
namespace {

using namespace std::chrono_literals;
using Clock = StallWindow::Clock;

TEST(StallWindow, GrowthOverTheWindowInterpolated) {
  StallWindow w(1s);
  auto t0 = Clock::time_point{} + 100s;
  EXPECT_FALSE(w.growth());
  w.add(t0, 0);
  EXPECT_FALSE(w.growth());
  w.add(t0 + 500ms, 100000);
  auto young = w.growth();
  ASSERT_TRUE(young);
  EXPECT_EQ(young->stall_us, 100000u);
  EXPECT_EQ(young->span, 500ms);
  EXPECT_DOUBLE_EQ(young->share(), 0.2);
  w.add(t0 + 1000ms, 200000);
  w.add(t0 + 1500ms, 600000);
  auto full = w.growth();  // window [0.5 s, 1.5 s]: 600000 - 100000
  ASSERT_TRUE(full);
  EXPECT_EQ(full->span, 1s);
  EXPECT_EQ(full->stall_us, 500000u);
  w.add(t0 + 1750ms, 600000);  // window starts at 0.75 s: halfway between 100000 and 200000
  EXPECT_EQ(w.growth()->stall_us, 450000u);
}

TEST(StallWindow, KernelRuleThresholdAndOncePerWindow) {
  StallWindow w(1s);
  auto t = Clock::time_point{} + 10s;
  std::uint64_t total = 0;
  w.add(t, total);
  bool fired_once = false;
  int events = 0;
  for (int i = 1; i <= 30; ++i) {  // 100 ms steps, 50 % stall
    total += 50000;
    w.add(t + i * 100ms, total);
    if (w.should_fire(300000)) {
      ++events;
      if (!fired_once) {
        EXPECT_EQ(i, 6) << "fires as soon as 300 ms accrued";
      }
      fired_once = true;
    }
  }
  EXPECT_EQ(events, 3) << "once per window: at 0.6 s, 1.6 s, 2.6 s";
}

TEST(StallWindow, QuietNeverFiresAndCounterResetRestarts) {
  StallWindow w(1s);
  auto t = Clock::time_point{} + 10s;
  for (int i = 0; i < 20; ++i) {
    w.add(t + i * 100ms, 5000);
    EXPECT_FALSE(w.should_fire(1));
  }
  w.add(t + 2100ms, 10);  // recreated cgroup: counter went back
  EXPECT_FALSE(w.growth());
}

}  // namespace
}  // namespace pressure::core
