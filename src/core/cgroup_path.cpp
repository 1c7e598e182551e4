#include "core/cgroup_path.hpp"

namespace pressure::core {

Result<std::string> normalize_cgroup_path(std::string_view path, std::string_view root) {
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (!root.empty() && root != "/" && path.starts_with(root) &&
      (path.size() == root.size() || path[root.size()] == '/'))
    path.remove_prefix(root.size());
  std::string out;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return fail(Errc::invalid_argument,
                  "cgroup path may not contain '..': it would leave the cgroup2 mount");
    if (part.find('\0') != std::string_view::npos)
      return fail(Errc::invalid_argument, "cgroup path contains a NUL byte");
    out += '/';
    out += part;
  }
  return out.empty() ? std::string("/") : out;
}

bool cgroup_within(std::string_view path, std::string_view ancestor) {
  if (ancestor == "/") return true;
  return path == ancestor || (path.size() > ancestor.size() && path.substr(0, ancestor.size()) == ancestor &&
                              path[ancestor.size()] == '/');
}

}  // namespace pressure::core
