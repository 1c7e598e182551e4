// What `history` and `plot` share: their common options, the period asked for, the history file
// opened with the targets and ticks to look at, and the text of times and durations.
//
//   Result<Period> when = period(options.since, options.until);
//   Recorded rec;
//   if (std::optional<int> code = open_recorded(global, options.db, options.target, *when, rec)) return
//   *code;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <pressure/error.hpp>

#include "cli/common.hpp"
#include "recorder/store.hpp"

namespace pressure::cli {

// A time as local text (strftime's `format`), as epoch seconds to the millisecond; a share as
// percent to 4 decimals; a duration as "1h05m", "2m30s" or "1.5s".
std::string local_time(std::int64_t us, const char* format = "%Y-%m-%d %H:%M:%S");
double epoch_seconds(std::int64_t us);
double percent4(double share);
std::string human_duration(std::int64_t us);

// The db the user named, or the default; the default's directory is created.
Result<std::string> db_path(const std::string& given, bool create_dir);

struct Period {
  std::int64_t since_us, until_us;
};
Result<Period> period(const std::string& since, const std::string& until);

// What `history` and `plot` read: the history file, the period and the target.
void add_recorded_options(CLI::App& cmd, std::string& db, std::string& since, std::string& until,
                          TargetOptions& target);

// What `history` and `plot` look at: the history file, the target asked for (or none), the
// targets chosen and the ticks within the period.
struct Recorded {
  std::string path;
  std::optional<std::string> wanted;
  std::optional<recorder::Store> store;
  std::vector<std::string> targets;
  std::vector<std::int64_t> ticks;
};

// Fills `out`, or says why there is nothing to look at and returns the exit code.
std::optional<int> open_recorded(const GlobalOptions& global, const std::string& db,
                                 const TargetOptions& target, const Period& when, Recorded& out);

}  // namespace pressure::cli
