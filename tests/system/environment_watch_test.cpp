// The service manager's pressure watch with the variables set as systemd sets them: a cgroup's
// pressure file with the trigger systemd writes (real CPU pressure in a group this test makes),
// a Unix socket and a FIFO this test serves, /dev/null, unset, and bad values; through the
// Monitor, the levels Driver and `pressure watch --from-environment`.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pressure/pressure.hpp>

#include "support/command.hpp"
#include "support/environment.hpp"
#include "support/live.hpp"
#include "support/temp_dir.hpp"
#include "support/watcher.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using test::ScopedEnvironment;
using test::systemd_write;
using State = EnvironmentWatch::State;

const std::string k_trigger("some 200000 2000000\0", 20);  // what MemoryPressureWatch=auto writes

// The service manager's end: a listening AF_UNIX socket of `type` at `path`.
class Listener {
 public:
  Listener(const std::string& path, int type) {
    m_fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    m_ok = m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
           ::listen(m_fd, 4) == 0;
  }
  ~Listener() {
    if (m_peer >= 0) ::close(m_peer);
    if (m_fd >= 0) ::close(m_fd);
  }
  bool ok() const { return m_ok; }
  // Accepts the client (waiting up to 5 s) and returns what it wrote within 2 s.
  std::string accept_and_read() {
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return "<no connection>";
    m_peer = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
    std::string got;
    char buf[256];
    pollfd q{m_peer, POLLIN, 0};
    while (::poll(&q, 1, got.empty() ? 2000 : 100) == 1) {
      ssize_t n = ::read(m_peer, buf, sizeof(buf));
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
  bool pending_connection() const {
    pollfd p{m_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }
  void signal() { ASSERT_EQ(::write(m_peer, "!", 1), 1); }
  void hang_up() {
    ::close(m_peer);
    m_peer = -1;
  }

 private:
  int m_fd = -1;
  int m_peer = -1;
  bool m_ok = false;
};

Result<EnvironmentWatch> memory_request() { return environment_watch(Resource::memory); }

void expect_relayed(const Event& e, const std::string& path) {
  EXPECT_EQ(e.kind, Event::Kind::pressure);
  EXPECT_EQ(e.where, path);
  EXPECT_EQ(e.mode, TriggerMode::relayed);
  EXPECT_EQ(e.variable, "MEMORY_PRESSURE_WATCH");
  EXPECT_EQ(e.spec.to_string(), "memory some 200ms/2s");
}

// The protocol's stream socket, and a seqpacket listener (connected as one).
class EnvironmentSocket : public testing::TestWithParam<int> {};

TEST_P(EnvironmentSocket, GetsTheTriggerAndEachByteIsAnEventUntilHangUp) {
  test::TempDir dir("envwatch");
  Listener server(dir.file("memory.sock"), GetParam());
  ASSERT_TRUE(server.ok());
  ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", dir.file("memory.sock")},
                        {"MEMORY_PRESSURE_WRITE", systemd_write("some 200000 2000000")}};
  auto request = memory_request();
  ASSERT_TRUE(request) << request.error().message();
  test::EventWatcher watcher;
  auto info = watcher.add(*request);
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->mode, TriggerMode::relayed);
  EXPECT_EQ(server.accept_and_read(), k_trigger);  // the exact bytes, NUL included
  EXPECT_EQ(watcher.count(), 0u);                  // nothing until the server says so
  server.signal();
  auto first = watcher.wait_for(Event::Kind::pressure, 5s);
  ASSERT_TRUE(first) << "no event after the server wrote a byte";
  expect_relayed(*first, dir.file("memory.sock"));
  server.signal();
  ASSERT_TRUE(watcher.wait_for(Event::Kind::pressure, 5s, 1)) << "the second byte is a second event";
  server.hang_up();
  auto gone = watcher.wait_for(Event::Kind::gone, 5s);
  ASSERT_TRUE(gone) << "a closed socket must end the watch";
  EXPECT_NE(gone->error->message().find("closed by the other side"), std::string::npos);
  EXPECT_EQ(watcher.monitor.watch_count(), 0u);
}

std::string socket_type_name(const testing::TestParamInfo<int>& type) {
  return type.param == SOCK_STREAM ? "stream" : "seqpacket";
}

INSTANTIATE_TEST_SUITE_P(Types, EnvironmentSocket, testing::Values(SOCK_STREAM, SOCK_SEQPACKET),
                         socket_type_name);

TEST(EnvironmentWatch, FifoSignalsWhenWrittenAndGetsTheTrigger) {
  test::TempDir dir("envwatch");
  std::string fifo = dir.file("memory.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int manager = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);  // the service manager's end
  ASSERT_GE(manager, 0);
  ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", fifo},
                        {"MEMORY_PRESSURE_WRITE", systemd_write("some 200000 2000000")}};
  test::EventWatcher watcher;
  // Added while the loop runs: the trigger text is in the FIFO for the manager to read first.
  auto info = watcher.add(memory_request().value());
  ASSERT_TRUE(info) << info.error().message();
  char buf[64];
  ssize_t n = ::read(manager, buf, sizeof(buf));
  if (n > 0) {  // else our own loop read it first
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), k_trigger);
  }
  std::this_thread::sleep_for(200ms);
  std::size_t before = watcher.count();  // 1 if our loop read its own trigger back first
  ASSERT_EQ(::write(manager, "!!!", 3), 3);
  auto e = watcher.wait_for(Event::Kind::pressure, 5s, before);
  ASSERT_TRUE(e) << "no event after the FIFO was written";
  expect_relayed(*e, fifo);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(watcher.count(), before + 1) << "one burst of bytes is one event (the data is drained)";
  ::close(manager);
}

