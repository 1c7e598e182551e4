// The recorder against real SQLite files in a temporary directory: samples written and read back
// exactly, change-only rows, retention and downsampling keeping shares exact, files that are not
// ours refused untouched, the time grammar, history summaries, and the SVG chart (parsed as XML).
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "recorder/history.hpp"
#include "recorder/plot.hpp"
#include "recorder/store.hpp"
#include "recorder/time_arg.hpp"
#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace pressure::recorder {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::run_command;
using test::run_pressure;

using test::TempDir;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Stall stall(std::uint64_t total, std::uint32_t a10, std::uint32_t a60 = 0, std::uint32_t a300 = 0) {
  return Stall{Percent::from_hundredths(a10), Percent::from_hundredths(a60), Percent::from_hundredths(a300),
               total};
}

// A snapshot with cpu some (and full), memory some+full, io missing (unavailable), irq missing.
Snapshot snapshot(std::uint64_t cpu_total, std::uint64_t memory_total, std::uint32_t avg = 0) {
  Snapshot s;
  s.resources[0] = Pressure{stall(cpu_total, avg, avg / 2, avg / 3), stall(cpu_total / 2, avg / 4)};
  s.resources[1] = Pressure{stall(memory_total, 0), stall(memory_total / 4, 0)};
  s.resources[2] = tl::unexpected(Error(Errc::unavailable, "no io"));
  s.resources[3] = tl::unexpected(Error(Errc::unavailable, "no irq"));
  return s;
}

Clock::time_point at_us(std::int64_t us) { return Clock::time_point(std::chrono::microseconds(us)); }

constexpr std::int64_t k_base = 1'795'000'000'000'000;  // 2026-11, in microseconds

Tick tick(std::int64_t us, std::vector<TargetSample> targets) {
  return Tick{at_us(us), 1s, std::move(targets)};
}

const Series* find(const std::vector<Series>& all, Resource r, Line l) {
  for (const Series& s : all)
    if (s.resource == r && s.line == l) return &s;
  return nullptr;
}

// ---- Store

TEST(RecorderStore, SamplesReadBackExactly) {
  TempDir dir;
  std::string path = dir.file("h.db");
  {
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store) << store.error().message();
    Snapshot big = snapshot(18446744073709551615ULL, 7, 9999);  // the largest total, 99.99 %
    ASSERT_TRUE(store->append(tick(k_base, {{"system", snapshot(1000, 10, 29)}, {"/a.slice", big}})));
    ASSERT_TRUE(
        store->append(tick(k_base + 1'000'000, {{"system", snapshot(251000, 10, 1)}, {"/a.slice", big}})));
  }
  auto store = Store::open(path, Store::Mode::read);
  ASSERT_TRUE(store) << store.error().message();
  auto targets = store->targets();
  ASSERT_TRUE(targets);
  EXPECT_EQ(*targets, (std::vector<std::string>{"system", "/a.slice"}));
  auto sys = store->series("system", k_base, k_base + 1'000'000);
  ASSERT_TRUE(sys) << sys.error().message();
  EXPECT_EQ(sys->size(), 4u) << "cpu some/full, memory some/full; io and irq absent, never zero";
  const Series* cpu = find(*sys, Resource::cpu, Line::some);
  ASSERT_NE(cpu, nullptr);
  ASSERT_EQ(cpu->points.size(), 2u);
  EXPECT_EQ(cpu->points[0].total_us, 1000u);
  EXPECT_EQ(cpu->points[0].avg10, Percent::from_hundredths(29));
  EXPECT_EQ(cpu->points[0].avg60, Percent::from_hundredths(14));
  EXPECT_EQ(cpu->points[0].avg300, Percent::from_hundredths(9));
  EXPECT_EQ(cpu->points[1].total_us, 251000u);
  EXPECT_EQ(cpu->points[1].time_us, k_base + 1'000'000);
  EXPECT_EQ(find(*sys, Resource::io, Line::some), nullptr);
  auto a = store->series("/a.slice", k_base, k_base + 1'000'000);
  ASSERT_TRUE(a);
  const Series* acpu = find(*a, Resource::cpu, Line::some);
  ASSERT_NE(acpu, nullptr);
  ASSERT_EQ(acpu->points.size(), 2u) << "an unchanged line still has a value at every tick";
  EXPECT_EQ(acpu->points[1].total_us, 18446744073709551615ULL);
  EXPECT_EQ(acpu->points[1].avg10, Percent::from_hundredths(9999));
  // The unchanged /a.slice lines were written once: 4 lines of system twice (cpu changed, its
  // avgs too; memory unchanged once) ...
  auto rows = store->count_rows("samples");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, 4 /* system tick 1 */ + 2 /* system cpu some+full changed */ + 4 /* a.slice once */);
  auto ticks = store->count_rows("ticks");
  EXPECT_EQ(*ticks, 2);
}

