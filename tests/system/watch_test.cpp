// Kernel PSI triggers and the polling fallback on the real kernel, with real CPU and memory
// pressure in cgroups the test creates; and the decay model against the kernel's averages.
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include <sys/resource.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pressure/pressure.hpp>

#include "core/ewma.hpp"
#include "support/command.hpp"
#include "support/live.hpp"
#include "support/watcher.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using test::run_pressure;
using test::TestCgroup;

// Runs a Monitor on its own thread and collects events.
// The Monitor of these tests: polling where asked, unprivileged windows rounded up as the CLI does.
class Watcher : public test::EventWatcher {
 public:
  Result<WatchInfo> add(const Target& target, const std::string& spec, TriggerMode mode,
                        std::chrono::milliseconds idle_period = {}) {
    return EventWatcher::add(target, spec, TriggerOptions{mode, WindowPolicy::round_up, idle_period});
  }
};

const char* mode_name(TriggerMode m) { return m == TriggerMode::kernel ? "kernel" : "polling"; }

}  // namespace

void PrintTo(TriggerMode m, std::ostream* os) { *os << to_string(m); }

namespace {

class LiveWatch : public testing::TestWithParam<TriggerMode> {};

// A polling watch that has slowed down on an idle group still fires when load comes.
TEST(LiveWatchIdle, PollingSlowsDownWhenIdleAndStillFires) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("watch-idle");
  ASSERT_TRUE(group.ok());
  Watcher watcher;
  auto info = watcher.add(Target::cgroup(group.path()), "cpu some 10%/1s", TriggerMode::polling, 500ms);
  ASSERT_TRUE(info) << info.error().message();
  std::this_thread::sleep_for(2500ms);  // a whole window without stall: it samples every 500 ms now
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 0; i <= std::thread::hardware_concurrency(); ++i) ASSERT_GT(group.spawn_spinner(), 0);
  auto event = watcher.wait_for(Event::Kind::pressure, 10s);
  ASSERT_TRUE(event) << "no event after the quiet spell";
  EXPECT_GE(event->share, 0.10);
  std::cout << "first event "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s after the load started\n";
}

TEST_P(LiveWatch, CpuPressureFiresOnTheCgroupAndTheSystem) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group(std::string("watch-cpu-") + mode_name(GetParam()));
  ASSERT_TRUE(group.ok());
  Watcher watcher;
  auto on_group = watcher.add(Target::cgroup(group.path()), "cpu some 20%/2s", GetParam());
  ASSERT_TRUE(on_group) << on_group.error().message();
  EXPECT_EQ(on_group->mode, GetParam()) << on_group->notice;
  Watcher system_watcher;
  auto on_system = system_watcher.add(Target::system(), "cpu some 10%/2s", GetParam());
  ASSERT_TRUE(on_system) << on_system.error().message();

  for (unsigned i = 0; i <= std::thread::hardware_concurrency(); ++i) ASSERT_GT(group.spawn_spinner(), 0);
  auto event = watcher.wait_for(Event::Kind::pressure, 10s);
  ASSERT_TRUE(event) << "no event on " << group.path();
  EXPECT_EQ(event->where, group.path());
  EXPECT_EQ(event->mode, GetParam());
  EXPECT_GE(event->share, 0.15) << "the observed share backs the event";
  auto system_event = system_watcher.wait_for(Event::Kind::pressure, 10s);
  ASSERT_TRUE(system_event) << "no event on the system";
  EXPECT_EQ(system_event->where, "system");
}

TEST_P(LiveWatch, MemoryFullFiresUnderARealSqueeze) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group(std::string("watch-memory-") + mode_name(GetParam()));
  ASSERT_TRUE(group.ok());
  ASSERT_TRUE(group.limit_memory(64u << 20)) << "cannot limit memory of " << group.path();
  Watcher watcher;
  auto info = watcher.add(Target::cgroup(group.path()), "memory full 10%/2s", GetParam());
  ASSERT_TRUE(info) << info.error().message();
  ASSERT_GT(group.spawn_memory_thrasher(40, 40, "/var/tmp"), 0);
  auto event = watcher.wait_for(Event::Kind::pressure, 30s);
  ASSERT_TRUE(event) << "no memory full event on " << group.path();
  EXPECT_EQ(event->spec.resource, Resource::memory);
  EXPECT_GE(event->observed_stall_us, 100000u);
}

