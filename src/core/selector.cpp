// The cgroup selector: a small automaton over path components, so that matching costs one pass
// over the path however many "**" there are, and a walker can carry its state down a tree.
#include <pressure/selector.hpp>

#include <fnmatch.h>

namespace pressure {

namespace {

constexpr std::size_t k_max_parts = 62;  // positions 0..n in one 64-bit state

bool has_wildcard(std::string_view part) { return part.find_first_of("*?[") != std::string_view::npos; }

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (!part.empty() && part != ".") parts.push_back(part);
    start = slash + 1;
  }
  return parts;
}

bool component_matches(const std::string& pattern, std::string_view name) {
  if (pattern == "*") return true;  // the common case, without copying the name for fnmatch
  if (pattern.find_first_of("*?[") == std::string::npos) return pattern == name;
  return ::fnmatch(pattern.c_str(), std::string(name).c_str(), FNM_NOESCAPE) == 0;
}

// A name taken literally: each wildcard character as a one-character set.
std::string escaped(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '*' || c == '?' || c == '[')
      out += std::string("[") + c + "]";
    else
      out += c;
  }
  return out;
}

constexpr CgroupSelector::State bit(std::size_t i) { return CgroupSelector::State{1} << i; }

}  // namespace

std::string CgroupSelector::canonical() const { return m_canonical; }

std::string CgroupSelector::base() const {
  std::string base;
  for (std::size_t i = 0; i < m_first_wildcard; ++i) base += "/" + m_parts[i];
  return base.empty() ? "/" : base;
}

CgroupSelector::State CgroupSelector::closure(State state) const {
  // "**" may match no level: whoever waits at it also waits at the part after it.
  for (std::size_t i = 0; i < m_parts.size(); ++i)
    if ((state & bit(i)) != 0 && m_parts[i] == "**") state |= bit(i + 1);
  return state;
}

CgroupSelector::State CgroupSelector::start() const { return closure(bit(m_first_wildcard)); }

CgroupSelector::State CgroupSelector::step(State state, std::string_view component) const {
  State next = 0;
  for (std::size_t i = 0; i < m_parts.size(); ++i) {
    if ((state & bit(i)) == 0) continue;
    if (m_parts[i] == "**")
      next |= bit(i);
    else if (component_matches(m_parts[i], component))
      next |= bit(i + 1);
  }
  return closure(next);
}

bool CgroupSelector::accepts(State state) const { return (state & bit(m_parts.size())) != 0; }

bool CgroupSelector::may_descend(State state) const { return (state & (bit(m_parts.size()) - 1)) != 0; }

bool CgroupSelector::matches(std::string_view path) const {
  State state = closure(bit(0));
  for (std::string_view part : split(path)) {
    state = step(state, part);
    if (state == 0) return false;
  }
  return accepts(state);
}

bool CgroupSelector::matches_name(std::string_view name) const {
  return m_parts.size() == 1 && component_matches(m_parts[0], name);
}

void CgroupSelector::finish() {
  m_canonical.clear();
  for (const std::string& part : m_parts) m_canonical += "/" + part;
  if (m_canonical.empty()) m_canonical = "/";
  // "a/**": at least one level below a, that is "a/*/**".
  if (!m_parts.empty() && m_parts.back() == "**") m_parts.insert(m_parts.end() - 1, "*");
  m_first_wildcard = m_parts.size();
  for (std::size_t i = 0; i < m_parts.size(); ++i)
    if (has_wildcard(m_parts[i])) {
      m_first_wildcard = i;
      break;
    }
}

CgroupSelector CgroupSelector::below(std::string_view path, bool recursive) {
  CgroupSelector s;
  for (std::string_view part : split(path)) s.m_parts.push_back(escaped(part));
  s.m_parts.emplace_back(recursive ? "**" : "*");
  s.finish();
  s.m_text = s.m_canonical;
  return s;
}

CgroupSelector CgroupSelector::exactly(std::string_view path) {
  CgroupSelector s;
  for (std::string_view part : split(path)) s.m_parts.push_back(escaped(part));
  s.finish();
  s.m_text = s.m_canonical;
  return s;
}

Result<CgroupSelector> parse_cgroup_selector(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return fail(Errc::invalid_argument, "bad cgroup selector '" + std::string(text) + "': " + why);
  };
  if (text.empty()) return bad("it is empty (use '/' for the root group, '*' for the top-level groups)");
  if (text.find('\0') != std::string_view::npos) return bad("it contains a NUL character");
  CgroupSelector s;
  s.m_text = std::string(text);
  for (std::string_view part : split(text)) {
    if (part == "..") return bad("'..' components are not allowed; paths are relative to the cgroup2 mount");
    if (part != "**" && part.find("**") != std::string_view::npos)
      return bad("'**' must be a whole component, as in 'batch.slice/**'");
    s.m_parts.emplace_back(part);
  }
  if (s.m_parts.size() + 1 > k_max_parts) return bad("more than 61 components");
  s.finish();
  return s;
}

}  // namespace pressure
