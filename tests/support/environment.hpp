// For tests of the service manager's pressure watch: the variables set as systemd sets them,
// for one scope, and restored after it.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pressure/environment.hpp>

namespace pressure::test {

// What systemd writes for MemoryPressureThresholdSec=: "some <stall µs> <window µs>" and a NUL.
inline std::string systemd_write(std::string_view trigger) {
  return encode_base64(std::string(trigger) + '\0');
}

// Sets (or, with nullopt, unsets) variables for this scope; the old values come back after it.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::initializer_list<std::pair<std::string, std::optional<std::string>>> values) {
    for (const auto& [name, value] : values) {
      const char* old = std::getenv(name.c_str());
      m_saved.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      set(name, value);
    }
  }
  ~ScopedEnvironment() {
    for (const auto& [name, value] : m_saved) set(name, value);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  static void set(const std::string& name, const std::optional<std::string>& value) {
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

}  // namespace pressure::test
