// `pressure top`: a live full-screen view of the system's and the cgroups' pressure.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct TopOptions {
  double interval = 1.0;
  std::optional<long> count;
};

CLI::App* add_top(CLI::App& app, TopOptions& options);
int run_top(const GlobalOptions& global, const TopOptions& options);

}  // namespace pressure::cli