TEST_P(LiveWatch, RemovedCgroupIsReportedGone) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group(std::string("watch-gone-") + mode_name(GetParam()));
  ASSERT_TRUE(group.ok());
  Watcher watcher;
  auto info = watcher.add(Target::cgroup(group.path()), "cpu some 100ms/2s", GetParam());
  ASSERT_TRUE(info) << info.error().message();
  ASSERT_TRUE(group.remove());
  auto gone = watcher.wait_for(Event::Kind::gone, 10s);
  ASSERT_TRUE(gone) << "no gone event";
  ASSERT_TRUE(gone->error);
  EXPECT_EQ(gone->error->code(), Errc::gone) << gone->error->message();
  EXPECT_EQ(watcher.monitor.watch_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, LiveWatch, testing::Values(TriggerMode::kernel, TriggerMode::polling),
                         [](const auto& param_info) { return std::string(mode_name(param_info.param)); });

// Some kernels (6.18 here) signal an unprivileged trigger armed after earlier stall although no
// window reached the threshold; the Monitor's own readings catch that and drop the event.
TEST(LiveTriggers, NoEventWhenNoWindowReachedTheThreshold) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("watch-spurious");
  ASSERT_TRUE(group.ok());
  unsigned spinners = std::thread::hardware_concurrency() + 1;
  for (unsigned i = 0; i < spinners; ++i) ASSERT_GT(group.spawn_spinner(), 0);
  std::this_thread::sleep_for(3s);
  group.kill_all();
  Watcher watcher;
  auto info = watcher.add(Target::cgroup(group.path()), "cpu some 75%/2s", TriggerMode::kernel);
  ASSERT_TRUE(info) << info.error().message();
  for (unsigned i = 0; i < spinners; ++i) ASSERT_GT(group.spawn_spinner(), 0);
  std::this_thread::sleep_for(500ms);
  group.kill_all();
  auto event = watcher.wait_for(Event::Kind::pressure, 6s);
  EXPECT_FALSE(event) << "an event with " << event->observed_stall_us << " us over "
                      << std::chrono::duration<double>(event->observed_span).count() << " s";
  std::cout << "kernel signals dropped as spurious: " << watcher.monitor.spurious_events() << '\n';
}

// No busy waiting: ten armed kernel triggers on an idle group cost next to no CPU while the
// loop waits in epoll_wait (a spinning loop would burn the whole 3 s).
TEST(LiveTriggers, IdleMonitorSleeps) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("watch-idle");
  ASSERT_TRUE(group.ok());
  Watcher watcher;
  for (const char* spec :
       {"cpu some 10%/2s", "cpu some 20%/4s", "cpu full 10%/2s", "memory some 5%/2s", "memory full 5%/2s",
        "memory some 50ms/4s", "io some 5%/2s", "io full 5%/2s", "io some 1s/10s", "cpu some 1s/10s"}) {
    auto info = watcher.add(Target::cgroup(group.path()), spec, TriggerMode::kernel);
    ASSERT_TRUE(info) << spec << ": " << info.error().message();
  }
  auto cpu_seconds = [] {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  double before = cpu_seconds();
  std::this_thread::sleep_for(3s);
  double used = cpu_seconds() - before;
  EXPECT_LT(used, 0.3) << "the loop used " << used << " s of CPU in 3 s while idle";
  EXPECT_EQ(watcher.monitor.watch_count(), 10u);
}

TEST(LiveTriggers, OneSecondWindowIsRoundedRefusedOrPolledUnprivileged) {
  PRESSURE_REQUIRE_LIVE();
  Monitor monitor;
  auto spec = *parse_trigger_spec("memory some 100ms/1s");
  auto strict = monitor.add(
      Target::system(), spec, [](const Event&) {}, TriggerOptions{TriggerMode::kernel, WindowPolicy::refuse});
  auto rounded = monitor.add(
      Target::system(), spec, [](const Event&) {},
      TriggerOptions{TriggerMode::kernel, WindowPolicy::round_up});
  ASSERT_TRUE(rounded) << rounded.error().message();
  // WindowPolicy::poll keeps the exact window: a kernel trigger where allowed, else polling.
  auto exact = monitor.add(
      Target::system(), spec, [](const Event&) {},
      TriggerOptions{TriggerMode::automatic, WindowPolicy::poll});
  ASSERT_TRUE(exact) << exact.error().message();
  EXPECT_EQ(exact->spec, spec);
  EXPECT_EQ(exact->mode, strict ? TriggerMode::kernel : TriggerMode::polling);
  if (strict) {
    // CAP_SYS_RESOURCE: the kernel takes 1 s windows as they are.
    EXPECT_EQ(rounded->spec, spec);
    GTEST_LOG_(INFO) << "this process has CAP_SYS_RESOURCE: 1 s windows are allowed";
  } else {
    EXPECT_EQ(strict.error().code(), Errc::permission);
    EXPECT_NE(strict.error().message().find("multiples of 2s"), std::string::npos)
        << strict.error().message();
    EXPECT_EQ(rounded->spec.window, 2s);
    EXPECT_EQ(rounded->spec.stall, 200ms);
    EXPECT_NE(rounded->notice.find("rounded up"), std::string::npos);
  }
}