TEST(EnvironmentWatch, FifoWithoutWriteIsOpenedForReadingOnly) {
  test::TempDir dir("envwatch");
  std::string fifo = dir.file("cpu.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int manager = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(manager, 0);
  ScopedEnvironment env{{"CPU_PRESSURE_WATCH", fifo}, {"CPU_PRESSURE_WRITE", std::nullopt}};
  auto request = environment_watch(Resource::cpu);
  ASSERT_TRUE(request && request->state == State::watch);
  test::EventWatcher watcher;
  ASSERT_TRUE(watcher.add(*request));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(watcher.count(), 0u);
  ASSERT_EQ(::write(manager, "x", 1), 1);
  auto e = watcher.wait_for(Event::Kind::pressure, 5s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->variable, "CPU_PRESSURE_WATCH");
  EXPECT_EQ(e->spec.resource, Resource::cpu);
  ::close(manager);
}

TEST(EnvironmentWatch, DevNullAndUnsetAskForNoWatch) {
  ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", "/dev/null"},
                        {"MEMORY_PRESSURE_WRITE", systemd_write("some 200000 2000000")},
                        {"IO_PRESSURE_WATCH", std::nullopt}};
  auto off = memory_request();
  ASSERT_TRUE(off);
  EXPECT_EQ(off->state, State::disabled);
  auto unset = environment_watch(Resource::io);
  ASSERT_TRUE(unset);
  EXPECT_EQ(unset->state, State::unset);
  Monitor monitor;
  for (const EnvironmentWatch& request : {*off, *unset}) {
    auto info = monitor.add(request, [](const Event&) {});
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code(), Errc::invalid_argument);
  }
}

// Each bad value is refused with a message naming the variable and what is wrong with it.
TEST(EnvironmentWatch, BadValuesAreClearErrors) {
  test::TempDir dir("envwatch");
  { std::ofstream(dir.file("plain")) << "some 0 0\n"; }
  struct Case {
    std::string watch;
    std::optional<std::string> write;
    std::string says;
  };
  for (const Case& c : {
           Case{"memory.pressure", std::nullopt,
                "$MEMORY_PRESSURE_WATCH='memory.pressure': not an absolute path"},
           Case{dir.path() + "/../x", std::nullopt, "not normalised ('..')"},
           Case{dir.file("none"), std::nullopt,
                "$MEMORY_PRESSURE_WATCH=" + dir.file("none") + ": cannot open it"},
           Case{dir.path(), std::nullopt, "a directory"},
           Case{dir.file("plain"), systemd_write("some 1 2"), "not a kernel pressure file"},
           Case{"/proc/pressure/memory", std::nullopt, "$MEMORY_PRESSURE_WRITE is unset or empty"},
           Case{"/proc/pressure/memory", "c29tZQ", "$MEMORY_PRESSURE_WRITE='c29tZQ': not base64"},
           Case{"/proc/pressure/memory", std::string(20000, 'A'), "$MEMORY_PRESSURE_WRITE="},
       }) {
    ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", c.watch}, {"MEMORY_PRESSURE_WRITE", c.write}};
    Monitor monitor;
    auto request = memory_request();
    Result<WatchInfo> info =
        request ? monitor.add(*request, [](const Event&) {}) : tl::unexpected(request.error());
    ASSERT_FALSE(info) << c.watch << " was armed";
    EXPECT_NE(info.error().message().find(c.says), std::string::npos) << info.error().message();
    EXPECT_EQ(monitor.watch_count(), 0u);
  }
}

