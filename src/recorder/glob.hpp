// `record --cgroup GLOB` as users write it, made canonical. Pure string work.
#pragma once

#include <string>
#include <string_view>

#include <pressure/error.hpp>

namespace pressure::recorder {

// "/a/*" from "a/*", "/a//*/", "./a/*": a leading '/', no empty or "." parts, no trailing '/'
// ("/" for the root group). ".." is refused (it would leave the cgroup2 mount).
Result<std::string> normalize_glob(std::string_view glob);

}  // namespace pressure::recorder