TEST(LiveCli, WatchCountExecAndGone) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("watch-cli");
  ASSERT_TRUE(group.ok());
  for (unsigned i = 0; i <= std::thread::hardware_concurrency(); ++i) ASSERT_GT(group.spawn_spinner(), 0);
  std::string out_file = "/tmp/pressure-watch-exec-" + std::to_string(::getpid());
  auto r = run_pressure({"watch", "--cgroup", group.path(), "cpu some 20%/2s", "--json", "--count", "1",
                         "--timeout", "15", "--exec", "--", "/bin/sh", "-c",
                         "echo \"$PRESSURE_TARGET $PRESSURE_RESOURCE $PRESSURE_LINE $PRESSURE_STALL_US "
                         "$PRESSURE_WINDOW_US $PRESSURE_MODE\" > " +
                             out_file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["target"], group.path());
  EXPECT_EQ(j["event"], "pressure");
  EXPECT_EQ(j["mode"], "kernel");
  EXPECT_EQ(j["window_us"], 2000000);
  std::ifstream in(out_file);
  std::string line;
  std::getline(in, line);
  ::unlink(out_file.c_str());
  EXPECT_EQ(line, group.path() + " cpu some 400000 2000000 kernel");

  // The watched group disappears: one "gone" line and exit 4.
  std::thread remover([&] {
    std::this_thread::sleep_for(1s);
    group.remove();
  });
  auto gone = run_pressure({"watch", "--cgroup", group.path(), "cpu some 100%/10s", "--timeout", "20"});
  remover.join();
  EXPECT_EQ(gone.exit_code, 4) << gone.out << gone.err;
  EXPECT_NE(gone.out.find("gone"), std::string::npos) << gone.out;
  EXPECT_NE(gone.err.find("was removed"), std::string::npos) << gone.err;
}

// After a real load stops, the kernel's printed averages follow the model within one update.
TEST(LiveDecay, KernelAveragesFollowTheModel) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("decay");
  ASSERT_TRUE(group.ok());
  for (unsigned i = 0; i <= std::thread::hardware_concurrency(); ++i) ASSERT_GT(group.spawn_spinner(), 0);
  std::this_thread::sleep_for(8s);
  group.kill_all();
  // Let the period in which the load stopped pass, so from here every period is stall-free.
  std::this_thread::sleep_for(4500ms);
  Reader reader(Target::cgroup(group.path()));
  auto start = reader.read(Resource::cpu);
  ASSERT_TRUE(start) << start.error().message();
  auto t0 = std::chrono::steady_clock::now();
  Stall s0 = *start->some;
  ASSERT_GT(s0.avg10.hundredths(), 500u) << "the load should have left avg10 well above 5 %";

  // Simulate from both ends of the printed value's fixed-point range.
  KernelAverages low(s0), high;
  for (Average a : k_averages) high.set_fixed(a, ewma::fixed_range(average_of(s0, a)).second);
  std::vector<std::pair<KernelAverages, KernelAverages>> after{{low, high}};
  for (int k = 1; k <= 12; ++k) {
    auto [l, h] = after.back();
    l.update(0s);
    h.update(0s);
    after.push_back({l, h});
  }
  int checked = 0;
  while (std::chrono::steady_clock::now() - t0 < 20s) {
    std::this_thread::sleep_for(700ms);
    auto now = reader.read(Resource::cpu);
    ASSERT_TRUE(now);
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Updates since t0: floor(elapsed / P) or one more; allow one update either side of that.
    int k = static_cast<int>(elapsed / 2.0);
    int k_lo = std::max(0, k - 1), k_hi = std::min(12, k + 2);
    for (Average a : k_averages) {
      std::uint32_t seen = average_of(*now->some, a).hundredths();
      std::uint32_t lowest = after[static_cast<std::size_t>(k_hi)].first.printed(a).hundredths();
      std::uint32_t highest = after[static_cast<std::size_t>(k_lo)].second.printed(a).hundredths();
      EXPECT_GE(seen, lowest) << to_string(a) << " at " << elapsed << " s";
      EXPECT_LE(seen, highest) << to_string(a) << " at " << elapsed << " s";
    }
    ++checked;
  }
  EXPECT_GE(checked, 20);
  auto end = reader.read(Resource::cpu);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->some->total_us, s0.total_us) << "no stall after the load stopped";
}

}  // namespace
}  // namespace pressure
