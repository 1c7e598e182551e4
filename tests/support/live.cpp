#include "support/live.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pressure/reader.hpp>

namespace pressure::test {

std::string cgroup2_mount() {
  Result<std::string> root = cgroup2_root();
  return root ? *root : std::string();
}

std::optional<std::string> live_problem() {
  if (::geteuid() != 0) return "needs root to create cgroups";
  if (::access("/proc/pressure/cpu", R_OK) != 0) return "no /proc/pressure/cpu: this kernel has PSI off";
  std::string mount = cgroup2_mount();
  if (mount.empty()) return "no cgroup2 mount found in /proc/self/mountinfo";
  if (::access((mount + "/cgroup.procs").c_str(), W_OK) != 0)
    return "cannot write " + mount + "/cgroup.procs";
  return std::nullopt;
}

TestCgroup::TestCgroup(const std::string& purpose, const std::string& parent) {
  static std::atomic<int> counter{0};
  std::string base = parent == "/" ? "" : parent;
  m_path =
      base + "/pressure-test-" + purpose + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  std::string mount = cgroup2_mount();
  if (mount.empty()) return;
  m_dir = mount + m_path;
  m_ok = ::mkdir(m_dir.c_str(), 0755) == 0;
}

TestCgroup::~TestCgroup() { remove(); }

pid_t TestCgroup::spawn_spinner() {
  int ready[2];
  if (!m_ok || ::pipe2(ready, O_CLOEXEC) != 0) return -1;
  std::string procs = m_dir + "/cgroup.procs";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    int fd = ::open(procs.c_str(), O_WRONLY);
    char ok = fd >= 0 && ::write(fd, "0", 1) == 1 ? 1 : 0;  // "0": the writer itself
    (void)!::write(ready[1], &ok, 1);
    if (!ok) ::_exit(1);
    volatile unsigned long spin = 0;
    for (;;) spin = static_cast<unsigned long>(spin) + 1UL;
  }
  ::close(ready[1]);
  char ok = 0;
  bool joined = pid > 0 && ::read(ready[0], &ok, 1) == 1 && ok == 1;
  ::close(ready[0]);
  if (pid > 0) m_children.push_back(pid);
  return joined ? pid : -1;
}

void TestCgroup::kill_all() {
  for (pid_t pid : m_children) ::kill(pid, SIGKILL);
  for (pid_t pid : m_children) ::waitpid(pid, nullptr, 0);
  m_children.clear();
}

bool TestCgroup::remove() {
  kill_all();
  if (!m_ok) return true;
  // A killed task leaves the group a moment after waitpid; retry briefly.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::rmdir(m_dir.c_str()) == 0 || errno == ENOENT) {
      m_ok = false;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace pressure::test
