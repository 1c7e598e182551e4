// What /proc says of a process: its cgroup, memory, name and oom_score_adj.
#include <pressure/parse.hpp>

#include <cstdlib>

#include <unistd.h>

#include "core/cgroup_path.hpp"
#include "sys/control.hpp"
#include "sys/small_file.hpp"

namespace pressure::sys {

Result<std::string> process_cgroup(Pid pid, const std::string& proc_root) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/cgroup";
  Result<std::string> text = read_small_file(path);
  if (!text) return tl::unexpected(text.error());
  Result<std::string> member = parse_cgroup2_membership(*text, path);
  if (!member) return tl::unexpected(member.error());
  return core::normalize_cgroup_path(*member, path);
}

Result<std::uint64_t> process_rss(Pid pid, const std::string& proc_root) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/statm";
  Result<std::string> text = read_small_file(path);
  if (!text) return tl::unexpected(text.error());
  std::string_view v = *text;
  std::size_t space = v.find(' ');
  if (space == std::string_view::npos) return fail(Errc::malformed, path + ": no resident page count", path);
  v = v.substr(space + 1);
  auto pages = parse_u64(v.substr(0, v.find(' ')));
  if (!pages) return fail(Errc::malformed, path + ": no resident page count", path);
  return *pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

Result<std::uint64_t> process_anonymous_rss(Pid pid, const std::string& proc_root) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/statm";
  Result<std::string> text = read_small_file(path);
  if (!text) return tl::unexpected(text.error());
  // size resident shared ...: resident - shared is RssAnon (shared = RssFile + RssShmem).
  std::string_view v = *text;
  std::optional<std::uint64_t> fields[3];
  for (auto& f : fields) {
    std::size_t space = v.find(' ');
    f = parse_u64(v.substr(0, space));
    v = space == std::string_view::npos ? std::string_view{} : v.substr(space + 1);
  }
  if (!fields[1] || !fields[2]) return fail(Errc::malformed, path + ": no resident page counts", path);
  std::uint64_t pages = *fields[1] > *fields[2] ? *fields[1] - *fields[2] : 0;
  return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::string process_name(Pid pid, const std::string& proc_root) {
  Result<std::string> text = read_small_file(proc_root + "/" + std::to_string(pid) + "/comm");
  if (!text) return {};
  std::string name = *text;
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

std::optional<int> process_oom_score_adj(Pid pid, const std::string& proc_root) {
  Result<std::string> text = read_small_file(proc_root + "/" + std::to_string(pid) + "/oom_score_adj");
  if (!text || text->empty()) return std::nullopt;
  return std::atoi(text->c_str());
}

Pid self_pid() { return ::getpid(); }

}  // namespace pressure::sys
