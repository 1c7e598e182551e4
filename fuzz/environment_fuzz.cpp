// Any bytes as the service manager's $..._PRESSURE_WATCH / $..._PRESSURE_WRITE pair (split at the
// first NUL) and as base64: a watch holds an absolute, normalised, bounded path; the write is
// bounded; base64 round-trips through the canonical encoding.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <pressure/environment.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t nul = text.find('\0');
  std::string_view watch = text.substr(0, nul);
  std::optional<std::string_view> write;
  if (nul != std::string_view::npos) write = text.substr(nul + 1);
  auto request = pressure::parse_environment_watch(pressure::Resource::memory, watch, write);
  if (request) {
    using State = pressure::EnvironmentWatch::State;
    if (request->state == State::watch) {
      const std::string& p = request->path;
      if (p.empty() || p.front() != '/' || p.size() > pressure::k_max_watch_path) std::abort();
      if (p.find("//") != std::string::npos || p.find("/./") != std::string::npos ||
          p.find("/../") != std::string::npos)
        std::abort();
      if (request->write.size() > pressure::k_max_watch_write) std::abort();
      if (request->trigger && request->trigger->resource != pressure::Resource::memory) std::abort();
    } else if (!request->write.empty()) {
      std::abort();
    }
  } else if (request.error().message().find("$MEMORY_PRESSURE_") == std::string::npos) {
    std::abort();  // every refusal names its variable
  }
  if (auto bytes = pressure::decode_base64(text)) {
    auto again = pressure::decode_base64(pressure::encode_base64(*bytes));
    if (!again || *again != *bytes) std::abort();
  }
  return 0;
}
