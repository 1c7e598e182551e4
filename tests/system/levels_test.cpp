// examples/shedding_cache under a real squeeze: it sheds its cache when its memory-limited
// cgroup thrashes, and returns to normal once the squeeze is gone.
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "support/live.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using test::TestCgroup;

std::vector<nlohmann::json> lines_of(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line.back() == '}') out.push_back(nlohmann::json::parse(line));
  return out;
}

bool has(const std::vector<nlohmann::json>& lines, const std::string& event, std::size_t from = 0) {
  for (std::size_t i = from; i < lines.size(); ++i)
    if (lines[i]["event"] == event) return true;
  return false;
}

TEST(LiveLevels, SheddingCacheShedsUnderASqueezeAndReturnsToNormal) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("levels");
  ASSERT_TRUE(group.ok());
  ASSERT_TRUE(group.limit_memory(512u << 20));  // tightened once the program's footprint is known
  std::string out = "/tmp/pressure-shedding-" + std::to_string(::getpid());
  struct Unlink {  // also when an assertion ends the test early
    std::string path;
    ~Unlink() { ::unlink(path.c_str()); }
  } unlink_out{out};
  ASSERT_GT(group.spawn_command({PRESSURE_SHEDDING_CACHE, "--mib", "16"}, out), 0);
  auto wait_for = [&](const std::string& event, std::chrono::seconds timeout, std::size_t from = 0) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (has(lines_of(out), event, from)) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  ASSERT_TRUE(wait_for("ready", 10s)) << "shedding_cache did not start";
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(has(lines_of(out), "entered")) << "no pressure yet, nothing to shed";

  // The squeeze is sized to what the program really holds (a sanitizer build nearly doubles it):
  // room for it, the thrasher's 36 MiB of anonymous memory and 16 MiB of its 40 MiB file, so the
  // file thrashes and nothing needs the OOM killer.
  std::size_t footprint = group.memory_usage();
  ASSERT_GT(footprint, 0u);
  ASSERT_TRUE(group.limit_memory(footprint + ((36u + 16u) << 20)));
  pid_t thrasher = group.spawn_memory_thrasher(36, 40, "/var/tmp");
  ASSERT_GT(thrasher, 0);
  ASSERT_TRUE(wait_for("entered", 30s)) << "no level entered under the squeeze";
  auto lines = lines_of(out);
  std::size_t smallest = 16;
  for (const auto& j : lines)
    if (j["event"] == "entered")
      smallest = std::min<std::size_t>(smallest, j["cache_mib"].get<std::size_t>());
  EXPECT_LE(smallest, 8u) << "level 1 drops at least half of the 16 MiB";

  group.kill_one(thrasher);
  std::size_t before = lines_of(out).size();
  // Back to normal after the squeeze (the last line says so), and it stays there.
  if (lines_of(out).back()["event"] != "normal") {
    EXPECT_TRUE(wait_for("normal", 30s, before)) << "did not return to normal after the squeeze";
  }
  std::this_thread::sleep_for(3s);
  auto final_lines = lines_of(out);
  EXPECT_EQ(final_lines.back()["event"], "normal") << "pressure came back without a squeeze";
}

}  // namespace
}  // namespace pressure
