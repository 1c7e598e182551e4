// The exit codes of every program (DESIGN.md) and the one map from an error to its code, for
// the commands and the daemon alike. Pure values.
#pragma once

#include <pressure/error.hpp>

namespace pressure::core {

enum Exit : int {
  k_exit_ok = 0,
  k_exit_negative = 1,     // a "no": admit refused, watch timed out
  k_exit_usage = 2,        // bad flags or configuration
  k_exit_unsupported = 3,  // no PSI here, or a resource this kernel lacks
  k_exit_runtime = 4,      // malformed kernel file, permission, cgroup gone
};

// Where an error stopped the program. A command that finds no such resource says the machine
// lacks it; the daemon starting from its file says the file asks for what is not there (a
// target group that does not exist, a line the kernel does not print): a configuration error.
enum class Stage { command, configuration };

constexpr int exit_code(Errc code, Stage stage = Stage::command) {
  bool configuration = stage == Stage::configuration;
  switch (code) {
    case Errc::unsupported: return k_exit_unsupported;
    case Errc::invalid_argument: return k_exit_usage;
    case Errc::unavailable: return configuration ? k_exit_usage : k_exit_unsupported;
    case Errc::not_found: return configuration ? k_exit_usage : k_exit_runtime;
    default: return k_exit_runtime;
  }
}

}  // namespace pressure::core
