// Which cgroups a program looks at: the one glob syntax of serve, record, top and the daemon.
//
//   pressure::Result<pressure::CgroupSelector> s = pressure::parse_cgroup_selector("system.slice/*.service");
//   s->matches("/system.slice/ssh.service") == true       // paths relative to the cgroup2 mount
//   s->matches("/system.slice/a.service/x") == false      // '*' stays within one level
//
// The syntax, written once (README "Cgroup selectors", pressure(1) SELECTORS):
//   - a path relative to the cgroup2 mount, components separated by '/'; a leading '/', empty
//     and "." components change nothing; ".." and NUL are refused; "/" alone is the root group;
//   - within a component, shell wildcards: '*' any characters, '?' one, "[a-z]" / "[!a-z]" a set
//     (fnmatch(3) without escapes: a backslash is a plain character, as in systemd's escaped unit
//     names such as "system-systemd\x2dcryptsetup.slice"; write "[*]" for a literal '*');
//   - "**" as a whole component: any number of levels, none included ("a/**/b" matches "a/b"),
//     except at the end, where it means at least one ("a/**" is everything below a, not a).
// A selector without wildcards names one group.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pressure/error.hpp>

namespace pressure {

class CgroupSelector {
 public:
  // As written by the user.
  const std::string& text() const { return m_text; }
  // The path form: "/a/*" for "a/*", "./a//*/", "/" for the root group.
  std::string canonical() const;
  // No wildcard: one group, read directly (a missing one is worth reporting).
  bool literal() const { return m_first_wildcard == m_parts.size(); }
  // The deepest group every match is at or below: the components before the first wildcard.
  std::string base() const;
  // `path` is relative to the mount with a leading '/' ("/system.slice/ssh.service").
  bool matches(std::string_view path) const;
  // A selector of one component against a bare name (a group's last component or a process's
  // name), as the daemon's prefer and avoid lists use it; false for deeper selectors.
  bool matches_name(std::string_view name) const;

  // Matching one level at a time, for walkers that descend from base(): a set of positions in
  // the selector (a bit each; at most 62 components).
  using State = std::uint64_t;
  // The state at base().
  State start() const;
  // The state after one more component below.
  State step(State state, std::string_view component) const;
  // The path walked so far is a match / a deeper path may still match.
  bool accepts(State state) const;
  bool may_descend(State state) const;

  // A selector for the children (or, `recursive`, every descendant) of the group `path`, whose
  // components are taken literally even when they hold wildcard characters.
  static CgroupSelector below(std::string_view path, bool recursive);
  // The one group `path`, taken literally.
  static CgroupSelector exactly(std::string_view path);

 private:
  friend Result<CgroupSelector> parse_cgroup_selector(std::string_view text);
  State closure(State state) const;
  void finish();  // canonical text, the trailing "**" rule, the first wildcard
  std::string m_text;
  std::vector<std::string> m_parts;  // components; a trailing "**" is stored as "*", "**"
  std::string m_canonical;
  std::size_t m_first_wildcard = 0;
};

// Parses outside input (--cgroup, scope, prefer, avoid). Errc::invalid_argument naming the
// selector and what is wrong: empty, NUL, a ".." component, "**" inside a component, more than
// 62 components.
Result<CgroupSelector> parse_cgroup_selector(std::string_view text);

}  // namespace pressure