TEST(RecorderStore, WalModeSchemaVersionAndApplicationId) {
  TempDir dir;
  std::string path = dir.file("h.db");
  ASSERT_TRUE(Store::open(path, Store::Mode::write));
  auto r = run_command(
      {"/usr/bin/sqlite3", path, "PRAGMA journal_mode; PRAGMA user_version; PRAGMA application_id;"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "wal\n" + std::to_string(k_schema_version) + "\n" + std::to_string(k_application_id) + "\n");
}

TEST(RecorderStore, ResumesIntoTheSameFile) {
  TempDir dir;
  std::string path = dir.file("h.db");
  for (int run = 0; run < 3; ++run) {
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store) << store.error().message();
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(store->append(
          tick(k_base + (run * 5 + i) * 1'000'000LL, {{"system", snapshot(1000 * (run * 5 + i), 0)}})));
  }
  auto store = Store::open(path, Store::Mode::read);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->count_rows("ticks"), 15);
  EXPECT_EQ(*store->count_rows("targets"), 1);
  auto s = store->series("system", k_base, k_base + 20'000'000);
  ASSERT_TRUE(s);
  const Series* cpu = find(*s, Resource::cpu, Line::some);
  ASSERT_NE(cpu, nullptr);
  ASSERT_EQ(cpu->points.size(), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(cpu->points[i].total_us, 1000u * i);
}

TEST(RecorderStore, TargetsThatGoAwayAreNotCarriedForward) {
  TempDir dir;
  std::string path = dir.file("h.db");
  {
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store);
    // /b is there at 0..4 s, gone at 5..9 s, back (recreated: its counter restarts) at 10..14 s.
    for (int i = 0; i < 15; ++i) {
      std::vector<TargetSample> targets{{"system", snapshot(1000 * i, 0)}};
      if (i < 5) targets.push_back({"/b", snapshot(900'000 + 100'000 * i, 0)});
      if (i >= 10) targets.push_back({"/b", snapshot(100'000 * (i - 10), 0)});
      ASSERT_TRUE(store->append(tick(k_base + i * 1'000'000LL, std::move(targets))));
    }
  }
  {
    // A new recorder that no longer sees /b marks it gone on its first tick.
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store);
    for (int i = 15; i < 18; ++i)
      ASSERT_TRUE(store->append(tick(k_base + i * 1'000'000LL, {{"system", snapshot(1000 * i, 0)}})));
  }
  auto store = Store::open(path, Store::Mode::read);
  ASSERT_TRUE(store);
  auto b = store->series("/b", k_base, k_base + 17'000'000);
  ASSERT_TRUE(b);
  const Series* cpu = find(*b, Resource::cpu, Line::some);
  ASSERT_NE(cpu, nullptr);
  std::vector<std::int64_t> seconds;
  for (const Point& p : cpu->points) seconds.push_back((p.time_us - k_base) / 1'000'000);
  EXPECT_EQ(seconds, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}));
  Summary sum = summarize(*cpu, 1min);
  EXPECT_EQ(sum.covered_us, 8'000'000) << "4 s before, 4 s after; nothing over the gap or the restart";
  EXPECT_EQ(sum.stall_us, 800'000u);
  EXPECT_NEAR(sum.share, 0.1, 1e-9);
  // Starting inside the gap: nothing carried in.
  auto inside = store->series("/b", k_base + 6'000'000, k_base + 9'000'000);
  ASSERT_TRUE(inside);
  EXPECT_TRUE(inside->empty());
  auto sys = store->series("system", k_base, k_base + 17'000'000);
  EXPECT_EQ(find(*sys, Resource::cpu, Line::some)->points.size(), 18u);
}

TEST(RecorderStore, RetentionAndDownsamplingKeepSharesExact) {
  TempDir dir;
  auto store = Store::open(dir.file("h.db"), Store::Mode::write);
  ASSERT_TRUE(store);
  // 30 minutes of ticks every 10 s; cpu stalls 2 s per tick in minutes 10..19, else nothing.
  std::int64_t start = k_base / 60'000'000 * 60'000'000;  // on a minute
  std::uint64_t total = 0;
  std::vector<std::pair<std::int64_t, std::uint64_t>> truth;
  for (int i = 0; i <= 180; ++i) {
    std::int64_t t = start + i * 10'000'000LL;
    if (i > 60 && i <= 120) total += 2'000'000;
    truth.emplace_back(t, total);
    ASSERT_TRUE(store->append(tick(t, {{"system", snapshot(total, 0)}})));
  }
  std::int64_t now = start + 180 * 10'000'000LL;
  Retention keep{.retention = 25min, .raw = 10min, .bucket = 1min};
  auto report = store->maintain(at_us(now), keep);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_GT(report->ticks_deleted, 0);
  EXPECT_GT(report->samples_deleted, 0);

  auto ticks = store->ticks(0, now);
  ASSERT_TRUE(ticks);
  std::int64_t retention_cut = now - 25 * 60'000'000LL, raw_cut = now - 10 * 60'000'000LL;
  for (std::int64_t t : *ticks) EXPECT_GE(t, retention_cut) << "older than the retention";
  // Between the cuts: one tick per minute, the last of it (:50).
  long thinned = 0, raw = 0;
  for (std::int64_t t : *ticks) {
    if (t < raw_cut) {
      ++thinned;
      EXPECT_EQ((t - start) % 60'000'000, 50'000'000) << "the last tick of each minute is kept";
    } else {
      ++raw;
    }
  }
  EXPECT_EQ(thinned, 15);  // minutes 5..19
  EXPECT_EQ(raw, 61);      // minutes 20..30 at 10 s, every one
  // The totals at every kept tick are the ones recorded: shares between any two stay exact.
  auto s = store->series("system", 0, now);
  ASSERT_TRUE(s);
  const Series* cpu = find(*s, Resource::cpu, Line::some);
  ASSERT_NE(cpu, nullptr);
  ASSERT_EQ(cpu->points.size(), ticks->size());
  for (const Point& p : cpu->points) {
    auto it = std::find_if(truth.begin(), truth.end(), [&](auto& x) { return x.first == p.time_us; });
    ASSERT_NE(it, truth.end());
    EXPECT_EQ(p.total_us, it->second) << "at " << (p.time_us - start) / 1'000'000 << " s";
  }
  // Maintenance again changes nothing.
  auto again = store->maintain(at_us(now), keep);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ticks_deleted + again->samples_deleted, 0);
}

