#include "recorder/glob.hpp"

namespace pressure::recorder {

Result<std::string> normalize_glob(std::string_view glob) {
  if (glob.find('\0') != std::string_view::npos)
    return fail(Errc::invalid_argument, "--cgroup: the glob contains a NUL byte");
  std::string out;
  std::size_t pos = 0;
  while (pos <= glob.size()) {
    std::size_t slash = glob.find('/', pos);
    std::string_view part =
        glob.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (part == "..")
      return fail(Errc::invalid_argument,
                  "--cgroup '" + std::string(glob) + "': '..' would leave the cgroup2 mount");
    if (!part.empty() && part != ".") out += "/" + std::string(part);
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (out.empty()) out = "/";
  return out;
}

}  // namespace pressure::recorder
