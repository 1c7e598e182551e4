// The parsers against every shape the kernel prints, and against damage.
#include <gtest/gtest.h>

#include <pressure/parse.hpp>

namespace pressure {
namespace {

TEST(ParsePressure, ReadsBothLinesExactly) {
  auto p = parse_pressure(
      "some avg10=29.97 avg60=22.82 avg300=11.92 total=92159505\n"
      "full avg10=8.76 avg60=5.17 avg300=3.38 total=43135045\n");
  ASSERT_TRUE(p) << p.error().message();
  ASSERT_TRUE(p->some && p->full);
  EXPECT_EQ(p->some->avg10.hundredths(), 2997u);
  EXPECT_EQ(p->some->avg60.hundredths(), 2282u);
  EXPECT_EQ(p->some->avg300.hundredths(), 1192u);
  EXPECT_EQ(p->some->total_us, 92159505u);
  EXPECT_EQ(p->full->avg10.hundredths(), 876u);
  EXPECT_DOUBLE_EQ(p->full->avg10, 8.76);
  EXPECT_EQ(p->full->total_us, 43135045u);
}

TEST(ParsePressure, AbsentLineIsAbsentNotZero) {
  auto cpu_4_20 = parse_pressure("some avg10=1.50 avg60=0.75 avg300=0.20 total=123456\n");
  ASSERT_TRUE(cpu_4_20);
  EXPECT_TRUE(cpu_4_20->some);
  EXPECT_FALSE(cpu_4_20->full);

  auto irq = parse_pressure("full avg10=0.03 avg60=0.01 avg300=0.00 total=37211\n");
  ASSERT_TRUE(irq);
  EXPECT_FALSE(irq->some);
  ASSERT_TRUE(irq->full);
  EXPECT_EQ(irq->full->total_us, 37211u);
}

TEST(ParsePressure, ZeroedCpuFullIsPresent) {
  auto p = parse_pressure(
      "some avg10=0.22 avg60=0.77 avg300=0.27 total=1212742\n"
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->full);
  EXPECT_EQ(*p->full, Stall{});
}

TEST(ParsePressure, KeysByNameUnknownKeysAndLinesIgnored) {
  auto p = parse_pressure(
      "some total=7 avg300=0.03 avg60=0.02 avg10=0.01 avg1=9.99\n"
      "full avg10=0.10 avg60=0.05 avg300=0.02 total=45678 peak=7\n"
      "bogus avg10=abc\n"
      "\n");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->some->avg10.hundredths(), 1u);
  EXPECT_EQ(p->some->avg300.hundredths(), 3u);
  EXPECT_EQ(p->some->total_us, 7u);
  EXPECT_EQ(p->full->total_us, 45678u);
}

TEST(ParsePressure, MaximalValues) {
  auto p = parse_pressure("some avg10=100.00 avg60=100.00 avg300=100.00 total=18446744073709551615\n");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->some->avg10.hundredths(), 10000u);
  EXPECT_EQ(p->some->total_us, 18446744073709551615u);
}

TEST(ParsePressure, NoTrailingNewlineAndTabs) {
  auto p = parse_pressure("some\tavg10=1.00  avg60=2.00 avg300=3.00 total=4");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->some->total_us, 4u);
}

struct Malformed {
  const char* text;
  const char* says;  // a fragment the message must contain
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << "expects \"" << m.says << '"'; }

class ParsePressureMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(ParsePressureMalformed, NamesFileAndLine) {
  auto p = parse_pressure(GetParam().text, "/proc/pressure/memory");
  ASSERT_FALSE(p) << "accepted: " << GetParam().text;
  EXPECT_EQ(p.error().code(), Errc::malformed);
  EXPECT_EQ(p.error().path(), "/proc/pressure/memory");
  EXPECT_NE(p.error().message().find("/proc/pressure/memory"), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find(GetParam().says), std::string::npos) << p.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Damage, ParsePressureMalformed,
    testing::Values(
        Malformed{"", "no 'some' or 'full' line"}, Malformed{"hello world\n", "no 'some' or 'full' line"},
        Malformed{"some avg10=0.00 avg60=0.00 avg300=0.00\n", "line 1: 'some' line has no total="},
        Malformed{"some avg10=0.00 avg60=0.00 total=1\n", "has no avg300="},
        Malformed{"some\n", "has no avg10="},
        Malformed{
            "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.1x avg60=0 avg300=0 total=1\n",
            "line 2: avg10 is not a percentage"},
        Malformed{"some avg10=0.001 avg60=0.00 avg300=0.00 total=1\n", "avg10 is not a percentage"},
        Malformed{"some avg10=-1.00 avg60=0.00 avg300=0.00 total=1\n", "avg10 is not a percentage"},
        Malformed{"some avg10=1. avg60=0.00 avg300=0.00 total=1\n", "avg10 is not a percentage"},
        Malformed{"some avg10=.5 avg60=0.00 avg300=0.00 total=1\n", "avg10 is not a percentage"},
        Malformed{"some avg10=100.01 avg60=0.00 avg300=0.00 total=1\n", "over 100.00"},
        Malformed{"some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n",
                  "total is not an unsigned 64-bit integer"},
        Malformed{"some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", "total is not an unsigned"},
        Malformed{"some avg10=0.00 avg60=0.00 avg300=0.00 total=12ab\n", "total is not an unsigned"},
        Malformed{"some avg10=0.00 avg60=0.00 avg300=0.00 total=\n", "total is not an unsigned"},
        Malformed{"some avg10=0.00 avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", "avg10 appears twice"},
        Malformed{"some avg10=0.00 avg60=0.00 avg300=0.00 total=1 garbage\n", "expected key=value"},
        Malformed{"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nsome avg10=0.00 avg60=0.00 avg300=0.00 "
                  "total=1\n",
                  "line 2: a second 'some' line"}));

