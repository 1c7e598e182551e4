// Running a command without a shell.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <pressure/error.hpp>

namespace pressure::sys {

// The argv or envp that exec and posix_spawn take: the strings, NUL-terminated pointers to
// them, and a null pointer at the end.
class CStrings {
 public:
  explicit CStrings(std::vector<std::string> strings) : m_strings(std::move(strings)) {
    for (std::string& s : m_strings) m_pointers.push_back(s.data());
    m_pointers.push_back(nullptr);
  }
  CStrings(const CStrings&) = delete;
  CStrings& operator=(const CStrings&) = delete;
  char** data() { return m_pointers.data(); }

 private:
  std::vector<std::string> m_strings;
  std::vector<char*> m_pointers;
};

// This process's environment with `extra` set (replacing variables of the same name) and the
// variables named in `drop` left out, as "NAME=value" strings for exec.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra,
                                           const std::vector<std::string>& drop = {});

// Runs argv[0] (searched in PATH) with the current environment plus `extra`, waits for it, and
// returns its exit status (128 + signal if killed). Errors if it cannot be started.
Result<int> run_command(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace pressure::sys
