// `pressure top` on a terminal (ncurses) or, when standard output is not one, as plain text
// blocks every interval. Samples the system and the selected cgroups (a CgroupSet, kept open
// between intervals) into a Model.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include <pressure/reader.hpp>
#include <pressure/selector.hpp>

namespace pressure::top {

struct TopOptions {
  double interval = 1.0;
  std::optional<long> count;  // plain mode: stop after N blocks
  ReaderOptions reader;
  std::vector<CgroupSelector> cgroups;  // empty: every group ("**")
  // Told once when the groups outgrow the fd budget (on a terminal, after the screen is closed).
  std::function<void(const std::string&)> on_notice;
};

// Returns an error when the system cannot be read at all (no PSI) or the terminal cannot be set
// up. `stop` ends it from a signal handler.
Result<void> run_terminal(const TopOptions& options, const std::atomic<bool>& stop);
Result<void> run_plain(const TopOptions& options, const std::atomic<bool>& stop);

}  // namespace pressure::top
