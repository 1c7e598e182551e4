// The rule engine's decisions, without a kernel: a fixture tree laid out like /proc and a
// cgroup2 mount (the readers take roots), a clock moved by hand and an actuator that records
// what it is asked to do. The engine's parts are driven directly, as the Monitor would: a tick,
// an event, a timer. The system tests (tests/system/daemon_test.cpp) run the same rules on the
// real kernel.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>

#include "daemon/config.hpp"
#include "policy/engine_parts.hpp"
#include "support/engine_fakes.hpp"
#include "support/temp_dir.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using policy::Decision;
using policy::engine::Context;
using policy::engine::RuleState;
using test::Call;

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;  // truncates in place: readers keep their descriptors
}

std::string psi(std::uint64_t some_total, double some_avg10 = 0, std::uint64_t full_total = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "some avg10=%.2f avg60=0.00 avg300=0.00 total=%llu\nfull avg10=0.00 avg60=0.00 avg300=0.00 "
                "total=%llu\n",
                some_avg10, static_cast<unsigned long long>(some_total),
                static_cast<unsigned long long>(full_total));
  return buf;
}

class EngineTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp.ok());
    write(proc + "/meminfo",
          "MemTotal: 8388608 kB\nMemAvailable: 4194304 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
    write(proc + "/vmstat", "pgscan_kswapd 0\npgscan_direct 0\n");
    write(proc + "/self/mountinfo", "");
    for (const char* r : {"cpu", "memory", "io"}) write(proc + "/pressure/" + r, psi(0));
    write(proc + "/" + std::to_string(::getpid()) + "/cgroup", "0::/daemon.service\n");
    write(proc + "/1/cgroup", "0::/init.scope\n");
    group("/", 0);
    group("/daemon.service", 0);
    group("/init.scope", 0);
  }

  // A cgroup with its pressure files, memory.current and memory.high; `pids` in cgroup.procs.
  void group(const std::string& path, std::uint64_t memory, const std::vector<int>& pids = {}) {
    std::string dir = cg + (path == "/" ? "" : path);
    std::string procs;
    for (int pid : pids) procs += std::to_string(pid) + "\n";
    write(dir + "/cgroup.procs", procs);
    for (const char* r : {"cpu", "memory", "io"}) write(dir + "/" + r + ".pressure", psi(0));
    write(dir + "/memory.current", std::to_string(memory) + "\n");
    write(dir + "/memory.high", "max\n");
    actuator.pids[dir] = pids;
  }
  void set_pressure(const std::string& path, const std::string& resource, const std::string& text) {
    write(cg + path + "/" + resource + ".pressure", text);
  }
  // A process with its name, anonymous memory (statm: size resident shared, in pages) and group.
  void process(int pid, const std::string& name, std::uint64_t anon_pages, int oom_score_adj = 0) {
    std::string dir = proc + "/" + std::to_string(pid);
    write(dir + "/comm", name + "\n");
    write(dir + "/statm", "1000 " + std::to_string(anon_pages) + " 0 0 0 0 0\n");
    write(dir + "/oom_score_adj", std::to_string(oom_score_adj) + "\n");
  }

  // Parses one rule from TOML and arms it.
  void arm(const std::string& toml) {
    auto config = daemon::parse_config(toml, "test.toml");
    ASSERT_TRUE(config) << config.error().message();
    ASSERT_EQ(config->rules.size(), 1U);
    arm(config->rules[0]);
  }
  ReaderOptions fixture() const {
    ReaderOptions o;
    o.proc_root = proc;
    o.cgroup_root = cg;
    return o;
  }
  void TearDown() override {
    if (ctx) policy::engine::disarm(*ctx, s);
  }
  void arm(policy::Rule rule) {
    if (ctx) policy::engine::disarm(*ctx, s);
    s = RuleState{};
    policy::EngineOptions options;
    options.reader = fixture();
    options.clock = clock;
    options.rearm_period = 1ms;
    options.report = [this](const Decision& d) { decisions.push_back(d); };
    ctx = std::make_unique<Context>(monitor, *act, options);
    ctx->cgroup_root = cg;
    s.rule = std::move(rule);
    Result<void> armed = policy::engine::arm(*ctx, s);
    ASSERT_TRUE(armed) << armed.error().message();
  }
  void tick() { policy::engine::on_condition_tick(*ctx, s); }
  // The decisions about acting (not arming), oldest first.
  std::vector<Decision> acted() const {
    std::vector<Decision> out;
    for (const Decision& d : decisions)
      if (d.what != "armed" && d.what != "released") out.push_back(d);
    return out;
  }
  // Runs the Monitor's loop until `done` or a second passed.
  template <typename F>
  bool run_until(F done) {
    for (int i = 0; i < 100 && !done(); ++i) {
      pollfd p{monitor.fd(), POLLIN, 0};
      ::poll(&p, 1, 10);
      (void)monitor.dispatch();
    }
    return done();
  }

  test::TempDir tmp{"engine-test"};
  std::string proc = tmp.path() + "/proc", cg = tmp.path() + "/cgroup";
  std::shared_ptr<test::FakeClock> clock = std::make_shared<test::FakeClock>();
  test::RecordingActuator actuator;
  policy::Actuator* act = &actuator;
  Monitor monitor{fixture()};
  std::unique_ptr<Context> ctx;
  RuleState s;
  std::vector<Decision> decisions;
};

