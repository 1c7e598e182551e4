// A real kill chosen by name, on a machine like the users' (the VM test bed: tests/vm/run.sh -R
// cgroup2): of two children, the one shaped as docker names it (docker-<64 hex>.scope) dies
// though it holds less memory, because the rule prefers its container id; the larger one lives.
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon.hpp"
#include "support/live.hpp"
#include "support/process.hpp"

namespace pressure::test {
namespace {

using namespace std::chrono_literals;

TEST(Cgroup2Names, PreferByContainerIdKillsThatContainer) {
  PRESSURE_REQUIRE_PURE_CGROUP2();
  const std::string id = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a10";
  TestCgroup parent("cg2-names");
  ASSERT_TRUE(parent.ok() && parent.write("cgroup.subtree_control", "+memory"));
  TestCgroup docker(parent, "docker-" + id + ".scope");
  TestCgroup big("big", parent.path());
  ASSERT_TRUE(docker.ok() && big.ok());
  pid_t small_pid = holding(docker, 20);
  pid_t big_pid = holding(big, 60);
  ASSERT_GT(small_pid, 0);
  ASSERT_GT(big_pid, 0);

  Scratch scratch;
  Daemon daemon(scratch,
                "[daemon]\nlog_format = \"json\"\n[[rule]]\nname = \"by container\"\ntarget = { cgroup = \"" +
                    parent.path() +
                    "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"200ms\"\naction = \"kill\"\n"
                    "victim = { among = \"children\", by = \"memory\" }\ncooldown = \"60s\"\n"
                    "prefer = [\"container_id:3f2a9c1e*\"]\n");
  ASSERT_TRUE(daemon.log_has("\"what\":\"kill\"", 30s)) << daemon.log();
  std::string log = daemon.log();
  std::size_t at = log.rfind('\n', log.find("\"what\":\"kill\"")) + 1;
  nlohmann::json d = nlohmann::json::parse(log.substr(at, log.find('\n', at) - at));
  EXPECT_EQ(d["victim"], docker.path()) << log;
  EXPECT_EQ(d["victim_identity"]["container_id"], id) << log;
  EXPECT_EQ(d["result"], "ok") << log;
  EXPECT_TRUE(wait_until([&] { return !alive(small_pid); }, 10s)) << log;
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(alive(big_pid)) << daemon.log();
  EXPECT_TRUE(daemon.process().running()) << daemon.log();
}

}  // namespace
}  // namespace pressure::test
