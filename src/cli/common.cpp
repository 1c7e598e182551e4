#include "cli/common.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "cli/cli.hpp"
#include "core/printable.hpp"

namespace pressure::cli {

void TargetOptions::add_to(CLI::App& command) {
  CLI::Option* group =
      command.add_option("--cgroup", cgroup, "a cgroup2 group: relative to the cgroup2 mount, or absolute");
  CLI::Option* process =
      command.add_option("--pid", pid, "the cgroup2 group of process PID")->check(process_id());
  group->excludes(process);
}

Target TargetOptions::target() const {
  if (cgroup) return Target::cgroup(*cgroup);
  if (pid) return Target::pid(*pid);
  return Target::system();
}

CLI::Validator seconds_between(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        double value = std::numeric_limits<double>::quiet_NaN();
        const char* end = text.data() + text.size();
        auto [at, error] = std::from_chars(text.data(), end, value);
        if (error != std::errc{} || at != end || !std::isfinite(value) || value < min || value > max)
          return fmt::format("must be a number of seconds from {} to {}, not '{}'", min, max, text);
        return {};
      },
      fmt::format("SECONDS in [{}, {}]", min, max));
}

CLI::Validator process_id() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        // The kernel's PID_MAX_LIMIT is 2^22; no pid is larger.
        constexpr long k_pid_max = 4'194'304;
        long value = 0;
        const char* end = text.data() + text.size();
        auto [at, error] = std::from_chars(text.data(), end, value);
        bool decimal = !text.empty() && text.front() != '0' && text.front() != '+' && text.front() != '-';
        if (!decimal || error != std::errc{} || at != end || value < 1 || value > k_pid_max)
          return fmt::format("must be a process id in decimal, from 1 to {}, not '{}'", k_pid_max, text);
        return {};
      },
      "PID");
}

int exit_code(Errc code) { return core::exit_code(code); }

int report(const Error& error) {
  // Messages carry paths and names from outside: printed so that none can forge a line.
  fmt::print(stderr, "pressure: {}\n", core::printable(error.message()));
  return exit_code(error.code());
}

}  // namespace pressure::cli