std::string rule(const std::string& target, const std::string& when, const std::string& rest) {
  return "[[rule]]\nname = \"r\"\ntarget = { cgroup = \"" + target + "\" }\nwhen = \"" + when + "\"\n" + rest;
}

// ---- for, cooldown, repeat ------------------------------------------------------------------

TEST_F(EngineTest, ActsOnlyOnceTheConditionsHeldForTheirDuration) {
  group("/batch", 0);
  arm(rule("/batch", "memory some avg10>=50", "for = \"10s\"\naction = \"log\"\n"));
  set_pressure("/batch", "memory", psi(0, 60));
  tick();
  clock->advance(5s);
  tick();
  EXPECT_TRUE(acted().empty());
  clock->advance(5s);
  tick();
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].what, "log");
  EXPECT_EQ(acted()[0].result, "ok");
  EXPECT_NE(acted()[0].detail.find("memory some avg10=60.00%, held 10.00s"), std::string::npos)
      << acted()[0].detail;
}

TEST_F(EngineTest, AStreakShorterThanTheDurationIsReleasedWithoutAction) {
  group("/batch", 0);
  arm(rule("/batch", "memory some avg10>=50", "for = \"10s\"\naction = \"log\"\n"));
  set_pressure("/batch", "memory", psi(0, 60));
  tick();
  clock->advance(4s);
  set_pressure("/batch", "memory", psi(0, 10));
  tick();
  EXPECT_TRUE(acted().empty());
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions.back().what, "released");
  EXPECT_NE(decisions.back().detail.find("held 4.00s, less than 10.00s: no action"), std::string::npos)
      << decisions.back().detail;
}

TEST_F(EngineTest, CooldownThenRepeatWhileItStillHolds) {
  group("/batch", 0);
  arm(rule("/batch", "memory some avg10>=50", "action = \"log\"\ncooldown = \"15s\"\n"));
  set_pressure("/batch", "memory", psi(0, 60));
  tick();
  EXPECT_EQ(acted().size(), 1U);
  clock->advance(14s);
  tick();
  EXPECT_EQ(acted().size(), 1U);  // in the cooldown
  clock->advance(1s);
  tick();
  EXPECT_EQ(acted().size(), 2U);  // repeat = true by default
}

TEST_F(EngineTest, WithoutRepeatOnceAStreakUntilItEnds) {
  group("/batch", 0);
  arm(rule("/batch", "memory some avg10>=50", "action = \"log\"\ncooldown = \"1s\"\nrepeat = false\n"));
  set_pressure("/batch", "memory", psi(0, 60));
  tick();
  clock->advance(10s);
  tick();
  EXPECT_EQ(acted().size(), 1U);
  set_pressure("/batch", "memory", psi(0, 0));
  tick();
  set_pressure("/batch", "memory", psi(0, 60));
  tick();
  EXPECT_EQ(acted().size(), 2U);  // a new streak
}

