// `pressure record` against the real kernel and real SQLite: a cgroup this test creates, under
// real CPU pressure (more spinners than cores), recorded at an interval; SIGKILL mid-run loses
// nothing committed and recording resumes into the same file; SIGTERM ends it cleanly; history
// names cpu as the short resource of the group.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "recorder/store.hpp"
#include "support/command.hpp"
#include "support/live.hpp"

namespace pressure {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using recorder::Store;
using test::run_command;
using test::run_pressure;
using test::TestCgroup;

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "pressure-record-test-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

// A `pressure` process this test starts (not in a test cgroup) and ends by its pid.
class Recorder {
 public:
  Recorder(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv{PRESSURE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    m_pid = ::fork();
    if (m_pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> raw;
      for (std::string& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      ::execv(raw[0], raw.data());
      ::_exit(127);
    }
  }
  ~Recorder() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  // Sends `sig` and waits at most `limit` for the exit; the wait status, or -1 on time-out.
  int signal_and_wait(int sig, std::chrono::milliseconds limit) {
    ::kill(m_pid, sig);
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  pid_t pid() const { return m_pid; }

 private:
  pid_t m_pid = -1;
};

// Committed ticks, read through a connection of its own (what another process would see).
long long committed_ticks(const std::string& db) {
  auto store = Store::open(db, Store::Mode::read);
  if (!store) return 0;
  auto n = store->count_rows("ticks");
  return n ? *n : 0;
}

long long wait_for_ticks(const std::string& db, long long at_least, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  long long n = 0;
  while (std::chrono::steady_clock::now() < deadline && (n = committed_ticks(db)) < at_least)
    std::this_thread::sleep_for(50ms);
  return n;
}

TEST(LiveRecord, SamplesAtTheIntervalAndHistoryNamesCpu) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("record");
  ASSERT_TRUE(group.ok());
  unsigned spinners = std::max(3u, std::thread::hardware_concurrency() + 1);
  for (unsigned i = 0; i < spinners; ++i) ASSERT_GT(group.spawn_spinner(), 0);
  std::this_thread::sleep_for(500ms);
  TempDir dir;
  std::string db = dir.path + "/h.db";
  auto start = std::chrono::steady_clock::now();
  auto r =
      run_pressure({"record", "--db", db, "--interval", "0.25", "--count", "12", "--cgroup", group.path()});
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;

  auto store = Store::open(db, Store::Mode::read);
  ASSERT_TRUE(store) << store.error().message();
  auto ticks = store->ticks(0, INT64_MAX);
  ASSERT_TRUE(ticks);
  ASSERT_EQ(ticks->size(), 12u);
  double span = static_cast<double>(ticks->back() - ticks->front()) / 1e6;
  EXPECT_GT(span, 11 * 0.25 * 0.9) << "12 samples 0.25 s apart";
  EXPECT_LT(span, 11 * 0.25 * 1.6) << "12 samples 0.25 s apart (a loaded machine may lag a little)";
  EXPECT_GE(elapsed, span);
  // Ticks keep to a fixed grid (a late one is followed by a shorter gap): the median gap is the
  // interval.
  std::vector<double> gaps;
  for (std::size_t i = 1; i < ticks->size(); ++i)
    gaps.push_back(static_cast<double>((*ticks)[i] - (*ticks)[i - 1]) / 1e6);
  std::sort(gaps.begin(), gaps.end());
  EXPECT_NEAR(gaps[gaps.size() / 2], 0.25, 0.05);
  auto targets = store->targets();
  ASSERT_TRUE(targets);
  EXPECT_EQ(*targets, (std::vector<std::string>{"system", group.path()}));
  auto series = store->series(group.path(), 0, INT64_MAX);
  ASSERT_TRUE(series);
  bool found = false;
  for (const recorder::Series& s : *series) {
    if (s.resource != Resource::cpu || s.line != Line::some) continue;
    found = true;
    ASSERT_EQ(s.points.size(), 12u);
    EXPECT_GT(s.points.back().total_us, s.points.front().total_us) << "the spinners wait for the CPU";
  }
  EXPECT_TRUE(found);

  auto h = run_pressure({"history", "--db", db, "--cgroup", group.path(), "--json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  nlohmann::json first = nlohmann::json::parse(h.out.substr(0, h.out.find('\n')));
  EXPECT_EQ(first["target"], group.path());
  EXPECT_EQ(first["resource"], "cpu") << h.out;
  EXPECT_EQ(first["line"], "some") << h.out;
  EXPECT_GT(first["share"].get<double>(), 10.0) << h.out;
  auto table = run_pressure({"history", "--db", db});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(group.path() + " cpu      some"), std::string::npos) << table.out;
}

TEST(LiveRecord, SigkillLosesNothingCommittedAndResumes) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("recordkill");
  ASSERT_TRUE(group.ok());
  for (int i = 0; i < 3; ++i) ASSERT_GT(group.spawn_spinner(), 0);
  TempDir dir;
  std::string db = dir.path + "/h.db";
  Recorder recorder({"record", "--db", db, "--interval", "0.1", "--cgroup", group.path()}, dir.path + "/log");
  ASSERT_GT(recorder.pid(), 0);
  ASSERT_GE(wait_for_ticks(db, 10, 20s), 10) << "the recorder did not write 10 ticks";
  long long before = committed_ticks(db);
  long long samples_before = 0;
  {
    auto store = Store::open(db, Store::Mode::read);
    ASSERT_TRUE(store);
    samples_before = *store->count_rows("samples");
  }
  int status = recorder.signal_and_wait(SIGKILL, 5000ms);
  ASSERT_NE(status, -1);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  auto check = run_command({"/usr/bin/sqlite3", db, "PRAGMA integrity_check;"});
  EXPECT_EQ(check.out, "ok\n") << check.err;
  long long after = committed_ticks(db);
  EXPECT_GE(after, before) << "every tick committed before the kill is there";
  {
    auto store = Store::open(db, Store::Mode::read);
    ASSERT_TRUE(store);
    EXPECT_GE(*store->count_rows("samples"), samples_before);
  }
  // Recording resumes into the same file.
  auto r =
      run_pressure({"record", "--db", db, "--interval", "0.1", "--count", "5", "--cgroup", group.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto store = Store::open(db, Store::Mode::read);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->count_rows("ticks"), after + 5);
  EXPECT_EQ(*store->count_rows("targets"), 2) << "the same targets, not new ones";
  auto h = run_pressure({"history", "--db", db, "--cgroup", group.path(), "--json"});
  EXPECT_EQ(h.exit_code, 0) << h.err;
}

TEST(LiveRecord, SigtermEndsCleanly) {
  PRESSURE_REQUIRE_LIVE();
  TempDir dir;
  std::string db = dir.path + "/h.db";
  Recorder recorder({"record", "--db", db, "--interval", "0.1"}, dir.path + "/log");
  ASSERT_GE(wait_for_ticks(db, 3, 20s), 3);
  int status = recorder.signal_and_wait(SIGTERM, 3000ms);
  ASSERT_NE(status, -1) << "still running 3 s after SIGTERM";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto check = run_command({"/usr/bin/sqlite3", db, "PRAGMA integrity_check;"});
  EXPECT_EQ(check.out, "ok\n");
}

}  // namespace
}  // namespace pressure
