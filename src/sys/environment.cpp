// The process's own environment, read for the service manager's pressure watch.
#include <pressure/environment.hpp>

#include <cstdlib>
#include <string>

namespace pressure {
namespace {

std::optional<std::string_view> variable(std::string_view name) {
  std::string key(name);
#if defined(__GLIBC__)
  const char* value = ::secure_getenv(key.c_str());  // nothing for set-uid programs, as sd-event
#else
  const char* value = std::getenv(key.c_str());
#endif
  if (value == nullptr) return std::nullopt;
  return std::string_view(value);
}

}  // namespace

Result<EnvironmentWatch> environment_watch(Resource resource) {
  if (watch_variable(resource).empty()) return parse_environment_watch(resource, std::nullopt, std::nullopt);
  return parse_environment_watch(resource, variable(watch_variable(resource)),
                                 variable(write_variable(resource)));
}

}  // namespace pressure
