// What only a machine like the users' can show: pure cgroup2 with the memory controller, root
// with every capability, an LTS kernel. This host is hybrid (memory on v1) and lacks
// CAP_SYS_RESOURCE, so these tests run in the VM test bed (tests/vm/run.sh -R cgroup2), where
// /var/tmp is a disk and memory.max makes real thrashing. Each drives the real `pressure`
// binary or the library's Monitor, and only ever at groups it created.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <pressure/pressure.hpp>

#include "support/command.hpp"
#include "support/daemon.hpp"
#include "support/live.hpp"
#include "support/process.hpp"
#include "support/watcher.hpp"

namespace pressure::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::uint64_t number(const std::string& text) { return std::strtoull(text.c_str(), nullptr, 10); }

std::uint64_t memory_current(const TestCgroup& g) { return number(g.read("memory.current")); }

// The value of `key` in a "key value" file such as memory.stat or memory.events.
std::uint64_t stat_field(const std::string& text, const std::string& key) {
  std::size_t at = ("\n" + text).find("\n" + key + " ");
  return at == std::string::npos ? 0 : number(text.substr(at + key.size() + 1));
}

// `total` of the group's "memory some" line, in microseconds.
std::uint64_t memory_some_total(const TestCgroup& g) {
  std::string text = g.read("memory.pressure");
  std::size_t at = text.find("total=");
  return at == std::string::npos ? 0 : number(text.substr(at + 6));
}

// True while anything (in the group or below it) is in the group.
bool populated(const TestCgroup& g) {
  return g.read("cgroup.events").find("populated 1") != std::string::npos;
}

// A parent whose children get the memory controller, so each has memory.current, memory.max...
bool delegate_memory(TestCgroup& parent) { return parent.write("cgroup.subtree_control", "+memory"); }

// A rule on `cgroup` that holds on every 200 ms tick and acts at most once a minute.
std::string always(const std::string& name, const std::string& cgroup, const std::string& action,
                   const std::string& cooldown = "60s") {
  return "[[rule]]\nname = \"" + name + "\"\ntarget = { cgroup = \"" + cgroup +
         "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"200ms\"\ncooldown = \"" + cooldown + "\"\n" +
         action + "\n";
}

// The number after `key` in the first log line that has `prefix`, NaN if there is none.
double logged_value(const std::string& log, const std::string& prefix, const std::string& key) {
  std::size_t line = log.find(prefix);
  if (line == std::string::npos) return std::nan("");
  std::size_t at = log.find(key, line);
  if (at == std::string::npos || at > log.find('\n', line)) return std::nan("");
  return std::strtod(log.c_str() + at + key.size(), nullptr);
}

// Removes a file when the test ends, passed or not.
struct FileGuard {
  std::string path;
  ~FileGuard() { ::unlink(path.c_str()); }
};

// ---- victims ----------------------------------------------------------------------------------

