// Pure parsers for the text the kernel gives; no I/O. `source` names the file in errors.
//
//   auto p = pressure::parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
//                                     "/proc/pressure/io");
//   auto root = pressure::parse_cgroup2_mount(mountinfo_text);  // "/sys/fs/cgroup/unified"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <pressure/error.hpp>
#include <pressure/types.hpp>

namespace pressure {

// A pressure file: "some|full avg10=A avg60=B avg300=C total=T" lines. Keys are matched by
// name; unknown keys and unknown lines are ignored; averages must have at most two decimals
// and be at most 100.00; total is a u64. Errc::malformed names `source` and the line.
Result<Pressure> parse_pressure(std::string_view text, std::string_view source = "pressure file");

// The mount point of the first cgroup2 file system in /proc/self/mountinfo text.
Result<std::string> parse_cgroup2_mount(std::string_view mountinfo, std::string_view source = "mountinfo");

// The cgroup2 path ("0::/a/b" line) of /proc/PID/cgroup text; not_found if there is none.
Result<std::string> parse_cgroup2_membership(std::string_view proc_cgroup,
                                             std::string_view source = "cgroup file");

// /proc/meminfo: MemTotal and MemAvailable, in bytes.
Result<HostMemory> parse_meminfo(std::string_view text, std::string_view source = "meminfo");

// The mount point of the cgroup v1 hierarchy that has `controller` (e.g. "memory").
Result<std::string> parse_cgroup1_mount(std::string_view mountinfo, std::string_view controller,
                                        std::string_view source = "mountinfo");

// The path of the v1 hierarchy with `controller` in /proc/PID/cgroup ("4:memory:/a" -> "/a").
Result<std::string> parse_cgroup1_membership(std::string_view proc_cgroup, std::string_view controller,
                                             std::string_view source = "cgroup file");

// macOS kern.memorystatus_vm_pressure_level: 1 normal, 2 warn, 4 critical; anything else is
// an error (the internal 0..5 enum must never be mistaken for the dispatch values).
Result<MemoryLevel> memory_level_from_sysctl(std::int64_t value);

}  // namespace pressure
