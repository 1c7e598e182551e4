// `pressure daemon`: run the rules of a configuration file (see src/daemon).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct DaemonOptions {
  std::string config;
  bool dry_run = false;
  bool check = false;
  std::string log_format;
};

CLI::App* add_daemon(CLI::App& app, DaemonOptions& options);
int run_daemon(const GlobalOptions& global, const DaemonOptions& options);

}  // namespace pressure::cli
