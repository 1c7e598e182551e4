// The service manager's pressure watch on what users run (pure cgroup2 with the memory
// controller, label vm; tests/vm/run.sh -R cgroup2): $MEMORY_PRESSURE_WATCH set to a group's own
// memory.pressure and $MEMORY_PRESSURE_WRITE to what MemoryPressureWatch=auto writes, with a
// process thrashing under memory.max in the group, through the Monitor and the real `pressure`.
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pressure/pressure.hpp>

#include "support/command.hpp"
#include "support/environment.hpp"
#include "support/live.hpp"
#include "support/watcher.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using test::ScopedEnvironment;
using test::systemd_write;

TEST(Cgroup2Environment, MemoryPressureFileWithSystemdsTriggerFiresUnderThrashing) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  test::TestCgroup group("cg2-envwatch");
  ASSERT_TRUE(group.ok());
  ASSERT_TRUE(group.limit_memory(64 << 20));
  std::string file = group.dir() + "/memory.pressure";
  ScopedEnvironment env{{"MEMORY_PRESSURE_WATCH", file},
                        {"MEMORY_PRESSURE_WRITE", systemd_write("some 200000 2000000")},
                        {"CPU_PRESSURE_WATCH", std::nullopt},
                        {"IO_PRESSURE_WATCH", std::nullopt}};
  auto request = environment_watch(Resource::memory);
  ASSERT_TRUE(request) << request.error().message();
  test::EventWatcher watcher;
  auto info = watcher.add(*request);
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->mode, TriggerMode::kernel);
  EXPECT_EQ(info->spec.to_string(), "memory some 200ms/2s");
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(watcher.count(), 0u) << "an idle group crossed no threshold";

  auto cli = std::async(std::launch::async, [] {
    return test::run_pressure({"watch", "--from-environment", "--json", "--count", "1", "--timeout", "60"});
  });
  ASSERT_GT(group.spawn_memory_thrasher(40, 40, "/var/tmp"), 0);
  auto e = watcher.wait_for(Event::Kind::pressure, 60s);
  ASSERT_TRUE(e) << "no event from memory.pressure while the group thrashed";
  EXPECT_EQ(e->where, file);
  EXPECT_EQ(e->variable, "MEMORY_PRESSURE_WATCH");

  test::CommandResult r = cli.get();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["target"], file);
  EXPECT_EQ(j["spec"], "memory some 200ms/2s");
  EXPECT_EQ(j["mode"], "kernel");

  ASSERT_TRUE(group.remove());
  auto gone = watcher.wait_for(Event::Kind::gone, 10s);
  ASSERT_TRUE(gone) << "the removed group's watch did not end";
}

}  // namespace
}  // namespace pressure
