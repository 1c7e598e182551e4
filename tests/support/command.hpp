// Runs a program the way a user would and captures what it says.
#pragma once

#include <string>
#include <vector>

namespace pressure::test {

struct CommandResult {
  int exit_code = -1;  // 128 + signal if it died of one
  std::string out;
  std::string err;
};

// argv[0] is the program path; no shell.
CommandResult run_command(const std::vector<std::string>& argv);

// The built `pressure` binary with these arguments.
CommandResult run_pressure(const std::vector<std::string>& args);

std::string fixture(const std::string& name);

}  // namespace pressure::test
