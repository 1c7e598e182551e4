// Against the real kernel: /proc/pressure, cgroup2 groups this test creates with real CPU
// pressure in them, and a group removed under a Reader.
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <pressure/pressure.hpp>

#include "support/command.hpp"
#include "support/live.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::run_command;
using test::run_pressure;
using test::TestCgroup;

Pressure cat(const std::string& path) {
  auto r = run_command({"/bin/cat", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto p = parse_pressure(r.out, path);
  EXPECT_TRUE(p) << p.error().message();
  return p.value_or(Pressure{});
}

void expect_ordered(const std::optional<Stall>& a, const std::optional<Stall>& b,
                    const std::optional<Stall>& c, const std::string& what) {
  ASSERT_EQ(a.has_value(), b.has_value()) << what;
  ASSERT_EQ(b.has_value(), c.has_value()) << what;
  if (!a) return;
  EXPECT_LE(a->total_us, b->total_us) << what;
  EXPECT_LE(b->total_us, c->total_us) << what;
  EXPECT_LE(b->avg10.hundredths(), 10000u) << what;
}

TEST(Live, ProcPressureAgreesWithCat) {
  PRESSURE_REQUIRE_LIVE();
  Reader reader(Target::system());
  ASSERT_TRUE(reader.snapshot());  // files open, as in a long-running reader
  for (Resource r : k_resources) {
    std::string path = "/proc/pressure/" + std::string(to_string(r));
    if (::access(path.c_str(), R_OK) != 0) {
      auto ours = reader.read(r);
      ASSERT_FALSE(ours) << path << " is missing, yet the reader read it";
      EXPECT_EQ(ours.error().code(), Errc::unavailable);
      continue;
    }
    Pressure before = cat(path);
    auto ours = reader.read(r);
    Pressure after = cat(path);
    ASSERT_TRUE(ours) << ours.error().message();
    expect_ordered(before.some, ours->some, after.some, path + " some");
    expect_ordered(before.full, ours->full, after.full, path + " full");
  }
}

TEST(Live, Cgroup2MountIsDiscovered) {
  PRESSURE_REQUIRE_LIVE();
  auto root = cgroup2_root();
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(::access((*root + "/cgroup.procs").c_str(), R_OK), 0) << *root;
  EXPECT_EQ(::access((*root + "/cpu.pressure").c_str(), R_OK), 0) << *root;
  Reader group_root(Target::cgroup("/"));
  auto s = group_root.snapshot();
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE((*s)[Resource::cpu]);
}

TEST(Live, BusyCgroupShowsCpuPressure) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("cpu");
  ASSERT_TRUE(group.ok()) << group.dir();
  int spinners = static_cast<int>(std::thread::hardware_concurrency()) + 1;
  for (int i = 0; i < spinners; ++i) ASSERT_GT(group.spawn_spinner(), 0);

  Reader reader(Target::cgroup(group.path()));
  auto before = reader.snapshot();
  ASSERT_TRUE(before) << before.error().message();
  std::this_thread::sleep_for(1500ms);
  auto after = reader.snapshot();
  ASSERT_TRUE(after) << after.error().message();
  double share = stall_share(*before, *after, Resource::cpu, Line::some);
  EXPECT_GT(share, 0.2) << "more spinners than cores must wait for a CPU";
  EXPECT_GT((*after)[Resource::cpu]->some->total_us, (*before)[Resource::cpu]->some->total_us);

  // The CLI sees the same group, by path and by a member's pid.
  auto by_path = run_pressure({"show", "--cgroup", group.path(), "--json"});
  ASSERT_EQ(by_path.exit_code, 0) << by_path.err;
  EXPECT_EQ(json::parse(by_path.out)["target"], group.path());
  pid_t member = group.spawn_spinner();
  auto by_pid = run_pressure({"show", "--pid", std::to_string(member), "--json"});
  ASSERT_EQ(by_pid.exit_code, 0) << by_pid.err;
  EXPECT_EQ(json::parse(by_pid.out)["target"], group.path());
}

TEST(Live, RemovedCgroupIsGoneNotACrash) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("gone");
  ASSERT_TRUE(group.ok());
  ASSERT_GT(group.spawn_spinner(), 0);
  Reader reader(Target::cgroup(group.path()));
  ASSERT_TRUE(reader.snapshot());
  ASSERT_TRUE(group.remove()) << "could not remove " << group.dir();
  auto s = reader.snapshot();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::gone) << s.error().message();
  EXPECT_NE(s.error().message().find(group.path()), std::string::npos) << s.error().message();

  auto cli = run_pressure({"show", "--cgroup", group.path()});
  EXPECT_EQ(cli.exit_code, 4);
  EXPECT_NE(cli.err.find("does not exist"), std::string::npos) << cli.err;
}

TEST(Live, ScanFindsTheGroupsWeMade) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup parent("scan");
  ASSERT_TRUE(parent.ok());
  std::vector<std::unique_ptr<TestCgroup>> children;
  for (int i = 0; i < 3; ++i) {
    children.push_back(std::make_unique<TestCgroup>("child", parent.path()));
    ASSERT_TRUE(children.back()->ok());
  }
  auto scan = scan_cgroups(parent.path());
  ASSERT_TRUE(scan) << scan.error().message();
  ASSERT_EQ(scan->size(), 3u);
  for (auto& c : *scan) {
    EXPECT_EQ(c.path.rfind(parent.path() + "/pressure-test-child-", 0), 0u) << c.path;
    ASSERT_TRUE(c.snapshot) << c.snapshot.error().message();
    EXPECT_TRUE((*c.snapshot)[Resource::memory]);
  }
  children.clear();  // children first, then the parent
}

TEST(Live, CliShowOnTheRealSystem) {
  PRESSURE_REQUIRE_LIVE();
  auto r = run_pressure({"show", "--json", "--interval", "0.2", "--count", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    ++count;
    EXPECT_EQ(j["target"], "system");
    EXPECT_TRUE(j["cpu"]["some"]["total_us"].is_number_unsigned());
    double share = j["window"]["cpu"]["some"].get<double>();
    EXPECT_GE(share, 0.0);
    EXPECT_LE(share, 100.0);
  }
  EXPECT_EQ(count, 2);
  auto self = run_pressure({"show", "--pid", std::to_string(::getpid())});
  EXPECT_EQ(self.exit_code, 0) << self.err;
}

}  // namespace
}  // namespace pressure
