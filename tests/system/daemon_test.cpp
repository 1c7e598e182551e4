// `pressure daemon` on the real kernel: real thrashing in test cgroups, real kills of the
// test's own processes, real signals, commands, sockets and memory limits. Every rule targets
// only groups this test created.
#include <array>
#include <csignal>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "policy/control_writer.hpp"
#include "support/command.hpp"
#include "support/daemon.hpp"
#include "support/live.hpp"
#include "support/process.hpp"

namespace pressure::test {
namespace {

using namespace std::chrono_literals;

// A unix datagram socket bound at `path`, receiving with a 10 s timeout; -1 on failure.
int bind_datagram(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// A rule on `cgroup` whose condition always holds, checked every 100 ms, acting at most once
// a minute; the caller appends its action.
std::string every_tick_rule(const std::string& name, const std::string& cgroup) {
  return "[[rule]]\nname = \"" + name + "\"\ntarget = { cgroup = \"" + cgroup +
         "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"100ms\"\ncooldown = \"60s\"\n";
}

std::string kill_rule(const std::string& target, const std::string& extra = {}) {
  return "[[rule]]\nname = \"stop thrashing\"\ntarget = { cgroup = \"" + target +
         "\" }\nwhen = \"memory full 10%/1s\"\naction = \"kill\"\nvictim = { among = \"children\", by = "
         "\"memory\" }\n"
         "cooldown = \"30s\"\n" +
         extra;
}

TEST(LiveDaemon, KillsAThrashingGroupAndNothingElse) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup parent("daemon-kill");
  TestCgroup thrash("thrash", parent.path());
  TestCgroup calm("calm", parent.path());
  ASSERT_TRUE(parent.ok() && thrash.ok() && calm.ok());
  ASSERT_TRUE(thrash.limit_memory(64 << 20));
  pid_t calm_pid = spawn_holder(calm, 1);
  ASSERT_GT(calm_pid, 0);
  Scratch scratch;
  Daemon daemon(scratch, kill_rule(parent.path()));
  ASSERT_TRUE(daemon.log_has("started", 10s)) << daemon.log();
  auto start = std::chrono::steady_clock::now();
  pid_t thrasher = thrash.spawn_memory_thrasher(40, 40, "/var/tmp");
  ASSERT_GT(thrasher, 0);
  EXPECT_TRUE(wait_until([&] { return child_exited(thrasher); }, 60s)) << daemon.log();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "thrasher killed " << seconds << " s after it started\n";
  EXPECT_TRUE(daemon.log_has("kill " + thrash.path(), 5s)) << daemon.log();
  EXPECT_NE(daemon.log().find("<4>pressure: rule 'stop thrashing'"), std::string::npos) << daemon.log();
  EXPECT_TRUE(alive(calm_pid)) << "the calm sibling was killed\n" << daemon.log();
  EXPECT_TRUE(daemon.process().running()) << daemon.log();
}

TEST(LiveDaemon, DryRunLogsTheExactDecisionAndKillsNothing) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup parent("daemon-dry");
  TestCgroup thrash("thrash", parent.path());
  ASSERT_TRUE(parent.ok() && thrash.ok());
  ASSERT_TRUE(thrash.limit_memory(64 << 20));
  Scratch scratch;
  Daemon daemon(scratch, kill_rule(parent.path()), {"--dry-run"});
  ASSERT_TRUE(daemon.log_has("started in dry-run mode", 10s)) << daemon.log();
  pid_t thrasher = thrash.spawn_memory_thrasher(40, 40, "/var/tmp");
  ASSERT_GT(thrasher, 0);
  ASSERT_TRUE(daemon.log_has("would kill " + thrash.path(), 60s)) << daemon.log();
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(alive(thrasher)) << daemon.log();
  EXPECT_NE(daemon.log().find("[dry-run]"), std::string::npos) << daemon.log();
  EXPECT_NE(daemon.log().find("memory full 100ms/1s: "), std::string::npos) << daemon.log();
}

TEST(LiveDaemon, AWorkloadThatFitsRunsSixtySecondsUntouched) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup parent("daemon-fits");
  TestCgroup fits("fits", parent.path());
  ASSERT_TRUE(parent.ok() && fits.ok());
  ASSERT_TRUE(fits.limit_memory(512 << 20));
  Scratch scratch;
  Daemon daemon(scratch, kill_rule(parent.path()));
  ASSERT_TRUE(daemon.log_has("started", 10s)) << daemon.log();
  pid_t worker = fits.spawn_memory_thrasher(40, 40, "/var/tmp");  // cycles 80 MiB, fits in 512
  ASSERT_GT(worker, 0);
  std::this_thread::sleep_for(60s);
  EXPECT_TRUE(alive(worker)) << daemon.log();
  EXPECT_EQ(daemon.log().find(": kill"), std::string::npos) << daemon.log();
}

