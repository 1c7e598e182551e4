// The Monitor over a writable fixture tree (polling: plain files take no kernel trigger) and
// injected faults; the live kernel's triggers are in tests/system.
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <pressure/monitor.hpp>
#include <pressure/wait.hpp>

namespace pressure {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A proc root whose memory total the test moves by hand.
class FakeProc {
 public:
  FakeProc()
      : m_root(fs::temp_directory_path() /
               ("pressure-monitor-" + std::to_string(::getpid()) + "-" + std::to_string(s_counter++))) {
    fs::create_directories(m_root / "pressure");
    for (const char* name : {"cpu", "io"}) write(name, 0);
    set_memory_total(0);
  }
  ~FakeProc() { fs::remove_all(m_root); }
  std::string root() const { return m_root.string(); }
  void set_memory_total(std::uint64_t us) { write("memory", us); }

 private:
  // Rewritten in place with one pwrite of constant length (totals zero-padded), so a reader
  // on another thread never sees a half-written file.
  void write(const std::string& name, std::uint64_t total) {
    char text[160];
    int n = std::snprintf(text, sizeof text,
                          "some avg10=0.00 avg60=0.00 avg300=0.00 total=%020llu\n"
                          "full avg10=0.00 avg60=0.00 avg300=0.00 total=%020llu\n",
                          static_cast<unsigned long long>(total), static_cast<unsigned long long>(total));
    int fd = ::open((m_root / "pressure" / name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, text, static_cast<std::size_t>(n), 0), n);
    ::close(fd);
  }
  static inline std::atomic<int> s_counter{0};
  fs::path m_root;
};

std::string test_fixture(const std::string& name) { return std::string(PRESSURE_FIXTURES) + "/" + name; }

ReaderOptions at(const FakeProc& proc) { return ReaderOptions{proc.root(), "/nonexistent", nullptr}; }

TriggerOptions polling() { return TriggerOptions{TriggerMode::polling, WindowPolicy::round_up}; }

// Waits on fd() the way an embedding loop would, then dispatches.
void pump(Monitor& m, std::chrono::milliseconds for_at_most) {
  pollfd p{m.fd(), POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(for_at_most.count()));
  ASSERT_TRUE(m.dispatch());
}

TEST(Monitor, PollingFiresOnRisingTotalWithTheKernelsMeaning) {
  FakeProc proc;
  Monitor monitor(at(proc));
  std::vector<Event> events;
  auto info = monitor.add(
      Target::system(), *parse_trigger_spec("memory full 200ms/1s"),
      [&](const Event& e) { events.push_back(e); }, polling());
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->mode, TriggerMode::polling);
  EXPECT_EQ(info->spec.window, 1s) << "polling keeps the exact window";
  EXPECT_EQ(info->where, "system");

  // 50 % stall: 200 ms accrue in about 400 ms; once per window after that.
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 2500ms) {
    auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    proc.set_memory_total(static_cast<std::uint64_t>(elapsed.count() / 2));
    pump(monitor, 20ms);
  }
  ASSERT_GE(events.size(), 2u);
  EXPECT_LE(events.size(), 3u) << "at most one event per window";
  for (const Event& e : events) {
    EXPECT_EQ(e.kind, Event::Kind::pressure);
    EXPECT_EQ(e.mode, TriggerMode::polling);
    EXPECT_NEAR(e.share, 0.5, 0.15);
    EXPECT_GE(e.observed_stall_us, 200000u);
  }
}

TEST(Monitor, QuietTotalNeverFires) {
  FakeProc proc;
  Monitor monitor(at(proc));
  int events = 0;
  ASSERT_TRUE(monitor.add(
      Target::system(), *parse_trigger_spec("memory some 10ms/1s"), [&](const Event&) { ++events; },
      polling()));
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 1200ms) pump(monitor, 50ms);
  EXPECT_EQ(events, 0);
}

TEST(Monitor, AutomaticFallsBackToPollingOnPlainFilesAndNeverWritesThem) {
  FakeProc proc;
  Monitor monitor(at(proc));
  auto info = monitor.add(Target::system(), *parse_trigger_spec("memory some 100ms/2s"), [](const Event&) {});
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->mode, TriggerMode::polling);
  EXPECT_NE(info->notice.find("not a kernel pressure file"), std::string::npos) << info->notice;
  std::ifstream in(proc.root() + "/pressure/memory");
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("some avg10=", 0), 0u) << "the trigger text must not land in a plain file";

  auto forced = monitor.add(
      Target::system(), *parse_trigger_spec("memory some 100ms/2s"), [](const Event&) {},
      TriggerOptions{TriggerMode::kernel, WindowPolicy::round_up});
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code(), Errc::unsupported);
}