TEST(RecorderStore, GarbageFileRefusedUntouched) {
  TempDir dir;
  std::string path = dir.file("notes.db");
  std::string garbage(8192, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919) % 251);
  std::ofstream(path, std::ios::binary) << garbage;
  for (Store::Mode mode : {Store::Mode::write, Store::Mode::read}) {
    auto store = Store::open(path, mode);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code(), Errc::malformed);
    EXPECT_NE(store.error().message().find(path), std::string::npos) << store.error().message();
    EXPECT_NE(store.error().message().find("not an SQLite database"), std::string::npos)
        << store.error().message();
  }
  EXPECT_EQ(read_all(path), garbage);
  EXPECT_FALSE(fs::exists(path + "-wal"));
}

TEST(RecorderStore, CorruptPagesGiveAClearError) {
  TempDir dir;
  std::string path = dir.file("h.db");
  {
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store);
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(store->append(tick(k_base + i * 1'000'000LL, {{"system", snapshot(1000 * i, 10 * i, i)}})));
  }
  ASSERT_EQ(run_command({"/usr/bin/sqlite3", path, "PRAGMA wal_checkpoint(TRUNCATE);"}).exit_code, 0);
  // Keep the header, overwrite the schema page and the rest with garbage.
  std::string bytes = read_all(path);
  ASSERT_GT(bytes.size(), 4096u);
  for (std::size_t i = 100; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xA5 ^ (i & 0xff));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto store = Store::open(path, Store::Mode::write);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Errc::malformed) << store.error().message();
  EXPECT_NE(store.error().message().find(path), std::string::npos) << store.error().message();
  EXPECT_EQ(read_all(path), bytes) << "nothing written to a damaged file";
}

// The schema intact but a data page broken: SQLite opens it happily, so the recorder checks.
TEST(RecorderStore, ADamagedDataPageIsNeverWrittenInto) {
  TempDir dir;
  std::string path = dir.file("h.db");
  {
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store);
    for (int i = 0; i < 400; ++i)
      ASSERT_TRUE(store->append(tick(k_base + i * 1'000'000LL, {{"system", snapshot(1000 * i, 10 * i, i)}})));
  }
  ASSERT_EQ(run_command({"/usr/bin/sqlite3", path, "PRAGMA wal_checkpoint(TRUNCATE);"}).exit_code, 0);
  std::string bytes = read_all(path);
  ASSERT_GE(bytes.size(), 4u * 4096) << "several pages";
  for (std::size_t i = bytes.size() - 4096; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(0x5A ^ (i & 0xff));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto store = Store::open(path, Store::Mode::write);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Errc::malformed);
  EXPECT_NE(store.error().message().find(path + ": damaged (SQLite's quick_check: "), std::string::npos)
      << store.error().message();
  EXPECT_EQ(read_all(path), bytes) << "nothing written to a damaged file";
  auto cli = run_pressure({"record", "--db", path, "--count", "1"});
  EXPECT_EQ(cli.exit_code, 4) << cli.err;
  EXPECT_NE(cli.err.find("refusing to record into it"), std::string::npos) << cli.err;
  EXPECT_EQ(read_all(path), bytes);
}

TEST(RecorderStore, OtherProgramsDatabaseRefusedUntouched) {
  TempDir dir;
  std::string path = dir.file("app.db");
  ASSERT_EQ(
      run_command({"/usr/bin/sqlite3", path, "CREATE TABLE notes(x); INSERT INTO notes VALUES('mine');"})
          .exit_code,
      0);
  std::string before = read_all(path);
  auto store = Store::open(path, Store::Mode::write);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Errc::malformed);
  EXPECT_NE(store.error().message().find("another program"), std::string::npos) << store.error().message();
  EXPECT_NE(store.error().message().find(path), std::string::npos);
  EXPECT_EQ(read_all(path), before);
  auto r = run_command({"/usr/bin/sqlite3", path, "PRAGMA journal_mode; SELECT x FROM notes;"});
  EXPECT_EQ(r.out, "delete\nmine\n") << "its journal mode and data are as they were";

  // A pressure file of a newer schema is refused too.
  std::string newer = dir.file("newer.db");
  ASSERT_TRUE(Store::open(newer, Store::Mode::write));
  ASSERT_EQ(run_command({"/usr/bin/sqlite3", newer, "PRAGMA user_version=99;"}).exit_code, 0);
  auto n = Store::open(newer, Store::Mode::write);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("newer"), std::string::npos) << n.error().message();
}