TEST_F(EngineTest, AWindowConditionIsTheShareOfTotalGrowthOnTheClock) {
  group("/batch", 0);
  arm(rule("/batch", "memory some 2s>=50%", "action = \"log\"\ninterval = \"500ms\"\n"));
  for (int i = 0; i <= 4; ++i) {  // 300 ms stalled per 500 ms: 60 %
    set_pressure("/batch", "memory", psi(static_cast<std::uint64_t>(i) * 300'000));
    tick();
    if (i < 4) clock->advance(500ms);
  }
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_NE(acted()[0].detail.find("=60.00%"), std::string::npos) << acted()[0].detail;
}

TEST_F(EngineTest, AKernelEventStartsAStreakFromTheTotalItCarries) {
  group("/batch", 0);
  arm(rule("/batch", "memory some 10%/1s", "for = \"2s\"\naction = \"log\"\n"));
  Event e;
  e.share = 0.5;
  e.observed_span = 1s;
  e.total_us = 1'000'000;
  policy::engine::on_event(*ctx, s, e);
  EXPECT_TRUE(acted().empty());
  for (int i = 1; i <= 25 && s.timer; ++i) {  // 50 % stalled, sampled every 100 ms until it acts
    clock->advance(100ms);
    set_pressure("/batch", "memory", psi(1'000'000 + static_cast<std::uint64_t>(i) * 50'000));
    policy::engine::on_hot_tick(*ctx, s);
  }
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_NE(acted()[0].detail.find("memory some 100ms/1s: 50.0% stalled"), std::string::npos)
      << acted()[0].detail;
  EXPECT_NE(acted()[0].detail.find("held 2.00s"), std::string::npos) << acted()[0].detail;
}

// ---- victims: kill, signal, prefer/avoid, guards ----------------------------------------------

TEST_F(EngineTest, KillTakesTheLargestChildWithCgroupKillScopedToIt) {
  group("/batch", 0);
  group("/batch/a", 100 << 20, {101});
  group("/batch/b", 300 << 20, {102, 103});
  group("/batch/c", 200 << 20, {104});
  arm(rule("/batch", "memory some avg10>=0", "action = \"kill\"\n"));
  tick();
  ASSERT_EQ(actuator.calls.size(), 1U);
  EXPECT_EQ(actuator.calls[0].what, "kill_cgroup");
  EXPECT_EQ(actuator.calls[0].where, cg + "/batch/b");
  EXPECT_EQ(actuator.calls[0].scope, "/batch/b");
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].victim, "/batch/b");
  EXPECT_NE(acted()[0].detail.find("; 2 processes killed with cgroup.kill"), std::string::npos)
      << acted()[0].detail;
}

TEST_F(EngineTest, PreferredBeforeLargerAvoidedOnlyWhenNothingElse) {
  group("/batch", 0);
  group("/batch/big", 300 << 20);
  group("/batch/job.scope", 10 << 20);
  group("/batch/small", 20 << 20);
  arm(rule("/batch", "memory some avg10>=0",
           "action = \"kill\"\nprefer = [\"*.scope\"]\ncooldown = \"1s\"\n"));
  tick();
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].victim, "/batch/job.scope");

  decisions.clear();
  actuator.calls.clear();
  arm(rule("/batch", "memory some avg10>=0", "action = \"kill\"\navoid = [\"big\", \"*.scope\"]\n"));
  tick();
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].victim, "/batch/small");
}

TEST_F(EngineTest, NeverTheGroupOfTheDaemonOrOfInit) {
  group("/batch", 0);
  group("/batch/home", 900 << 20);
  write(proc + "/" + std::to_string(::getpid()) + "/cgroup", "0::/batch/home\n");
  arm(rule("/batch", "memory some avg10>=0", "action = \"kill\"\n"));
  tick();
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].result, "no-victim");
  EXPECT_NE(acted()[0].detail.find("among 1 (all protected)"), std::string::npos) << acted()[0].detail;
  EXPECT_TRUE(actuator.calls.empty());
}

TEST_F(EngineTest, TheRootGroupOnlyWithAllowRoot) {
  group("/a", 100 << 20, {101});
  auto config = daemon::parse_config(
      rule("/", "memory some avg10>=0", "action = \"kill\"\nallow_root = true\n"), "test.toml");
  ASSERT_TRUE(config) << config.error().message();
  policy::Rule r = config->rules[0];
  r.allow_root = false;  // as if it slipped past the configuration
  arm(r);
  tick();
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].result, "refused");
  EXPECT_TRUE(actuator.calls.empty());
}

TEST_F(EngineTest, ProcessesByMemorySkippingTheUnkillable) {
  group("/batch", 0, {201, 202, 203});
  process(201, "small", 100);
  process(202, "big", 5000);
  process(203, "sshd", 9000, -1000);
  arm(rule("/batch", "memory some avg10>=0",
           "action = \"kill\"\nvictim = { among = \"processes\", by = \"memory\" }\ngrace = \"5s\"\n"));
  tick();
  ASSERT_EQ(actuator.calls.size(), 1U);
  EXPECT_EQ(actuator.calls[0].what, "signal");
  EXPECT_EQ(actuator.calls[0].where, "202");
  EXPECT_EQ(actuator.calls[0].value, "15");  // SIGTERM first
  EXPECT_EQ(actuator.calls[0].scope, "/batch");
  EXPECT_EQ(acted()[0].victim, "pid 202 (big)");
  // The grace period ends (here: the engine stops): SIGKILL to the same process.
  ctx->carryover->finish_kills();
  ASSERT_EQ(actuator.calls.size(), 2U);
  EXPECT_EQ(actuator.calls[1].value, "9");
  EXPECT_NE(acted().back().detail.find("grace period over: SIGKILL to pid 202 (big)"), std::string::npos);
}