TEST(Monitor, AddRefusesWhatCannotBeWatched) {
  FakeProc proc;
  Monitor monitor(at(proc));
  auto irq = monitor.add(
      Target::system(), *parse_trigger_spec("irq full 10ms/2s"), [](const Event&) {}, polling());
  ASSERT_FALSE(irq);
  EXPECT_EQ(irq.error().code(), Errc::unavailable);
  auto group = monitor.add(
      Target::cgroup("x"), *parse_trigger_spec("cpu some 10ms/2s"), [](const Event&) {}, polling());
  ASSERT_FALSE(group);
  EXPECT_EQ(monitor.watch_count(), 0u);
}

// pread fails with ENODEV and the group's directory is gone: what a removed cgroup looks like.
class RemovedGroupIo : public Io {
 public:
  std::atomic<bool> removed{false};
  long pread(int fd, char* buf, std::size_t size, long offset) const override {
    if (removed) return -ENODEV;
    return Io::pread(fd, buf, size, offset);
  }
  int open_at(int dirfd, const char* path, int flags) const override {
    if (removed) return -ENOENT;
    return Io::open_at(dirfd, path, flags);
  }
};

TEST(Monitor, RemovedGroupGivesGoneAndDropsTheWatch) {
  FakeProc proc;
  fs::create_directories(proc.root() + "/cg/batch");
  for (const char* f : {"cpu.pressure", "memory.pressure", "io.pressure"})
    fs::copy_file(proc.root() + "/pressure/memory", proc.root() + "/cg/batch/" + f);
  std::ofstream(proc.root() + "/cg/batch/cgroup.procs").put('\n');
  auto io = std::make_shared<RemovedGroupIo>();
  Monitor monitor(ReaderOptions{proc.root(), proc.root() + "/cg", io});
  std::vector<Event> events;
  ASSERT_TRUE(monitor.add(
      Target::cgroup("batch"), *parse_trigger_spec("cpu some 10ms/1s"),
      [&](const Event& e) { events.push_back(e); }, polling()));
  EXPECT_EQ(monitor.watch_count(), 1u);
  io->removed = true;
  auto start = std::chrono::steady_clock::now();
  while (events.empty() && std::chrono::steady_clock::now() - start < 2s) pump(monitor, 50ms);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Event::Kind::gone);
  ASSERT_TRUE(events[0].error);
  EXPECT_EQ(events[0].error->code(), Errc::gone);
  EXPECT_EQ(events[0].where, "/batch");
  EXPECT_EQ(monitor.watch_count(), 0u);
}

TEST(Monitor, RemoveStopsEventsAndTimersTick) {
  FakeProc proc;
  Monitor monitor(at(proc));
  int events = 0;
  auto info = monitor.add(
      Target::system(), *parse_trigger_spec("memory some 1ms/1s"), [&](const Event&) { ++events; },
      polling());
  ASSERT_TRUE(info);
  EXPECT_TRUE(monitor.remove(info->id));
  EXPECT_FALSE(monitor.remove(info->id));
  int ticks = 0;
  auto timer = monitor.add_timer(20ms, [&] {
    proc.set_memory_total(static_cast<std::uint64_t>(++ticks) * 100000);
    if (ticks == 10) monitor.stop();
  });
  ASSERT_TRUE(timer);
  ASSERT_TRUE(monitor.run());
  EXPECT_EQ(ticks, 10);
  EXPECT_EQ(events, 0);
  EXPECT_TRUE(monitor.cancel_timer(*timer));
  EXPECT_FALSE(monitor.cancel_timer(*timer));
  EXPECT_FALSE(monitor.add_timer(0ms, [] {}));
}

TEST(Monitor, RemoveFromInsideItsOwnCallback) {
  FakeProc proc;
  Monitor monitor(at(proc));
  int events = 0;
  WatchId id;
  auto info = monitor.add(
      Target::system(), *parse_trigger_spec("memory some 1ms/500ms"),
      [&](const Event&) {
        ++events;
        EXPECT_TRUE(monitor.remove(id));  // must not deadlock
        monitor.stop();
      },
      polling());
  ASSERT_TRUE(info);
  id = info->id;
  auto start = std::chrono::steady_clock::now();
  auto mover = monitor.add_timer(10ms, [&] {
    proc.set_memory_total(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
            .count()));
  });
  ASSERT_TRUE(mover);
  ASSERT_TRUE(monitor.run());
  EXPECT_EQ(events, 1);
  EXPECT_EQ(monitor.watch_count(), 0u);
}

