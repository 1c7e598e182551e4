// The daemon's TOML configuration on arbitrary bytes: an error with "file:line: " or rules
// that each have a name and a target.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = pressure::daemon::parse_config(text, "fuzz.toml");
  if (!config) {
    if (config.error().message().rfind("fuzz.toml:", 0) != 0) std::abort();
    return 0;
  }
  for (const auto& rule : config->rules) {
    if (rule.name.empty() || rule.cgroup.empty() || rule.cgroup.front() != '/') std::abort();
  }
  return 0;
}