TEST(LiveDaemon, ABurstShorterThanTheRuleDurationIsNotActedOn) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup parent("daemon-burst");
  TestCgroup busy("busy", parent.path());
  ASSERT_TRUE(parent.ok() && busy.ok());
  Scratch scratch;
  Daemon daemon(scratch, "[[rule]]\nname = \"sustained cpu\"\ntarget = { cgroup = \"" + parent.path() +
                             "\" }\nwhen = \"cpu some 50%/1s\"\nfor = \"4s\"\naction = \"kill\"\n"
                             "victim = { among = \"children\", by = \"memory\" }\ncooldown = \"30s\"\n");
  ASSERT_TRUE(daemon.log_has("started", 10s)) << daemon.log();
  // A 1.5 s burst: four spinners on two cores, then gone.
  std::vector<pid_t> burst;
  for (int i = 0; i < 4; ++i) burst.push_back(busy.spawn_spinner());
  std::this_thread::sleep_for(1500ms);
  for (pid_t p : burst) busy.kill_one(p);
  EXPECT_TRUE(daemon.log_has("released", 8s)) << daemon.log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(daemon.log().find(": kill"), std::string::npos) << daemon.log();
  // The same load, sustained, is acted on: the rule was live all along.
  std::vector<pid_t> sustained;
  for (int i = 0; i < 4; ++i) sustained.push_back(busy.spawn_spinner());
  EXPECT_TRUE(wait_until([&] { return child_exited(sustained.front()); }, 30s)) << daemon.log();
  // The decision is logged once the signal is sent: the victim may be gone a moment before.
  EXPECT_TRUE(daemon.log_has("kill " + busy.path(), 5s)) << daemon.log();
}

// Victim choice, observed through --dry-run so nothing is killed: the decision names the group.
class LiveVictims : public testing::Test {
 protected:
  void SetUp() override {
    PRESSURE_REQUIRE_LIVE();
    ASSERT_TRUE(parent.ok() && a.ok() && b.ok() && c.ok());
    holders = {spawn_holder(a, 20), spawn_holder(b, 60), spawn_holder(c, 40)};
    int sizes[] = {20, 60, 40};
    for (int i = 0; i < 3; ++i) {
      ASSERT_GT(holders[i], 0);
      // Written and still: a holder that is still growing would win a choice by growth.
      ASSERT_TRUE(wait_for_rss(holders[i], sizes[i]));
    }
  }
  // The group a dry run would kill, with `extra` added to an always-true rule.
  std::string decide(const std::string& extra, const std::string& among = "children",
                     const std::string& by = "memory", const std::string& hold = "0s") {
    Scratch scratch;
    Daemon daemon(scratch,
                  "[[rule]]\nname = \"choose\"\ntarget = { cgroup = \"" + parent.path() +
                      "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"200ms\"\nfor = \"" + hold +
                      "\"\naction = \"kill\"\nvictim = { among = \"" + among + "\", by = \"" + by +
                      "\" }\ncooldown = \"60s\"\n" + extra,
                  {"--dry-run"});
    if (!daemon.log_has("would kill ", 20s)) return "no decision: " + daemon.log();
    std::string log = daemon.log();
    std::size_t at = log.find("would kill ") + 11;
    return log.substr(at, log.find(':', at) - at);
  }
  TestCgroup parent{"victims"};
  TestCgroup a{"victim-a", parent.path()};
  TestCgroup b{"victim-b", parent.path()};
  TestCgroup c{"victim-c", parent.path()};
  std::array<pid_t, 3> holders{};  // in a, b and c: 20, 60 and 40 MiB
};

TEST_F(LiveVictims, ByMemoryTheLargestGroup) { EXPECT_EQ(decide(""), b.path()); }

TEST_F(LiveVictims, PreferredBeforeLarger) {
  EXPECT_EQ(decide("prefer = [\"pressure-test-victim-c-*\"]\n"), c.path());
}

TEST_F(LiveVictims, AvoidedOnlyWhenNothingElse) {
  EXPECT_EQ(decide("avoid = [\"pressure-test-victim-b-*\"]\n"), c.path());
}

TEST_F(LiveVictims, ByGrowthTheGrowingGroup) {
  TestCgroup grower("victim-grows", parent.path());
  ASSERT_TRUE(grower.ok());
  ASSERT_GT(
      grower.spawn_command({"/usr/bin/python3", "-c",
                            "import time\nl = []\nfor i in range(200):\n    l.append(b'\\x01' * (1 << 20))\n"
                            "    time.sleep(0.05)\ntime.sleep(600)\n"},
                           "/dev/null"),
      0);
  EXPECT_EQ(decide("", "children", "growth", "2s"), grower.path());
}