TEST_F(EngineTest, AGroupSignalReachesEveryProcessTheActuatorLists) {
  group("/batch", 0);
  group("/batch/job", 10 << 20, {301, 302});
  // A signal rule's victim is its target itself, unless it says otherwise.
  arm(rule("/batch/job", "memory some avg10>=0", "action = \"signal\"\nsignal = \"SIGUSR1\"\n"));
  tick();
  ASSERT_EQ(actuator.calls.size(), 2U);
  for (const Call& c : actuator.calls) {
    EXPECT_EQ(c.what, "signal");
    EXPECT_EQ(c.value, "10");
    EXPECT_EQ(c.scope, "/batch/job");
  }
  EXPECT_NE(acted()[0].detail.find("signal 10 sent to 2 of 2 processes"), std::string::npos)
      << acted()[0].detail;
}

TEST_F(EngineTest, AFailedActionIsReportedAndCounted) {
  group("/batch", 0);
  group("/batch/job", 10 << 20, {301});
  actuator.fail_with = Error(Errc::permission, "no permission to kill");
  arm(rule("/batch", "memory some avg10>=0", "action = \"kill\"\n"));
  tick();
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].result, "failed");
  EXPECT_EQ(acted()[0].severity, Decision::Severity::error);
  EXPECT_NE(acted()[0].detail.find("failed: no permission to kill"), std::string::npos);
  EXPECT_EQ((ctx->counters->snapshot()[{"r", "kill", "failed"}]), 1U);
}

// ---- exec, memory-high, notify ----------------------------------------------------------------

TEST_F(EngineTest, ExecRunsTheCommandWithTheEventInItsEnvironment) {
  group("/batch", 0);
  arm(rule("/batch", "memory some avg10>=50", "action = \"exec\"\ncommand = [\"/bin/true\", \"x\"]\n"));
  set_pressure("/batch", "memory", psi(0, 70));
  tick();
  ASSERT_EQ(actuator.calls.size(), 1U);
  EXPECT_EQ(actuator.calls[0].what, "exec");
  EXPECT_EQ(actuator.calls[0].where, "/bin/true");
  auto env = actuator.calls[0].env;
  EXPECT_NE(std::find(env.begin(), env.end(),
                      std::make_pair(std::string("PRESSURE_TARGET"), std::string("/batch"))),
            env.end());
  EXPECT_NE(
      std::find(env.begin(), env.end(), std::make_pair(std::string("PRESSURE_DRY_RUN"), std::string("0"))),
      env.end());
  ASSERT_EQ(actuator.running.size(), 1U);
  actuator.running[0](0, false);
  EXPECT_EQ(acted().back().result, "exited-ok");
  EXPECT_EQ((ctx->counters->snapshot()[{"r", "exec", "exited-ok"}]), 1U);
}

TEST_F(EngineTest, MemoryHighWritesTheLimitFile) {
  group("/batch", 0);
  arm(rule("/batch", "memory some avg10>=0", "action = \"memory-high\"\nmemory_high = \"512M\"\n"));
  tick();
  ASSERT_EQ(actuator.calls.size(), 1U);
  EXPECT_EQ(actuator.calls[0].what, "write_control");
  EXPECT_EQ(actuator.calls[0].where, cg + "/batch/memory.high");
  EXPECT_EQ(actuator.calls[0].value, std::to_string(512ULL << 20));
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].result, "ok");
}

TEST_F(EngineTest, NotifyAppendsOneJsonLine) {
  group("/batch", 0);
  arm(rule("/batch", "memory some avg10>=0", "action = \"notify\"\nnotify = { file = \"/tmp/events\" }\n"));
  tick();
  ASSERT_EQ(actuator.calls.size(), 1U);
  EXPECT_EQ(actuator.calls[0].what, "append");
  EXPECT_EQ(actuator.calls[0].where, "/tmp/events");
  EXPECT_NE(actuator.calls[0].value.find("\"rule\":\"r\",\"target\":\"/batch\""), std::string::npos);
  EXPECT_NE(actuator.calls[0].value.find("\"dry_run\":false}"), std::string::npos);
}

// ---- steering ---------------------------------------------------------------------------------

