#include "sys/control.hpp"

#include <pressure/parse.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cgroup_path.hpp"
#include "sys/files.hpp"
#include "sys/process.hpp"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

namespace pressure::sys {
namespace {

Result<std::string> slurp(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ESRCH) return fail(Errc::not_found, path + " does not exist", path, err);
    return tl::unexpected(open_error(err, path, "it"));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      if (err == ENODEV || err == ESRCH) return fail(Errc::gone, path + " is gone", path, err);
      return fail(Errc::system, "cannot read " + path + ": " + errno_text(err), path, err);
    }
    if (n == 0 || text.size() > (4U << 20)) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

std::optional<std::uint64_t> parse_u64(std::string_view v) {
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

void collect_processes(const std::string& dir, bool recursive, std::vector<Pid>& out, Result<void>& status) {
  Result<std::string> text = slurp(dir + "/cgroup.procs");
  if (!text) {
    if (status) status = tl::unexpected(text.error());
    return;
  }
  std::string_view v = *text;
  while (!v.empty()) {
    std::size_t nl = v.find('\n');
    if (auto pid = parse_u64(v.substr(0, nl)); pid && *pid > 0) out.push_back(static_cast<Pid>(*pid));
    v = nl == std::string_view::npos ? std::string_view{} : v.substr(nl + 1);
  }
  if (!recursive) return;
  if (auto children = child_cgroups(dir)) {
    for (const std::string& child : *children) collect_processes(dir + "/" + child, true, out, status);
  }
}

}  // namespace

Result<std::vector<Pid>> cgroup_processes(const std::string& dir, bool recursive) {
  std::vector<Pid> pids;
  Result<void> status;
  collect_processes(dir, recursive, pids, status);
  if (!status && pids.empty()) return tl::unexpected(status.error());
  return pids;
}

bool cgroup_exists(const std::string& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> child_cgroups(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    if (err == ENOENT) return fail(Errc::not_found, "cgroup " + dir + " does not exist", dir, err);
    return tl::unexpected(open_error(err, dir, "the cgroup"));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR) continue;
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> process_cgroup(Pid pid, const std::string& proc_root) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/cgroup";
  Result<std::string> text = slurp(path);
  if (!text) return tl::unexpected(text.error());
  Result<std::string> member = parse_cgroup2_membership(*text, path);
  if (!member) return tl::unexpected(member.error());
  return core::normalize_cgroup_path(*member, path);
}

Result<std::uint64_t> process_rss(Pid pid, const std::string& proc_root) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/statm";
  Result<std::string> text = slurp(path);
  if (!text) return tl::unexpected(text.error());
  std::string_view v = *text;
  std::size_t space = v.find(' ');
  if (space == std::string_view::npos) return fail(Errc::malformed, path + ": no resident page count", path);
  v = v.substr(space + 1);
  auto pages = parse_u64(v.substr(0, v.find(' ')));
  if (!pages) return fail(Errc::malformed, path + ": no resident page count", path);
  return *pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

Result<std::uint64_t> process_anonymous_rss(Pid pid, const std::string& proc_root) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/statm";
  Result<std::string> text = slurp(path);
  if (!text) return tl::unexpected(text.error());
  // size resident shared ...: resident - shared is RssAnon (shared = RssFile + RssShmem).
  std::string_view v = *text;
  std::optional<std::uint64_t> fields[3];
  for (auto& f : fields) {
    std::size_t space = v.find(' ');
    f = parse_u64(v.substr(0, space));
    v = space == std::string_view::npos ? std::string_view{} : v.substr(space + 1);
  }
  if (!fields[1] || !fields[2]) return fail(Errc::malformed, path + ": no resident page counts", path);
  std::uint64_t pages = *fields[1] > *fields[2] ? *fields[1] - *fields[2] : 0;
  return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::string process_name(Pid pid, const std::string& proc_root) {
  Result<std::string> text = slurp(proc_root + "/" + std::to_string(pid) + "/comm");
  if (!text) return {};
  std::string name = *text;
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

std::optional<int> process_oom_score_adj(Pid pid, const std::string& proc_root) {
  Result<std::string> text = slurp(proc_root + "/" + std::to_string(pid) + "/oom_score_adj");
  if (!text || text->empty()) return std::nullopt;
  return std::atoi(text->c_str());
}

Pid self_pid() { return ::getpid(); }

std::optional<std::string> memory_v1_root(const std::string& proc_root) {
  Result<std::string> mountinfo = slurp(proc_root + "/self/mountinfo");
  if (!mountinfo) return std::nullopt;
  Result<std::string> mount = parse_cgroup1_mount(*mountinfo, "memory");
  if (!mount) return std::nullopt;
  return *mount;
}

Result<CgroupMemory> cgroup_memory(const std::string& cgroup2_root, const std::string& relative,
                                   const std::string& proc_root) {
  std::string dir = cgroup_directory(cgroup2_root, relative);
  if (auto text = slurp(dir + "/memory.current")) {
    if (auto bytes = parse_u64(*text)) return CgroupMemory{*bytes, "memory.current"};
  }
  if (auto v1 = memory_v1_root(proc_root)) {
    if (auto text = slurp(cgroup_directory(*v1, relative) + "/memory.usage_in_bytes")) {
      if (auto bytes = parse_u64(*text)) return CgroupMemory{*bytes, "memory.usage_in_bytes (v1)"};
    }
  }
  Result<std::vector<Pid>> pids = cgroup_processes(dir, true);
  if (!pids) return tl::unexpected(pids.error());
  std::uint64_t sum = 0;
  for (Pid pid : *pids) sum += process_rss(pid, proc_root).value_or(0);
  return CgroupMemory{sum, "rss of " + std::to_string(pids->size()) + " processes"};
}

std::optional<std::uint64_t> cgroup_memory_limit(const std::string& cgroup2_root, const std::string& relative,
                                                 const std::string& proc_root) {
  std::string dir = cgroup_directory(cgroup2_root, relative);
  for (const char* name : {"/memory.max", "/memory.high"}) {
    if (auto text = slurp(dir + name)) {
      if (auto v = parse_u64(*text)) return *v;
    }
  }
  if (auto v1 = memory_v1_root(proc_root)) {
    if (auto text = slurp(cgroup_directory(*v1, relative) + "/memory.limit_in_bytes")) {
      if (auto v = parse_u64(*text); v && *v < (1ULL << 62)) return *v;
    }
  }
  return std::nullopt;
}

namespace {

// The value of `key` in a "key value" per line file (meminfo's "Key:   123 kB" too).
std::optional<std::uint64_t> field(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.starts_with(key)) continue;
    line.remove_prefix(key.size());
    if (!line.empty() && line.front() != ' ' && line.front() != ':' && line.front() != '\t') continue;
    while (!line.empty() && (line.front() == ' ' || line.front() == ':' || line.front() == '\t'))
      line.remove_prefix(1);
    std::size_t end = line.find(' ');
    bool kb = end != std::string_view::npos && line.substr(end + 1).starts_with("kB");
    auto v = parse_u64(line.substr(0, end));
    if (!v) return std::nullopt;
    return kb ? *v * 1024 : *v;
  }
  return std::nullopt;
}

}  // namespace

