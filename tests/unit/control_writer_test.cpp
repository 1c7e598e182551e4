// ControlWriter: memory limits are written off the loop (the kernel may reclaim inside the
// write), in order, with each result delivered on the loop's thread.
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "policy/control_writer.hpp"
#include "support/process.hpp"

namespace pressure::policy {
namespace {

using namespace std::chrono_literals;

// Dispatches `monitor` on this thread until `done()` (true) or 10 s (false).
bool pump_until(Monitor& monitor, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{monitor.fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    if (!monitor.dispatch()) return false;
  }
  return true;
}

TEST(ControlWriter, ABlockedWriteLeavesTheLoopRunningAndReportsOnIt) {
  Monitor monitor;
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::mutex mutex;
  std::vector<std::string> written;  // by the writer's thread
  ControlWriter writer(monitor, [&](const std::string& path, const std::string& value) -> Result<void> {
    open.wait();  // as a write that reclaims for a long time
    std::lock_guard lock(mutex);
    written.push_back(path + "=" + value);
    if (value == "bad") return fail(Errc::system, "refused by the kernel");
    return {};
  });
  std::vector<std::string> done;
  std::vector<std::thread::id> done_on;
  auto record = [&](std::string name) {
    return [&, name](const Result<void>& r) {
      done.push_back(name + (r ? " ok" : " failed: " + r.error().message()));
      done_on.push_back(std::this_thread::get_id());
    };
  };
  ASSERT_TRUE(writer.write("memory.high", "1048576", record("first")));
  ASSERT_TRUE(writer.write("memory.limit_in_bytes", "bad", record("second")));

  // The loop keeps serving its timers while the write is stuck.
  int ticks = 0;
  Result<TimerId> timer = monitor.add_timer(10ms, [&] { ++ticks; });
  ASSERT_TRUE(timer);
  ASSERT_TRUE(pump_until(monitor, [&] { return ticks >= 5; }));
  EXPECT_TRUE(done.empty());

  gate.set_value();
  ASSERT_TRUE(pump_until(monitor, [&] { return done.size() == 2; }));
  EXPECT_EQ(done, (std::vector<std::string>{"first ok", "second failed: refused by the kernel"}));
  for (std::thread::id on : done_on) EXPECT_EQ(on, std::this_thread::get_id());
  std::lock_guard lock(mutex);
  EXPECT_EQ(written, (std::vector<std::string>{"memory.high=1048576", "memory.limit_in_bytes=bad"}));
}

TEST(ControlWriter, WritesRealFilesAndNamesAMissingOne) {
  Monitor monitor;
  ControlWriter writer(monitor);  // sys::write_control
  char tmpl[] = "/tmp/pressure-test-writer-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string file = dir + "/memory.high";
  test::write_file(file, "max\n");
  std::vector<Result<void>> results;
  ASSERT_TRUE(writer.write(file, "2147483648", [&](const Result<void>& r) { results.push_back(r); }));
  ASSERT_TRUE(
      writer.write(dir + "/missing/memory.high", "1", [&](const Result<void>& r) { results.push_back(r); }));
  ASSERT_TRUE(pump_until(monitor, [&] { return results.size() == 2; }));
  EXPECT_TRUE(results[0]);
  EXPECT_EQ(test::read_file(file), "2147483648");
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().code(), Errc::not_found);
  EXPECT_NE(results[1].error().message().find(dir + "/missing/memory.high"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ControlWriter, DestroyedWithWritesPendingWaitsAndDropsTheirResults) {
  Monitor monitor;
  int calls = 0;
  {
    ControlWriter writer(monitor, [](const std::string&, const std::string&) -> Result<void> {
      std::this_thread::sleep_for(20ms);
      return {};
    });
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer.write("f", "1", [&](const Result<void>&) { ++calls; }));
  }
  EXPECT_TRUE(monitor.dispatch());  // nothing left to call back into the destroyed writer
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace pressure::policy
