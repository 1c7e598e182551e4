// A cgroup's memory, through the caller's Io: cgroup2 (memory.current against memory.max or
// memory.high), the v1 memory controller of hybrid systems (memory.usage_in_bytes against
// memory.limit_in_bytes), swap and reclaim counts. The one reader of cgroup memory: the
// library's local_memory() and the daemon's rules (cgroup_memory() in sys/control.hpp) read
// through it. Internal to sys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <pressure/error.hpp>
#include <pressure/io.hpp>

namespace pressure::sys {

// What a group's directory says of its memory; each part empty where its file is missing or
// says nothing (no memory controller, "max", v1's huge "no limit" number).
struct GroupMemory {
  std::optional<std::uint64_t> usage;
  std::optional<std::uint64_t> limit;
};
// `dir` is a cgroup2 directory: memory.current; memory.max, else memory.high.
GroupMemory group_memory_v2(const Io& io, const std::string& dir);
// `dir` is a directory of the v1 memory controller: memory.usage_in_bytes, memory.limit_in_bytes.
GroupMemory group_memory_v1(const Io& io, const std::string& dir);

// The v1 memory controller's mount, if there is one (hybrid systems).
std::optional<std::string> memory_v1_root(const std::string& proc_root = "/proc", const Io& io = *real_io());

// SwapTotal and SwapFree from meminfo, in bytes.
struct Swap {
  std::uint64_t total = 0, free = 0;
};
Result<Swap> swap_memory(const std::string& proc_root = "/proc", const Io& io = *real_io());
// Pages scanned for reclaim so far: /proc/vmstat pgscan_* for the root group, memory.stat
// `pgscan` of a cgroup2 group. `unavailable` where the kernel keeps no such count (a v1
// memory controller).
Result<std::uint64_t> pages_scanned(const std::string& cgroup2_root, const std::string& relative,
                                    const std::string& proc_root = "/proc", const Io& io = *real_io());

// The most memory the group has used: memory.peak (cgroup2, 5.19+), else the v1 group's
// memory.max_usage_in_bytes; nothing where neither is kept.
std::optional<std::uint64_t> cgroup_memory_peak(const std::string& cgroup2_root, const std::string& relative,
                                                const std::string& proc_root = "/proc",
                                                const Io& io = *real_io());
// The process's peak resident set size (VmHWM of /proc/PID/status), in bytes.
std::optional<std::uint64_t> process_peak_rss(int pid, const std::string& proc_root = "/proc",
                                              const Io& io = *real_io());

}  // namespace pressure::sys
