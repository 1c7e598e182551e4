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

bool match_parts(const std::vector<std::string>& glob, std::size_t g,
                 const std::vector<std::string_view>& path, std::size_t p) {
  if (g == glob.size()) return p == path.size();
  if (glob[g] == "**") {
    for (std::size_t skip = p; skip <= path.size(); ++skip)
      if (match_parts(glob, g + 1, path, skip)) return true;
    return false;
  }
  if (p == path.size()) return false;
  std::string name(path[p]);
  if (::fnmatch(glob[g].c_str(), name.c_str(), 0) != 0) return false;
  return match_parts(glob, g + 1, path, p + 1);
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

bool CgroupGlob::matches(std::string_view path) const { return match_parts(m_parts, 0, split(path), 0); }

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
