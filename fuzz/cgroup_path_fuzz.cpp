// Any bytes as a user's --cgroup PATH: the result never leaves the mount.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/cgroup_path.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = pressure::core::normalize_cgroup_path(text, "/sys/fs/cgroup");
  if (!path) return 0;
  if (path->empty() || path->front() != '/') std::abort();
  if (path->find("/../") != std::string::npos || path->ends_with("/..") ||
      path->find("//") != std::string::npos)
    std::abort();
  // Idempotent, except where the canonical path itself looks like a path under the mount.
  if (path->starts_with("/sys/fs/cgroup")) return 0;
  auto again = pressure::core::normalize_cgroup_path(*path, "/sys/fs/cgroup");
  if (!again || *again != *path) std::abort();
  return 0;
}
