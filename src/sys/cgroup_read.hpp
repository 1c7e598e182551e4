// Reading one group of a CgroupSet (internal to sys).
#pragma once

#include <chrono>
#include <optional>

#include "sys/cgroup_tree.hpp"

namespace pressure::sys {

struct Clocks {
  std::chrono::system_clock::time_point wall;
  std::chrono::steady_clock::time_point steady;
};

class GroupReader {
 public:
  GroupReader(const Io& io, FdBudget& budget, bool memory, bool keep, const std::string& root);
  // The group's files, opened relative to `dirfd` (its directory) and kept within the budget.
  CgroupReading read(CgroupNode& node, int dirfd, const Clocks& now);
  std::size_t files_per_group() const;

 private:
  void keep_files(CgroupNode& node);
  int open_in(CgroupNode& node, int dirfd, Fd& kept, const char* name, Fd& temp, int& err);
  Error vanished(CgroupNode& node, int dirfd, Fd& kept, const std::string& path);
  Result<Pressure> read_pressure(CgroupNode& node, int dirfd, Resource r);
  Result<std::string_view> read_memory_file(CgroupNode& node, int dirfd, std::size_t index);
  Result<CgroupMemoryReading> read_memory(CgroupNode& node, int dirfd);
  std::string file_path(const CgroupNode& node, std::string_view name) const;

  const Io& m_io;
  FdBudget& m_budget;
  bool m_memory;
  bool m_keep;
  const std::string& m_root;
  FileBuffer m_buffer;
  std::array<std::optional<Error>, 4> m_kernel_lacks;
};

}  // namespace pressure::sys