TEST_F(LiveVictims, ByPressureTheStalledGroup) {
  TestCgroup thrash("victim-thrash", parent.path());
  ASSERT_TRUE(thrash.ok() && thrash.limit_memory(48 << 20));
  ASSERT_GT(thrash.spawn_memory_thrasher(30, 40, "/var/tmp"), 0);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(decide("", "children", "pressure", "3s"), thrash.path());
  EXPECT_EQ(decide(""), b.path());  // by memory the 60 MiB holder, not the 48 MiB thrasher
}

TEST_F(LiveVictims, ProcessesByMemoryTheLargestProcess) {
  std::string victim = decide("", "processes", "memory");
  EXPECT_EQ(victim.rfind("pid ", 0), 0U) << victim;
  EXPECT_NE(victim.find("(python3)"), std::string::npos) << victim;
}

// What the kernel's OOM killer may never take (oom_score_adj -1000), the daemon does not either:
// the largest process is passed over for the next one.
TEST_F(LiveVictims, NeverAProcessTheKernelMayNeverKill) {
  TestCgroup shielded("victim-shielded", parent.path());
  pid_t holder = holding(shielded, 150);
  ASSERT_GT(holder, 0);
  if (!write_file_ok("/proc/" + std::to_string(holder) + "/oom_score_adj", "-1000")) {
    const char* vm = std::getenv("PRESSURE_IN_VM");
    if (vm != nullptr && std::string(vm) == "1") FAIL() << "cannot set oom_score_adj -1000 in the VM";
    GTEST_SKIP() << "lowering oom_score_adj needs CAP_SYS_RESOURCE, which root lacks here; runs in the VM "
                    "test bed (tests/vm/run.sh -R NeverAProcess)";
  }
  // Not the shielded 150 MiB holder: the next largest, b's 60 MiB.
  EXPECT_EQ(decide("", "processes", "memory"), "pid " + std::to_string(holders[1]) + " (python3)");
}

TEST_F(LiveVictims, NeverTheGroupOrProcessOfTheDaemonItself) {
  // The daemon runs inside a child group that also holds the most memory.
  TestCgroup home("victim-home", parent.path());
  ASSERT_GT(holding(home, 150), 0);
  Scratch scratch;
  write_file(scratch.path("daemon.toml"),
             "[[rule]]\nname = \"choose\"\ntarget = { cgroup = \"" + parent.path() +
                 "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"200ms\"\naction = \"kill\"\n"
                 "victim = { among = \"children\", by = \"memory\" }\ncooldown = \"60s\"\n");
  pid_t daemon = home.spawn_command({"/bin/sh", "-c",
                                     std::string("exec ") + PRESSURE_BINARY + " daemon --dry-run --config " +
                                         scratch.path("daemon.toml") + " 2>" + scratch.path("daemon.log")},
                                    "/dev/null");
  ASSERT_GT(daemon, 0);
  ASSERT_TRUE(wait_until(
      [&] { return read_file(scratch.path("daemon.log")).find("would kill ") != std::string::npos; }, 20s))
      << read_file(scratch.path("daemon.log"));
  std::string log = read_file(scratch.path("daemon.log"));
  EXPECT_NE(log.find("would kill " + b.path() + ":"), std::string::npos) << log;
  EXPECT_EQ(log.find("would kill " + home.path()), std::string::npos) << log;
}

TEST(LiveDaemon, KillWithGraceSendsTermThenKillsWhatIsLeft) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup parent("daemon-grace");
  TestCgroup stubborn("stubborn", parent.path());
  ASSERT_TRUE(parent.ok() && stubborn.ok());
  pid_t holdout =
      stubborn.spawn_command({"/bin/sh", "-c", "trap '' TERM\nwhile :; do sleep 0.1; done"}, "/dev/null");
  ASSERT_GT(holdout, 0);
  std::this_thread::sleep_for(300ms);
  Scratch scratch;
  Daemon daemon(scratch,
                every_tick_rule("gently", parent.path()) + "action = \"kill\"\ngrace = \"1500ms\"\n");
  ASSERT_TRUE(daemon.log_has("(SIGTERM, SIGKILL after 1.50s) " + stubborn.path(), 10s)) << daemon.log();
  auto sent = std::chrono::steady_clock::now();
  daemon.process().signal(SIGHUP);  // a reload neither cuts the grace period short nor resets the cooldown
  EXPECT_TRUE(daemon.log_has("reloaded", 5s)) << daemon.log();
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(alive(holdout)) << "SIGTERM is ignored, so it lives through the grace period\n" << daemon.log();
  EXPECT_TRUE(wait_until([&] { return child_exited(holdout); }, 10s)) << daemon.log();
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 1s);
  EXPECT_TRUE(daemon.log_has("grace period over: " + stubborn.path(), 5s)) << daemon.log();
  std::string log = daemon.log();
  EXPECT_EQ(log.find("(SIGTERM, SIGKILL after"), log.rfind("(SIGTERM, SIGKILL after"))
      << "one decision only\n"
      << log;
}