// The largest child by memory.current is killed through cgroup.kill, with everything below it:
// a process that forks all the time and a nested group. Its memory is page cache, which a
// process's RSS does not show, so the choice is memory.current's; the two others live.
TEST(Cgroup2Daemon, KillsTheChildWithTheMostMemoryCurrentAndEmptiesIt) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup parent("cg2-kill");
  ASSERT_TRUE(parent.ok() && delegate_memory(parent));
  TestCgroup cache("cache", parent.path());
  TestCgroup anon("anon", parent.path());
  TestCgroup small("small", parent.path());
  ASSERT_TRUE(cache.ok() && anon.ok() && small.ok());
  FileGuard file{"/var/tmp/pressure-test-cache-" + std::to_string(::getpid())};
  ASSERT_GT(cache.spawn_command(
                {"/bin/sh", "-c",
                 "dd if=/dev/zero of=" + file.path + " bs=1M count=120 status=none && exec sleep 600"},
                "/dev/null"),
            0);
  ASSERT_GT(cache.spawn_command({"/bin/sh", "-c", "while :; do /bin/sleep 0.1; done"}, "/dev/null"), 0);
  TestCgroup inner("inner", cache.path());  // after the processes: `cache` keeps its memory
  ASSERT_TRUE(inner.ok());
  ASSERT_GT(inner.spawn_command({"/bin/sleep", "600"}, "/dev/null"), 0);
  pid_t anon_pid = spawn_holder(anon, 60);
  pid_t small_pid = spawn_holder(small, 10);
  ASSERT_GT(anon_pid, 0);
  ASSERT_GT(small_pid, 0);
  // The premise: page cache makes `cache` the largest by memory.current, though its
  // processes' RSS is the smallest.
  ASSERT_TRUE(wait_until(
      [&] {
        return memory_current(cache) > (120ULL << 20) && memory_current(anon) > (60ULL << 20) &&
               memory_current(small) > (10ULL << 20);
      },
      60s))
      << memory_current(cache) << " " << memory_current(anon) << " " << memory_current(small);
  EXPECT_GE(stat_field(cache.read("memory.stat"), "file"), 100ULL << 20) << cache.read("memory.stat");

  Scratch scratch;
  Daemon daemon(scratch, always("largest", parent.path(),
                                "action = \"kill\"\nvictim = { among = \"children\", by = \"memory\" }"));
  ASSERT_TRUE(daemon.log_has("kill " + cache.path() + ":", 30s)) << daemon.log();
  EXPECT_TRUE(wait_until([&] { return !populated(cache); }, 10s))
      << "still in the killed group:\n"
      << cache.read("cgroup.procs") << inner.read("cgroup.procs") << daemon.log();
  EXPECT_EQ(cache.read("cgroup.procs"), "");
  EXPECT_EQ(inner.read("cgroup.procs"), "");
  EXPECT_TRUE(daemon.log_has("processes killed with cgroup.kill", 5s)) << daemon.log();
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(alive(anon_pid)) << daemon.log();
  EXPECT_TRUE(alive(small_pid)) << daemon.log();
  EXPECT_TRUE(populated(anon) && populated(small));
  EXPECT_TRUE(daemon.process().running()) << daemon.log();
}

// By growth: the child whose memory.current grows dies, not the larger one that holds still.
TEST(Cgroup2Daemon, KillsTheChildWhoseMemoryGrows) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup parent("cg2-growth");
  ASSERT_TRUE(parent.ok() && delegate_memory(parent));
  TestCgroup big("big", parent.path());
  TestCgroup grows("grows", parent.path());
  TestCgroup small("small", parent.path());
  ASSERT_TRUE(big.ok() && grows.ok() && small.ok());
  pid_t big_pid = spawn_holder(big, 150);
  pid_t small_pid = spawn_holder(small, 10);
  ASSERT_GT(big_pid, 0);
  ASSERT_GT(small_pid, 0);
  ASSERT_TRUE(wait_until([&] { return memory_current(big) > (150ULL << 20); }, 60s));
  // 1 MiB every 100 ms up to 120 MiB: always smaller than `big` while the daemon decides.
  pid_t grows_pid = grows.spawn_command(
      {"/usr/bin/python3", "-c",
       "import time\nl = []\nfor i in range(120):\n    l.append(b'\\x01' * (1 << 20))\n    time.sleep(0.1)\n"
       "time.sleep(600)\n"},
      "/dev/null");
  ASSERT_GT(grows_pid, 0);
  ASSERT_TRUE(wait_until([&] { return memory_current(grows) > (20ULL << 20); }, 60s));
  Scratch scratch;
  Daemon daemon(
      scratch, always("growing", parent.path(),
                      "for = \"3s\"\naction = \"kill\"\nvictim = { among = \"children\", by = \"growth\" }"));
  ASSERT_TRUE(daemon.log_has("; kill ", 30s)) << daemon.log();
  EXPECT_TRUE(daemon.log_has("; kill " + grows.path() + ": fastest growth", 1s)) << daemon.log();
  EXPECT_LT(memory_current(grows), memory_current(big)) << "the premise: the grower is the smaller";
  EXPECT_TRUE(wait_until([&] { return child_exited(grows_pid); }, 10s)) << daemon.log();
  EXPECT_TRUE(wait_until([&] { return !populated(grows); }, 10s));
  EXPECT_TRUE(alive(big_pid)) << daemon.log();
  EXPECT_TRUE(alive(small_pid)) << daemon.log();
}

// ---- checks against the memory controller ----------------------------------------------------

