// ControlWriter: memory limits are written off the loop (the kernel may reclaim inside the
// write), in order, through files opened when the write was asked for, with each result
// delivered on the loop's thread.
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

// A temporary directory with two writable "control files".
class Files {
 public:
  Files() {
    char tmpl[] = "/tmp/pressure-test-writer-XXXXXX";
    m_dir = ::mkdtemp(tmpl) != nullptr ? tmpl : "";
    test::write_file(path("memory.high"), "max\n");
    test::write_file(path("memory.limit_in_bytes"), "max\n");
  }
  ~Files() { std::filesystem::remove_all(m_dir); }
  std::string path(const std::string& name) const { return m_dir + "/" + name; }
  const std::string& dir() const { return m_dir; }

 private:
  std::string m_dir;
};

TEST(ControlWriter, ABlockedWriteLeavesTheLoopRunningAndReportsOnIt) {
  Files files;
  Monitor monitor;
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::mutex mutex;
  std::vector<std::string> written;  // by the writer's thread
  ControlWriter writer(monitor, [&](const sys::ControlFile& file, const std::string& value) -> Result<void> {
    open.wait();  // as a write that reclaims for a long time
    std::lock_guard lock(mutex);
    written.push_back(file.path().substr(files.dir().size() + 1) + "=" + value);
    if (value == "bad") return fail(Errc::system, "refused by the kernel");
    return file.write(value);
  });
  std::vector<std::string> done;
  std::vector<std::thread::id> done_on;
  auto record = [&](std::string name) {
    return [&, name](const Result<void>& r) {
      done.push_back(name + (r ? " ok" : " failed: " + r.error().message()));
      done_on.push_back(std::this_thread::get_id());
    };
  };
  ASSERT_TRUE(writer.write(files.path("memory.high"), "1048576", record("first")));
  ASSERT_TRUE(writer.write(files.path("memory.limit_in_bytes"), "bad", record("second")));

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
  EXPECT_EQ(test::read_file(files.path("memory.high")), "1048576");
  std::lock_guard lock(mutex);
  EXPECT_EQ(written, (std::vector<std::string>{"memory.high=1048576", "memory.limit_in_bytes=bad"}));
}

TEST(ControlWriter, AMissingFileIsRefusedAtOnce) {
  Files files;
  Monitor monitor;
  ControlWriter writer(monitor);
  bool called = false;
  Result<void> queued =
      writer.write(files.path("missing/memory.high"), "1", [&](const Result<void>&) { called = true; });
  ASSERT_FALSE(queued);
  EXPECT_EQ(queued.error().code(), Errc::not_found);
  EXPECT_NE(queued.error().message().find(files.path("missing/memory.high")), std::string::npos);
  EXPECT_TRUE(monitor.dispatch());
  EXPECT_FALSE(called);
}

TEST(ControlWriter, DestroyedWithWritesPendingWaitsAndDropsTheirResults) {
  Files files;
  Monitor monitor;
  int calls = 0;
  {
    ControlWriter writer(monitor, [](const sys::ControlFile&, const std::string&) -> Result<void> {
      std::this_thread::sleep_for(20ms);
      return {};
    });
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(writer.write(files.path("memory.high"), "1", [&](const Result<void>&) { ++calls; }));
  }
  EXPECT_TRUE(monitor.dispatch());  // nothing left to call back into the destroyed writer
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace pressure::policy