TEST(EngineSteer, NextLimitBacksOffFastAndProbesSlowly) {
  policy::MemoryHigh mh;
  mh.target_share = 0.01;  // 10 ms per second
  mh.min_bytes = 64 << 20;
  mh.max_bytes = 0;
  const std::uint64_t limit = 1ULL << 30;
  // 400 ms stalled per second: 40 times the target, the limit doubles.
  auto up = policy::engine::next_limit(limit, 400'000, 1'000'000, mh);
  EXPECT_EQ(up.direction, 1);
  EXPECT_EQ(up.limit, 2 * limit);
  // No stall at all: 1 % down, on a page.
  auto down = policy::engine::next_limit(limit, 0, 1'000'000, mh);
  EXPECT_EQ(down.direction, -1);
  EXPECT_EQ(down.limit, static_cast<std::uint64_t>(static_cast<double>(limit) * 0.99) / 4096 * 4096);
  // A sequence of probes never goes below min.
  std::uint64_t l = 70 << 20;
  for (int i = 0; i < 50; ++i) l = policy::engine::next_limit(l, 0, 1'000'000, mh).limit;
  EXPECT_EQ(l, mh.min_bytes);
  mh.max_bytes = 1536ULL << 20;
  EXPECT_EQ(policy::engine::next_limit(limit, 400'000, 1'000'000, mh).limit, mh.max_bytes);
}

TEST_F(EngineTest, SteeringWritesEachStepAndLogsWhenItTurns) {
  group("/job", 1ULL << 30);
  arm("[[rule]]\nname = \"r\"\ntarget = { cgroup = \"/job\" }\naction = \"memory-high\"\n"
      "memory_high = { steer = true, target = \"1%\", min = \"64M\", interval = \"1s\" }\n");
  std::uint64_t total = 0;
  auto step = [&](std::uint64_t stalled) {
    total += stalled;
    set_pressure("/job", "memory", psi(total));
    clock->advance(1s);
    policy::engine::steer(*ctx, s);
  };
  step(0);  // the first reading is the baseline
  EXPECT_TRUE(actuator.calls.empty());
  step(0);  // no stall: probe down from the usage (memory.high is max)
  ASSERT_EQ(actuator.calls.size(), 1U);
  std::uint64_t first = std::stoull(actuator.calls[0].value);
  EXPECT_LT(first, 1ULL << 30);
  write(cg + "/job/memory.high", actuator.calls[0].value + "\n");
  step(0);  // probing on: counted, not logged again
  ASSERT_EQ(actuator.calls.size(), 2U);
  EXPECT_LT(std::stoull(actuator.calls[1].value), first);
  write(cg + "/job/memory.high", actuator.calls[1].value + "\n");
  step(500'000);  // heavy stall: back off, logged as a turn
  ASSERT_EQ(actuator.calls.size(), 3U);
  EXPECT_GT(std::stoull(actuator.calls[2].value), first);
  std::size_t logged = 0;
  for (const Decision& d : acted()) logged += d.what == "memory-high" ? 1 : 0;
  EXPECT_EQ(logged, 2U);  // the first probe and the turn
  EXPECT_EQ((ctx->counters->snapshot()[{"r", "memory-high", "ok"}]), 3U);
}

TEST_F(EngineTest, ASteppingWriteStillInProgressHoldsTheNextStep) {
  group("/job", 1ULL << 30);
  actuator.hold_writes = true;
  arm("[[rule]]\nname = \"r\"\ntarget = { cgroup = \"/job\" }\naction = \"memory-high\"\n"
      "memory_high = { steer = true, target = \"1%\", interval = \"1s\" }\n");
  for (int i = 0; i < 4; ++i) {
    clock->advance(1s);
    policy::engine::steer(*ctx, s);
  }
  EXPECT_EQ(actuator.calls.size(), 1U);
  ASSERT_EQ(actuator.pending_writes.size(), 1U);
  actuator.pending_writes[0](Result<void>{});
  clock->advance(1s);
  policy::engine::steer(*ctx, s);
  EXPECT_EQ(actuator.calls.size(), 2U);
}

// ---- re-arming --------------------------------------------------------------------------------

// The Monitor's event when a watched group is removed or its file cannot be read any more.
Event ended(Errc code, const std::string& why) {
  Event e;
  e.kind = code == Errc::gone ? Event::Kind::gone : Event::Kind::error;
  e.error = Error(code, why);
  return e;
}

TEST_F(EngineTest, ARemovedTargetDisarmsAndArmsAgainWhenItIsBack) {
  group("/svc", 0);
  arm(rule("/svc", "memory some 10%/2s", "action = \"log\"\n"));
  std::filesystem::remove_all(cg + "/svc");
  policy::engine::on_event(*ctx, s, ended(Errc::gone, "/svc is gone"));
  EXPECT_TRUE(s.waiting);
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions.back().what, "disarmed");
  EXPECT_EQ(decisions.back().result, "failed");
  EXPECT_NE(decisions.back().detail.find("armed again when /svc is back"), std::string::npos)
      << decisions.back().detail;
  group("/svc", 0);
  ASSERT_TRUE(run_until([&] { return !s.waiting; }));
  EXPECT_EQ(decisions.back().what, "re-armed");
  EXPECT_TRUE(s.watch.has_value());
}

TEST_F(EngineTest, PsiSwitchedOffDisarmsUntilItIsOnAgain) {
  group("/svc", 0);
  arm(rule("/svc", "memory some 10%/2s", "action = \"log\"\n"));
  write(cg + "/svc/cgroup.pressure", "0\n");
  policy::engine::on_event(*ctx, s, ended(Errc::unavailable, "no pressure file"));
  EXPECT_TRUE(s.waiting);
  EXPECT_TRUE(s.waiting_for_psi);
  EXPECT_NE(decisions.back().detail.find("PSI was switched off for /svc"), std::string::npos)
      << decisions.back().detail;
  write(cg + "/svc/cgroup.pressure", "1\n");
  ASSERT_TRUE(run_until([&] { return !s.waiting; }));
  EXPECT_NE(decisions.back().detail.find("PSI is on again for /svc"), std::string::npos)
      << decisions.back().detail;
}

// ---- pre-kill hooks -----------------------------------------------------------------------------

const std::string k_prekill =
    "action = \"kill\"\nprekill = { command = [\"/usr/bin/dump\", \"--all\"], timeout = \"2s\" }\n";

TEST_F(EngineTest, APreKillHookRunsFirstWithTheVictimInItsEnvironment) {
  group("/batch", 0);
  group("/batch/a", 100 << 20, {101});
  group("/batch/b", 300 << 20, {102, 103});
  write(cg + "/batch/b/memory.peak", std::to_string(400 << 20) + "\n");
  arm(rule("/batch", "memory some avg10>=50", k_prekill));
  set_pressure("/batch", "memory", psi(0, 70));
  tick();
  // The hook is asked for; the kill waits for it.
  ASSERT_EQ(actuator.calls.size(), 1U);
  const Call& hook = actuator.calls[0];
  EXPECT_EQ(hook.what, "prekill");
  EXPECT_EQ(hook.where, "/usr/bin/dump");
  EXPECT_EQ(hook.value, "--all");
  EXPECT_EQ(hook.timeout, 2s);
  EXPECT_EQ(hook.env_value("PRESSURE_RULE"), "r");
  EXPECT_EQ(hook.env_value("PRESSURE_TARGET"), "/batch");
  EXPECT_EQ(hook.env_value("PRESSURE_RESOURCE"), "memory");
  EXPECT_EQ(hook.env_value("PRESSURE_LINE"), "some");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM"), "/batch/b");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_CGROUP"), "/batch/b");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_NAME"), "b");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_PIDS"), "102 103");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_PID"), std::nullopt);  // a group victim
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_MEMORY_CURRENT"), std::to_string(300 << 20));
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_MEMORY_PEAK"), std::to_string(400 << 20));
  EXPECT_EQ(hook.env_value("PRESSURE_SIGNAL"), "9");
  EXPECT_EQ(hook.env_value("PRESSURE_PREKILL_TIMEOUT_MS"), "2000");
  EXPECT_EQ(hook.env_value("PRESSURE_DRY_RUN"), "0");
  EXPECT_NE(hook.env_value("PRESSURE_REASON").value_or("").find("largest memory"), std::string::npos);
  EXPECT_TRUE(acted().empty());
  // It ends: the kill follows, and says how the hook went.
  clock->advance(300ms);
  ASSERT_EQ(actuator.hooks.size(), 1U);
  actuator.hooks[0]({policy::Actuator::HookEnd::How::exited, 0, {}});
  ASSERT_EQ(actuator.calls.size(), 2U);
  EXPECT_EQ(actuator.calls[1].what, "kill_cgroup");
  EXPECT_EQ(actuator.calls[1].scope, "/batch/b");
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].result, "ok");
  EXPECT_NE(acted()[0].detail.find("pre-kill hook '/usr/bin/dump --all' exited with status 0 after 0.30s"),
            std::string::npos)
      << acted()[0].detail;
  EXPECT_EQ((ctx->counters->snapshot()[{"r", "prekill", "ok"}]), 1U);
  EXPECT_EQ((ctx->counters->snapshot()[{"r", "kill", "ok"}]), 1U);
}