// "reclaim>0" reads pgscan from the group's memory.stat: it holds for a group thrashing against
// memory.max and not for one that fits. "memory usage>N%" takes memory.current against
// memory.max: 60 MiB of 100 MiB is over half and under 90 %.
TEST(Cgroup2Daemon, ReclaimAndUsageChecksReadTheMemoryController) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup thrash("cg2-reclaim");
  TestCgroup used("cg2-usage");
  ASSERT_TRUE(thrash.ok() && used.ok());
  ASSERT_TRUE(thrash.limit_memory(64 << 20));
  ASSERT_TRUE(used.limit_memory(100 << 20));
  ASSERT_EQ(thrash.read("memory.max"), std::to_string(64 << 20) + "\n");
  ASSERT_GT(spawn_holder(used, 60), 0);
  ASSERT_TRUE(wait_until([&] { return memory_current(used) > (60ULL << 20); }, 60s));
  ASSERT_GT(thrash.spawn_memory_thrasher(40, 40, "/var/tmp"), 0);
  auto rule = [](const std::string& name, const TestCgroup& g, const std::string& when) {
    return "[[rule]]\nname = \"" + name + "\"\ntarget = { cgroup = \"" + g.path() + "\" }\nwhen = [\"" +
           when + "\"]\ninterval = \"200ms\"\ncooldown = \"60s\"\naction = \"log\"\n\n";
  };
  Scratch scratch;
  Daemon daemon(scratch, rule("reclaiming", thrash, "reclaim>0") + rule("fits", used, "reclaim>0") +
                             rule("over half", used, "memory usage>50%") +
                             rule("nearly full", used, "memory usage>90%"));
  ASSERT_TRUE(daemon.log_has("rule 'over half' on " + used.path() + ": log: memory usage=", 20s))
      << daemon.log();
  double logged =
      logged_value(daemon.log(), "rule 'over half' on " + used.path() + ": log: ", "memory usage=");
  double actual = 100.0 * static_cast<double>(memory_current(used)) / static_cast<double>(100 << 20);
  EXPECT_NEAR(logged, actual, 10.0) << daemon.log();
  ASSERT_TRUE(daemon.log_has("rule 'reclaiming' on " + thrash.path() + ": log: reclaim=", 30s))
      << daemon.log();
  EXPECT_GT(logged_value(daemon.log(), "rule 'reclaiming' on " + thrash.path() + ": log: ", "reclaim="), 0.0)
      << daemon.log();
  EXPECT_GT(stat_field(thrash.read("memory.stat"), "pgscan"), 0U) << thrash.read("memory.stat");
  std::this_thread::sleep_for(3s);
  std::string log = daemon.log();
  EXPECT_EQ(log.find("rule 'fits' on " + used.path() + ": log"), std::string::npos) << log;
  EXPECT_EQ(log.find("rule 'nearly full' on " + used.path() + ": log"), std::string::npos) << log;
  EXPECT_EQ(stat_field(used.read("memory.stat"), "pgscan"), 0U) << "the premise: nothing reclaimed in 'used'";
  EXPECT_EQ(log.find("cannot measure"), std::string::npos) << log;
}

// ---- memory.high steering --------------------------------------------------------------------

