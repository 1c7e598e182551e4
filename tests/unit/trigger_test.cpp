#include <gtest/gtest.h>

#include <pressure/trigger.hpp>

namespace pressure {
namespace {

using std::chrono::microseconds;

TEST(TriggerSpec, ParsesUnitsAndShares) {
  auto a = parse_trigger_spec("memory full 100ms/1s");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->resource, Resource::memory);
  EXPECT_EQ(a->line, Line::full);
  EXPECT_EQ(a->stall, microseconds(100000));
  EXPECT_EQ(a->window, microseconds(1000000));
  EXPECT_EQ(a->kernel_text(), "full 100000 1000000");
  EXPECT_EQ(a->to_string(), "memory full 100ms/1s");
  EXPECT_DOUBLE_EQ(a->share(), 0.1);

  auto b = parse_trigger_spec("cpu some 10%/2s");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->stall, microseconds(200000));
  EXPECT_EQ(b->to_string(), "cpu some 200ms/2s");

  auto c = parse_trigger_spec("io some 1500us/1.5s");
  EXPECT_TRUE(parse_trigger_spec("io some 1ms/500ms"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stall, microseconds(1500));
  EXPECT_EQ(c->window, microseconds(1500000));
  EXPECT_EQ(c->to_string(), "io some 1500us/1500ms");

  auto irq = parse_trigger_spec("irq full 10ms/2s");
  ASSERT_TRUE(irq);
  EXPECT_EQ(irq->resource, Resource::irq);
}

class BadSpec : public testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(BadSpec, SaysWhy) {
  auto spec = parse_trigger_spec(GetParam().first);
  ASSERT_FALSE(spec) << GetParam().first;
  EXPECT_EQ(spec.error().code(), Errc::invalid_argument);
  EXPECT_NE(spec.error().message().find(GetParam().second), std::string::npos) << spec.error().message();
  EXPECT_NE(spec.error().message().find(GetParam().first), std::string::npos) << "names the spec";
}

INSTANTIATE_TEST_SUITE_P(
    Specs, BadSpec,
    testing::Values(
        std::pair{"", "three words"}, std::pair{"memory full", "three words"},
        std::pair{"memory full 1s/2s extra", "three words"}, std::pair{"disk some 1s/2s", "unknown resource"},
        std::pair{"memory most 1s/2s", "unknown line"}, std::pair{"irq some 1ms/2s", "only a 'full' line"},
        std::pair{"memory full 100ms", "STALL/WINDOW"}, std::pair{"memory full 100/1s", "needs a unit"},
        std::pair{"memory full 100ms/1", "needs a unit"}, std::pair{"memory full 0ms/1s", "more than 0"},
        std::pair{"memory full 2s/1s", "longer than the window"},
        std::pair{"memory full 1s/11s", "at most 10s"}, std::pair{"memory full 1s/0s", "at least 500ms"},
        std::pair{"cpu some 1us/10us", "at least 500ms"}, std::pair{"memory full 120%/2s", "over 100%"},
        std::pair{"memory full x%/2s", "not a percentage"},
        std::pair{"memory full -1ms/2s", "not a duration"},
        std::pair{"memory full 1..5ms/2s", "not a duration"}));

TEST(TriggerSpec, UnprivilegedRoundingKeepsTheShare) {
  auto spec = *parse_trigger_spec("memory full 100ms/1s");
  EXPECT_FALSE(allowed_unprivileged(spec));
  TriggerSpec rounded = round_for_unprivileged(spec);
  EXPECT_TRUE(allowed_unprivileged(rounded));
  EXPECT_EQ(rounded.window, microseconds(2000000));
  EXPECT_EQ(rounded.stall, microseconds(200000));
  EXPECT_EQ(round_for_unprivileged(*parse_trigger_spec("cpu some 3s/9s")).window, microseconds(10000000));
  auto allowed = *parse_trigger_spec("cpu some 1s/4s");
  EXPECT_EQ(round_for_unprivileged(allowed), allowed);
}

}  // namespace
}  // namespace pressure
