// `pressure top` on a terminal (ncurses) or, when standard output is not one, as plain text
// blocks every interval. Samples the system and every cgroup (scan_cgroups) into a Model.
#pragma once

#include <atomic>
#include <optional>

#include <pressure/reader.hpp>

namespace pressure::top {

struct TopOptions {
  double interval = 1.0;
  std::optional<long> count;  // plain mode: stop after N blocks
  ReaderOptions reader;
};

// Returns an error when the system cannot be read at all (no PSI) or the terminal cannot be set
// up. `stop` ends it from a signal handler.
Result<void> run_terminal(const TopOptions& options, const std::atomic<bool>& stop);
Result<void> run_plain(const TopOptions& options, const std::atomic<bool>& stop);

}  // namespace pressure::top
