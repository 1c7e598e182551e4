// A group's memory, its limit, swap and reclaim counts: cgroup2 files, else the v1 memory
// controller of the same path (hybrid systems), else the processes' RSS.
#include <pressure/parse.hpp>

#include "sys/control.hpp"
#include "sys/files.hpp"
#include "sys/small_file.hpp"

namespace pressure::sys {

std::optional<std::string> memory_v1_root(const std::string& proc_root) {
  Result<std::string> mountinfo = read_small_file(proc_root + "/self/mountinfo");
  if (!mountinfo) return std::nullopt;
  Result<std::string> mount = parse_cgroup1_mount(*mountinfo, "memory");
  if (!mount) return std::nullopt;
  return *mount;
}

Result<CgroupMemory> cgroup_memory(const std::string& cgroup2_root, const std::string& relative,
                                   const std::string& proc_root) {
  std::string dir = cgroup_directory(cgroup2_root, relative);
  if (auto text = read_small_file(dir + "/memory.current")) {
    if (auto bytes = parse_u64(*text)) return CgroupMemory{*bytes, "memory.current"};
  }
  if (auto v1 = memory_v1_root(proc_root)) {
    if (auto text = read_small_file(cgroup_directory(*v1, relative) + "/memory.usage_in_bytes")) {
      if (auto bytes = parse_u64(*text)) return CgroupMemory{*bytes, "memory.usage_in_bytes (v1)"};
    }
  }
  Result<std::vector<Pid>> pids = cgroup_processes(dir, true);
  if (!pids) return tl::unexpected(pids.error());
  std::uint64_t sum = 0;
  for (Pid pid : *pids) sum += process_rss(pid, proc_root).value_or(0);
  return CgroupMemory{sum, "rss of " + std::to_string(pids->size()) + " processes"};
}

std::optional<std::uint64_t> cgroup_memory_limit(const std::string& cgroup2_root, const std::string& relative,
                                                 const std::string& proc_root) {
  std::string dir = cgroup_directory(cgroup2_root, relative);
  for (const char* name : {"/memory.max", "/memory.high"}) {
    if (auto text = read_small_file(dir + name)) {
      if (auto v = parse_u64(*text)) return *v;
    }
  }
  if (auto v1 = memory_v1_root(proc_root)) {
    if (auto text = read_small_file(cgroup_directory(*v1, relative) + "/memory.limit_in_bytes")) {
      if (auto v = parse_u64(*text); v && *v < (1ULL << 62)) return *v;
    }
  }
  return std::nullopt;
}

namespace {

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

Result<Swap> swap_memory(const std::string& proc_root) {
  std::string path = proc_root + "/meminfo";
  Result<std::string> text = read_small_file(path);
  if (!text) return tl::unexpected(text.error());
  auto total = field(*text, "SwapTotal"), free = field(*text, "SwapFree");
  if (!total || !free) return fail(Errc::malformed, path + ": no SwapTotal/SwapFree lines", path);
  return Swap{*total, *free};
}

Result<std::uint64_t> pages_scanned(const std::string& cgroup2_root, const std::string& relative,
                                    const std::string& proc_root) {
  if (relative == "/") {
    std::string path = proc_root + "/vmstat";
    Result<std::string> text = read_small_file(path);
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
  Result<std::string> text = read_small_file(path);
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
                                                const std::string& proc_root) {
  if (auto text = read_small_file(cgroup_directory(cgroup2_root, relative) + "/memory.peak")) {
    if (auto v = parse_u64(*text)) return *v;
  }
  if (auto v1 = memory_v1_root(proc_root)) {
    if (auto text = read_small_file(cgroup_directory(*v1, relative) + "/memory.max_usage_in_bytes")) {
      if (auto v = parse_u64(*text)) return *v;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> process_peak_rss(Pid pid, const std::string& proc_root) {
  Result<std::string> text = read_small_file(proc_root + "/" + std::to_string(pid) + "/status");
  if (!text) return std::nullopt;
  return field(*text, "VmHWM");
}

}  // namespace pressure::sys
