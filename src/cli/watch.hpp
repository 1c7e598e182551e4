// `pressure watch`: one line per pressure event from kernel triggers (or polling).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct WatchOptions {
  TargetOptions target;
  std::vector<std::string> specs;
  bool json = false;
  std::optional<long> count;
  std::optional<double> timeout;
  std::string mode = "auto";
  bool strict_window = false;
  bool from_environment = false;  // the service manager's $..._PRESSURE_WATCH first
  std::vector<std::string> exec;  // everything after --exec [--]
};

CLI::App* add_watch(CLI::App& app, WatchOptions& options);
int run_watch(const GlobalOptions& global, const WatchOptions& options);

}  // namespace pressure::cli