// Steering memory.high holds a little memory pressure on a group that fits: 40 MiB of cold page
// cache and a worker reading a 100 MiB file at random (its stall grows as less of the file fits).
// The limit comes down from the group's usage, shedding the cold cache, and settles; the group's
// stall over the last 15 s is near the target; nothing is killed. (Single samples are noisy
// under emulation: a burst of refaults makes a back-off now and then, as senpai does.)
TEST(Cgroup2Daemon, MemoryHighSteeringConverges) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup group("cg2-steer");
  ASSERT_TRUE(group.ok());
  FileGuard cold{"/var/tmp/pressure-test-cold-" + std::to_string(::getpid())};
  pid_t writer = group.spawn_command(
      {"/bin/dd", "if=/dev/zero", "of=" + cold.path, "bs=1M", "count=40", "status=none"}, "/dev/null");
  ASSERT_GT(writer, 0);
  ASSERT_TRUE(wait_until([&] { return child_exited(writer); }, 60s));
  pid_t worker = group.spawn_memory_thrasher(10, 100, "/var/tmp", true);
  ASSERT_GT(worker, 0);
  ASSERT_TRUE(wait_until([&] { return memory_current(group) > (145ULL << 20); }, 60s))
      << memory_current(group);
  const double target = 0.10;  // 10 % of "memory some": large enough to measure under emulation
  Scratch scratch;
  Daemon daemon(scratch,
                "[[rule]]\nname = \"senpai\"\ntarget = { cgroup = \"" + group.path() +
                    "\" }\naction = \"memory-high\"\nmemory_high = { steer = true, target = \"10%\", "
                    "min = \"32M\", interval = \"500ms\" }\n");
  ASSERT_TRUE(daemon.log_has("steering memory.high", 20s)) << daemon.log();
  std::uint64_t start_usage = memory_current(group);
  // memory.high and the stall's total, once a second; the last 15 s are judged.
  struct Sample {
    Clock::time_point t;
    std::uint64_t high;
    std::uint64_t some_us;
  };
  std::vector<Sample> samples;
  for (int i = 0; i < 45; ++i) {
    std::this_thread::sleep_for(1s);
    std::string high = group.read("memory.high");
    samples.push_back(
        {Clock::now(), high.rfind("max", 0) == 0 ? UINT64_MAX : number(high), memory_some_total(group)});
  }
  std::string trace;
  for (const Sample& s : samples)
    trace += std::to_string(s.high >> 20) + " MiB, some " + std::to_string(s.some_us) + " us\n";
  const std::size_t judged = 15;
  const Sample& first = samples[samples.size() - judged - 1];
  const Sample& last = samples.back();
  double share = static_cast<double>(last.some_us - first.some_us) /
                 std::chrono::duration<double, std::micro>(last.t - first.t).count();
  std::vector<std::uint64_t> highs;
  for (std::size_t i = samples.size() - judged; i < samples.size(); ++i) highs.push_back(samples[i].high);
  std::vector<std::uint64_t> sorted = highs;
  std::sort(sorted.begin(), sorted.end());
  double median = static_cast<double>(sorted[judged / 2]);
  double spread = static_cast<double>(sorted.back() - sorted.front()) / median;
  std::uint64_t lowest = UINT64_MAX;
  for (const Sample& s : samples) lowest = std::min(lowest, s.high);
  std::cout << "steered from " << (start_usage >> 20) << " MiB down to " << (lowest >> 20)
            << " MiB; over the last " << judged << " s memory.high " << (sorted.front() >> 20) << ".."
            << (sorted.back() >> 20) << " MiB (median " << median / 1048576.0 << "), memory some "
            << share * 100.0 << " % (target " << target * 100.0 << " %)\n";
  EXPECT_LT(lowest, start_usage - (20ULL << 20)) << "memory.high did not come down through the cold cache\n"
                                                 << trace << daemon.log();
  EXPECT_LT(median, 1.1 * static_cast<double>(start_usage)) << "memory.high ran away upwards\n"
                                                            << trace << daemon.log();
  EXPECT_LE(spread, 0.5) << "memory.high did not settle\n" << trace << daemon.log();
  EXPECT_GT(share, target / 5) << "no pressure held: the limit is not near the working set\n" << trace;
  EXPECT_LT(share, target * 3) << "far more pressure than the target\n" << trace << daemon.log();
  EXPECT_TRUE(alive(worker)) << daemon.log();
  EXPECT_EQ(stat_field(group.read("memory.events"), "oom_kill"), 0U) << group.read("memory.events");
  EXPECT_TRUE(daemon.process().running()) << daemon.log();
}

// ---- cgroup.pressure switched off and on -----------------------------------------------------

// Runs a Monitor on its own thread and collects events.
// Kernel triggers only, windows exactly as asked: what full root on pure cgroup2 gives.
class Watcher : public test::EventWatcher {
 public:
  Result<WatchInfo> add(const Target& target, const std::string& spec) {
    return EventWatcher::add(target, spec, TriggerOptions{TriggerMode::kernel, WindowPolicy::refuse});
  }
};

// More busy processes than CPUs in `group`.
void spin(TestCgroup& group) {
  for (unsigned i = 0; i <= std::thread::hardware_concurrency(); ++i) ASSERT_GT(group.spawn_spinner(), 0);
}

