#include "cli/common.hpp"

#include <fmt/core.h>

#include "cli/cli.hpp"

namespace pressure::cli {

void TargetOptions::add_to(CLI::App& command) {
  CLI::Option* group =
      command.add_option("--cgroup", cgroup, "a cgroup2 group: relative to the cgroup2 mount, or absolute");
  CLI::Option* process =
      command.add_option("--pid", pid, "the cgroup2 group of process PID")->check(CLI::PositiveNumber);
  group->excludes(process);
}

Target TargetOptions::target() const {
  if (cgroup) return Target::cgroup(*cgroup);
  if (pid) return Target::pid(*pid);
  return Target::system();
}

int exit_code(Errc code) {
  switch (code) {
    case Errc::unsupported:
    case Errc::unavailable: return k_exit_unsupported;
    case Errc::invalid_argument: return k_exit_usage;
    default: return k_exit_runtime;
  }
}

int report(const Error& error) {
  fmt::print(stderr, "pressure: {}\n", error.message());
  return exit_code(error.code());
}

}  // namespace pressure::cli
