// The `pressure` command line: parses arguments and runs one subcommand.
#pragma once

namespace pressure::cli {

// Exit codes, the same for every subcommand (DESIGN.md).
enum Exit : int {
  k_exit_ok = 0,
  k_exit_negative = 1,     // a "no": admit refused, watch timed out
  k_exit_usage = 2,        // bad flags or configuration
  k_exit_unsupported = 3,  // no PSI here, or a resource this kernel lacks
  k_exit_runtime = 4,      // malformed kernel file, permission, cgroup gone
};

int run(int argc, char** argv);

}  // namespace pressure::cli