// A cgroup's own cpu.pressure with the trigger systemd writes (CPUPressureWatch=): real CPU
// pressure in the group fires it, and removing the group ends the watch.
TEST(LiveEnvironmentWatch, CgroupPressureFileFiresWithItsTrigger) {
  PRESSURE_REQUIRE_LIVE();
  test::TestCgroup group("envwatch");
  ASSERT_TRUE(group.ok());
  std::string file = group.dir() + "/cpu.pressure";
  ScopedEnvironment env{{"CPU_PRESSURE_WATCH", file},
                        {"CPU_PRESSURE_WRITE", systemd_write("some 200000 2000000")}};
  auto request = environment_watch(Resource::cpu);
  ASSERT_TRUE(request) << request.error().message();
  test::EventWatcher watcher;
  auto info = watcher.add(*request);
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->mode, TriggerMode::kernel);
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(watcher.count(), 0u) << "an idle group crossed no threshold";
  for (unsigned i = 0; i <= std::thread::hardware_concurrency(); ++i) ASSERT_GT(group.spawn_spinner(), 0);
  auto e = watcher.wait_for(Event::Kind::pressure, 15s);
  ASSERT_TRUE(e) << "no trigger event under CPU pressure";
  EXPECT_EQ(e->where, file);
  EXPECT_EQ(e->spec.to_string(), "cpu some 200ms/2s");
  EXPECT_EQ(e->variable, "CPU_PRESSURE_WATCH");
  ASSERT_TRUE(group.remove());
  auto gone = watcher.wait_for(Event::Kind::gone, 10s);
  ASSERT_TRUE(gone) << "the removed group's watch did not end";
  EXPECT_NE(gone->error->message().find("cgroup was removed"), std::string::npos);
}

// The unprivileged window rule, met through the environment, is named with the unit setting.
TEST(LiveEnvironmentWatch, KernelRefusalNamesTheVariable) {
  PRESSURE_REQUIRE_LIVE();
  if (::access("/proc/pressure/cpu", W_OK) != 0) GTEST_SKIP() << "cannot open /proc/pressure/cpu for writing";
  ScopedEnvironment env{{"CPU_PRESSURE_WATCH", "/proc/pressure/cpu"},
                        {"CPU_PRESSURE_WRITE", systemd_write("some 100000 20000000")}};  // a 20 s window
  Monitor monitor;
  auto info = monitor.add(environment_watch(Resource::cpu).value(), [](const Event&) {});
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message().find("$CPU_PRESSURE_WATCH=/proc/pressure/cpu: the kernel refused"),
            std::string::npos)
      << info.error().message();
}

