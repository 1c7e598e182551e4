#include <pressure/parse.hpp>

#include "sys/platform.hpp"

namespace pressure::sys {

Result<MemoryLevel> read_memory_level(const SysctlReader& sysctl) {
  Result<std::int64_t> value = sysctl("kern.memorystatus_vm_pressure_level");
  if (!value) return tl::unexpected(value.error());
  return memory_level_from_sysctl(*value);
}

}  // namespace pressure::sys
