// The kernel's EWMA reproduced exactly: the reference's worked examples, bounds and the
// "pressure ended" detector.
#include <gtest/gtest.h>

#include <pressure/decay.hpp>

#include "core/ewma.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;

Percent pct(double value) { return Percent::from_hundredths(static_cast<std::uint32_t>(value * 100 + 0.5)); }

TEST(Ewma, CalcLoadRoundsUpRisingAndFloorsFalling) {
  EXPECT_EQ(ewma::calc_load(0, 1677, 100 * 2048), (100ULL * 2048 * (2048 - 1677) + 2047) / 2048);
  EXPECT_EQ(ewma::calc_load(1000, 1677, 0), 1000ULL * 1677 / 2048);
  EXPECT_EQ(ewma::calc_load(20, 1677, 0), 16u);
  EXPECT_EQ(ewma::fixed_power_int(1677, 11, 0), 2048u);
  EXPECT_EQ(ewma::fixed_power_int(1677, 11, 1), 1677u);
  // Long catch-ups differ slightly from stepping, as in the kernel (reference §3.2).
  EXPECT_NEAR(static_cast<double>(ewma::fixed_power_int(2034, 11, 149)), 737.0, 8.0);
}

TEST(Ewma, PrintedIsTruncatedAndRangesInvert) {
  EXPECT_EQ(ewma::printed(20).hundredths(), 0u);  // "0.00" <=> x <= 20
  EXPECT_EQ(ewma::printed(21).hundredths(), 1u);
  EXPECT_EQ(ewma::printed(100 * 2048).hundredths(), 10000u);
  for (std::uint32_t h : {0u, 1u, 29u, 1234u, 9999u, 10000u}) {
    auto [first, last] = ewma::fixed_range(Percent::from_hundredths(h));
    EXPECT_EQ(ewma::printed(first).hundredths(), h);
    EXPECT_EQ(ewma::printed(last).hundredths(), h);
    if (first > 0) {
      EXPECT_EQ(ewma::printed(first - 1).hundredths(), h - 1);
    }
    if (h < 10000) {
      EXPECT_EQ(ewma::printed(last + 1).hundredths(), h + 1);
    }
  }
}

TEST(KernelAverages, SteadyStallConvergesToItself) {
  KernelAverages avg;
  for (int i = 0; i < 400; ++i) avg.update(1s, 2s);  // 50 % of every period
  EXPECT_EQ(avg.printed(Average::avg10).hundredths(), 5000u);
  EXPECT_EQ(avg.printed(Average::avg60).hundredths(), 5000u);
  // Truncated to whole percents: 0.9 % of every period never shows.
  KernelAverages small;
  for (int i = 0; i < 100; ++i) small.update(18ms, 2s);
  EXPECT_EQ(small.printed(Average::avg10).hundredths(), 0u);
  // Stall beyond the period is capped.
  KernelAverages capped;
  capped.update(5s, 2s);
  EXPECT_LE(capped.printed(Average::avg10).hundredths(), 10000u);
}

TEST(KernelAverages, MissedPeriodsDecayLikeZeroStall) {
  KernelAverages stepped(Stall{pct(40), pct(30), pct(20), 0});
  KernelAverages caught_up = stepped;
  for (int i = 0; i < 5; ++i) stepped.update(0s, 2s);
  caught_up.update(0s, 2s, 4);
  // calc_load_n rounds exp^n, so a catch-up lands within a fraction of a percent of stepping.
  for (Average a : k_averages)
    EXPECT_NEAR(static_cast<double>(stepped.fixed(a)), static_cast<double>(caught_up.fixed(a)),
                0.002 * static_cast<double>(stepped.fixed(a)));
}

struct Worked {
  Average average;
  double from, threshold;
  unsigned kernel;     // the reference's exact integer simulation
  unsigned closed_hi;  // the reference's closed-form k_hi
};

class WorkedExamples : public testing::TestWithParam<Worked> {};

TEST_P(WorkedExamples, MatchTheReference) {
  const Worked& w = GetParam();
  DecayPrediction p = time_until_below(pct(w.from), w.average, pct(w.threshold));
  ASSERT_FALSE(p.never);
  EXPECT_LE(p.updates_min, w.kernel);
  EXPECT_GE(p.updates_max, w.kernel);
  EXPECT_LE(p.updates_max - p.updates_min, 1u);
  EXPECT_EQ(closed_form_updates(w.from, w.threshold, w.average), w.closed_hi);
  EXPECT_GE(closed_form_updates(w.from, w.threshold, w.average), p.updates_max) << "k_hi is an upper bound";
  // The k-th update lands in ((k-1)·P, k·P].
  EXPECT_EQ(p.earliest, ewma::k_period_min * static_cast<long>(p.updates_min - 1));
  EXPECT_EQ(p.latest, ewma::k_period_max * static_cast<long>(p.updates_max));
  EXPECT_GE(p.estimate, p.earliest);
  EXPECT_LE(p.estimate, p.latest);
}

INSTANTIATE_TEST_SUITE_P(
    Reference, WorkedExamples,
    testing::Values(Worked{Average::avg10, 100, 0.01, 46, 47}, Worked{Average::avg10, 50, 0.01, 43, 43},
                    Worked{Average::avg10, 10, 0.01, 34, 35}, Worked{Average::avg10, 5, 0.01, 31, 32},
                    Worked{Average::avg10, 1, 0.01, 23, 24}, Worked{Average::avg10, 10, 1.00, 12, 12},
                    Worked{Average::avg60, 10, 0.03, 168, 175}, Worked{Average::avg60, 2, 0.03, 120, 127},
                    Worked{Average::avg60, 0.5, 0.03, 79, 85}, Worked{Average::avg60, 10, 1.00, 70, 70},
                    Worked{Average::avg300, 10, 0.10, 631, 672}, Worked{Average::avg300, 1, 0.10, 300, 336},
                    Worked{Average::avg300, 5, 1.00, 231, 235}));

