// Many cgroups read again and again for the price of reading them: the groups matching some
// selectors, each with its directory and pressure files kept open, refreshed by listing
// directories (opening only new groups, closing removed ones).
//
//   pressure::CgroupSet set({*pressure::parse_cgroup_selector("system.slice/*")});
//   pressure::Result<pressure::CgroupSet::Reading> r = set.update();  // list, open new, read all
//   for (const pressure::CgroupReading& g : (*r)->groups) use(g.path, g.snapshot);
//   auto last = set.latest();   // from another thread: the last finished reading
//
// A group removed between updates is listed in `gone`, never read through its old files as if
// alive (the kernel answers ENODEV, which becomes Errc::gone); one removed and made again under
// the same name is another group (another `id`). File descriptors: one per directory and one per
// pressure (and, with `memory`, memory) file of each group, within a budget (see
// CgroupSetOptions::fd_budget); groups past it are read by opening and closing their files on
// each read, and status() says so.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pressure/error.hpp>
#include <pressure/reader.hpp>
#include <pressure/selector.hpp>
#include <pressure/types.hpp>

namespace pressure {

struct CgroupSetOptions {
  ReaderOptions reader;  // proc root, cgroup2 mount, Io
  // Also keep memory.current and memory.max open and read them (cgroup v2 memory controller).
  bool memory = false;
  // At most this many fds held; 0: derived from RLIMIT_NOFILE, whose soft limit is raised (up to
  // the hard limit) when the groups need more, keeping a quarter of it (at least 64) for the
  // rest of the program.
  std::size_t fd_budget = 0;
  // False: each file is opened, read and closed (one read, as scan_cgroups does: holding a
  // thousand files open costs the kernel a buffer each for nothing).
  bool keep_files = true;
};

struct CgroupMemoryReading {
  std::uint64_t current = 0;         // memory.current, bytes
  std::optional<std::uint64_t> max;  // memory.max; empty for "max" or when unreadable
};

struct CgroupReading {
  std::string path;      // relative to the mount, with a leading '/'
  std::uint64_t id = 0;  // the directory's inode: the cgroup id on cgroupfs
  Result<Snapshot> snapshot;
  // With CgroupSetOptions::memory: the group's memory, or why it cannot be read.
  std::optional<Result<CgroupMemoryReading>> memory;
};

struct CgroupGone {
  std::string path;
  std::uint64_t id = 0;
};

struct CgroupSetReading {
  std::uint64_t generation = 0;       // 1 for the first update
  std::vector<CgroupReading> groups;  // every matching group, sorted by path, each once
  std::vector<CgroupGone> gone;       // groups of the previous reading that are no more
  // Per selector, in order: its base group could not be opened (Errc::not_found for one that
  // does not exist, permission, ...). For a literal selector that is the group itself.
  std::vector<std::optional<Error>> selector_errors;
};

struct CgroupSetStatus {
  std::size_t groups = 0;     // groups matched at the last update
  std::size_t fds = 0;        // descriptors held now
  std::size_t fd_budget = 0;  // the most it will hold
  std::size_t reopened = 0;   // groups read by reopening their files (past the budget)
  // Empty, or a sentence for the user: the budget and what was done about it.
  std::string notice;
};

class CgroupSet {
 public:
  using Reading = std::shared_ptr<const CgroupSetReading>;

  explicit CgroupSet(std::vector<CgroupSelector> selectors, CgroupSetOptions options = {});
  ~CgroupSet();
  CgroupSet(CgroupSet&&) noexcept;
  CgroupSet& operator=(CgroupSet&&) noexcept;

  // Lists the directories again, opens new groups, closes removed ones, reads every group and
  // publishes the reading. Fails only when the cgroup2 mount cannot be found. One thread at a
  // time.
  Result<Reading> update();
  // The last finished reading (empty before the first update). Any thread.
  Reading latest() const;
  // Any thread.
  CgroupSetStatus status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace pressure