TEST(LiveDaemon, MemoryUsageChecksTheTargetsOwnMemory) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-usage");
  ASSERT_TRUE(group.ok());
  ASSERT_GT(holding(group, 100), 0);
  Scratch scratch;
  auto rule = [&](const std::string& name, const std::string& when) {
    return "[[rule]]\nname = \"" + name + "\"\ntarget = { cgroup = \"" + group.path() + "\" }\nwhen = [\"" +
           when + "\"]\ninterval = \"100ms\"\ncooldown = \"60s\"\naction = \"log\"\n\n";
  };
  Daemon daemon(scratch, rule("big", "memory usage>50M") + rule("huge", "memory usage>500M") +
                             rule("host", "memory available>1M") + rule("swap", "swap free>=0%"));
  ASSERT_TRUE(daemon.log_has("rule 'big' on " + group.path() + ": log: memory usage=", 10s)) << daemon.log();
  EXPECT_TRUE(daemon.log_has("rule 'host' on " + group.path() + ": log: memory available=", 5s))
      << daemon.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(daemon.log().find("rule 'huge' on " + group.path() + ": log"), std::string::npos) << daemon.log();
  if (read_file("/proc/meminfo").find("SwapTotal:             0 kB") != std::string::npos) {
    EXPECT_EQ(daemon.log().find("rule 'swap' on " + group.path() + ": log"), std::string::npos)
        << "without swap a swap condition never holds\n"
        << daemon.log();
  }
}

TEST(LiveDaemon, ExecRunsTheCommandWithTheEventAndKillsItOnTimeout) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-exec");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  std::string out = scratch.path("env.txt"), state = scratch.path("state.txt"),
              script = scratch.path("run.sh");
  // A program that was there at start (the start refuses a missing one) and is removed since; its
  // rule runs it again 200 ms after each run, so it is run once more after the removal.
  std::string again_soon = every_tick_rule("missing", group.path());
  const std::string slow = "cooldown = \"60s\"";
  again_soon.replace(again_soon.find(slow), slow.size(), "cooldown = \"200ms\"");
  std::string gone = scratch.path("removed-after-start.sh");
  write_file(gone, "#!/bin/sh\nexit 0\n");
  ::chmod(gone.c_str(), 0755);
  // What the command reports of itself: its environment, its signal mask and ignored signals
  // (the daemon blocks some for its signalfd), and whether it leads its own process group.
  // grep reads its own status, which inherits the shell's mask and ignored signals: reading the
  // shell's (/proc/$$) would race with the shell blocking signals around its fork of grep.
  write_file(script, "env > " + out + "\ngrep -E '^(SigBlk|SigIgn):' /proc/self/status > " + state +
                         "\nset -- $(cut -d' ' -f1,5 /proc/$$/stat)\n[ \"$1\" = \"$2\" ] && echo leader >> " +
                         state + "\n");
  Daemon daemon(
      scratch, every_tick_rule("run it", group.path()) + "action = \"exec\"\ncommand = [\"sh\", \"" + script +
                   "\"]\n\n" + every_tick_rule("too slow", group.path()) +
                   "action = \"exec\"\ncommand = [\"/bin/sleep\", \"30\"]\ntimeout = \"500ms\"\n\n" +
                   again_soon + "action = \"exec\"\ncommand = [\"" + gone + "\"]\n");
  ASSERT_TRUE(daemon.log_has("'sh " + script + "' exited with status 0", 10s)) << daemon.log();
  ASSERT_TRUE(daemon.log_has("'" + gone + "' exited with status 0", 10s)) << daemon.log();
  ::unlink(gone.c_str());
  std::string env = read_file(out);
  EXPECT_NE(env.find("PRESSURE_RULE=run it"), std::string::npos) << env;
  EXPECT_NE(env.find("PRESSURE_TARGET=" + group.path()), std::string::npos) << env;
  EXPECT_NE(env.find("PRESSURE_RESOURCE=cpu"), std::string::npos) << env;
  EXPECT_EQ(read_file(state), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nleader\n");
  EXPECT_TRUE(daemon.log_has("timed out after 0.50s and was killed", 10s)) << daemon.log();
  EXPECT_TRUE(daemon.log_has(
      "running: " + gone + "; failed: cannot run '" + gone + "': No such file or directory", 10s))
      << daemon.log();
  EXPECT_TRUE(daemon.process().running());
}

