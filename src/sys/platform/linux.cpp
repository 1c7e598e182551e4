// Linux: PSI files under /proc/pressure and in every cgroup2 group.
#include "sys/platform.hpp"

namespace pressure::sys {

const char* psi_missing_reason() { return ""; }

Result<MemoryLevel> platform_memory_level() {
  return fail(Errc::unsupported,
              "Linux reports memory pressure as PSI, not as a level: use memory() (some/full stall)");
}

}  // namespace pressure::sys
