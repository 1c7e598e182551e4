// macOS: no PSI; one discrete level from kern.memorystatus_vm_pressure_level (readable by
// name without root, hidden from `sysctl -a`).
#include <cerrno>
#include <cstring>
#include <string>

#include <sys/sysctl.h>

#include "sys/platform.hpp"

namespace pressure::sys {

const char* psi_missing_reason() {
  return "macOS has no PSI stall times; use memory_level() for its "
         "normal/warn/critical level";
}

Result<MemoryLevel> platform_memory_level() {
  return read_memory_level([](const char* name) -> Result<std::int64_t> {
    std::int32_t value = 0;
    std::size_t size = sizeof value;
    if (::sysctlbyname(name, &value, &size, nullptr, 0) != 0) {
      int err = errno;
      return fail(err == ENOENT ? Errc::unsupported : Errc::system,
                  std::string("sysctl ") + name + ": " + std::strerror(err), name, err);
    }
    return value;
  });
}

}  // namespace pressure::sys
