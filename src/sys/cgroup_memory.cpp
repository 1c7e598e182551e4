// A cgroup's memory through the Io seam (sys/cgroup_memory.hpp).
#include "sys/cgroup_memory.hpp"

#include <string_view>

#include <pressure/parse.hpp>

#include "sys/files.hpp"
#include "sys/small_file.hpp"

namespace pressure::sys {
namespace {

// A number of bytes, or nothing for "max", v1's "no limit" (a huge page-rounded number), a
// missing file or anything else.
std::optional<std::uint64_t> read_bytes(const Io& io, const std::string& path) {
  Result<std::string> text = read_small_file(path, io);
  if (!text) return std::nullopt;
  std::optional<std::uint64_t> value = parse_u64(*text);
  if (!value || *value >= (1ULL << 62)) return std::nullopt;
  return value;
}

// The value of `key` in a "key value" per line file (meminfo's "Key:   123 kB" too).
std::optional<std::uint64_t> field(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.starts_with(key)) continue;
    line.remove_prefix(key.size());
    if (!line.empty() && line.front() != ' ' && line.front() != ':' && line.front() != '\t') continue;
    while (!line.empty() && (line.front() == ' ' || line.front() == ':' || line.front() == '\t'))
      line.remove_prefix(1);
    std::size_t end = line.find(' ');
    bool kb = end != std::string_view::npos && line.substr(end + 1).starts_with("kB");
    auto v = parse_u64(line.substr(0, end));
    if (!v) return std::nullopt;
    return kb ? *v * 1024 : *v;
  }
  return std::nullopt;
}

}  // namespace

GroupMemory group_memory_v2(const Io& io, const std::string& dir) {
  GroupMemory m{read_bytes(io, dir + "/memory.current"), read_bytes(io, dir + "/memory.max")};
  if (!m.limit) m.limit = read_bytes(io, dir + "/memory.high");
  return m;
}

GroupMemory group_memory_v1(const Io& io, const std::string& dir) {
  return {read_bytes(io, dir + "/memory.usage_in_bytes"), read_bytes(io, dir + "/memory.limit_in_bytes")};
}

std::optional<std::string> memory_v1_root(const std::string& proc_root, const Io& io) {
  Result<std::string> mountinfo = read_small_file(proc_root + "/self/mountinfo", io);
  if (!mountinfo) return std::nullopt;
  Result<std::string> mount = parse_cgroup1_mount(*mountinfo, "memory");
  if (!mount) return std::nullopt;
  return *mount;
}

Result<Swap> swap_memory(const std::string& proc_root, const Io& io) {
  std::string path = proc_root + "/meminfo";
  Result<std::string> text = read_small_file(path, io);
  if (!text) return tl::unexpected(text.error());
  auto total = field(*text, "SwapTotal"), free = field(*text, "SwapFree");
  if (!total || !free) return fail(Errc::malformed, path + ": no SwapTotal/SwapFree lines", path);
  return Swap{*total, *free};
}

Result<std::uint64_t> pages_scanned(const std::string& cgroup2_root, const std::string& relative,
                                    const std::string& proc_root, const Io& io) {
  if (relative == "/") {
    std::string path = proc_root + "/vmstat";
    Result<std::string> text = read_small_file(path, io);
    if (!text) return tl::unexpected(text.error());
    std::uint64_t sum = 0;
    bool any = false;
    for (const char* key : {"pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_proactive"}) {
      if (auto v = field(*text, key)) sum += *v, any = true;
    }
    if (!any) return fail(Errc::malformed, path + ": no pgscan_* lines", path);
    return sum;
  }
  std::string path = cgroup_directory(cgroup2_root, relative) + "/memory.stat";
  Result<std::string> text = read_small_file(path, io);
  if (!text) {
    if (text.error().code() == Errc::not_found)
      return fail(Errc::unavailable,
                  "cgroup " + relative +
                      " has no memory.stat in cgroup2: reclaim needs the memory controller on cgroup2 "
                      "(the v1 controller keeps no pgscan count)",
                  path);
    return tl::unexpected(text.error());
  }
  auto v = field(*text, "pgscan");
  if (!v) return fail(Errc::malformed, path + ": no pgscan line", path);
  return *v;
}

std::optional<std::uint64_t> cgroup_memory_peak(const std::string& cgroup2_root, const std::string& relative,
                                                const std::string& proc_root, const Io& io) {
  if (auto text = read_small_file(cgroup_directory(cgroup2_root, relative) + "/memory.peak", io)) {
    if (auto v = parse_u64(*text)) return *v;
  }
  if (auto v1 = memory_v1_root(proc_root, io)) {
    if (auto text = read_small_file(cgroup_directory(*v1, relative) + "/memory.max_usage_in_bytes", io)) {
      if (auto v = parse_u64(*text)) return *v;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> process_peak_rss(int pid, const std::string& proc_root, const Io& io) {
  Result<std::string> text = read_small_file(proc_root + "/" + std::to_string(pid) + "/status", io);
  if (!text) return std::nullopt;
  return field(*text, "VmHWM");
}

}  // namespace pressure::sys
