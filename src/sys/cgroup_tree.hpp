// The kept-open tree behind CgroupSet (internal to sys): a node per directory the selectors walk
// through, holding its directory fd and, for a matching group, its files; and the fd budget.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pressure/cgroup_set.hpp>
#include <pressure/io.hpp>

#include "sys/fd.hpp"
#include "sys/files.hpp"

namespace pressure::sys {

// How many fds the set may hold, from RLIMIT_NOFILE unless given; raises the soft limit (up to
// the hard one) when more are wanted.
class FdBudget {
 public:
  explicit FdBudget(std::size_t fixed);
  // Whether `more` fds may be taken now (raising the soft limit if that helps); counts them.
  bool take(std::size_t more);
  void give_back(std::size_t n) { m_held -= n; }
  // An open failed with EMFILE or ENFILE: hold no more than now.
  void exhausted();
  std::size_t held() const { return m_held; }
  std::size_t limit() const { return m_limit; }
  std::string notice(std::size_t reopened) const;

 private:
  void from_rlimit();
  bool m_fixed;
  bool m_exhausted = false;
  std::size_t m_limit = 0;
  std::size_t m_held = 0;
  std::uint64_t m_soft = 0, m_hard = 0, m_raised_from = 0;
};

struct CgroupNode {
  std::string path;  // "/a/b"; "/" for the mount itself
  std::string name;  // "b"
  std::uint64_t id = 0;
  const CgroupNode* parent = nullptr;  // null for the mount's own directory
  Fd dir;                              // empty past the budget: opened for each use
  std::array<Fd, 4> files;             // pressure files, kept when files_kept
  std::array<Fd, 2> memory_files;      // memory.current, memory.max
  bool files_kept = false;
  bool files_tried = false;   // the budget was asked for its files once
  std::size_t held = 0;       // fds counted against the budget
  std::uint64_t seen = 0;     // the last update that walked through it
  std::uint64_t matched = 0;  // the last update in which a selector matched it
  std::uint64_t listed = 0;   // the update `entries` was listed in
  std::vector<DirectoryEntry> entries;
  std::map<std::string, std::unique_ptr<CgroupNode>, std::less<>> children;
};

}  // namespace pressure::sys
