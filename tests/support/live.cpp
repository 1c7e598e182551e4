#include "support/live.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
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

std::optional<std::string> pure_cgroup2_problem() {
  if (auto problem = live_problem()) return problem;
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    if (line.find(" - cgroup ") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    return "a cgroup v1 hierarchy is mounted at " + mount_point + " (hybrid cgroups)";
  }
  std::string mount = cgroup2_mount();
  std::ifstream subtree(mount + "/cgroup.subtree_control");
  std::string controllers((std::istreambuf_iterator<char>(subtree)), std::istreambuf_iterator<char>());
  if ((" " + controllers).find(" memory") == std::string::npos)
    return "the memory controller is not enabled in " + mount + "/cgroup.subtree_control";
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
    if ((caps & (1ULL << 24)) == 0) return "no CAP_SYS_RESOURCE";
  }
  TestCgroup probe("probe");
  if (!probe.ok()) return "cannot create a group under " + mount;
  if (::access((probe.dir() + "/cgroup.kill").c_str(), W_OK) != 0)
    return "no cgroup.kill (kernel before 5.14)";
  if (::access((probe.dir() + "/memory.max").c_str(), W_OK) != 0) return "a new group has no memory.max";
  return std::nullopt;
}

namespace {
bool write_file(const std::string& path, const std::string& value);
// On pure cgroup2 a group has memory.max only if its parent delegates the memory controller
// ("+memory" in its cgroup.subtree_control). Delegates it down from the mount through the
// groups this test run made (never another group), where the mount offers it.
void delegate_memory_to(const std::string& mount, const std::string& path) {
  std::string dir = mount;
  std::size_t at = 1;
  while (at < path.size()) {
    std::size_t slash = path.find('/', at);
    if (slash == std::string::npos) return;  // the group itself: delegating stops at its parent
    std::string name = path.substr(at, slash - at);
    dir += "/" + name;
    at = slash + 1;
    if (name.rfind("pressure-test-", 0) != 0) return;
    std::ifstream available(dir + "/cgroup.controllers"), delegated(dir + "/cgroup.subtree_control");
    std::string have, given;
    std::getline(available, have);
    std::getline(delegated, given);
    if ((" " + have + " ").find(" memory ") == std::string::npos) return;
    if ((" " + given + " ").find(" memory ") == std::string::npos &&
        !write_file(dir + "/cgroup.subtree_control", "+memory"))
      return;
  }
}

}  // namespace

TestCgroup::TestCgroup(const std::string& purpose, const std::string& parent) {
  static std::atomic<int> counter{0};
  std::string base = parent == "/" ? "" : parent;
  make(base + "/pressure-test-" + purpose + "-" + std::to_string(::getpid()) + "-" +
       std::to_string(counter++));
}

TestCgroup::TestCgroup(const TestCgroup& parent, const std::string& name) {
  if (parent.ok() && !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..")
    make(parent.path() + "/" + name);
}

void TestCgroup::make(const std::string& path) {
  m_path = path;
  std::string mount = cgroup2_mount();
  if (mount.empty()) return;
  m_dir = mount + m_path;
  // Below a group of ours, as below a systemd slice, each child accounts its own memory.
  if (m_path.find('/', 1) != std::string::npos) delegate_memory_to(mount, m_path);
  m_ok = ::mkdir(m_dir.c_str(), 0755) == 0;
}

TestCgroup::~TestCgroup() { remove(); }

namespace {

// In the child: moves the calling process into the group whose cgroup.procs is `procs`.
bool join(const std::string& procs) {
  int fd = ::open(procs.c_str(), O_WRONLY);
  if (fd < 0) return false;
  bool ok = ::write(fd, "0", 1) == 1;  // "0": the writer itself (v1 and v2)
  ::close(fd);
  return ok;
}

bool write_file(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return false;
  bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  ::close(fd);
  return ok;
}

}  // namespace

template <class Body>
pid_t TestCgroup::spawn(Body body) {
  int ready[2];
  if (!m_ok || ::pipe2(ready, O_CLOEXEC) != 0) return -1;
  std::string procs = m_dir + "/cgroup.procs";
  std::string v1_procs = m_memory_v1_dir.empty() ? "" : m_memory_v1_dir + "/cgroup.procs";
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);     // never outlive the test
    if (::getppid() != parent) ::_exit(1);  // it died before the line above
    char ok = join(procs) && (v1_procs.empty() || join(v1_procs)) ? 1 : 0;
    (void)!::write(ready[1], &ok, 1);
    if (!ok) ::_exit(1);
    body();
    ::_exit(0);
  }
  ::close(ready[1]);
  char ok = 0;
  bool joined = pid > 0 && ::read(ready[0], &ok, 1) == 1 && ok == 1;
  ::close(ready[0]);
  if (pid > 0) m_children.push_back(pid);
  return joined ? pid : -1;
}