TEST(RecorderStore, MissingFileOrDirectory) {
  TempDir dir;
  auto read = Store::open(dir.file("none.db"), Store::Mode::read);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), Errc::not_found);
  EXPECT_FALSE(fs::exists(dir.file("none.db"))) << "reading never creates";
  auto write = Store::open(dir.file("no/such/dir/h.db"), Store::Mode::write);
  ASSERT_FALSE(write);
  EXPECT_NE(write.error().message().find(dir.file("no/such/dir")), std::string::npos)
      << write.error().message();
}

// ---- History

TEST(RecorderHistory, SinceUntilAndTargetSelectTheRightRows) {
  TempDir dir;
  auto store = Store::open(dir.file("h.db"), Store::Mode::write);
  ASSERT_TRUE(store);
  // 60 ticks, 1 s apart. /busy: cpu stalls 500 ms per second in ticks 20..39; /idle never.
  std::uint64_t busy = 5'000'000;
  for (int i = 0; i < 60; ++i) {
    if (i >= 20 && i < 40) busy += 500'000;
    ASSERT_TRUE(store->append(tick(k_base + i * 1'000'000LL, {{"system", snapshot(busy / 2, 0)},
                                                              {"/busy", snapshot(busy, 0, 5000)},
                                                              {"/idle", snapshot(77, 0)}})));
  }
  auto ticks = store->ticks(k_base + 10'000'000, k_base + 29'000'000);
  ASSERT_TRUE(ticks);
  ASSERT_EQ(ticks->size(), 20u);
  EXPECT_EQ(ticks->front(), k_base + 10'000'000);
  EXPECT_EQ(ticks->back(), k_base + 29'000'000);

  // The period 10..29 s starts before the stall: the value carried in is the one of tick 0.
  auto s = store->series("/busy", k_base + 10'000'000, k_base + 29'000'000);
  ASSERT_TRUE(s);
  const Series* cpu = find(*s, Resource::cpu, Line::some);
  ASSERT_NE(cpu, nullptr);
  ASSERT_EQ(cpu->points.size(), 20u);
  EXPECT_EQ(cpu->points.front().total_us, 5'000'000u);
  EXPECT_EQ(cpu->points.front().time_us, k_base + 10'000'000);
  Summary sum = summarize(*cpu, 5s);
  EXPECT_EQ(sum.covered_us, 19'000'000);
  EXPECT_EQ(sum.stall_us, 9 * 500'000u + 500'000u);  // ticks 20..29 each add 500 ms (10 intervals)
  EXPECT_NEAR(sum.share, 5.0 / 19.0, 1e-9);
  EXPECT_NEAR(sum.worst_share, 0.5, 1e-9);
  EXPECT_GE(sum.worst_start_us, k_base + 19'000'000);
  EXPECT_NEAR(sum.peak_share, 0.5, 1e-9);
  EXPECT_EQ(sum.max_avg10, Percent::from_hundredths(5000));

  auto idle = store->series("/idle", k_base, k_base + 59'000'000);
  ASSERT_TRUE(idle);
  Summary quiet = summarize(*find(*idle, Resource::cpu, Line::some), 1min);
  EXPECT_EQ(quiet.stall_us, 0u);
  EXPECT_EQ(quiet.covered_us, 59'000'000);

  auto none = store->series("/nothing", k_base, k_base + 59'000'000);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto before = store->series("/busy", k_base - 100'000'000, k_base - 1);
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->empty()) << "no ticks before the first";

  // resample: the 20 s of 50 % fall in the middle buckets.
  std::vector<double> buckets =
      resample(*find(*store->series("/busy", k_base, k_base + 59'000'000), Resource::cpu, Line::some), k_base,
               k_base + 60'000'000, 6);
  ASSERT_EQ(buckets.size(), 6u);
  EXPECT_NEAR(buckets[0], 0.0, 1e-9);
  EXPECT_NEAR(buckets[2], 0.5, 1e-9);
  EXPECT_NEAR(buckets[1], 0.05, 1e-9) << "the interval 19..20 s";
  EXPECT_NEAR(buckets[3], 0.45, 1e-9) << "30..39 s stalled, 39..40 s not";
  EXPECT_NEAR(buckets[5], 0.0, 1e-9);
}

