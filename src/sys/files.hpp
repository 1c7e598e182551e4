// Reading pressure files: the one place that turns errno into the library's errors.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include <pressure/error.hpp>
#include <pressure/io.hpp>
#include <pressure/types.hpp>

#include "sys/fd.hpp"

namespace pressure::sys {

// Where a pressure file lives, for naming files and wording errors.
enum class Scope { system, cgroup };

// "cpu" under /proc/pressure, "cpu.pressure" in a cgroup directory.
std::string_view file_name(Scope scope, Resource resource);

// Opens `name` relative to `dirfd`: an fd, or the Error a caller should keep for it.
Result<Fd> open_file(const Io& io, int dirfd, const std::string& path, Scope scope, Resource resource);
// The Error for a pressure file at `path` that failed to open with `err`.
Error open_file_error(int err, const std::string& path, Scope scope, Resource resource);

// Reads a small kernel file from offset 0. A short read means end of file: seq_file fills the
// buffer while data remains, so one pread is one read.
class FileBuffer {
 public:
  // The whole file, or -errno.
  long read(const Io& io, int fd);
  std::string_view text() const {
    return m_large.empty() ? std::string_view(m_small.data(), m_size) : m_large;
  }

 private:
  std::array<char, 1024> m_small{};
  std::size_t m_size = 0;
  std::string m_large;
};

// The Error for a failed read of a pressure file (-errno in `result`).
Error read_error(int err, const std::string& path, Scope scope, Resource resource);

// The Error for a path that cannot be opened.
Error open_error(int err, const std::string& path, std::string_view what);

std::string errno_text(int err);

// The directory of cgroup `relative` ("/a/b", "/") under the mount `root`.
std::string cgroup_directory(const std::string& root, const std::string& relative);

// The one error that stands for a whole snapshot, if any: `gone` if a resource found the cgroup
// removed, `unsupported` if no resource is provided, the first real error if none was read.
Result<void> check_snapshot(const Snapshot& snapshot, Scope scope, const std::string& where);

}  // namespace pressure::sys
