#include "sys/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace pressure::sys {

std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra,
                                           const std::vector<std::string>& drop) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    bool skip = false;
    for (const auto& [name, value] : extra) skip = skip || entry.rfind(name + "=", 0) == 0;
    for (const std::string& name : drop) skip = skip || entry.rfind(name + "=", 0) == 0;
    if (!skip) out.push_back(std::move(entry));
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

Result<int> run_command(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  if (argv.empty()) return fail(Errc::invalid_argument, "no command to run");
  CStrings env(child_environment(extra));
  CStrings args(argv);

  // The command starts with no signal blocked and the stop signals at their defaults, whatever
  // the caller blocked (sys/stop_signals.hpp).
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, args.data()[0], nullptr, &attr, args.data(), env.data());
  ::posix_spawnattr_destroy(&attr);
  if (err != 0)
    return fail(Errc::system, "cannot run '" + argv[0] + "': " + std::strerror(err), argv[0], err);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return fail(Errc::system, "waitpid: " + std::string(std::strerror(errno)), argv[0], errno);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace pressure::sys
