// Commands the daemon runs: found in PATH, started without a shell in their own process group,
// reaped, killed whole.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/control.hpp"
#include "sys/files.hpp"
#include "sys/process.hpp"

namespace pressure::sys {

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

namespace {

// The forked child: its own process group, default signal dispositions and mask, an ordinary
// OOM score, then the program. Only async-signal-safe calls: the parent may have threads.
[[noreturn]] void become(const char* path, char* const* argv, char* const* envp, const int report[2],
                         bool ordinary_oom_score) {
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
  ::execve(path, argv, envp);
  int err = errno;
  (void)!::write(report[1], &err, sizeof err);
  ::_exit(127);
}

}  // namespace

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
  if (pid == 0) become(path, args.data(), env.data(), report, ordinary_oom_score);
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

}  // namespace pressure::sys