TEST(ParsePressure, MessageQuotesBadBytesSafely) {
  std::string text = "some avg10=\x01\xff avg60=0.00 avg300=0.00 total=1\n";
  auto p = parse_pressure(text, "f");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("'?"
                                     "?'"),
            std::string::npos)
      << p.error().message();
}

TEST(Percent, ComparesAndConverts) {
  Percent a = Percent::from_hundredths(29);
  EXPECT_DOUBLE_EQ(a.value(), 0.29);
  EXPECT_TRUE(a > 0.28);
  EXPECT_TRUE(a < Percent::from_hundredths(30));
  EXPECT_EQ(a, Percent::from_hundredths(29));
}

TEST(ParseMountinfo, FindsHybridUnifiedMount) {
  auto root = parse_cgroup2_mount(
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev shared:9 master:2 - cgroup2 cgroup2 "
      "rw,nsdelegate\n");
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(*root, "/sys/fs/cgroup/unified");
}

TEST(ParseMountinfo, PureCgroup2AndEscapes) {
  auto pure = parse_cgroup2_mount("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(pure);
  EXPECT_EQ(*pure, "/sys/fs/cgroup");
  auto spaced = parse_cgroup2_mount("30 23 0:26 / /mnt/my\\040cgroups rw - cgroup2 none rw\n");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(*spaced, "/mnt/my cgroups");
}

TEST(ParseMountinfo, NoCgroup2IsUnsupportedAndDamageIsMalformed) {
  auto none = parse_cgroup2_mount("22 1 0:21 / /proc rw - proc proc rw\n", "/proc/self/mountinfo");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Errc::unsupported);
  EXPECT_NE(none.error().message().find("--cgroup-root"), std::string::npos);

  auto short_line = parse_cgroup2_mount("22 1 0:21\n", "mi");
  ASSERT_FALSE(short_line);
  EXPECT_EQ(short_line.error().code(), Errc::malformed);
  EXPECT_NE(short_line.error().message().find("mi line 1"), std::string::npos);

  auto no_separator = parse_cgroup2_mount("22 1 0:21 / /proc rw proc proc rw\n", "mi");
  ASSERT_FALSE(no_separator);
  EXPECT_EQ(no_separator.error().code(), Errc::malformed);
}

TEST(ParseProcCgroup, HybridAndPure) {
  auto hybrid = parse_cgroup2_membership("9:name=systemd:/x\n4:memory:/process_api/abc\n0::/\n");
  ASSERT_TRUE(hybrid);
  EXPECT_EQ(*hybrid, "/");
  auto pure = parse_cgroup2_membership("0::/user.slice/user-1000.slice/session-2.scope\n");
  ASSERT_TRUE(pure);
  EXPECT_EQ(*pure, "/user.slice/user-1000.slice/session-2.scope");
  auto with_colon = parse_cgroup2_membership("0::/weird:name\n");
  ASSERT_TRUE(with_colon);
  EXPECT_EQ(*with_colon, "/weird:name");
}

TEST(ParseProcCgroup, NoCgroup2LineAndDamage) {
  auto v1_only = parse_cgroup2_membership("4:memory:/\n1:cpu:/\n", "/proc/7/cgroup");
  ASSERT_FALSE(v1_only);
  EXPECT_EQ(v1_only.error().code(), Errc::unsupported);
  auto damaged = parse_cgroup2_membership("garbage\n", "/proc/7/cgroup");
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code(), Errc::malformed);
  EXPECT_NE(damaged.error().message().find("/proc/7/cgroup line 1"), std::string::npos);
  auto relative = parse_cgroup2_membership("0::relative\n");
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().code(), Errc::malformed);
}

TEST(MemoryLevel, MapsDispatchValues) {
  EXPECT_EQ(*memory_level_from_sysctl(1), MemoryLevel::normal);
  EXPECT_EQ(*memory_level_from_sysctl(2), MemoryLevel::warn);
  EXPECT_EQ(*memory_level_from_sysctl(4), MemoryLevel::critical);
  for (std::int64_t internal : {0, 3, 5, -1, 8}) {
    auto level = memory_level_from_sysctl(internal);
    ASSERT_FALSE(level) << internal;
    EXPECT_EQ(level.error().code(), Errc::malformed);
  }
}

}  // namespace
}  // namespace pressure