TEST(RecorderHistory, EpisodesAboveAThreshold) {
  // 1 s points; shares per interval: 0, 20, 30, 0, 50, 50, 50, 5, 40.
  std::vector<std::uint64_t> stall{0, 200'000, 300'000, 0, 500'000, 500'000, 500'000, 50'000, 400'000};
  Series s{"/g", Resource::memory, Line::full, {{0, 0, {}, {}, {}}}};
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < stall.size(); ++i) {
    total += stall[i];
    s.points.push_back({static_cast<std::int64_t>(i + 1) * 1'000'000, total, {}, {}, {}});
  }
  auto all = episodes(s, 0.10, 0s);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].start_us, 1'000'000);
  EXPECT_EQ(all[0].end_us, 3'000'000);
  EXPECT_NEAR(all[0].share(), 0.25, 1e-12);
  EXPECT_EQ(all[1].start_us, 4'000'000);
  EXPECT_EQ(all[1].end_us, 7'000'000);
  EXPECT_EQ(all[2].start_us, 8'000'000);
  auto long_ones = episodes(s, 0.10, 3s);
  ASSERT_EQ(long_ones.size(), 1u);
  EXPECT_EQ(long_ones[0].start_us, 4'000'000);
  EXPECT_TRUE(episodes(s, 0.6, 0s).empty());
}

TEST(RecorderHistory, CounterResetIsNoInterval) {
  Series s{"/g",
           Resource::cpu,
           Line::some,
           {{0, 100, {}, {}, {}},
            {1'000'000, 600'000, {}, {}, {}},
            {2'000'000, 10, {}, {}, {}},
            {3'000'000, 20, {}, {}, {}}}};
  std::vector<Interval> all = intervals(s);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].stall_us, 599'900u);
  EXPECT_EQ(all[1].stall_us, 10u);
}

// ---- The CLI over a recorded file