// A kernel trigger on a group whose PSI is switched off (cgroup.pressure 0) ends with an error
// event that says so, the loop goes on, and the group can be watched again once it is back on.
TEST(Cgroup2PsiSwitch, MonitorReportsTheSwitchAndWatchesAgainAfterIt) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup group("cg2-psi-monitor");
  ASSERT_TRUE(group.ok());
  ASSERT_EQ(group.read("cgroup.pressure"), "1\n");
  spin(group);
  Watcher watcher;
  ASSERT_TRUE(watcher.add(Target::cgroup(group.path()), "cpu some 100ms/1s"));
  ASSERT_TRUE(watcher.wait_for(Event::Kind::pressure, 20s)) << "no event under CPU load";
  std::size_t before = watcher.count();
  ASSERT_TRUE(group.write("cgroup.pressure", "0"));
  auto off = watcher.wait_for(Event::Kind::error, 10s, before);
  ASSERT_TRUE(off) << "no event when PSI was switched off";
  ASSERT_TRUE(off->error);
  EXPECT_NE(off->error->message().find("cgroup.pressure is 0"), std::string::npos) << off->error->message();
  EXPECT_EQ(watcher.monitor.watch_count(), 0U);
  // While it is off the group cannot be watched, and the error says why.
  auto refused = watcher.add(Target::cgroup(group.path()), "cpu some 100ms/1s");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("cgroup.pressure"), std::string::npos)
      << refused.error().message();
  ASSERT_TRUE(group.write("cgroup.pressure", "1"));
  std::size_t back = watcher.count();
  ASSERT_TRUE(watcher.add(Target::cgroup(group.path()), "cpu some 100ms/1s"));
  EXPECT_TRUE(watcher.wait_for(Event::Kind::pressure, 20s, back)) << "no event after PSI was switched on";
}

// `pressure watch` on a group whose PSI is switched off: one line that says so, then the
// exit code for "unsupported here" (not a crash, not silence).
TEST(Cgroup2PsiSwitch, WatchCommandSaysPsiWasSwitchedOff) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup group("cg2-psi-watch");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  Background watch({PRESSURE_BINARY, "watch", "--cgroup", group.path(), "cpu some 100ms/1s",
                    "memory some 50ms/1s", "--json", "--timeout", "60"},
                   scratch.path("watch.log"));
  std::this_thread::sleep_for(2s);  // armed (a slow start only delays the switch's event)
  ASSERT_TRUE(watch.running()) << watch.log();
  ASSERT_TRUE(group.write("cgroup.pressure", "0"));
  std::optional<int> status = watch.wait(15s);
  ASSERT_TRUE(status) << "still running after PSI was switched off\n" << watch.log();
  EXPECT_EQ(*status, 3) << watch.log();
  std::string log = watch.log();
  nlohmann::json event = nlohmann::json::parse(log.substr(0, log.find('\n')), nullptr, false);
  ASSERT_FALSE(event.is_discarded()) << log;
  EXPECT_EQ(event["event"], "error") << log;
  EXPECT_EQ(event["target"], group.path()) << log;
  EXPECT_NE(event.value("message", "").find("cgroup.pressure is 0"), std::string::npos) << log;
  EXPECT_NE(log.find("pressure: "), std::string::npos) << "no message on stderr\n" << log;
}

// A daemon's rules on a group whose PSI is switched off disarm and say why, act no more, and
// arm again (a kernel trigger, a condition) when it is switched back on: then they act again.
TEST(Cgroup2PsiSwitch, DaemonRulesDisarmAndArmAgain) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup group("cg2-psi-daemon");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  const std::string path = group.path();
  Daemon daemon(scratch,
                "[[rule]]\nname = \"trigger\"\ntarget = { cgroup = \"" + path +
                    "\" }\nwhen = \"cpu some 100ms/1s\"\ncooldown = \"500ms\"\naction = \"log\"\n\n" +
                    always("ticks", path, "action = \"log\"", "300ms"));
  const std::string trigger = "rule 'trigger' on " + path + ": ", ticks = "rule 'ticks' on " + path + ": ";
  ASSERT_TRUE(daemon.log_has(trigger + "armed: watching 'cpu some 100ms/1s' by kernel trigger", 20s))
      << daemon.log();
  ASSERT_TRUE(daemon.log_has(ticks + "log", 10s)) << daemon.log();
  auto says_after = [&](std::size_t from, const std::string& needle, std::chrono::seconds timeout) {
    return wait_until([&] { return daemon.log().find(needle, from) != std::string::npos; }, timeout);
  };

  std::size_t mark = daemon.log().size();
  ASSERT_TRUE(group.write("cgroup.pressure", "0"));
  for (const std::string& rule : {trigger, ticks})
    EXPECT_TRUE(says_after(
        mark, rule + "disarmed: PSI was switched off for " + path + " (cgroup.pressure is 0)", 10s))
        << daemon.log();
  EXPECT_TRUE(says_after(mark, "armed again when PSI is switched on for " + path, 1s)) << daemon.log();
  std::this_thread::sleep_for(2s);
  std::string off = daemon.log();
  EXPECT_EQ(off.find(ticks + "log", off.find(ticks + "disarmed", mark)), std::string::npos)
      << "acted while PSI was off:\n"
      << off;
  EXPECT_TRUE(daemon.process().running()) << off;

  mark = daemon.log().size();
  ASSERT_TRUE(group.write("cgroup.pressure", "1"));
  for (const std::string& rule : {trigger, ticks})
    EXPECT_TRUE(says_after(mark, rule + "re-armed: PSI is on again for " + path, 10s)) << daemon.log();
  EXPECT_TRUE(says_after(mark, ticks + "log", 10s)) << daemon.log();
  spin(group);
  EXPECT_TRUE(says_after(mark, trigger + "log: cpu some 100ms/1s: ", 20s)) << "the trigger acts again\n"
                                                                           << daemon.log();
  EXPECT_TRUE(daemon.process().running());
}

