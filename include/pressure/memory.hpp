// Memory figures that pressure conditions compare against: the host's MemAvailable, and the
// process's own cgroup (v2 memory.current against memory.max or memory.high, or the v1
// memory controller's usage against its limit on hybrid systems), with RSS as a fallback.
//
//   auto host = pressure::host_memory();          // {total, available}
//   auto mine = pressure::local_memory(512 << 20); // RSS against 512 MiB if no cgroup limit
#pragma once

#include <cstdint>
#include <optional>

#include <pressure/reader.hpp>
#include <pressure/types.hpp>

namespace pressure {

Result<HostMemory> host_memory(const ReaderOptions& options = {});

// The calling process's memory. A cgroup limit wins; without one, RSS against `rss_budget`
// (limit empty if no budget is given either).
Result<LocalMemory> local_memory(std::optional<std::uint64_t> rss_budget = std::nullopt,
                                 const ReaderOptions& options = {});

}  // namespace pressure
