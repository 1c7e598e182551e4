// Cgroup paths as users write them, made canonical. Pure string work.
#pragma once

#include <string>
#include <string_view>

#include <pressure/error.hpp>

namespace pressure::core {

// "/a/b" ("/" for the root cgroup) from a path relative to the cgroup2 mount ("a/b", "/a/b")
// or an absolute path under `root` ("/sys/fs/cgroup/a/b"). ".." is refused: it would leave
// the mount. Repeated and trailing slashes and "." are dropped.
Result<std::string> normalize_cgroup_path(std::string_view path, std::string_view root);

// True if the canonical path `path` is `ancestor` or below it ("/a/b" within "/a", not "/ab";
// everything is within "/").
bool cgroup_within(std::string_view path, std::string_view ancestor);

}  // namespace pressure::core