TEST(LiveDaemon, SignalReachesTheProcessesOfTheTarget) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-signal");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  std::string got = scratch.path("got");
  pid_t listener = group.spawn_command(
      {"/bin/sh", "-c", "trap 'echo usr1 > " + got + "' USR1\nwhile :; do sleep 0.1; done"}, "/dev/null");
  ASSERT_GT(listener, 0);
  std::this_thread::sleep_for(300ms);
  Daemon daemon(scratch,
                every_tick_rule("shed", group.path()) + "action = \"signal\"\nsignal = \"SIGUSR1\"\n");
  EXPECT_TRUE(wait_until([&] { return read_file(got) == "usr1\n"; }, 10s)) << daemon.log();
  EXPECT_TRUE(alive(listener));
}

TEST(LiveDaemon, NotifySendsAJsonLineToASocketAndAFile) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-notify");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  std::string socket_path = scratch.path("notify.sock");
  int fd = bind_datagram(socket_path);
  ASSERT_GE(fd, 0);
  std::string file = scratch.path("events.jsonl");
  Daemon daemon(scratch, every_tick_rule("tell the app", group.path()) +
                             "action = \"notify\"\nnotify = { socket = \"" + socket_path + "\" }\n\n" +
                             every_tick_rule("to a file", group.path()) +
                             "action = \"notify\"\nnotify = { file = \"" + file + "\" }\n");
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  ASSERT_GT(n, 0) << daemon.log();
  std::string message(buf, static_cast<std::size_t>(n));
  EXPECT_EQ(message.front(), '{');
  EXPECT_NE(message.find("\"rule\":\"tell the app\""), std::string::npos) << message;
  EXPECT_NE(message.find("\"target\":\"" + group.path() + "\""), std::string::npos) << message;
  EXPECT_TRUE(
      wait_until([&] { return read_file(file).find("\"rule\":\"to a file\"") != std::string::npos; }, 10s));
  EXPECT_EQ(read_file(file).back(), '\n');
}

TEST(LiveDaemon, MemoryHighSetsTheLimitAndSteeringProbesDown) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-mh");
  ASSERT_TRUE(group.ok());
  ASSERT_TRUE(group.limit_memory(1ULL << 30));
  std::string v2 = group.dir() + "/memory.high";
  std::string file = ::access(v2.c_str(), W_OK) == 0
                         ? v2
                         : "/sys/fs/cgroup/memory" + group.path() + "/memory.limit_in_bytes";
  Scratch scratch;
  {
    Daemon daemon(
        scratch, every_tick_rule("cap", group.path()) + "action = \"memory-high\"\nmemory_high = \"200M\"\n");
    EXPECT_TRUE(wait_until([&] { return read_file(file) == std::to_string(200ULL << 20) + "\n"; }, 10s))
        << read_file(file) << daemon.log();
  }
  ASSERT_GT(spawn_holder(group, 100), 0);
  std::this_thread::sleep_for(1s);
  bool v1 = file != v2;
  auto steer = [&](const std::string& extra) {
    return "[[rule]]\nname = \"senpai\"\ntarget = { cgroup = \"" + group.path() +
           "\" }\naction = \"memory-high\"\nmemory_high = { steer = true, target = \"0.1%\", min = \"64M\", "
           "interval = \"200ms\"" +
           extra + " }\n";
  };
  if (v1) {  // a hard limit is steered only when the rule says so
    write_file(scratch.path("v1.toml"), steer(""));
    CommandResult refused = run_pressure({"daemon", "--check", "--config", scratch.path("v1.toml")});
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_NE(refused.err.find("add hard_limit = true"), std::string::npos) << refused.err;
  }
  Daemon daemon(scratch, steer(v1 ? ", hard_limit = true" : ""));
  std::uint64_t before = std::stoull(read_file(file));
  EXPECT_TRUE(wait_until([&] { return std::stoull(read_file(file)) < before; }, 10s)) << daemon.log();
  EXPECT_TRUE(daemon.log_has("probing", 5s)) << daemon.log();
}

TEST(LiveDaemon, ReloadWithABadFileKeepsTheRunningRules) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-reload");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  auto rule = [&](const std::string& name) {
    return "[[rule]]\nname = \"" + name + "\"\ntarget = { cgroup = \"" + group.path() +
           "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"100ms\"\ncooldown = \"300ms\"\naction = "
           "\"log\"\n";
  };
  Daemon daemon(scratch, rule("first"));
  ASSERT_TRUE(daemon.log_has("rule 'first'", 10s)) << daemon.log();
  write_file(daemon.config(), rule("second") + "for = \"soon\"\n");
  daemon.process().signal(SIGHUP);
  ASSERT_TRUE(daemon.log_has("reload failed, keeping the running rules", 10s)) << daemon.log();
  EXPECT_NE(daemon.log().find("daemon.toml:8: rule 'second': key 'for'"), std::string::npos) << daemon.log();
  std::size_t mark = daemon.log().size();
  EXPECT_TRUE(wait_until([&] { return daemon.log().find("rule 'first'", mark) != std::string::npos; }, 5s))
      << daemon.log();
  write_file(daemon.config(), rule("second"));
  daemon.process().signal(SIGHUP);
  ASSERT_TRUE(daemon.log_has("reloaded", 10s)) << daemon.log();
  mark = daemon.log().find("reloaded");
  EXPECT_TRUE(wait_until([&] { return daemon.log().find("rule 'second'", mark) != std::string::npos; }, 5s));
  std::this_thread::sleep_for(1s);
  std::string after = daemon.log().substr(daemon.log().find("reloaded"));
  EXPECT_EQ(after.find("rule 'first': log"), std::string::npos) << after;
}

