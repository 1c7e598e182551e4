// `pressure top` as a person sees it: in a real terminal (tmux, 80x24), with a cgroup under real
// CPU pressure and an idle one: rows shown, sorting changes the header and the order, the
// filter, quit. And the plain-text fallback when standard output is not a terminal.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/command.hpp"
#include "support/live.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using test::run_command;
using test::run_pressure;
using test::TestCgroup;

constexpr const char* k_tmux = "/usr/bin/tmux";

// A tmux server of our own (its own socket); only it is ever killed.
class Tmux {
 public:
  Tmux() : m_socket("pressure-test-tmux-" + std::to_string(::getpid())) {}
  ~Tmux() { run_command({k_tmux, "-L", m_socket, "kill-server"}); }
  test::CommandResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), {k_tmux, "-L", m_socket});
    return run_command(args);
  }
  std::string screen() const { return run({"capture-pane", "-p"}).out; }
  bool alive() const { return run({"has-session"}).exit_code == 0; }
  // Polls the screen until `ok` holds or `limit` passes; returns the last screen.
  template <class Pred>
  std::string wait_for(Pred ok, std::chrono::milliseconds limit = 10000ms) const {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::string s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = screen();
      if (ok(s)) break;
      std::this_thread::sleep_for(100ms);
    }
    return s;
  }

 private:
  std::string m_socket;
};

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// The CPU-S column of the row of `name`, or -1.
double cpu_share(const std::string& screen, const std::string& name) {
  std::size_t at = screen.find(name);
  if (at == std::string::npos) return -1;
  std::size_t end = screen.find('\n', at);
  std::string rest =
      screen.substr(at + name.size(), end == std::string::npos ? std::string::npos : end - at - name.size());
  try {
    return std::stod(rest);
  } catch (const std::exception&) {
    return -1;
  }
}

// The row name as top shows it in 80 columns: the end of the path.
std::string shown(const TestCgroup& g) { return g.path().substr(g.path().find("top")); }

TEST(LiveTop, DrivenInTmux) {
  PRESSURE_REQUIRE_LIVE();
  if (::access(k_tmux, X_OK) != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "tmux is missing (scripts/deps.sh installs it)";
    GTEST_SKIP() << "tmux is missing";
  }
  // "topaidle" sorts before "topbusy" by name: the busy group above it shows sorting by pressure.
  TestCgroup busy("topbusy"), idle("topaidle");
  ASSERT_TRUE(busy.ok() && idle.ok());
  for (int i = 0; i < 3; ++i) ASSERT_GT(busy.spawn_spinner(), 0);
  Tmux tmux;
  auto started = tmux.run(
      {"new-session", "-d", "-x", "80", "-y", "24", std::string(PRESSURE_BINARY) + " top --interval 0.5"});
  ASSERT_EQ(started.exit_code, 0) << started.err;

  // Both groups shown, the busy one above the idle one (sorted by cpu some), with its share.
  std::string s = tmux.wait_for([&](const std::string& screen) {
    return has(screen, shown(busy)) && has(screen, shown(idle)) &&
           screen.find(shown(busy)) < screen.find(shown(idle)) && cpu_share(screen, shown(busy)) > 1.0;
  });
  ASSERT_TRUE(has(s, shown(busy)) && has(s, shown(idle))) << s;
  EXPECT_LT(s.find(shown(busy)), s.find(shown(idle))) << s;
  EXPECT_GT(cpu_share(s, shown(busy)), 1.0) << "the spinners wait for the CPU: " << s;
  EXPECT_TRUE(has(s, "sort: cpu some")) << s;
  EXPECT_TRUE(has(s, "*CPU-S")) << s;
  EXPECT_TRUE(has(s, "SYSTEM")) << s;
  EXPECT_TRUE(has(s, "cpu some")) << s;
  EXPECT_TRUE(has(s, "memory full")) << s;
  EXPECT_TRUE(has(s, "quit: q")) << "the key line fits on the 24th line: " << s;

  // Sort by memory: the header says so.
  tmux.run({"send-keys", "m"});
  s = tmux.wait_for(
      [](const std::string& screen) { return has(screen, "sort: memory some") && has(screen, "*MEM-S"); });
  EXPECT_TRUE(has(s, "sort: memory some") && has(s, "*MEM-S")) << s;
  // Neither group waits for memory: by name now, so the idle group comes first.
  s = tmux.wait_for(
      [&](const std::string& screen) { return screen.find(shown(idle)) < screen.find(shown(busy)); });
  EXPECT_LT(s.find(shown(idle)), s.find(shown(busy))) << "sorting by memory changed the order: " << s;
  tmux.run({"send-keys", "f"});
  s = tmux.wait_for(
      [](const std::string& screen) { return has(screen, "sort: memory full") && has(screen, "*MEM-F"); });
  EXPECT_TRUE(has(s, "*MEM-F")) << s;
  tmux.run({"send-keys", "c", "s"});
  s = tmux.wait_for([](const std::string& screen) { return has(screen, "sort: cpu some"); });
  EXPECT_TRUE(has(s, "sort: cpu some")) << s;

  // Filter by name: only the idle group is left.
  tmux.run({"send-keys", "/", "topaidle", "Enter"});
  s = tmux.wait_for([&](const std::string& screen) {
    return has(screen, "filter: topaidle") && !has(screen, shown(busy));
  });
  EXPECT_TRUE(has(s, shown(idle))) << s;
  EXPECT_FALSE(has(s, shown(busy))) << s;
  tmux.run({"send-keys", "Escape"});
  s = tmux.wait_for([&](const std::string& screen) { return has(screen, shown(busy)); });
  EXPECT_TRUE(has(s, shown(busy))) << "Escape clears the filter: " << s;

  // Pause, then quit ends the program (and with it the tmux session).
  tmux.run({"send-keys", "p"});
  s = tmux.wait_for([](const std::string& screen) { return has(screen, "PAUSED"); });
  EXPECT_TRUE(has(s, "PAUSED")) << s;
  tmux.run({"send-keys", "q"});
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (tmux.alive() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(tmux.alive()) << "q did not end pressure top";
}

TEST(LiveTop, PlainLinesWhenNotATerminal) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup busy("topplain");
  ASSERT_TRUE(busy.ok());
  for (int i = 0; i < 3; ++i) ASSERT_GT(busy.spawn_spinner(), 0);
  auto r = run_pressure({"top", "--interval", "0.3", "--count", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "no terminal escapes";
  std::size_t first = r.out.find("SYSTEM"), second = r.out.find("SYSTEM", first + 1);
  EXPECT_NE(first, std::string::npos) << r.out;
  EXPECT_NE(second, std::string::npos) << "two blocks: " << r.out;
  EXPECT_TRUE(has(r.out, busy.path())) << r.out;
}

}  // namespace
}  // namespace pressure