Result<Swap> swap_memory(const std::string& proc_root) {
  std::string path = proc_root + "/meminfo";
  Result<std::string> text = slurp(path);
  if (!text) return tl::unexpected(text.error());
  auto total = field(*text, "SwapTotal"), free = field(*text, "SwapFree");
  if (!total || !free) return fail(Errc::malformed, path + ": no SwapTotal/SwapFree lines", path);
  return Swap{*total, *free};
}

Result<std::uint64_t> pages_scanned(const std::string& cgroup2_root, const std::string& relative,
                                    const std::string& proc_root) {
  if (relative == "/") {
    std::string path = proc_root + "/vmstat";
    Result<std::string> text = slurp(path);
    if (!text) return tl::unexpected(text.error());
    std::uint64_t sum = 0;
    bool any = false;
    for (const char* key : {"pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_proactive"}) {
      if (auto v = field(*text, key)) sum += *v, any = true;
    }
    if (!any) return fail(Errc::malformed, path + ": no pgscan_* lines", path);
    return sum;
  }
  std::string path = cgroup_directory(cgroup2_root, relative) + "/memory.stat";
  Result<std::string> text = slurp(path);
  if (!text) {
    if (text.error().code() == Errc::not_found)
      return fail(Errc::unavailable,
                  "cgroup " + relative +
                      " has no memory.stat in cgroup2: reclaim needs the memory controller on cgroup2 "
                      "(the v1 controller keeps no pgscan count)",
                  path);
    return tl::unexpected(text.error());
  }
  auto v = field(*text, "pgscan");
  if (!v) return fail(Errc::malformed, path + ": no pgscan line", path);
  return *v;
}