pid_t TestCgroup::spawn_spinner() {
  return spawn([] {
    volatile unsigned long spin = 0;
    for (;;) spin = static_cast<unsigned long>(spin) + 1UL;
  });
}

bool TestCgroup::limit_memory(std::size_t bytes) {
  if (!m_ok) return false;
  if (::access((m_dir + "/memory.max").c_str(), F_OK) != 0) delegate_memory_to(cgroup2_mount(), m_path);
  if (::access((m_dir + "/memory.max").c_str(), W_OK) == 0)
    return write_file(m_dir + "/memory.max", std::to_string(bytes));
  if (!m_memory_v1_dir.empty())
    return write_file(m_memory_v1_dir + "/memory.limit_in_bytes", std::to_string(bytes));
  std::string v1 = "/sys/fs/cgroup/memory/" + m_path.substr(m_path.rfind('/') + 1);
  if (::mkdir(v1.c_str(), 0755) != 0) return false;
  m_memory_v1_dir = v1;
  return write_file(v1 + "/memory.limit_in_bytes", std::to_string(bytes));
}

pid_t TestCgroup::spawn_memory_thrasher(std::size_t anon_mib, std::size_t file_mib, const std::string& dir,
                                        bool paced) {
  std::string file =
      dir + "/pressure-thrash-" + std::to_string(::getpid()) + "-" + std::to_string(m_children.size());
  m_files.push_back(file);
  // Everything the child needs is made before fork: after it, with other threads running,
  // only async-signal-safe calls are allowed.
  std::string anon = std::to_string(anon_mib), size = std::to_string(file_mib);
  const char* argv[] = {PRESSURE_THRASH_BINARY,    anon.c_str(), size.c_str(), file.c_str(),
                        paced ? "paced" : nullptr, nullptr};
  return spawn([&argv] {
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  });
}

pid_t TestCgroup::spawn_command(const std::vector<std::string>& argv, const std::string& out_path) {
  std::vector<const char*> args;
  for (const std::string& a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  const char* out = out_path.c_str();
  return spawn([&args, out] {
    int fd = ::open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) ::dup2(fd, 1);
    ::execv(args[0], const_cast<char* const*>(args.data()));
    ::_exit(127);
  });
}

bool TestCgroup::write(const std::string& name, const std::string& value) {
  return m_ok && write_file(m_dir + "/" + name, value);
}

std::size_t TestCgroup::memory_usage() const {
  std::string file =
      m_memory_v1_dir.empty() ? m_dir + "/memory.current" : m_memory_v1_dir + "/memory.usage_in_bytes";
  std::ifstream in(file);
  std::size_t bytes = 0;
  in >> bytes;
  return bytes;
}

std::string TestCgroup::read(const std::string& name) const {
  std::ifstream in(m_dir + "/" + name);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void TestCgroup::kill_one(pid_t pid) {
  for (auto it = m_children.begin(); it != m_children.end(); ++it) {
    if (*it != pid) continue;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    m_children.erase(it);
    return;
  }
}

void TestCgroup::kill_all() {
  for (pid_t pid : m_children) ::kill(pid, SIGKILL);
  for (pid_t pid : m_children) ::waitpid(pid, nullptr, 0);
  m_children.clear();
}

bool TestCgroup::remove() {
  kill_all();
  for (const std::string& file : m_files) ::unlink(file.c_str());
  m_files.clear();
  if (!m_memory_v1_dir.empty() && remove_directory(m_memory_v1_dir)) m_memory_v1_dir.clear();
  if (!m_ok) return true;
  if (!remove_directory(m_dir)) return false;
  m_ok = false;
  return true;
}

bool TestCgroup::remove_directory(const std::string& dir) {
  // A killed task leaves the group a moment after waitpid; retry briefly.
  for (int attempt = 0; attempt < 250; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace pressure::test
