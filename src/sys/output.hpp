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

namespace pressure::sys {

// Errors: invalid_argument for a target that must not be written (the message says why and that
// nothing was written); permission or system when the write itself fails (nothing left behind).
Result<void> replace_file(const std::string& path, std::string_view content,
                          const std::vector<std::string>& inputs);

}  // namespace pressure::sys
