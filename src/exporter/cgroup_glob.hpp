// Which cgroups the exporter shows: shell globs over paths relative to the cgroup2 mount.
//
//   Result<CgroupGlob> g = parse_cgroup_glob("system.slice/*.service");
//   g->matches("/system.slice/ssh.service") == true
//   "*" is every top-level group, "**" any number of levels ("batch.slice/**"), "/" the root.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <pressure/error.hpp>

namespace pressure::exporter {

class CgroupGlob {
 public:
  const std::string& text() const { return m_text; }
  // No wildcard: one cgroup, read directly (and a missing one is an error worth counting).
  bool literal() const { return m_first_wildcard == m_parts.size(); }
  // The directory below which matches can be: the components before the first wildcard,
  // as a cgroup path ("/", "/system.slice").
  std::string base() const;
  // True when matches can be deeper than the children of base().
  bool recursive() const;
  // `path` is relative to the mount with a leading '/' ("/system.slice/ssh.service").
  bool matches(std::string_view path) const;

 private:
  friend Result<CgroupGlob> parse_cgroup_glob(std::string_view text);
  std::string m_text;
  std::vector<std::string> m_parts;  // components; empty for the root group
  std::size_t m_first_wildcard = 0;
};

// Parses outside input (a --cgroup flag). Errc::invalid_argument naming the glob for an empty
// glob, a "." or ".." component, a NUL, or "**" inside a component.
Result<CgroupGlob> parse_cgroup_glob(std::string_view text);

// The exporter's default: every top-level group.
inline constexpr std::string_view k_default_cgroup_glob = "*";

}  // namespace pressure::exporter
