#include <pressure/memory.hpp>
#include <pressure/parse.hpp>

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "core/cgroup_path.hpp"
#include "sys/files.hpp"
#include "sys/small_file.hpp"

namespace pressure {
namespace {

Result<std::string> read_text(const Io& io, const std::string& path) {
  return sys::read_small_file(path, io);
}

// "123\n" -> 123; "max\n" -> nullopt.
Result<std::optional<std::uint64_t>> read_limit(const Io& io, const std::string& path) {
  Result<std::string> text = read_text(io, path);
  if (!text) return tl::unexpected(text.error());
  std::string_view v = *text;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  if (v == "max") return std::optional<std::uint64_t>{};
  std::uint64_t value = 0;
  for (char c : v) {
    if (c < '0' || c > '9')
      return fail(Errc::malformed, path + ": expected a number or 'max', found '" + std::string(v) + "'",
                  path);
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v.empty()) return fail(Errc::malformed, path + " is empty", path);
  // v1 reports "no limit" as a huge page-rounded number.
  if (value >= (1ULL << 62)) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>{value};
}

std::optional<LocalMemory> from_cgroup2(const Io& io, const ReaderOptions& options, const std::string& self) {
  Result<std::string> root = cgroup2_root(options);
  Result<std::string> text = read_text(io, self + "/cgroup");
  if (!root || !text) return std::nullopt;
  Result<std::string> member = parse_cgroup2_membership(*text, self + "/cgroup");
  if (!member) return std::nullopt;
  Result<std::string> path = core::normalize_cgroup_path(*member, "");
  if (!path) return std::nullopt;
  std::string dir = sys::cgroup_directory(*root, *path);
  Result<std::optional<std::uint64_t>> current = read_limit(io, dir + "/memory.current");
  if (!current || !*current) return std::nullopt;  // no memory controller here (hybrid)
  LocalMemory m{**current, std::nullopt};
  if (auto max = read_limit(io, dir + "/memory.max"); max && *max)
    m.limit = *max;
  else if (auto high = read_limit(io, dir + "/memory.high"); high && *high)
    m.limit = *high;
  return m;
}

std::optional<LocalMemory> from_cgroup1(const Io& io, const std::string& self) {
  Result<std::string> mountinfo = read_text(io, self + "/mountinfo");
  Result<std::string> text = read_text(io, self + "/cgroup");
  if (!mountinfo || !text) return std::nullopt;
  Result<std::string> mount = parse_cgroup1_mount(*mountinfo, "memory");
  Result<std::string> member = parse_cgroup1_membership(*text, "memory");
  if (!mount || !member) return std::nullopt;
  Result<std::string> path = core::normalize_cgroup_path(*member, "");
  if (!path) return std::nullopt;
  std::string dir = sys::cgroup_directory(*mount, *path);
  auto usage = read_limit(io, dir + "/memory.usage_in_bytes");
  if (!usage || !*usage) return std::nullopt;
  LocalMemory m{**usage, std::nullopt};
  if (auto limit = read_limit(io, dir + "/memory.limit_in_bytes"); limit && *limit) m.limit = *limit;
  return m;
}

}  // namespace

Result<HostMemory> host_memory(const ReaderOptions& options) {
  std::string path = options.proc_root + "/meminfo";
  Result<std::string> text = read_text(options.io_or_real(), path);
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
  Result<std::string> statm = read_text(io, self + "/statm");
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
