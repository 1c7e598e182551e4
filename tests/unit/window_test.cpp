#include <cmath>

#include <gtest/gtest.h>

#include <pressure/window.hpp>

namespace pressure {
namespace {

using namespace std::chrono_literals;

Stall total(std::uint64_t us) { return Stall{{}, {}, {}, us}; }

TEST(StallShare, FractionOfTheWindow) {
  EXPECT_DOUBLE_EQ(stall_share(total(1000), total(251000), 1s), 0.25);
  EXPECT_DOUBLE_EQ(stall_share(total(0), total(0), 1s), 0.0);
  EXPECT_DOUBLE_EQ(stall_share(total(5), total(500005), 2s), 0.25);
}

TEST(StallShare, ClampedToOneForPerCpuSkew) {
  EXPECT_DOUBLE_EQ(stall_share(total(0), total(1000100), 1s), 1.0);
}

TEST(StallShare, NanWhenNoWindowOrCounterReset) {
  EXPECT_TRUE(std::isnan(stall_share(total(0), total(10), 0s)));
  EXPECT_TRUE(std::isnan(stall_share(total(0), total(10), -1s)));
  EXPECT_TRUE(std::isnan(stall_share(total(10), total(5), 1s)));  // recreated cgroup
}

Snapshot at(std::chrono::steady_clock::time_point t, std::optional<Stall> some, std::optional<Stall> full) {
  Snapshot s;
  s.monotonic = t;
  for (Resource r : k_resources) s[r] = fail(Errc::unavailable, "none");
  s[Resource::memory] = Pressure{some, full};
  return s;
}

TEST(StallShare, BetweenSnapshots) {
  auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  Snapshot a = at(t0, total(0), total(100));
  Snapshot b = at(t0 + 500ms, total(50000), std::nullopt);
  EXPECT_DOUBLE_EQ(stall_share(a, b, Resource::memory, Line::some), 0.1);
  EXPECT_TRUE(std::isnan(stall_share(a, b, Resource::memory, Line::full)));  // absent later
  EXPECT_TRUE(std::isnan(stall_share(a, b, Resource::cpu, Line::some)));     // unavailable
}

}  // namespace
}  // namespace pressure
