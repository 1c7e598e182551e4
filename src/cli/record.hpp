// `pressure record`, `pressure history`, `pressure plot`: PSI recorded to SQLite, questions
// about it, and a chart of it (the library is src/recorder).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

// $XDG_DATA_HOME/pressure/history.db (~/.local/share/...), or /var/lib/pressure/history.db as root.
std::string default_history_path();

struct RecordOptions {
  std::string db;
  double interval = 1.0;
  std::vector<std::string> cgroups;  // globs; default "/*"
  bool no_system = false;
  std::string retention = "30d";
  std::string raw = "24h";
  std::optional<long> count;
};
CLI::App* add_record(CLI::App& app, RecordOptions& options);
int run_record(const GlobalOptions& global, const RecordOptions& options);

struct HistoryOptions {
  std::string db;
  std::string since = "-1h";
  std::string until = "now";
  TargetOptions target;
  bool json = false;
  bool all = false;
  std::string window = "1m";
  double above = 10.0;         // percent: episodes stalled at least this
  std::string min_for = "0s";  // and at least this long
};
CLI::App* add_history(CLI::App& app, HistoryOptions& options);
int run_history(const GlobalOptions& global, const HistoryOptions& options);

struct PlotOptions {
  std::string db;
  std::string since = "-1h";
  std::string until = "now";
  TargetOptions target;
  std::string output;
  long top = 8;
};
CLI::App* add_plot(CLI::App& app, PlotOptions& options);
int run_plot(const GlobalOptions& global, const PlotOptions& options);

}  // namespace pressure::cli
