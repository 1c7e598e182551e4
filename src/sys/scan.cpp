// scan_cgroups: the one-shot convenience over CgroupSet (a set made, updated once, dropped).
#include <pressure/cgroup_set.hpp>
#include <pressure/reader.hpp>

#include "core/cgroup_path.hpp"

namespace pressure {

Result<std::vector<CgroupSnapshot>> scan_cgroups(const std::string& under, ScanOptions scan,
                                                 const ReaderOptions& options) {
  Result<std::string> root = cgroup2_root(options);
  if (!root) return tl::unexpected(root.error());
  Result<std::string> relative = core::normalize_cgroup_path(under, *root);
  if (!relative) return tl::unexpected(relative.error());
  std::vector<CgroupSelector> selectors{CgroupSelector::below(*relative, scan.recursive)};
  if (scan.include_self) selectors.push_back(CgroupSelector::exactly(*relative));
  ReaderOptions found = options;
  found.cgroup_root = *root;
  CgroupSet set(std::move(selectors), CgroupSetOptions{std::move(found), false, 0, false});
  Result<CgroupSet::Reading> reading = set.update();
  if (!reading) return tl::unexpected(reading.error());
  if (const std::optional<Error>& error = (*reading)->selector_errors.front()) return tl::unexpected(*error);
  std::vector<CgroupSnapshot> out;
  out.reserve((*reading)->groups.size());
  for (const CgroupReading& group : (*reading)->groups) out.push_back({group.path, group.snapshot});
  return out;
}

}  // namespace pressure