TEST(TimeUntilBelow, AlreadyBelowIsNow) {
  DecayPrediction p = time_until_below(pct(0.00), Average::avg10, pct(0.01));
  EXPECT_FALSE(p.never);
  EXPECT_EQ(p.updates_max, 0u);
  EXPECT_EQ(p.latest, 0ns);
}

TEST(TimeUntilBelow, BackgroundStallSlowsOrPreventsIt) {
  // Reference §3.3: avg10 from 5 % to 1 % takes about 18 s with no new stall.
  DecayPrediction none = time_until_below(pct(5), Average::avg10, pct(1));
  EXPECT_NEAR(std::chrono::duration<double>(none.estimate).count(), 17.0, 2.5);
  // The kernel truncates each period to whole percents: 1 % from 5 % toward 2 % is slower.
  DecayPrediction to_two = time_until_below(pct(5), Average::avg10, pct(2));
  DecayPrediction to_two_over_one = time_until_below(pct(5), Average::avg10, pct(2), 1);
  ASSERT_FALSE(to_two_over_one.never);
  EXPECT_GT(to_two_over_one.updates_max, to_two.updates_max);
  DecayPrediction held = time_until_below(pct(5), Average::avg10, pct(1), 1);
  EXPECT_TRUE(held.never) << "a steady 1 % keeps avg10 at 1.00, never below 1.00";
  DecayPrediction slower = time_until_below(pct(50), Average::avg10, pct(10), 5);
  DecayPrediction faster = time_until_below(pct(50), Average::avg10, pct(10), 0);
  ASSERT_FALSE(slower.never);
  EXPECT_GT(slower.updates_max, faster.updates_max);
}

TEST(TimeUntilBelow, SeveralAveragesTakeTheLatest) {
  Thresholds t = EndCriteria::default_thresholds();
  Stall s{pct(5), pct(2), pct(1), 123};
  DecayPrediction all = time_until_below(s, t);
  DecayPrediction avg60 = time_until_below(pct(2), Average::avg60, pct(0.03));
  EXPECT_EQ(all.latest, avg60.latest);
  EXPECT_EQ(all.updates_max, avg60.updates_max);
}

TEST(Thresholds, ParseAndPrint) {
  auto t = parse_thresholds("avg10=0.01,avg60=0.03");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ((*t)[Average::avg10]->hundredths(), 1u);
  EXPECT_EQ((*t)[Average::avg60]->hundredths(), 3u);
  EXPECT_FALSE((*t)[Average::avg300]);
  EXPECT_EQ(t->to_string(), "avg10=0.01,avg60=0.03");
  EXPECT_EQ(parse_thresholds("avg300=5")->to_string(), "avg300=5.00");
  for (const char* bad :
       {"", "avg10", "avg5=1", "avg10=0.001", "avg10=-1", "avg10=0", "avg10=101", "avg10=1,,"}) {
    auto r = parse_thresholds(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Errc::invalid_argument);
    }
  }
}

Snapshot memory_full(std::chrono::steady_clock::time_point t, Stall s) {
  Snapshot snap;
  snap.monotonic = t;
  for (Resource r : k_resources) snap[r] = fail(Errc::unavailable, "-");
  snap[Resource::memory] = Pressure{s, s};
  return snap;
}

TEST(PressureEnded, NeedsQuietTotalAndLowAverages) {
  auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
  PressureEnded ended(Resource::memory, Line::full, EndCriteria{EndCriteria::default_thresholds(), 10s});
  // Stall still accruing: not ended; next look no earlier than the quiet period.
  auto v1 = ended.observe(memory_full(t0, Stall{pct(5), pct(2), pct(1), 1000}));
  EXPECT_FALSE(v1.ended);
  auto v2 = ended.observe(memory_full(t0 + 1s, Stall{pct(5), pct(2), pct(1), 2000}));
  EXPECT_FALSE(v2.ended);
  EXPECT_GE(v2.next_check, t0 + 11s);
  // Total flat, but the averages are still high: the next check is their predicted decay.
  auto v3 = ended.observe(memory_full(t0 + 12s, Stall{pct(3), pct(1.5), pct(1), 2000}));
  EXPECT_FALSE(v3.ended);
  EXPECT_NE(v3.reason.find("avg10=0.01"), std::string::npos) << v3.reason;
  DecayPrediction d =
      time_until_below(Stall{pct(3), pct(1.5), pct(1), 2000}, EndCriteria::default_thresholds());
  EXPECT_EQ(v3.next_check, t0 + 12s + d.latest);
  // Quiet and low: ended.
  auto v4 = ended.observe(memory_full(t0 + 300s, Stall{pct(0), pct(0.02), pct(0.5), 2000}));
  EXPECT_TRUE(v4.ended) << v4.reason;
  // New stall: not ended again.
  auto v5 = ended.observe(memory_full(t0 + 301s, Stall{pct(0), pct(0.02), pct(0.5), 2500}));
  EXPECT_FALSE(v5.ended);
}

}  // namespace
}  // namespace pressure