TEST(LiveEnvironmentWatch, DriverTicksOnTheServiceManagersWatchInsteadOfWakeOn) {
  PRESSURE_REQUIRE_LIVE();
  test::TempDir dir("envwatch");
  Listener server(dir.file("memory.sock"), SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", dir.file("memory.sock")},
                        {"MEMORY_PRESSURE_WRITE", systemd_write("some 200000 2000000")},
                        {"CPU_PRESSURE_WATCH", "/dev/null"},
                        {"IO_PRESSURE_WATCH", std::nullopt}};
  levels::Manager manager({levels::custom([](const levels::Reading&) { return false; })});
  levels::Sampler sampler;
  test::EventWatcher loop;
  levels::DriverOptions options;
  options.interval = 1h;  // only the watches can tick it
  options.wake_on = {{Target::system(), parse_trigger_spec("memory some 100ms/2s").value()},
                     {Target::system(), parse_trigger_spec("cpu some 100ms/2s").value()},
                     {Target::system(), parse_trigger_spec("io some 100ms/2s").value()}};
  levels::Driver driver(manager, sampler, loop.monitor, options);
  auto notices = driver.start();
  ASSERT_TRUE(notices) << notices.error().message();
  // memory: the socket replaces the spec; cpu: /dev/null drops it; io: unset keeps the default.
  EXPECT_EQ(loop.monitor.watch_count(), 2u);
  std::string all;
  for (const std::string& n : *notices) all += n + "\n";
  EXPECT_NE(all.find("$CPU_PRESSURE_WATCH is /dev/null"), std::string::npos) << all;
  EXPECT_NE(all.find("$MEMORY_PRESSURE_WATCH=" + dir.file("memory.sock")), std::string::npos) << all;
  EXPECT_EQ(server.accept_and_read(), k_trigger);
  EXPECT_EQ(driver.ticks(), 0u);
  server.signal();
  for (int i = 0; i < 50 && driver.ticks() == 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_GE(driver.ticks(), 1u) << "the service manager's signal did not tick the levels";
  driver.stop();

  options.from_environment = false;  // the opt-out: wake_on alone, the socket never touched
  Listener unused(dir.file("other.sock"), SOCK_STREAM);
  ScopedEnvironment other{{"MEMORY_PRESSURE_WATCH", dir.file("other.sock")}};
  levels::Driver ignoring(manager, sampler, loop.monitor, options);
  ASSERT_TRUE(ignoring.start());
  EXPECT_EQ(loop.monitor.watch_count(), 3u);
  EXPECT_FALSE(unused.pending_connection());
}

TEST(LiveEnvironmentWatch, DriverRefusesABadValueNamingIt) {
  PRESSURE_REQUIRE_LIVE();
  ScopedEnvironment env{{"IO_PRESSURE_WATCH", "io.pressure"}};
  levels::Manager manager({levels::custom([](const levels::Reading&) { return false; })});
  levels::Sampler sampler;
  Monitor monitor;
  levels::Driver driver(manager, sampler, monitor, levels::DriverOptions{});
  auto started = driver.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message().find("$IO_PRESSURE_WATCH='io.pressure'"), std::string::npos);
  EXPECT_EQ(monitor.watch_count(), 0u);
}

TEST(EnvironmentWatchCli, WatchFromEnvironmentPrintsTheSignal) {
  test::TempDir dir("envwatch");
  Listener server(dir.file("memory.sock"), SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", dir.file("memory.sock")},
                        {"MEMORY_PRESSURE_WRITE", systemd_write("some 200000 2000000")},
                        {"CPU_PRESSURE_WATCH", std::nullopt},
                        {"IO_PRESSURE_WATCH", std::nullopt}};
  auto run = std::async(std::launch::async, [] {
    return test::run_pressure({"watch", "--from-environment", "--json", "--count", "1", "--timeout", "20"});
  });
  EXPECT_EQ(server.accept_and_read(), k_trigger);
  server.signal();
  test::CommandResult r = run.get();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["event"], "pressure");
  EXPECT_EQ(j["target"], dir.file("memory.sock"));
  EXPECT_EQ(j["spec"], "memory some 200ms/2s");
  EXPECT_EQ(j["variable"], "MEMORY_PRESSURE_WATCH");
  EXPECT_EQ(j["mode"], "relayed");
  EXPECT_TRUE(j["share"].is_null()) << "nothing was measured: absent, not 0";
}

TEST(EnvironmentWatchCli, BadValuesAndNothingToWatchExitTwo) {
  for (auto [watch, says] : std::initializer_list<std::pair<std::string, std::string>>{
           {"relative/path", "$MEMORY_PRESSURE_WATCH='relative/path': not an absolute path"},
           {"/dev/null", "nothing to watch"}}) {
    ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", watch},
                          {"CPU_PRESSURE_WATCH", std::nullopt},
                          {"IO_PRESSURE_WATCH", std::nullopt}};
    auto r = test::run_pressure({"watch", "--from-environment", "--timeout", "1"});
    EXPECT_EQ(r.exit_code, 2) << watch << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  }
  ScopedEnvironment none{{"MEMORY_PRESSURE_WATCH", std::nullopt}};
  auto r = test::run_pressure({"watch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("at least one spec, or --from-environment"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pressure