// ---- trigger windows below 2 s ---------------------------------------------------------------

// With CAP_SYS_RESOURCE the kernel takes windows below 2 s as asked: the Monitor arms them as
// kernel triggers with no rounding and no notice, `pressure watch` reports them as asked, and
// the daemon arms them as kernel triggers and acts on them.
TEST(Cgroup2Triggers, WindowsBelowTwoSecondsAreKernelTriggersAsAsked) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  TestCgroup busy("cg2-window-cpu");
  TestCgroup thrash("cg2-window-memory");
  ASSERT_TRUE(busy.ok() && thrash.ok());
  ASSERT_TRUE(thrash.limit_memory(64 << 20));

  Monitor monitor;
  for (const char* text : {"cpu some 100ms/500ms", "memory some 50ms/1s", "io some 10ms/500ms"}) {
    TriggerSpec spec = *parse_trigger_spec(text);
    auto info = monitor.add(
        Target::cgroup(busy.path()), spec, [](const Event&) {},
        TriggerOptions{TriggerMode::kernel, WindowPolicy::refuse});
    ASSERT_TRUE(info) << text << ": " << info.error().message();
    EXPECT_EQ(info->mode, TriggerMode::kernel) << text;
    EXPECT_EQ(info->spec, spec) << text;
    EXPECT_EQ(info->notice, "") << text;
  }

  spin(busy);
  CommandResult watched = run_pressure({"watch", "--cgroup", busy.path(), "cpu some 100ms/500ms",
                                        "--strict-window", "--json", "--count", "1", "--timeout", "30"});
  ASSERT_EQ(watched.exit_code, 0) << watched.out << watched.err;
  EXPECT_EQ(watched.err.find("notice"), std::string::npos) << watched.err;
  auto event = nlohmann::json::parse(watched.out.substr(0, watched.out.find('\n')), nullptr, false);
  ASSERT_FALSE(event.is_discarded()) << watched.out;
  EXPECT_EQ(event["mode"], "kernel");
  EXPECT_EQ(event["stall_us"], 100000);
  EXPECT_EQ(event["window_us"], 500000);

  ASSERT_GT(thrash.spawn_memory_thrasher(40, 40, "/var/tmp"), 0);
  Scratch scratch;
  auto rule = [](const std::string& name, const TestCgroup& g, const std::string& spec) {
    return "[[rule]]\nname = \"" + name + "\"\ntarget = { cgroup = \"" + g.path() + "\" }\nwhen = \"" + spec +
           "\"\ncooldown = \"60s\"\naction = \"log\"\n\n";
  };
  Daemon daemon(scratch,
                rule("cpu", busy, "cpu some 100ms/500ms") + rule("memory", thrash, "memory some 50ms/1s"));
  EXPECT_TRUE(
      daemon.log_has("rule 'cpu' on " + busy.path() +
                         ": armed: watching 'cpu some 100ms/500ms' by kernel trigger 'cpu some 100ms/500ms'",
                     20s))
      << daemon.log();
  EXPECT_TRUE(
      daemon.log_has("rule 'memory' on " + thrash.path() +
                         ": armed: watching 'memory some 50ms/1s' by kernel trigger 'memory some 50ms/1s'",
                     5s))
      << daemon.log();
  EXPECT_TRUE(daemon.log_has("rule 'cpu' on " + busy.path() + ": log: cpu some 100ms/500ms: ", 20s))
      << daemon.log();
  EXPECT_TRUE(daemon.log_has("rule 'memory' on " + thrash.path() + ": log: memory some 50ms/1s: ", 30s))
      << daemon.log();
  EXPECT_EQ(daemon.log().find("round"), std::string::npos) << daemon.log();
  EXPECT_EQ(daemon.log().find("polling"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace pressure::test