Result<ProcessHandle> ProcessHandle::open(Pid pid) {
  if (pid <= 0) return fail(Errc::invalid_argument, "no process " + std::to_string(pid));
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    int err = errno;
    if (err == ESRCH) return fail(Errc::gone, "process " + std::to_string(pid) + " has exited", {}, err);
    return fail(Errc::system, "pidfd_open(" + std::to_string(pid) + "): " + errno_text(err), {}, err);
  }
  ProcessHandle h;
  h.m_pid = pid;
  h.m_fd = Fd(real_io().get(), static_cast<int>(fd));
  return h;
}

Result<void> ProcessHandle::signal(int sig) const {
  if (::syscall(SYS_pidfd_send_signal, m_fd.get(), sig, nullptr, 0) == 0) return {};
  int err = errno;
  if (err == ESRCH) return fail(Errc::gone, "process " + std::to_string(m_pid) + " has exited", {}, err);
  if (err == EPERM)
    return fail(Errc::permission, "not allowed to signal process " + std::to_string(m_pid), {}, err);
  return fail(Errc::system, "signal to process " + std::to_string(m_pid) + ": " + errno_text(err), {}, err);
}

void ProcessHandle::release_memory() const { ::syscall(SYS_process_mrelease, m_fd.get(), 0); }

bool ProcessHandle::exited() const {
  pollfd p{m_fd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

Result<void> cgroup_kill(const std::string& dir) {
  std::string path = dir + "/cgroup.kill";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      return fail(Errc::unsupported, path + " does not exist (needs Linux 5.14+)", path, err);
    return tl::unexpected(open_error(err, path, "it"));
  }
  ssize_t n = ::write(fd, "1", 1);
  int err = errno;
  ::close(fd);
  if (n != 1) {
    if (err == ENODEV || err == ENOENT) return fail(Errc::gone, "cgroup " + dir + " is gone", path, err);
    return fail(Errc::system, "cannot write " + path + ": " + errno_text(err), path, err);
  }
  return {};
}

Result<ControlFile> ControlFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return fail(Errc::not_found, path + " does not exist", path, err);
    return tl::unexpected(open_error(err, path, "it"));
  }
  ControlFile file;
  file.m_path = path;
  file.m_fd = Fd(real_io().get(), fd);
  return file;
}

Result<void> ControlFile::write(const std::string& value) const {
  ssize_t n = ::write(m_fd.get(), value.data(), value.size());
  if (n == static_cast<ssize_t>(value.size())) return {};
  int err = n < 0 ? errno : EIO;
  if (err == ENODEV)
    return fail(Errc::gone, "cannot write '" + value + "' to " + m_path + ": its cgroup was removed", m_path,
                err);
  return fail(Errc::system, "cannot write '" + value + "' to " + m_path + ": " + errno_text(err), m_path,
              err);
}

Result<void> write_control(const std::string& path, const std::string& value) {
  Result<ControlFile> file = ControlFile::open(path);
  if (!file) return tl::unexpected(file.error());
  return file->write(value);
}

Result<std::string> read_text(const std::string& path) { return slurp(path); }

Result<std::string> read_control(const std::string& path) {
  Result<std::string> text = slurp(path);
  if (!text) return text;
  std::string v = text->substr(0, text->find('\n'));
  return v;
}

Result<void> send_datagram(const std::string& socket_path, const std::string& payload) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path)
    return fail(Errc::invalid_argument, "unix socket path '" + socket_path + "' is empty or too long",
                socket_path);
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(Errc::system, "socket: " + errno_text(errno), socket_path, errno);
  ssize_t n =
      ::sendto(fd, payload.data(), payload.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (n < 0)
    return fail(Errc::system, "cannot send to " + socket_path + ": " + errno_text(err), socket_path, err);
  return {};
}

Result<void> append_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
  if (fd < 0) return tl::unexpected(open_error(errno, path, "it"));
  std::string data = line + "\n";
  ssize_t n = ::write(fd, data.data(), data.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size()))
    return fail(Errc::system, "cannot append to " + path + ": " + errno_text(err), path, err);
  return {};
}

Result<std::string> find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) != 0)
      return fail(Errc::not_found, "'" + program + "': " + errno_text(errno), program, errno);
    return program;
  }
  const char* search = std::getenv("PATH");
  std::string dirs = search != nullptr && *search != '\0' ? search : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t at = 0; at <= dirs.size();) {
    std::size_t end = std::min(dirs.find(':', at), dirs.size());
    std::string dir = end == at ? "." : dirs.substr(at, end - at);
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return dir + "/" + program;
    at = end + 1;
  }
  return fail(Errc::not_found, "'" + program + "': not found in PATH (" + dirs + ")", program, ENOENT);
}

