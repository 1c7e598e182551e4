// Running a command without a shell.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <pressure/error.hpp>

namespace pressure::sys {

// This process's environment with `extra` set (replacing variables of the same name) and the
// variables named in `drop` left out, as "NAME=value" strings for exec.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra,
                                           const std::vector<std::string>& drop = {});

// Runs argv[0] (searched in PATH) with the current environment plus `extra`, waits for it, and
// returns its exit status (128 + signal if killed). Errors if it cannot be started.
Result<int> run_command(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace pressure::sys