TEST_F(EngineTest, AHookThatTimesOutFailsOrCannotStartDoesNotStopTheKill) {
  using How = policy::Actuator::HookEnd::How;
  group("/batch", 0);
  group("/batch/b", 300 << 20, {102});
  struct Case {
    policy::Actuator::HookEnd end;
    std::string says, counted;
  };
  const Case cases[] = {
      {{How::timed_out, 0, {}}, "timed out after 2.00s (its process group was killed)", "timed-out"},
      {{How::exited, 3, {}}, "exited with status 3", "failed"},
      {{How::not_started, 0, "cannot run 'dump': not found in PATH"},
       "could not start: cannot run 'dump'",
       "failed"},
  };
  for (const Case& c : cases) {
    decisions.clear();
    actuator.calls.clear();
    actuator.hooks.clear();
    arm(rule("/batch", "memory some avg10>=0", k_prekill));
    tick();
    ASSERT_EQ(actuator.hooks.size(), 1U);
    actuator.hooks[0](c.end);
    ASSERT_EQ(actuator.calls.size(), 2U) << c.says;
    EXPECT_EQ(actuator.calls[1].what, "kill_cgroup");
    ASSERT_EQ(acted().size(), 1U);
    EXPECT_EQ(acted()[0].result, "ok");
    EXPECT_NE(acted()[0].detail.find(c.says), std::string::npos) << acted()[0].detail;
    EXPECT_EQ((ctx->counters->snapshot()[{"r", "prekill", c.counted}]), 1U) << c.says;
    EXPECT_EQ((ctx->counters->snapshot()[{"r", "kill", "ok"}]), 1U) << c.says;
  }
}

