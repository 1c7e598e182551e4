// The model behind `pressure top`: shares from total deltas, sorting by a resource and line,
// the name filter, pause and quit keys, sparklines, and an 80x24 layout. No terminal needed.
#include <cmath>

#include <gtest/gtest.h>

#include "support/command.hpp"
#include "top/model.hpp"

namespace pressure::top {
namespace {

using namespace std::chrono_literals;

Stall stall(std::uint64_t total, std::uint32_t avg10 = 0) {
  return Stall{Percent::from_hundredths(avg10), {}, {}, total};
}

// cpu, memory, io with some and full; irq full only.
Snapshot snap(std::chrono::steady_clock::time_point t, std::uint64_t cpu, std::uint64_t mem_some,
              std::uint64_t mem_full, std::uint64_t io = 0, std::uint32_t avg10 = 0) {
  Snapshot s;
  s.monotonic = t;
  s.resources[0] = Pressure{stall(cpu, avg10), stall(cpu / 2)};
  s.resources[1] = Pressure{stall(mem_some), stall(mem_full)};
  s.resources[2] = Pressure{stall(io), stall(io / 2)};
  s.resources[3] = Pressure{std::nullopt, stall(0)};
  return s;
}

std::vector<std::string> names(const Model& m) {
  std::vector<std::string> out;
  for (const Row* r : m.cgroups()) out.push_back(r->name);
  return out;
}

class TopModel : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t0 = std::chrono::steady_clock::time_point(100s);
    feed(t0, 0, 0, 0, 0);
    // Over 1 s: /cpu stalls 600 ms on cpu, /mem 300 ms memory some and 200 ms full,
    // /io 100 ms io, /quiet nothing.
    feed(t0 + 1s, 600'000, 300'000, 200'000, 100'000);
  }
  void feed(std::chrono::steady_clock::time_point t, std::uint64_t cpu, std::uint64_t mem_some,
            std::uint64_t mem_full, std::uint64_t io) {
    std::vector<CgroupSnapshot> groups;
    groups.push_back({"/quiet", snap(t, 0, 0, 0)});
    groups.push_back({"/app/io", snap(t, 0, 0, 0, io)});
    groups.push_back({"/batch/mem", snap(t, 0, mem_some, mem_full)});
    groups.push_back({"/web/cpu", snap(t, cpu, 0, 0, 0, 4200)});
    model.update(snap(t, cpu / 3, 0, 0), groups);
  }
  Model model;
};

TEST_F(TopModel, SharesFromTotals) {
  ASSERT_TRUE(model.has_system());
  EXPECT_NEAR(model.system().share[index_of({Resource::cpu, Line::some})], 20.0, 1e-9);
  auto rows = model.cgroups();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]->name, "/web/cpu");
  EXPECT_NEAR(rows[0]->share[index_of({Resource::cpu, Line::some})], 60.0, 1e-9);
  EXPECT_NEAR(rows[0]->share[index_of({Resource::cpu, Line::full})], 30.0, 1e-9);
  EXPECT_EQ(rows[0]->avg10[index_of({Resource::cpu, Line::some})], Percent::from_hundredths(4200));
  EXPECT_TRUE(std::isnan(model.system().share[index_of({Resource::irq, Line::some})]))
      << "irq some is absent";
}

TEST_F(TopModel, SortKeys) {
  EXPECT_EQ(names(model), (std::vector<std::string>{"/web/cpu", "/app/io", "/batch/mem", "/quiet"}))
      << "cpu some, then equal shares by name";
  model.key('m');
  EXPECT_EQ(model.sort(), (Key{Resource::memory, Line::some}));
  EXPECT_EQ(names(model).front(), "/batch/mem");
  model.key('f');
  EXPECT_EQ(model.sort(), (Key{Resource::memory, Line::full}));
  EXPECT_EQ(names(model).front(), "/batch/mem");
  model.key('i');
  EXPECT_EQ(model.sort(), (Key{Resource::io, Line::full})) << "the line stays";
  EXPECT_EQ(names(model).front(), "/app/io");
  model.key('r');
  EXPECT_EQ(model.sort(), (Key{Resource::irq, Line::full}));
  model.key('s');
  EXPECT_EQ(model.sort(), (Key{Resource::irq, Line::full})) << "irq has no some line";
  model.key('c');
  model.key('s');
  EXPECT_EQ(model.sort(), (Key{Resource::cpu, Line::some}));
  for (std::size_t i = 1; i <= k_keys.size(); ++i) {
    model.key(Model::k_tab);
    EXPECT_EQ(model.sort(), k_keys[i % k_keys.size()]);
  }
}

