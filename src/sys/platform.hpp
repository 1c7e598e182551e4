// What the operating system offers; one implementation per platform under platform/.
#pragma once

#include <cstdint>
#include <functional>

#include <pressure/error.hpp>
#include <pressure/types.hpp>

namespace pressure::sys {

// Empty if this platform has Linux PSI files, else the reason it has none.
const char* psi_missing_reason();

// Reads a named integer sysctl (macOS); injected in tests.
using SysctlReader = std::function<Result<std::int64_t>(const char* name)>;

// kern.memorystatus_vm_pressure_level through `sysctl`, mapped to a level.
Result<MemoryLevel> read_memory_level(const SysctlReader& sysctl);

// The platform's memory-pressure level (macOS); unsupported elsewhere.
Result<MemoryLevel> platform_memory_level();

}  // namespace pressure::sys