TEST_F(EngineTest, AProcessVictimThatExitsDuringTheHookIsNotSignalled) {
  group("/batch", 0, {201, 202});
  process(201, "small", 100);
  process(202, "big", 5000);
  write(proc + "/202/cgroup", "0::/batch/worker\n");
  write(proc + "/202/status", "Name:\tbig\nVmHWM:\t  40960 kB\nVmRSS:\t  20480 kB\n");
  arm(rule("/batch", "memory some avg10>=0",
           k_prekill + "victim = { among = \"processes\", by = \"memory\" }\ngrace = \"5s\"\n"));
  tick();
  ASSERT_EQ(actuator.calls.size(), 1U);
  const Call& hook = actuator.calls[0];
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM"), "pid 202 (big)");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_PID"), "202");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_PIDS"), "202");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_CGROUP"), "/batch/worker");
  EXPECT_EQ(hook.env_value("PRESSURE_VICTIM_MEMORY_PEAK"), std::to_string(40960ULL * 1024));
  EXPECT_EQ(hook.env_value("PRESSURE_SIGNAL"), "15");  // SIGTERM first: a grace kill
  // The victim exits while the hook runs (its pid now names another program).
  write(proc + "/202/comm", "other\n");
  actuator.hooks[0]({policy::Actuator::HookEnd::How::exited, 0, {}});
  EXPECT_EQ(actuator.calls.size(), 1U) << "a pid that may be reused was signalled";
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].result, "ok");
  EXPECT_NE(acted()[0].detail.find("pid 202 (big) exited during the pre-kill hook"), std::string::npos)
      << acted()[0].detail;
  EXPECT_TRUE(ctx->carryover->pending.empty());  // nothing to SIGKILL later
}

TEST_F(EngineTest, TheKillDoesNotWaitForAHookWhenTheDaemonStops) {
  group("/batch", 0);
  group("/batch/b", 300 << 20, {102});
  arm(rule("/batch", "memory some avg10>=0", k_prekill));
  tick();
  ASSERT_EQ(actuator.calls.size(), 1U);
  ctx->carryover->finish_kills();
  ASSERT_EQ(actuator.calls.size(), 2U);
  EXPECT_EQ(actuator.calls[1].what, "kill_cgroup");
  EXPECT_NE(acted()[0].detail.find("still running as the daemon stopped: killed without waiting"),
            std::string::npos)
      << acted()[0].detail;
  actuator.hooks[0]({policy::Actuator::HookEnd::How::exited, 0, {}});  // ends late: nothing more
  EXPECT_EQ(actuator.calls.size(), 2U);
  EXPECT_EQ(acted().size(), 1U);
}

TEST_F(EngineTest, ADryRunReportsTheHookWithoutRunningIt) {
  group("/batch", 0);
  group("/batch/b", 300 << 20, {102});
  policy::DryRunActuator dry;
  act = &dry;
  arm(rule("/batch", "memory some avg10>=0", k_prekill));
  tick();
  ASSERT_EQ(dry.rehearsed().size(), 2U);
  EXPECT_EQ(dry.rehearsed()[0], "prekill /usr/bin/dump --all (timeout 2000 ms)");
  EXPECT_EQ(dry.rehearsed()[1], "kill cgroup /batch/b");
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_EQ(acted()[0].result, "dry-run");
  EXPECT_NE(acted()[0].detail.find("would run pre-kill hook '/usr/bin/dump --all' first (for up to 2.00s)"),
            std::string::npos)
      << acted()[0].detail;
  EXPECT_TRUE(ctx->carryover->pending.empty());
  EXPECT_TRUE(actuator.calls.empty());
}

// ---- dry run ----------------------------------------------------------------------------------

