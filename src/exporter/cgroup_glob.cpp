#include "exporter/cgroup_glob.hpp"

#include <fnmatch.h>

namespace pressure::exporter {

namespace {

bool has_wildcard(std::string_view part) { return part.find_first_of("*?[") != std::string_view::npos; }

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Dynamic programming over (glob component, path component): linear in their product, however
// many "**" there are.
bool match_parts(const std::vector<std::string>& glob, const std::vector<std::string_view>& path) {
  std::size_t n = path.size();
  // reach[p]: the glob components so far can consume exactly path[0, p).
  std::vector<char> reach(n + 1, 0);
  reach[0] = 1;
  std::string name;
  for (const std::string& part : glob) {
    std::vector<char> next(n + 1, 0);
    if (part == "**") {
      bool any = false;
      for (std::size_t p = 0; p <= n; ++p) {
        any = any || reach[p] != 0;
        next[p] = any ? 1 : 0;
      }
    } else {
      for (std::size_t p = 0; p < n; ++p) {
        if (reach[p] == 0) continue;
        name.assign(path[p]);
        if (::fnmatch(part.c_str(), name.c_str(), FNM_NOESCAPE) == 0) next[p + 1] = 1;
      }
    }
    reach.swap(next);
  }
  return reach[n] != 0;
}

}  // namespace

std::string CgroupGlob::base() const {
  std::string base;
  for (std::size_t i = 0; i < m_first_wildcard; ++i) base += "/" + m_parts[i];
  return base.empty() ? "/" : base;
}

bool CgroupGlob::recursive() const {
  if (m_parts.size() - m_first_wildcard > 1) return true;
  return !literal() && m_parts.back() == "**";
}

bool CgroupGlob::matches(std::string_view path) const { return match_parts(m_parts, split(path)); }

Result<CgroupGlob> parse_cgroup_glob(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return fail(Errc::invalid_argument, "bad cgroup glob '" + std::string(text) + "': " + why);
  };
  if (text.empty()) return bad("it is empty (use '/' for the root group, '*' for the top-level groups)");
  if (text.find('\0') != std::string_view::npos) return bad("it contains a NUL character");
  CgroupGlob glob;
  glob.m_text = std::string(text);
  for (std::string_view part : split(text)) {
    if (part == "." || part == "..")
      return bad("'" + std::string(part) +
                 "' components are not allowed; paths are relative to the cgroup2 mount");
    if (part != "**" && part.find("**") != std::string_view::npos)
      return bad("'**' must be a whole component, as in 'batch.slice/**'");
    glob.m_parts.emplace_back(part);
  }
  std::size_t globstars = 0;
  for (const std::string& part : glob.m_parts) globstars += part == "**" ? 1 : 0;
  if (globstars > 4) return bad("more than four '**' components");
  glob.m_first_wildcard = glob.m_parts.size();
  for (std::size_t i = 0; i < glob.m_parts.size(); ++i)
    if (has_wildcard(glob.m_parts[i])) {
      glob.m_first_wildcard = i;
      break;
    }
  return glob;
}

}  // namespace pressure::exporter
