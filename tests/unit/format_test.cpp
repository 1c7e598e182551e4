#include <gtest/gtest.h>

#include "cli/format.hpp"

namespace pressure::cli {
namespace {

TEST(Format, PercentIsTheKernelText) {
  EXPECT_EQ(format_percent(Percent::from_hundredths(0)), "0.00");
  EXPECT_EQ(format_percent(Percent::from_hundredths(29)), "0.29");
  EXPECT_EQ(format_percent(Percent::from_hundredths(10000)), "100.00");
}

TEST(Format, WindowIsPercentOfTheInterval) {
  using namespace std::chrono_literals;
  Snapshot a, b;
  a.monotonic = std::chrono::steady_clock::time_point{} + 10s;
  b.monotonic = a.monotonic + 2s;
  for (Resource r : k_resources) a[r] = b[r] = fail(Errc::unavailable, "absent");
  a[Resource::memory] = Pressure{Stall{{}, {}, {}, 100}, std::nullopt};
  b[Resource::memory] = Pressure{Stall{{}, {}, {}, 500100}, std::nullopt};
  auto j = to_json(TargetLabel{"/x", std::nullopt}, b, &a);
  EXPECT_EQ(j["window"]["seconds"], 2.0);
  EXPECT_EQ(j["window"]["memory"]["some"], 25.0);
  EXPECT_TRUE(j["window"]["memory"]["full"].is_null());
  EXPECT_TRUE(j["window"]["cpu"].is_null());
  EXPECT_EQ(j["unavailable"]["cpu"], "absent");
}

}  // namespace
}  // namespace pressure::cli