TEST_F(EngineTest, ADryRunDecidesTheSameAndActsOnNothing) {
  group("/batch", 0);
  group("/batch/a", 100 << 20, {101});
  group("/batch/b", 300 << 20, {102});
  policy::DryRunActuator dry;
  act = &dry;
  arm(rule("/batch", "memory some avg10>=0", "action = \"kill\"\ngrace = \"5s\"\n"));
  tick();
  ASSERT_EQ(acted().size(), 1U);
  EXPECT_TRUE(acted()[0].dry_run);
  EXPECT_EQ(acted()[0].result, "dry-run");
  EXPECT_NE(acted()[0].detail.find("would kill (SIGTERM, SIGKILL after 5.00s) /batch/b"), std::string::npos)
      << acted()[0].detail;
  ASSERT_EQ(dry.rehearsed().size(), 1U);
  EXPECT_EQ(dry.rehearsed()[0], "signal 15 to pid 102 within /batch/b");
  EXPECT_TRUE(ctx->carryover->pending.empty());  // no SIGKILL follows a rehearsal
  EXPECT_TRUE(actuator.calls.empty());
}

// ---- the real actuator's guards ------------------------------------------------------------------

// A process this test started, held still until the end of the test; never signalled.
struct Sleeper {
  Sleeper() {
    pid = ::fork();
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~Sleeper() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);  // our own child
      ::waitpid(pid, nullptr, 0);
    }
  }
  pid_t pid = -1;
};

TEST(RealActuator, RefusesInitItselfAndAProcessOutsideTheScope) {
  test::TempDir tmp("real-actuator");
  ASSERT_TRUE(tmp.ok());
  Sleeper child;
  ASSERT_GT(child.pid, 0);
  write(tmp.path() + "/" + std::to_string(child.pid) + "/cgroup", "0::/elsewhere/app\n");
  Monitor monitor;
  std::unique_ptr<policy::Actuator> real = policy::real_actuator(monitor, tmp.path());
  for (int pid : {1, static_cast<int>(::getpid())}) {
    Result<void> refused = real->signal_process(pid, SIGTERM, "/");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("refusing to signal pid " + std::to_string(pid)),
              std::string::npos);
  }
  Result<void> outside = real->signal_process(child.pid, SIGTERM, "/batch");
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message().find("it is in /elsewhere/app, outside /batch"), std::string::npos)
      << outside.error().message();
  // "/batch" does not hold "/batchjob": a prefix is not an ancestor.
  write(tmp.path() + "/" + std::to_string(child.pid) + "/cgroup", "0::/batchjob\n");
  EXPECT_FALSE(real->signal_process(child.pid, SIGTERM, "/batch"));
  int status = 0;
  EXPECT_EQ(::waitpid(child.pid, &status, WNOHANG), 0) << "the child was signalled";
}

// A hook's `done` comes at its exit, or at its timeout once its process group is killed; a
// program that is not there is said at once. Processes here are this test's own children.
TEST(RealActuator, AHookEndsAtItsExitOrAtItsTimeoutWithItsGroupKilled) {
  using How = policy::Actuator::HookEnd::How;
  Monitor monitor;
  std::unique_ptr<policy::Actuator> real = policy::real_actuator(monitor);
  std::optional<policy::Actuator::HookEnd> end;
  auto wait_for_end = [&] {
    for (int i = 0; i < 500 && !end; ++i) {
      pollfd p{monitor.fd(), POLLIN, 0};
      ::poll(&p, 1, 10);
      (void)monitor.dispatch();
    }
  };
  real->run_hook({"sh", "-c", "exit 3"}, {}, 5s, [&](const policy::Actuator::HookEnd& e) { end = e; });
  wait_for_end();
  ASSERT_TRUE(end);
  EXPECT_EQ(end->how, How::exited);
  EXPECT_EQ(end->status, 3);

  end.reset();
  real->run_hook({"no-such-hook-program"}, {}, 5s, [&](const policy::Actuator::HookEnd& e) { end = e; });
  ASSERT_TRUE(end);  // at once
  EXPECT_EQ(end->how, How::not_started);
  EXPECT_NE(end->error.find("no-such-hook-program"), std::string::npos) << end->error;

  // A hook that hangs, with a child in its group: both are gone once its timeout is over.
  test::TempDir tmp("hook-timeout");
  ASSERT_TRUE(tmp.ok());
  std::string pidfile = tmp.path() + "/child";
  end.reset();
  auto started = std::chrono::steady_clock::now();
  real->run_hook({"sh", "-c", "sleep 60 & echo $! > \"$1\"; wait", "sh", pidfile}, {}, 300ms,
                 [&](const policy::Actuator::HookEnd& e) { end = e; });
  wait_for_end();
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(end);
  EXPECT_EQ(end->how, How::timed_out);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s) << "the kill waited far past the hook's timeout";
  std::ifstream in(pidfile);
  int child = 0;
  ASSERT_TRUE(in >> child);
  // Running, or dead (gone, or a zombie its new parent has yet to reap)?
  auto running = [](int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    std::size_t paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
  };
  for (int i = 0; i < 200 && running(child); ++i) {
    pollfd p{monitor.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    (void)monitor.dispatch();
  }
  EXPECT_FALSE(running(child)) << "the hook's child outlived its process group's kill";
}

}  // namespace
}  // namespace pressure