TEST(LiveDaemon, SpeaksTheServiceManagerNotifyProtocol) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-notify-socket");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  std::string socket_path = scratch.path("notify");
  int fd = bind_datagram(socket_path);
  ASSERT_GE(fd, 0);
  auto next = [&] {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("(nothing)");
  };
  // Skips watchdog pings, which may come at any time.
  auto next_state = [&] {
    std::string m;
    do m = next();
    while (m == "WATCHDOG=1");
    return m;
  };
  Daemon daemon(scratch,
                "[[rule]]\nname = \"x\"\ntarget = { cgroup = \"" + group.path() +
                    "\" }\nwhen = \"cpu some 50%/2s\"\naction = \"log\"\n",
                {}, {{"NOTIFY_SOCKET", socket_path}, {"WATCHDOG_USEC", "200000"}});
  EXPECT_EQ(next_state().rfind("READY=1\nSTATUS=1 rule from ", 0), 0U) << daemon.log();
  EXPECT_EQ(next(), "WATCHDOG=1");
  daemon.process().signal(SIGHUP);
  EXPECT_EQ(next_state().rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0U);
  EXPECT_EQ(next_state().rfind("READY=1", 0), 0U);
  daemon.process().signal(SIGTERM);
  EXPECT_EQ(next_state(), "STOPPING=1");
  EXPECT_EQ(daemon.process().wait(10s), 0);
  ::close(fd);
}

// Where a daemon with `listen` serves /metrics, from its log ("" before it says).
std::string metrics_url(Daemon& daemon) {
  std::string log = daemon.log();
  std::size_t at = log.find("serving metrics at ");
  if (at == std::string::npos) return "";
  at += 19;
  return log.substr(at, log.find('\n', at) - at);
}

