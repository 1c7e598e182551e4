// Small kernel files read whole (cgroup.procs, comm, memory.current, meminfo ...), and the
// unsigned numbers in them. Internal to sys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <pressure/error.hpp>
#include <pressure/io.hpp>

namespace pressure::sys {

// The whole file (at most 4 MiB) through `io`: Errc::not_found (ENOENT, ESRCH), gone (ENODEV,
// ESRCH while reading), permission, or system; only a regular file is opened.
Result<std::string> read_small_file(const std::string& path, const Io& io = *real_io());
// "123\n" -> 123; anything but digits (after trailing spaces and newlines) -> nothing.
std::optional<std::uint64_t> parse_u64(std::string_view v);

}  // namespace pressure::sys
