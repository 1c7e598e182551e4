// The `pressure` command line: parses arguments and runs one subcommand.
#pragma once

#include "core/exit_code.hpp"

namespace pressure::cli {

// Exit codes, the same for every subcommand and the daemon (DESIGN.md).
using core::Exit;
using enum core::Exit;

int run(int argc, char** argv);

}  // namespace pressure::cli