// A rule whose target is removed (its service stopped) disarms, and arms again when a group
// of the same path is back (the service restarted): for conditions, trigger specs and
// steering alike.
TEST(LiveDaemon, ARuleArmsAgainWhenItsRemovedTargetComesBack) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup parent("daemon-rearm");
  ASSERT_TRUE(parent.ok());
  const std::string path = parent.path() + "/service";
  struct Directory {
    std::string dir;
    ~Directory() { ::rmdir(dir.c_str()); }
  } service{parent.dir() + "/service"};
  ASSERT_EQ(::mkdir(service.dir.c_str(), 0755), 0);
  Scratch scratch;
  Daemon daemon(scratch,
                "[daemon]\nlisten = \"127.0.0.1:0\"\n\n"
                "[[rule]]\nname = \"ticks\"\ntarget = { cgroup = \"" +
                    path +
                    "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"100ms\"\ncooldown = "
                    "\"200ms\"\naction = \"log\"\n\n"
                    "[[rule]]\nname = \"trigger\"\ntarget = { cgroup = \"" +
                    path +
                    "\" }\nwhen = \"cpu some 10%/1s\"\naction = \"log\"\n\n"
                    "[[rule]]\nname = \"steer\"\ntarget = { cgroup = \"" +
                    path +
                    "\" }\naction = \"memory-high\"\nmemory_high = { steer = true, target = "
                    "\"0.1%\", hard_limit = true }\n",
                {"--dry-run"});  // the steering rule writes no limit
  const std::string ticks = "rule 'ticks' on " + path + ": ", trigger = "rule 'trigger' on " + path + ": ",
                    steer = "rule 'steer' on " + path + ": ";
  ASSERT_TRUE(daemon.log_has(ticks + "log", 10s)) << daemon.log();
  ASSERT_TRUE(daemon.log_has("serving metrics at ", 10s)) << daemon.log();
  const std::string url = metrics_url(daemon);
  auto armed = [&](const std::string& rule) {  // the rule's pressure_daemon_rule_armed
    std::string text = run_command({"/usr/bin/curl", "-sf", url}).out;
    std::string sample = "pressure_daemon_rule_armed{rule=\"" + rule + "\"} ";
    std::size_t at = text.find(sample);
    return at == std::string::npos ? std::string("missing") : text.substr(at + sample.size(), 1);
  };
  EXPECT_EQ(armed("ticks"), "1");
  EXPECT_EQ(armed("trigger"), "1");

  // Waits until the log says `needle` after position `from`.
  auto says_after = [&](std::size_t from, const std::string& needle) {
    return wait_until([&] { return daemon.log().find(needle, from) != std::string::npos; }, 10s);
  };

  // Removed: each rule disarms and nothing acts.
  std::size_t mark = daemon.log().size();
  ASSERT_EQ(::rmdir(service.dir.c_str()), 0);
  for (const std::string& rule : {ticks, trigger, steer})
    ASSERT_TRUE(says_after(mark, rule + "disarmed")) << daemon.log();
  EXPECT_TRUE(says_after(mark, "armed again when " + path + " is back")) << daemon.log();
  std::this_thread::sleep_for(1s);
  std::string gone = daemon.log();
  EXPECT_EQ(gone.find(ticks + "log", gone.find(ticks + "disarmed")), std::string::npos)
      << "acted on a removed target:\n"
      << gone;
  EXPECT_EQ(armed("ticks"), "0");
  EXPECT_EQ(armed("steer"), "0");

  // A reload meanwhile succeeds, and its rules wait for the target too.
  mark = daemon.log().size();
  daemon.process().signal(SIGHUP);
  ASSERT_TRUE(says_after(mark, "reloaded")) << daemon.log();
  EXPECT_TRUE(says_after(mark, ticks + "disarmed: the target does not exist")) << daemon.log();
  EXPECT_EQ(daemon.log().find("reload failed", mark), std::string::npos) << daemon.log();
  EXPECT_EQ(armed("ticks"), "0");

  // Back: each rule arms again and acts again.
  mark = daemon.log().size();
  ASSERT_EQ(::mkdir(service.dir.c_str(), 0755), 0);
  ASSERT_TRUE(says_after(mark, ticks + "re-armed: " + path + " is back")) << daemon.log();
  for (const std::string& rule : {trigger, steer})
    ASSERT_TRUE(says_after(mark, rule + "re-armed")) << daemon.log();
  ASSERT_TRUE(says_after(daemon.log().find(ticks + "re-armed", mark), ticks + "log")) << daemon.log();
  EXPECT_EQ(armed("ticks"), "1");
  EXPECT_EQ(armed("trigger"), "1");
  EXPECT_EQ(armed("steer"), "1");

  // Restarted faster than any rule looks (a new group at the same path): the rules notice
  // that their group is gone and arm again on the new one at once.
  mark = daemon.log().size();
  ASSERT_EQ(::rmdir(service.dir.c_str()), 0);
  ASSERT_EQ(::mkdir(service.dir.c_str(), 0755), 0);
  for (const std::string& rule : {ticks, trigger, steer})
    ASSERT_TRUE(says_after(mark, rule + "re-armed")) << daemon.log();
  ASSERT_TRUE(says_after(daemon.log().find(ticks + "re-armed", mark), ticks + "log")) << daemon.log();
  EXPECT_EQ(armed("ticks"), "1");
  EXPECT_EQ(armed("steer"), "1");
  EXPECT_TRUE(daemon.process().running());
}

// Memory limits are written by ControlWriter through files opened when the write was asked for.
// A write queued for a group that is removed (and created again at the same path) before the
// write runs reaches neither: it fails as gone.
TEST(LiveControlWriter, AGroupRemovedMeanwhileIsNotWrittenNorItsSuccessor) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("writer");
  ASSERT_TRUE(group.ok());
  std::string file = group.dir() + "/cgroup.max.descendants";  // writable in every cgroup2 group
  Monitor monitor;
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  policy::ControlWriter writer(monitor, [&](const sys::ControlFile& f, const std::string& value) {
    open.wait();
    return f.write(value);
  });
  std::vector<Result<void>> results;
  ASSERT_TRUE(writer.write(file, "7", [&](const Result<void>& r) { results.push_back(r); }));
  ASSERT_TRUE(group.remove());
  struct Directory {
    std::string dir;
    ~Directory() { ::rmdir(dir.c_str()); }
  } successor{group.dir()};
  ASSERT_EQ(::mkdir(successor.dir.c_str(), 0755), 0);  // a new group at the same path
  gate.set_value();
  ASSERT_TRUE(wait_until([&] { return monitor.dispatch() && results.size() == 1; }, 10s));
  ASSERT_FALSE(results[0]);
  EXPECT_EQ(results[0].error().code(), Errc::gone) << results[0].error().message();
  EXPECT_EQ(read_file(file), "max\n");
}

// Whether process `pid` has a file mapped whose path contains `name`.
bool maps_library(pid_t pid, const std::string& name) {
  return read_file("/proc/" + std::to_string(pid) + "/maps").find(name) != std::string::npos;
}