TEST(RecorderCli, HistoryAndPlotOfARecordedFile) {
  TempDir dir;
  std::string path = dir.file("h.db");
  std::int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
  std::int64_t first = now_us - 240'000'000;
  {
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store);
    std::uint64_t busy = 0, mem = 0;
    // /busy: 80 % cpu stall from 59 s to 159 s, 10 % otherwise; /mem: 30 % memory for 29 s.
    for (int i = 0; i <= 200; ++i) {
      busy += i >= 60 && i < 160 ? 800'000 : 100'000;
      mem += i < 30 ? 300'000 : 0;
      ASSERT_TRUE(store->append(tick(first + i * 1'000'000LL, {{"system", snapshot(busy / 4, mem / 2)},
                                                               {"/busy", snapshot(busy, 0)},
                                                               {"/mem", snapshot(0, mem)}})));
    }
  }
  auto h = run_pressure({"history", "--db", path, "--since", "-5m", "--json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  std::istringstream lines(h.out);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0]["target"], "/busy") << h.out;
  // A cgroup's row says what its path names (here nothing: kind other), the system's has none.
  EXPECT_EQ(rows[0]["identity"], (nlohmann::json{{"kind", "other"}, {"name", "/busy"}})) << h.out;
  for (const nlohmann::json& row : rows)
    EXPECT_EQ(row.contains("identity"), row["target"] != "system") << row;
  EXPECT_EQ(rows[0]["resource"], "cpu");
  EXPECT_EQ(rows[0]["line"], "some");
  EXPECT_NEAR(rows[0]["share"].get<double>(), 45.0, 0.01);
  EXPECT_NEAR(rows[0]["stalled_s"].get<double>(), 90.0, 1e-6);
  EXPECT_NEAR(rows[0]["worst"]["share"].get<double>(), 80.0, 0.01);
  EXPECT_GE(rows[0]["worst"]["start"].get<double>(), static_cast<double>(first + 59'000'000) / 1e6 - 0.001);
  EXPECT_LE(rows[0]["worst"]["end"].get<double>(), static_cast<double>(first + 159'000'000) / 1e6 + 0.001);
  // When: with the default --above 10, the whole period (10 % is "at least 10 %") ...
  ASSERT_EQ(rows[0]["episodes"].size(), 1u) << rows[0];
  auto strict = run_pressure(
      {"history", "--db", path, "--since", "-5m", "--json", "--above", "50", "--cgroup", "/busy"});
  ASSERT_EQ(strict.exit_code, 0) << strict.err;
  nlohmann::json busy = nlohmann::json::parse(strict.out.substr(0, strict.out.find('\n')));
  // ... and above 50 %: exactly the 100 s of 80 %.
  ASSERT_EQ(busy["episodes"].size(), 1u) << busy;
  EXPECT_NEAR(busy["episodes"][0]["start"].get<double>(), static_cast<double>(first + 59'000'000) / 1e6,
              0.002);
  EXPECT_NEAR(busy["episodes"][0]["end"].get<double>(), static_cast<double>(first + 159'000'000) / 1e6,
              0.002);
  EXPECT_NEAR(busy["episodes"][0]["share"].get<double>(), 80.0, 1e-6);
  auto table = run_pressure({"history", "--db", path, "--since", "-5m", "--above", "50", "--for", "90s"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("WHEN: stalled at least 50% of every sample for 90s or more"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("1m40s  /busy"), std::string::npos) << table.out;

  auto mem = run_pressure({"history", "--db", path, "--since", "-5m", "--cgroup", "mem"});
  ASSERT_EQ(mem.exit_code, 0) << mem.err;
  EXPECT_NE(mem.out.find("/mem"), std::string::npos) << mem.out;
  EXPECT_EQ(mem.out.find("/busy"), std::string::npos) << mem.out;
  EXPECT_NE(mem.out.find("memory   some"), std::string::npos) << mem.out;

  // Until before the first sample: nothing, exit 1.
  auto early = run_pressure({"history", "--db", path, "--since", "-1h", "--until", "-10m"});
  EXPECT_EQ(early.exit_code, 1) << early.out << early.err;
  EXPECT_NE(early.err.find("no samples"), std::string::npos);
  auto unknown = run_pressure({"history", "--db", path, "--cgroup", "/not-recorded"});
  EXPECT_EQ(unknown.exit_code, 4);
  EXPECT_NE(unknown.err.find("/not-recorded"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("/busy"), std::string::npos) << "says what it has: " << unknown.err;

  std::string svg = dir.file("chart.svg");
  auto p = run_pressure({"plot", "--db", path, "--since", "-3m", "-o", svg});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  // Parsed by Python's XML parser: the series and the legend entries of the three targets.
  auto check =
      run_command({"/usr/bin/python3", "-c",
                   "import sys, json, xml.etree.ElementTree as E\n"
                   "ns = {'s': 'http://www.w3.org/2000/svg'}\n"
                   "root = E.parse(sys.argv[1]).getroot()\n"
                   "series = [(g.get('data-target'), g.get('data-resource'), g.get('data-line'), "
                   "len(g.findall('s:polyline', ns)))"
                   " for g in root.iter('{http://www.w3.org/2000/svg}g') if g.get('class') == 'series']\n"
                   "legend = [t.text for t in root.iter('{http://www.w3.org/2000/svg}text') if "
                   "t.get('class') == 'legend']\n"
                   "panels = [g.get('data-resource') for g in root.iter('{http://www.w3.org/2000/svg}g') if "
                   "g.get('class') == 'panel']\n"
                   "print(json.dumps({'series': series, 'legend': legend, 'panels': panels}))\n",
                   svg});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  nlohmann::json j = nlohmann::json::parse(check.out);
  EXPECT_EQ(j["legend"], nlohmann::json({"system", "/busy", "/mem"})) << check.out;
  EXPECT_EQ(j["panels"], nlohmann::json({"cpu", "memory"})) << check.out;
  EXPECT_EQ(j["series"].size(), 12u) << "3 targets x cpu, memory x some, full: " << check.out;
  for (auto& s : j["series"]) EXPECT_GE(s[3].get<int>(), 1) << s;
  if (fs::exists("/usr/bin/rsvg-convert")) {
    auto png = run_command({"/usr/bin/rsvg-convert", "-o", dir.file("chart.png"), svg});
    EXPECT_EQ(png.exit_code, 0) << png.err;
    EXPECT_GT(fs::file_size(dir.file("chart.png")), 10000u);
  }
}

// Globs over a fixture tree (no privileges): top level by default, deeper patterns, a literal
// path, and a missing group (no error: it may appear later).
TEST(RecorderCli, GlobsOverAFixtureTree) {
  struct Case {
    std::vector<std::string> globs;
    std::vector<std::string> targets;
  };
  const Case cases[] = {
      {{}, {"system", "/batch.slice", "/system.slice"}},  // psi-off.slice cannot be read: left out
      {{"/*.slice/*"}, {"system", "/batch.slice/job-1.scope"}},
      {{"batch.slice", "/batch.slice/"}, {"system", "/batch.slice"}},
      // "**" is any depth, as in serve and top (it was one level in record before the one selector).
      {{"/sys*", "/**"}, {"system", "/batch.slice", "/batch.slice/job-1.scope", "/system.slice"}},
      {{"/none", "/none/*"}, {"system"}},
  };
  for (const Case& c : cases) {
    TempDir dir;
    std::vector<std::string> args{"--proc-root",
                                  test::fixture("kernel-6.1-irq"),
                                  "--cgroup-root",
                                  test::fixture("cgroup-tree"),
                                  "record",
                                  "--db",
                                  dir.file("h.db"),
                                  "--interval",
                                  "0.01",
                                  "--count",
                                  "2"};
    for (const std::string& g : c.globs) args.insert(args.end(), {"--cgroup", g});
    auto r = run_pressure(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto store = Store::open(dir.file("h.db"), Store::Mode::read);
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->targets(), c.targets) << (c.globs.empty() ? "default" : c.globs.front());
    EXPECT_EQ(*store->count_rows("ticks"), 2);
  }
  // Asked for cgroups where there is no cgroup2 mount: an error, nothing written.
  TempDir dir;
  auto none = run_pressure({"--proc-root", test::fixture("kernel-6.1-irq"), "record", "--db",
                            dir.file("h.db"), "--count", "1", "--cgroup", "/*"});
  EXPECT_EQ(none.exit_code, 3) << none.err;
  EXPECT_NE(none.err.find("cgroup2 mount"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(dir.file("h.db")));
  auto up = run_pressure({"record", "--db", "/tmp/never.db", "--cgroup", "a/../../etc"});
  EXPECT_EQ(up.exit_code, 2);
  EXPECT_NE(up.err.find(".."), std::string::npos) << up.err;
}

// --retention and --raw reach the store: maintenance runs when recording starts.
TEST(RecorderCli, RetentionFlagsThinAtStart) {
  TempDir dir;
  std::string path = dir.file("h.db");
  std::int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
  {
    auto store = Store::open(path, Store::Mode::write);
    ASSERT_TRUE(store);
    // Three hours ago to one hour ago, every 10 s.
    for (std::int64_t t = now_us - 3 * 3'600'000'000LL; t < now_us - 3'600'000'000LL; t += 10'000'000)
      ASSERT_TRUE(store->append(tick(t, {{"system", snapshot(static_cast<std::uint64_t>(t - k_base), 0)}})));
  }
  // No cgroup2 mount in this proc root: the default records the system alone.
  auto r = run_pressure({"--proc-root", test::fixture("kernel-6.1-irq"), "record", "--db", path, "--count",
                         "1", "--retention", "2h", "--raw", "90m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto store = Store::open(path, Store::Mode::read);
  ASSERT_TRUE(store);
  auto ticks = store->ticks(0, INT64_MAX);
  ASSERT_TRUE(ticks);
  ASSERT_FALSE(ticks->empty());
  EXPECT_GE(ticks->front(), now_us - 2 * 3'600'000'000LL) << "older than --retention 2h: deleted";
  long thinned = 0;
  for (std::int64_t t : *ticks) thinned += t < now_us - 5'400'000'000LL - 60'000'000;
  EXPECT_GE(thinned, 25);
  EXPECT_LE(thinned, 31) << "between 2h and 90m ago: one per minute";
  EXPECT_GE(static_cast<long>(ticks->size()) - thinned, 180) << "the last 90 minutes of the old run, raw";
}

TEST(RecorderCli, BadFilesAndFlags) {
  TempDir dir;
  std::string garbage = dir.file("garbage.db");
  std::ofstream(garbage) << "this is not a database, it is a shopping list: eggs, milk, a bigger SSD\n";
  auto r = run_pressure({"record", "--db", garbage, "--count", "1"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find(garbage), std::string::npos) << r.err;
  EXPECT_EQ(read_all(garbage), "this is not a database, it is a shopping list: eggs, milk, a bigger SSD\n");
  auto h = run_pressure({"history", "--db", garbage});
  EXPECT_EQ(h.exit_code, 4);
  auto missing = run_pressure({"history", "--db", dir.file("missing.db")});
  EXPECT_EQ(missing.exit_code, 4);
  EXPECT_NE(missing.err.find("pressure record"), std::string::npos) << missing.err;

  auto since = run_pressure({"history", "--db", garbage, "--since", "last tuesday"});
  EXPECT_EQ(since.exit_code, 2);
  EXPECT_NE(since.err.find("--since"), std::string::npos) << since.err;
  auto order = run_pressure({"history", "--since", "-1h", "--until", "-2h"});
  EXPECT_EQ(order.exit_code, 2);
  EXPECT_NE(order.err.find("not before --until"), std::string::npos) << order.err;
  auto retention = run_pressure({"record", "--db", dir.file("x.db"), "--retention", "forever"});
  EXPECT_EQ(retention.exit_code, 2);
  EXPECT_NE(retention.err.find("--retention"), std::string::npos) << retention.err;
  EXPECT_FALSE(fs::exists(dir.file("x.db"))) << "a bad flag touches no file";
  auto interval = run_pressure({"record", "--db", dir.file("x.db"), "--interval", "0"});
  EXPECT_EQ(interval.exit_code, 2);
  auto no_output = run_pressure({"plot", "--db", garbage});
  EXPECT_EQ(no_output.exit_code, 2);
}

TEST(RecorderCli, UnwritableDirectory) {
  TempDir dir;
  fs::create_directory(dir.file("locked"));
  fs::permissions(dir.file("locked"), fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                          fs::perms::group_exec | fs::perms::others_read |
                                          fs::perms::others_exec);
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  std::string db = dir.file("locked/h.db");
  std::vector<std::string> argv = {PRESSURE_BINARY, "record", "--db", db, "--count", "1"};
  // Root writes anywhere: run it as nobody then (setpriv, util-linux).
  if (::geteuid() == 0)
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  auto r = run_command(argv);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find(db), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot write in the directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(db));
}

// ---- Time arguments

TEST(RecorderTimeArg, Grammar) {
  Clock::time_point now = at_us(k_base + 123'456);
  auto utc = LocalZone{[](int y, int mo, int d, int h, int mi, int s) -> long long {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return static_cast<long long>(timegm(&tm)) - 3600;  // local time is UTC+1
  }};
  struct Case {
    const char* text;
    std::int64_t expected_us;
  };
  const std::int64_t n = k_base + 123'456;
  const Case cases[] = {
      {"now", n},
      {"-1h", n - 3'600'000'000LL},
      {"  -90s ", n - 90'000'000LL},
      {"10m ago", n - 600'000'000LL},
      {"10 min ago", n - 600'000'000LL},
      {"1h30m ago", n - 5'400'000'000LL},
      {"-1h 30m", n - 5'400'000'000LL},
      {"-1.5h", n - 5'400'000'000LL},
      {"-2d", n - 172'800'000'000LL},
      {"-1w", n - 604'800'000'000LL},
      {"-250ms", n - 250'000LL},
      {"-3sec", n - 3'000'000LL},
      {"1763750000", 1'763'750'000'000'000LL},
      {"1763750000.25", 1'763'750'000'250'000LL},
      {"2026-11-21T20:31:12Z", 1'795'293'072'000'000LL},
      {"2026-11-21t20:31:12z", 1'795'293'072'000'000LL},
      {"2026-11-21T20:31:12.5Z", 1'795'293'072'500'000LL},
      {"2026-11-21T20:31:12+01:00", 1'795'289'472'000'000LL},
      {"2026-11-21T20:31:12-0130", 1'795'298'472'000'000LL},
      {"2026-11-21 20:31:12", 1'795'289'472'000'000LL},  // local = UTC+1 here
      {"2026-11-21 20:31", 1'795'289'460'000'000LL},
      {"2026-11-21", 1'795'215'600'000'000LL},
      {"2024-02-29T00:00:00Z", 1'709'164'800'000'000LL},
  };
  for (const Case& c : cases) {
    auto t = parse_time_arg(c.text, now, "--since", utc);
    ASSERT_TRUE(t) << c.text << ": " << t.error().message();
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count(),
              c.expected_us)
        << c.text;
  }
  const char* bad[] = {"",
                       "yesterday",
                       "10m",
                       "-",
                       "-10",
                       "--1h",
                       "-1h junk",
                       "1e5",
                       "2026-13-01",
                       "2026-02-30",
                       "2023-02-29",
                       "2026-11-21T25:00",
                       "2026-11-21X",
                       "2026-11-21T20",
                       "2026-11-21T20:31:12+25:00",
                       "-99999999999999999999h",
                       "1.2.3",
                       "12:00",
                       "2026-11-21T20:31:12.Z",
                       "10 parsecs ago",
                       "12632222254",
                       "-250y",
                       "-100000000000s",
                       "-3000000w"};
  for (const char* b : bad) {
    auto t = parse_time_arg(b, now, "--until", utc);
    ASSERT_FALSE(t) << "'" << b << "' parsed";
    EXPECT_EQ(t.error().code(), Errc::invalid_argument);
    EXPECT_EQ(t.error().message().rfind("--until: ", 0), 0u) << t.error().message();
  }
  auto hint = parse_time_arg("10m", now, "--since");
  EXPECT_NE(hint.error().message().find("-10m"), std::string::npos) << hint.error().message();
  // Local time through the C library: the same as mktime says.
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 21;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  auto local = parse_time_arg("2026-11-21 12:00", now, "--since");
  ASSERT_TRUE(local);
  EXPECT_EQ(Clock::to_time_t(*local), std::mktime(&tm));

  EXPECT_EQ(*parse_duration_arg("30d", "--retention"), std::chrono::hours(720));
  EXPECT_EQ(*parse_duration_arg("1h30m", "--retention"), std::chrono::minutes(90));
  EXPECT_FALSE(parse_duration_arg("forever", "--retention"));
  EXPECT_FALSE(parse_duration_arg("", "--retention"));
}

// ---- The chart itself

TEST(RecorderPlot, SvgIsWellFormedWithEveryNameEscaped) {
  PlotData data;
  data.title = "pressure <on> \"host\" & more";
  data.since_us = k_base;
  data.until_us = k_base + 3'600'000'000LL;
  std::vector<double> wave;
  for (int i = 0; i < 100; ++i) wave.push_back(i % 10 == 3 ? std::nan("") : 0.3 + 0.2 * std::sin(i / 5.0));
  data.series = {{"/a&b<c>", Resource::cpu, Line::some, wave},
                 {"/a&b<c>", Resource::io, Line::full, wave},
                 {"system", Resource::cpu, Line::some, std::vector<double>(100, 0.0)}};
  std::string svg = render_svg(data);
  TempDir dir;
  std::ofstream(dir.file("c.svg")) << svg;
  auto check = run_command(
      {"/usr/bin/python3", "-c",
       "import sys, xml.etree.ElementTree as E\n"
       "root = E.parse(sys.argv[1]).getroot()\n"
       "g = [e for e in root.iter() if e.get('class') == 'series']\n"
       "print(len(g), sum(len(list(x)) for x in g), root.find('{http://www.w3.org/2000/svg}text').text)\n",
       dir.file("c.svg")});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  // 3 series; the wave is cut into 11 polylines by its 10 gaps, the flat line is one.
  EXPECT_EQ(check.out, "3 23 pressure <on> \"host\" & more\n");
  EXPECT_NE(svg.find("60%"), std::string::npos) << "a percent axis up to the nice ceiling of 50 %";

  PlotData empty{"nothing", k_base, k_base + 1000, {}, {}};
  EXPECT_NE(render_svg(empty).find("no samples"), std::string::npos);
}

}  // namespace
}  // namespace pressure::recorder
