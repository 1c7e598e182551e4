// For system tests: the real kernel and cgroups this test run creates and removes.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/types.h>

namespace pressure::test {

// Why live tests cannot run here (not root, no PSI, no cgroup2), or nothing.
std::optional<std::string> live_problem();

// In CI a system test that cannot run fails; on a developer's machine it skips, saying why.
#define PRESSURE_REQUIRE_LIVE()                                                           \
  do {                                                                                    \
    if (auto problem = ::pressure::test::live_problem()) {                                \
      if (std::getenv("CI") != nullptr) FAIL() << "system test cannot run: " << *problem; \
      GTEST_SKIP() << "system test cannot run: " << *problem;                             \
    }                                                                                     \
  } while (0)

// Why the tests of what users run cannot run here, or nothing: they need pure cgroup2 (no v1
// hierarchy) with the memory controller delegated from the root, cgroup.kill (5.14+), and root
// with every capability (CAP_SYS_RESOURCE takes trigger windows below 2 s).
std::optional<std::string> pure_cgroup2_problem();

// Inside the VM test bed (PRESSURE_IN_VM) in CI such a test fails when it cannot run; anywhere
// else it skips and says where it runs: tests/vm/run.sh boots a machine that has all of it.
#define PRESSURE_REQUIRE_PURE_CGROUP2()                                                              \
  do {                                                                                               \
    if (auto problem = ::pressure::test::pure_cgroup2_problem()) {                                   \
      std::string why = "needs pure cgroup2 with the memory controller and full root (" + *problem + \
                        "): run tests/vm/run.sh -R cgroup2";                                         \
      if (std::getenv("PRESSURE_IN_VM") != nullptr && std::getenv("CI") != nullptr) FAIL() << why;   \
      GTEST_SKIP() << why;                                                                           \
    }                                                                                                \
  } while (0)

// A cgroup2 group with a unique name, made for one test. Only processes it started are ever
// signalled; the destructor kills them by pid and removes the group, also when a test fails.
class TestCgroup {
 public:
  // Under `parent` (relative to the cgroup2 mount), default the mount itself.
  explicit TestCgroup(const std::string& purpose, const std::string& parent = "/");
  // A child of `parent` (one of ours) named exactly `name`, for the shapes other managers give
  // their groups ("docker-<64 hex>.scope"): unique because its parent is.
  TestCgroup(const TestCgroup& parent, const std::string& name);
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  bool ok() const { return m_ok; }
  const std::string& path() const { return m_path; }  // "/pressure-test-..."
  const std::string& dir() const { return m_dir; }    // absolute directory

  // A child process that joins this group and spins on the CPU until killed.
  pid_t spawn_spinner();
  // Caps the group's memory: memory.max where cgroup2 has the memory controller, else a
  // cgroup v1 memory group of the same name (hybrid systems) that later children also join.
  // Called again, it moves the same limit.
  bool limit_memory(std::size_t bytes);
  // The memory charged to the group now (memory.current, or the v1 group's usage), 0 if unknown.
  std::size_t memory_usage() const;
  // A child that joins the group(s) and cycles `anon_mib` of anonymous memory and a file of
  // `file_mib` it creates under `dir` (a disk-backed directory): more than the limit, so it
  // thrashes on refaults and shows real memory "full" stall.
  // `paced`: random reads with work between them (see support/thrash.cpp), whose stall grows
  // gradually as the limit falls below the file's size.
  pid_t spawn_memory_thrasher(std::size_t anon_mib, std::size_t file_mib, const std::string& dir,
                              bool paced = false);
  // A program in the group, its stdout to `out_path`; killed with the group.
  pid_t spawn_command(const std::vector<std::string>& argv, const std::string& out_path);
  // Writes `value` to the group's control file `name` (e.g. "memory.max", "cgroup.pressure").
  bool write(const std::string& name, const std::string& value);
  // The group's control file `name`, "" if unreadable.
  std::string read(const std::string& name) const;
  // Kills one process this object started.
  void kill_one(pid_t pid);
  // SIGKILL every process this object started and reap them.
  void kill_all();
  // kill_all(), then rmdir. True if the directory is gone.
  bool remove();

 private:
  // Forks a child that has joined the group(s) and runs `body`; -1 if it could not join.
  template <class Body>
  pid_t spawn(Body body);

  void make(const std::string& path);

  bool m_ok = false;
  std::string m_path;
  std::string m_dir;
  static bool remove_directory(const std::string& dir);

  std::string m_memory_v1_dir;  // the v1 memory group, on hybrid systems
  std::vector<std::string> m_files;
  std::vector<pid_t> m_children;
};

std::string cgroup2_mount();

}  // namespace pressure::test
