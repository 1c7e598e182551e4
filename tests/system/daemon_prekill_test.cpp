// `pressure daemon`'s pre-kill hooks on the real kernel: the hook runs while the victim lives and
// sees it; a hook that hangs is cut off at its timeout and the kill goes ahead; a hook that is
// gone is logged and the kill goes ahead; a dry run names the hook and runs nothing. Every rule
// targets only groups this test created, and every process signalled is this test's own.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/daemon.hpp"
#include "support/live.hpp"
#include "support/process.hpp"

namespace pressure::test {
namespace {

using namespace std::chrono_literals;

// A kill rule on `parent`'s children whose condition always holds (sampled every 100 ms), after
// holding `hold`; its hook runs `argv` for at most `timeout`.
std::string prekill_rule(const std::string& parent, const std::string& argv, const std::string& timeout,
                         const std::string& hold = "0s") {
  return "[[rule]]\nname = \"with evidence\"\ntarget = { cgroup = \"" + parent +
         "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"100ms\"\nfor = \"" + hold +
         "\"\ncooldown = \"60s\"\naction = \"kill\"\nvictim = { among = \"children\", by = \"memory\" }\n"
         "prekill = { command = " +
         argv + ", timeout = \"" + timeout + "\" }\n";
}

// Nanoseconds since the epoch, as `date +%s%N` writes them.
long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A parent group of the test's own with one child group, the victim, holding one sleeping process.
class LiveDaemonPreKill : public testing::Test {
 protected:
  void SetUp() override {
    PRESSURE_REQUIRE_LIVE();
    ASSERT_TRUE(parent.ok() && victim.ok());
    sleeper = victim.spawn_command({"/bin/sleep", "600"}, "/dev/null");
    ASSERT_GT(sleeper, 0);
  }
  TestCgroup parent{"daemon-prekill"};
  TestCgroup victim{"victim", parent.path()};
  pid_t sleeper = -1;
  Scratch scratch;
};

TEST_F(LiveDaemonPreKill, TheHookSeesTheVictimAliveThenTheKillFollows) {
  std::string env = scratch.path("env.txt"), status = scratch.path("status.txt"),
              hook = scratch.path("hook.sh");
  // The evidence a user would take: the victim's /proc status, and what the hook was told.
  write_file(hook, "env > " + env + "\nfor pid in $PRESSURE_VICTIM_PIDS; do cat /proc/$pid/status; done > " +
                       status + "\n");
  Daemon daemon(scratch, prekill_rule(parent.path(), "[\"sh\", \"" + hook + "\"]", "5s"));
  ASSERT_TRUE(daemon.log_has("pre-kill hook 'sh " + hook + "' exited with status 0", 15s)) << daemon.log();
  EXPECT_TRUE(wait_until([&] { return child_exited(sleeper); }, 5s)) << daemon.log();
  std::string seen = read_file(status);
  EXPECT_NE(seen.find("Pid:\t" + std::to_string(sleeper) + "\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("State:\tS (sleeping)"), std::string::npos) << "the hook ran after the kill?\n" << seen;
  std::string told = read_file(env);
  EXPECT_NE(told.find("PRESSURE_RULE=with evidence\n"), std::string::npos) << told;
  EXPECT_NE(told.find("PRESSURE_VICTIM=" + victim.path() + "\n"), std::string::npos) << told;
  EXPECT_NE(told.find("PRESSURE_VICTIM_CGROUP=" + victim.path() + "\n"), std::string::npos) << told;
  EXPECT_NE(told.find("PRESSURE_VICTIM_PIDS=" + std::to_string(sleeper) + "\n"), std::string::npos) << told;
  EXPECT_NE(told.find("PRESSURE_RESOURCE=cpu\n"), std::string::npos) << told;
  EXPECT_NE(told.find("PRESSURE_SIGNAL=9\n"), std::string::npos) << told;
  EXPECT_NE(told.find("PRESSURE_VICTIM_MEMORY_CURRENT="), std::string::npos) << told;
  EXPECT_TRUE(daemon.log_has("processes killed", 5s)) << daemon.log();
}

TEST_F(LiveDaemonPreKill, AHangingHookIsCutOffAtItsTimeoutAndTheVictimStillDies) {
  std::string started = scratch.path("started.txt"), hook_pid = scratch.path("hook.pid");
  // Says when it started and who it is, then hangs.
  std::string hang =
      "[\"sh\", \"-c\", \"date +%s%N > " + started + "; echo $$ > " + hook_pid + "; exec sleep 60\"]";
  // Long enough for the hook to start and say so even in the VM's emulated CPU.
  Daemon daemon(scratch, prekill_rule(parent.path(), hang, "3s"));
  ASSERT_TRUE(wait_until([&] { return child_exited(sleeper); }, 15s)) << daemon.log();
  long long died = now_ns();
  long long began = std::atoll(read_file(started).c_str());
  ASSERT_GT(began, 0) << daemon.log();
  // The kill waited for the hook (which started a moment after its timeout began), but not past
  // its timeout and the daemon's reaction.
  EXPECT_GE(died - began, 2'500'000'000LL) << daemon.log();
  EXPECT_LT(died - began, 3'000'000'000LL + 5'000'000'000LL) << "the kill waited for the hanging hook\n"
                                                             << daemon.log();
  std::printf("victim died %.3f s after the hook started (timeout 3 s)\n",
              static_cast<double>(died - began) / 1e9);
  EXPECT_TRUE(daemon.log_has("timed out after 3.00s (its process group was killed)", 5s)) << daemon.log();
  // The hook itself is gone (a zombie the daemon has yet to reap counts as gone).
  std::string pid = read_file(hook_pid);
  while (!pid.empty() && pid.back() == '\n') pid.pop_back();
  ASSERT_FALSE(pid.empty());
  EXPECT_TRUE(wait_until(
      [&] {
        std::string stat = read_file("/proc/" + pid + "/stat");
        return stat.empty() || stat.find(") Z ") != std::string::npos;
      },
      5s))
      << "the hook still runs: " << read_file("/proc/" + pid + "/stat");
  EXPECT_TRUE(daemon.process().running());
}

TEST_F(LiveDaemonPreKill, AHookRemovedSinceTheStartIsLoggedAndTheKillHappens) {
  // There at the start (the start refuses a missing program), removed before the rule acts: it
  // must hold for 3 s first.
  std::string gone = scratch.path("removed-after-start.sh");
  write_file(gone, "#!/bin/sh\nexit 0\n");
  ::chmod(gone.c_str(), 0755);
  Daemon daemon(scratch, prekill_rule(parent.path(), "[\"" + gone + "\"]", "1s", "3s"));
  ASSERT_TRUE(daemon.log_has("started", 10s)) << daemon.log();
  ::unlink(gone.c_str());
  EXPECT_TRUE(wait_until([&] { return child_exited(sleeper); }, 15s)) << daemon.log();
  EXPECT_TRUE(daemon.log_has(
      "pre-kill hook '" + gone + "' could not start: cannot run '" + gone + "': No such file or directory",
      5s))
      << daemon.log();
  EXPECT_TRUE(daemon.log_has("processes killed", 5s)) << daemon.log();
}

TEST_F(LiveDaemonPreKill, ADryRunNamesTheHookAndRunsNothing) {
  std::string ran = scratch.path("ran.txt");
  Daemon daemon(scratch, prekill_rule(parent.path(), "[\"touch\", \"" + ran + "\"]", "2s"), {"--dry-run"});
  ASSERT_TRUE(daemon.log_has("would run pre-kill hook 'touch " + ran + "' first (for up to 2.00s)", 15s))
      << daemon.log();
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(alive(sleeper)) << daemon.log();
  EXPECT_FALSE(std::filesystem::exists(ran)) << "a dry run ran the hook";
}

}  // namespace
}  // namespace pressure::test