Result<void> check_local_address(const std::string& host) {
  if (host.empty()) return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), "0", &hints, &found); rc != 0)
    return fail(Errc::invalid_argument, "'" + host + "' does not resolve: " + ::gai_strerror(rc), host);
  int err = EADDRNOTAVAIL;
  for (addrinfo* a = found; a != nullptr && err != 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    err = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (err == EADDRNOTAVAIL)
    return fail(Errc::invalid_argument, "'" + host + "' is not an address of this machine", host, err);
  if (err != 0) return fail(Errc::system, "cannot listen on '" + host + "': " + errno_text(err), host, err);
  return {};
}

Result<Child> spawn(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& extra) {
  if (argv.empty() || argv.front().empty()) return fail(Errc::invalid_argument, "no command to run");
  // The service manager's socket and watchdog are the daemon's, not its commands'.
  CStrings env(child_environment(extra, {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}));
  CStrings args(argv);

  // Found before forking: the child of a threaded program may only make async-signal-safe calls.
  Result<std::string> found = find_program(argv.front());
  if (!found) return fail(Errc::system, "cannot run " + found.error().message(), argv.front(), ENOENT);
  std::string program = *found;
  // The daemon runs shielded from the OOM killer (OOMScoreAdjust=-1000 in its unit); a command
  // it runs is an ordinary process from its first instruction. Raising the value needs no privilege.
  Result<std::string> own_adj = read_control("/proc/self/oom_score_adj");
  bool ordinary_oom_score = own_adj && own_adj->starts_with("-");
  int report[2];  // the child's exec errno; closed by a successful exec
  if (::pipe2(report, O_CLOEXEC) != 0)
    return fail(Errc::system, "cannot run '" + argv[0] + "': pipe: " + errno_text(errno), argv[0], errno);
  const char* path = program.c_str();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    ::setpgid(0, 0);  // its own group, killed whole on timeout
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // ignored ones (SIGPIPE) too
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the daemon blocks signals for its signalfd
    if (ordinary_oom_score) {
      int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        (void)!::write(fd, "0", 1);
        ::close(fd);
      }
    }
    ::execve(path, args.data(), env.data());
    int err = errno;
    (void)!::write(report[1], &err, sizeof err);
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return fail(Errc::system, "cannot run '" + argv[0] + "': fork: " + errno_text(fork_errno), argv[0],
                fork_errno);
  }
  int err = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    ::waitpid(pid, nullptr, 0);
    return fail(Errc::system, "cannot run '" + argv[0] + "': " + errno_text(err), argv[0], err);
  }
  Result<ProcessHandle> handle = ProcessHandle::open(pid);
  if (!handle) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return tl::unexpected(handle.error());
  }
  return Child{std::move(*handle)};
}

std::optional<int> reap(Pid pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r < 0 && errno == ECHILD) return 255;  // reaped elsewhere (SIGCHLD ignored): ended, status unknown
  if (r != pid) return std::nullopt;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void kill_group(Pid pid) {
  if (pid > 1) ::kill(-pid, SIGKILL);
}

Result<Fd> signal_fd(const std::vector<int>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  if (int err = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0)
    return fail(Errc::system, "pthread_sigmask: " + errno_text(err), {}, err);
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return fail(Errc::system, "signalfd: " + errno_text(errno), {}, errno);
  return Fd(real_io().get(), fd);
}

int read_signal(int fd) {
  signalfd_siginfo info{};
  ssize_t n = ::read(fd, &info, sizeof info);
  if (n != sizeof info) return 0;
  return static_cast<int>(info.ssi_signo);
}

bool notify_service_manager(const std::string& state) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return false;
  return static_cast<bool>(send_datagram(socket, state));
}

std::chrono::microseconds watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return std::chrono::microseconds{0};
  if (const char* pid = std::getenv("WATCHDOG_PID")) {
    auto p = parse_u64(pid);
    if (!p || static_cast<Pid>(*p) != ::getpid()) return std::chrono::microseconds{0};
  }
  auto v = parse_u64(usec);
  return std::chrono::microseconds{v ? static_cast<long long>(*v) : 0};
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace pressure::sys
