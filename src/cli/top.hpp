// `pressure top`: a live full-screen view of the system's and the cgroups' pressure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct TopOptions {
  double interval = 1.0;
  std::optional<long> count;
  std::vector<std::string> cgroups;  // selectors; empty: every group
};

CLI::App* add_top(CLI::App& app, TopOptions& options);
int run_top(const GlobalOptions& global, const TopOptions& options);

}  // namespace pressure::cli