TEST_F(TopModel, FilterPauseQuit) {
  model.key('/');
  EXPECT_TRUE(model.editing_filter());
  for (char c : std::string("BATCH")) model.key(c);
  EXPECT_EQ(names(model), (std::vector<std::string>{"/batch/mem"})) << "case-insensitive, live while typing";
  EXPECT_TRUE(model.key('q')) << "q is text while editing";
  EXPECT_TRUE(names(model).empty());
  model.key(Model::k_backspace);
  model.key(Model::k_enter);
  EXPECT_FALSE(model.editing_filter());
  EXPECT_EQ(model.filter(), "BATCH");
  model.key('/');
  model.key('x');
  model.key(Model::k_escape);
  EXPECT_EQ(model.filter(), "BATCH") << "Escape while editing restores";
  model.key(Model::k_escape);
  EXPECT_EQ(model.filter(), "");
  EXPECT_EQ(model.cgroups().size(), 4u);

  EXPECT_FALSE(model.paused());
  model.key(' ');
  EXPECT_TRUE(model.paused());
  model.key('p');
  EXPECT_FALSE(model.paused());
  EXPECT_FALSE(model.key('q'));
}

TEST_F(TopModel, GroupsThatVanishAreDropped) {
  auto t = std::chrono::steady_clock::time_point(102s);
  model.update(snap(t, 0, 0, 0), {{"/quiet", snap(t, 0, 0, 0)}});
  EXPECT_EQ(names(model), (std::vector<std::string>{"/quiet"}));
}

TEST(TopSparkline, LastMinuteScaledAndPlaceholders) {
  Model model(60s);
  auto t = std::chrono::steady_clock::time_point(1000s);
  std::uint64_t total = 0;
  model.update(snap(t, 0, 0, 0), {});
  // 0 %, 50 %, 100 % over three seconds.
  for (std::uint64_t stall : {0ULL, 500'000ULL, 1'000'000ULL}) {
    t += 1s;
    total += stall;
    model.update(snap(t, total, 0, 0), {});
  }
  std::string ascii = model.sparkline(model.system(), {Resource::cpu, Line::some}, 60, false);
  ASSERT_EQ(ascii.size(), 60u);
  EXPECT_EQ(ascii.substr(57), " +@") << "0 % blank-low, 50 % mid, 100 % top";
  EXPECT_EQ(ascii.substr(0, 50), std::string(50, ' ')) << "no readings yet: blank";
  std::string blocks = model.sparkline(model.system(), {Resource::cpu, Line::some}, 60, true);
  EXPECT_EQ(columns(blocks), 60u);
  EXPECT_EQ(blocks.substr(blocks.size() - 6), "\u2585\u2588");
  // Older than the minute falls off.
  for (int i = 0; i < 70; ++i) {
    t += 1s;
    model.update(snap(t, total, 0, 0), {});
  }
  EXPECT_EQ(model.system().history.size(), 61u);
  EXPECT_EQ(model.sparkline(model.system(), {Resource::cpu, Line::some}, 20, false), std::string(20, ' '));
}

TEST_F(TopModel, LayoutFitsEightyByTwentyFour) {
  model.key('m');
  Screen screen =
      layout(model, {.width = 80, .height = 24, .utf8 = true, .clock = "12:00:00", .interval = 1.0});
  ASSERT_EQ(screen.lines.size(), 24u);
  for (const std::string& line : screen.lines) EXPECT_EQ(columns(line), 80u) << line;
  EXPECT_NE(screen.lines[0].find("sort: memory some"), std::string::npos) << screen.lines[0];
  std::string all;
  for (const std::string& line : screen.lines) all += line + "\n";
  EXPECT_NE(all.find("*MEM-S"), std::string::npos) << all;
  EXPECT_NE(all.find("*memory some"), std::string::npos) << all;
  EXPECT_LT(all.find("/batch/mem"), all.find("/web/cpu")) << all;
  EXPECT_NE(screen.lines.back().find("quit: q"), std::string::npos);
  // Small terminals still get a screenful, and a long name keeps its end.
  Screen small = layout(model, {.width = 50, .height = 10, .utf8 = false, .clock = "", .interval = 1.0});
  EXPECT_EQ(small.lines.size(), 10u);
  Model one;
  auto t = std::chrono::steady_clock::time_point(5s);
  std::string long_name = "/" + std::string(100, 'x') + "/leaf-group";
  one.update(snap(t, 0, 0, 0), {{long_name, snap(t, 0, 0, 0)}});
  Screen s = layout(one, {.width = 80, .height = 24, .utf8 = false, .clock = "", .interval = 1.0});
  std::string joined;
  for (auto& l : s.lines) joined += l;
  EXPECT_NE(joined.find("~"), std::string::npos);
  EXPECT_NE(joined.find("/leaf-group"), std::string::npos);
}

// Not a terminal: plain text blocks, every group of a fixture tree with its full name.
TEST(TopPlain, FixtureTree) {
  auto r = test::run_pressure({"--proc-root", test::fixture("kernel-6.1-irq"), "--cgroup-root",
                               test::fixture("cgroup-tree"), "top", "--interval", "0.05", "--count", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CGROUPS 3/3"), std::string::npos) << r.out;
  // Units by their short name (the filter still matches the path).
  EXPECT_NE(r.out.find("\njob-1.scope "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("/batch.slice/job-1.scope"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" irq full "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("irq some"), std::string::npos) << "absent line, no row: " << r.out;
  EXPECT_NE(r.out.find("SYSTEM", r.out.find("SYSTEM") + 1), std::string::npos) << "two blocks";
  auto bad = test::run_pressure({"top", "--interval", "0"});
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace pressure::top
