// For tests of the service manager's pressure watch: the variables set as systemd sets them,
// for one scope, and restored after it.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pressure::test {

// Standard base64 with padding, as systemd encodes $..._PRESSURE_WRITE.
inline std::string base64(std::string_view bytes) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    unsigned v = 0;
    for (std::size_t j = 0; j < 3; ++j) v = v << 8 | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    for (std::size_t j = 0; j < 4; ++j) out.push_back(j <= n ? k_alphabet[(v >> (18 - 6 * j)) & 63] : '=');
  }
  return out;
}

// What systemd writes for MemoryPressureThresholdSec=: "some <stall µs> <window µs>" and a NUL.
inline std::string systemd_write(std::string_view trigger) { return base64(std::string(trigger) + '\0'); }

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
