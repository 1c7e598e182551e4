#include <pressure/memory.hpp>
#include <pressure/parse.hpp>

#include <unistd.h>

#include "core/cgroup_path.hpp"
#include "sys/cgroup_memory.hpp"
#include "sys/files.hpp"
#include "sys/small_file.hpp"

namespace pressure {
namespace {

using sys::read_small_file;

// The own group's memory: its cgroup2 directory (when the memory controller is there).
std::optional<LocalMemory> from_cgroup2(const Io& io, const ReaderOptions& options, const std::string& self) {
  Result<std::string> root = cgroup2_root(options);
  Result<std::string> text = read_small_file(self + "/cgroup", io);
  if (!root || !text) return std::nullopt;
  Result<std::string> member = parse_cgroup2_membership(*text, self + "/cgroup");
  if (!member) return std::nullopt;
  Result<std::string> path = core::normalize_cgroup_path(*member, "");
  if (!path) return std::nullopt;
  sys::GroupMemory m = sys::group_memory_v2(io, sys::cgroup_directory(*root, *path));
  if (!m.usage) return std::nullopt;  // no memory controller here (hybrid)
  return LocalMemory{*m.usage, m.limit};
}

// The own group of the v1 memory controller (hybrid systems).
std::optional<LocalMemory> from_cgroup1(const Io& io, const std::string& self) {
  Result<std::string> mountinfo = read_small_file(self + "/mountinfo", io);
  Result<std::string> text = read_small_file(self + "/cgroup", io);
  if (!mountinfo || !text) return std::nullopt;
  Result<std::string> mount = parse_cgroup1_mount(*mountinfo, "memory");
  Result<std::string> member = parse_cgroup1_membership(*text, "memory");
  if (!mount || !member) return std::nullopt;
  Result<std::string> path = core::normalize_cgroup_path(*member, "");
  if (!path) return std::nullopt;
  sys::GroupMemory m = sys::group_memory_v1(io, sys::cgroup_directory(*mount, *path));
  if (!m.usage) return std::nullopt;
  return LocalMemory{*m.usage, m.limit};
}

}  // namespace

Result<HostMemory> host_memory(const ReaderOptions& options) {
  std::string path = options.proc_root + "/meminfo";
  Result<std::string> text = read_small_file(path, options.io_or_real());
  if (!text) return tl::unexpected(text.error());
  return parse_meminfo(*text, path);
}

Result<LocalMemory> local_memory(std::optional<std::uint64_t> rss_budget, const ReaderOptions& options) {
  const Io& io = options.io_or_real();
  std::string self = options.proc_root + "/self";
  std::optional<LocalMemory> cgroup = from_cgroup2(io, options, self);
  if (!cgroup || !cgroup->limit) {
    if (auto v1 = from_cgroup1(io, self); v1 && (v1->limit || !cgroup)) cgroup = v1;
  }
  if (cgroup && cgroup->limit) return *cgroup;
  // No limit anywhere: RSS (resident pages in statm) against the caller's budget.
  Result<std::string> statm = read_small_file(self + "/statm", io);
  if (!statm) return tl::unexpected(statm.error());
  std::string_view v = *statm;
  std::size_t space = v.find(' ');
  std::uint64_t pages = 0;
  std::string_view field = space == std::string_view::npos ? std::string_view{} : v.substr(space + 1);
  field = field.substr(0, field.find(' '));
  for (char c : field) {
    if (c < '0' || c > '9')
      return fail(Errc::malformed, self + "/statm: no resident page count", self + "/statm");
    pages = pages * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (field.empty()) return fail(Errc::malformed, self + "/statm: no resident page count", self + "/statm");
  return LocalMemory{pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)), rss_budget};
}

}  // namespace pressure