// remove() on another thread waits for a running callback, and none starts after it returns.
TEST(MonitorThreads, RemoveWaitsForARunningCallback) {
  FakeProc proc;
  Monitor monitor(at(proc));
  std::atomic<bool> in_callback{false};
  std::atomic<bool> callback_done{false};
  std::atomic<int> after_remove{0};
  std::atomic<bool> removed{false};
  auto info = monitor.add(
      Target::system(), *parse_trigger_spec("memory some 1ms/500ms"),
      [&](const Event&) {
        if (removed) ++after_remove;
        in_callback = true;
        std::this_thread::sleep_for(300ms);
        callback_done = true;
      },
      polling());
  ASSERT_TRUE(info);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(monitor.add_timer(10ms, [&] {
    proc.set_memory_total(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
            .count()));
  }));
  std::thread loop([&] { ASSERT_TRUE(monitor.run()); });
  while (!in_callback) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(monitor.remove(info->id));
  removed = true;
  EXPECT_TRUE(callback_done) << "remove() returned while the callback was still running";
  std::this_thread::sleep_for(700ms);
  monitor.stop();
  loop.join();
  EXPECT_EQ(after_remove.load(), 0);
}

TEST(Monitor, StopBeforeRunReturnsAtOnce) {
  Monitor monitor;
  monitor.stop();
  ASSERT_TRUE(monitor.run());
}

// Counts reads, to show that waiting sleeps instead of sampling.
class CountingIo : public Io {
 public:
  mutable std::atomic<int> reads{0};
  long pread(int fd, char* buf, std::size_t size, long offset) const override {
    ++reads;
    return Io::pread(fd, buf, size, offset);
  }
};

TEST(WaitUntilEnded, SleepsThroughTheQuietPeriodInsteadOfSampling) {
  FakeProc proc;
  auto io = std::make_shared<CountingIo>();
  Reader reader(Target::system(), ReaderOptions{proc.root(), "", io});
  EndCriteria criteria{EndCriteria::default_thresholds(), 300ms};
  auto start = std::chrono::steady_clock::now();
  auto ended = wait_until_ended(reader, Resource::memory, Line::full, criteria, 5s);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(ended) << ended.error().message();
  EXPECT_TRUE(*ended);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2s);
  EXPECT_LE(io->reads.load(), 2 * 3) << "two looks (three files each), no sampling in between";
}

TEST(WaitUntilEnded, AbsentLineIsAnErrorNotAWait) {
  Reader reader(Target::system(), ReaderOptions{test_fixture("kernel-4.20"), "", nullptr});
  auto ended = wait_until_ended(reader, Resource::cpu, Line::full, {}, 10s);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code(), Errc::unavailable);
}

TEST(WaitUntilEnded, TimesOutWhileStallKeepsComing) {
  FakeProc proc;
  Reader reader(Target::system(), ReaderOptions{proc.root(), "", nullptr});
  std::atomic<bool> done{false};
  std::thread staller([&] {
    for (std::uint64_t total = 1; !done; total += 1000) {
      proc.set_memory_total(total);
      std::this_thread::sleep_for(20ms);
    }
  });
  auto ended = wait_until_ended(reader, Resource::memory, Line::full,
                                EndCriteria{EndCriteria::default_thresholds(), 200ms}, 700ms);
  done = true;
  staller.join();
  ASSERT_TRUE(ended) << ended.error().message();
  EXPECT_FALSE(*ended);
}

// Watches and timers added and removed from several threads while run() dispatches: the case
// ThreadSanitizer checks (scripts/test.sh runs this suite in a TSan build).
TEST(MonitorThreads, AddRemoveFromManyThreadsWhileRunning) {
  FakeProc proc;
  Monitor monitor(at(proc));
  std::atomic<int> events{0};
  std::atomic<int> ticks{0};
  std::thread loop([&] { ASSERT_TRUE(monitor.run()); });
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 25 + t; ++i) {
        auto info = monitor.add(
            Target::system(), *parse_trigger_spec("memory some 1ms/1s"), [&](const Event&) { ++events; },
            polling());
        ASSERT_TRUE(info) << info.error().message();
        auto timer = monitor.add_timer(1ms, [&, t, i] {
          ++ticks;
          proc.set_memory_total(static_cast<std::uint64_t>(t * 1000 + i));
        });
        ASSERT_TRUE(timer);
        std::this_thread::sleep_for(2ms);
        EXPECT_TRUE(monitor.remove(info->id));
        EXPECT_TRUE(monitor.cancel_timer(*timer));
      }
    });
  }
  for (auto& w : workers) w.join();
  monitor.stop();
  loop.join();
  EXPECT_EQ(monitor.watch_count(), 0u);
  EXPECT_GT(ticks.load(), 0);
}

}  // namespace
}  // namespace pressure
