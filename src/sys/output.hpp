// Writing a file that a user named on the command line (`plot -o FILE`), safely.
//
//   Result<void> written = sys::replace_file("chart.svg", svg, {history_path});
//
// Only a regular file is ever written: a device, a FIFO, a socket or a directory is refused, and
// so is any of the program's own inputs (the same file by device and inode, through any link or
// name). The new content goes to a temporary file beside the target and is renamed over it, so a
// reader never sees half a file; an existing target keeps its mode (and, as root, its owner). A
// symbolic link is followed: the file it names is replaced, the link stays.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <pressure/error.hpp>

#include "sys/fd.hpp"

namespace pressure::sys {

// Errors: invalid_argument for a target that must not be written (the message says why and that
// nothing was written); permission or system when the write itself fails (nothing left behind).
Result<void> replace_file(const std::string& path, std::string_view content,
                          const std::vector<std::string>& inputs);

// Opens `path` for writing (created 0644 if missing, never through a final symbolic link) and
// takes an exclusive flock on it without waiting, for a file with one writer at a time (the
// recorder's history). The lock holds while the Fd is open. Errors: permission, or system, whose
// sys_errno() is EWOULDBLOCK when another process holds the lock.
Result<Fd> lock_exclusive(const std::string& path);

// 0 when this process may write `path` (access(W_OK)), else the errno: to name the part that is
// denied before a library tries and says only that it failed.
int write_access(const std::string& path);

}  // namespace pressure::sys
