// The one reader of small kernel files (cgroup, proc) for sys: through the Io seam, whole, and
// with errno turned into the library's errors in one place.
#include "sys/small_file.hpp"

#include <cerrno>

#include <fcntl.h>

#include "sys/fd.hpp"
#include "sys/files.hpp"

namespace pressure::sys {

Result<std::string> read_small_file(const std::string& path, const Io& io) {
  int fd = io.open_at(AT_FDCWD, path.c_str(), O_RDONLY);
  if (fd < 0) {
    int err = -fd;
    if (err == ENOENT || err == ESRCH) return fail(Errc::not_found, path + " does not exist", path, err);
    return tl::unexpected(open_error(err, path, "it"));
  }
  Fd owned(&io, fd);
  std::string text;
  char buf[4096];
  for (;;) {
    long n = io.pread(fd, buf, sizeof buf, static_cast<long>(text.size()));
    if (n == -EINTR) continue;
    if (n < 0) {
      int err = static_cast<int>(-n);
      if (err == ENODEV || err == ESRCH) return fail(Errc::gone, path + " is gone", path, err);
      return fail(Errc::system, "cannot read " + path + ": " + errno_text(err), path, err);
    }
    if (n == 0 || text.size() > (4U << 20)) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

std::optional<std::uint64_t> parse_u64(std::string_view v) {
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace pressure::sys
