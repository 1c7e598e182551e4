// Every platform other than Linux and macOS: a real, compiled "no".
#include "sys/platform.hpp"

namespace pressure::sys {

const char* psi_missing_reason() {
  return "resource pressure is only reported on Linux (PSI) and macOS (memory level)";
}

Result<MemoryLevel> platform_memory_level() { return fail(Errc::unsupported, psi_missing_reason()); }

}  // namespace pressure::sys