// A daemon that does not serve never loads the HTTP module, so it carries neither httplib nor
// the OpenSSL and brotli libraries that come with it (3.8 MiB of its resident memory).
TEST(LiveDaemon, LoadsTheHttpServerOnlyToServe) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-lean");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  Daemon daemon(scratch, kill_rule(group.path()));
  ASSERT_TRUE(daemon.log_has("started", 10s)) << daemon.log();
  pid_t pid = daemon.process().pid();
  ASSERT_TRUE(maps_library(pid, "/libstdc++"));  // the maps are readable and list libraries
  for (const char* library :
       {"/pressure-http.so", "/libcpp-httplib.so", "/libcrypto.so", "/libssl.so", "/libbrotlienc.so"})
    EXPECT_FALSE(maps_library(pid, library)) << library << " is mapped by a daemon that does not serve";
}

TEST(LiveDaemon, ServesMetricsWithItsActionCounters) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-metrics");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  Daemon daemon(scratch, "[daemon]\nlisten = \"127.0.0.1:0\"\nmetrics_cgroups = [\"" +
                             group.path().substr(1) +
                             "\"]\n\n[[rule]]\nname = \"count me\"\ntarget = { cgroup = \"" + group.path() +
                             "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"100ms\"\ncooldown = "
                             "\"200ms\"\naction = \"log\"\n");
  ASSERT_TRUE(daemon.log_has("serving metrics at http://", 10s)) << daemon.log();
  EXPECT_TRUE(maps_library(daemon.process().pid(), "/pressure-http.so"));  // loaded to serve
  ASSERT_TRUE(daemon.log_has("rule 'count me' on " + group.path() + ": log", 10s)) << daemon.log();
  std::string url = metrics_url(daemon);
  CommandResult scrape = run_command({"/usr/bin/curl", "-sf", url});
  ASSERT_EQ(scrape.exit_code, 0) << url << "\n" << scrape.err;
  EXPECT_NE(scrape.out.find("pressure_daemon_actions_total{rule=\"count me\",action=\"log\",result=\"ok\"} "),
            std::string::npos)
      << scrape.out;
  EXPECT_NE(scrape.out.find("pressure_daemon_rules 1\n"), std::string::npos) << scrape.out;
  EXPECT_NE(scrape.out.find("pressure_daemon_rule_armed{rule=\"count me\"} 1\n"), std::string::npos)
      << scrape.out;
  EXPECT_NE(scrape.out.find("node_pressure_cpu_waiting_seconds_total "), std::string::npos) << scrape.out;
  EXPECT_NE(scrape.out.find("container_pressure_cpu_waiting_seconds_total{cgroup=\"" + group.path() + "\"}"),
            std::string::npos)
      << scrape.out;
  daemon.process().signal(SIGHUP);
  ASSERT_TRUE(daemon.log_has("reloaded", 10s)) << daemon.log();
  CommandResult again = run_command({"/usr/bin/curl", "-sf", url});
  EXPECT_NE(again.out.find("pressure_daemon_reloads_total{result=\"ok\"} 1\n"), std::string::npos)
      << again.out;
}

TEST(LiveDaemon, CheckArmsTheRulesAndNamesAMissingTarget) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-check");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  write_file(scratch.path("ok.toml"), "[[rule]]\nname = \"x\"\ntarget = { cgroup = \"" + group.path() +
                                          "\" }\nwhen = \"memory full 10%/1s\"\naction = \"kill\"\n");
  CommandResult ok = run_pressure({"daemon", "--check", "--config", scratch.path("ok.toml")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("OK, 1 rule parsed and armed"), std::string::npos) << ok.err;
  write_file(scratch.path("missing.toml"),
             "[[rule]]\nname = \"gone\"\ntarget = { cgroup = \"" + group.path() +
                 "-missing\" }\nwhen = \"memory full 10%/1s\"\naction = \"log\"\n");
  CommandResult missing = run_pressure({"daemon", "--check", "--config", scratch.path("missing.toml")});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("rule 'gone' (" + scratch.path("missing.toml") + ":1)"), std::string::npos)
      << missing.err;
}

// Six hundred rules under the common soft open-file limit of 1024 (a file and a trigger each): the
// daemon raises its soft limit to the hard one instead of failing at rule 338.
TEST(LiveDaemon, ArmsSixHundredRulesUnderASoftOpenFileLimitOf1024) {
  PRESSURE_REQUIRE_LIVE();
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max < 1400) GTEST_SKIP() << "the hard open-file limit here is " << limit.rlim_max;
  Scratch scratch;
  std::string rules;
  for (int i = 0; i < 600; ++i)
    rules += "[[rule]]\nname = \"r" + std::to_string(i) +
             "\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some 10%/2s\"\n";
  write_file(scratch.path("many.toml"), rules);
  CommandResult r =
      run_command({"/usr/bin/prlimit", "--nofile=1024:" + std::to_string(limit.rlim_max), PRESSURE_BINARY,
                   "daemon", "--check", "--config", scratch.path("many.toml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("OK, 600 rules parsed and armed"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pressure::test
