// `pressure show`: the numbers now, or every interval with the stall share over it.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct ShowOptions {
  TargetOptions target;
  bool json = false;
  std::optional<double> interval;
  std::optional<long> count;
};

CLI::App* add_show(CLI::App& app, ShowOptions& options);
int run_show(const GlobalOptions& global, const ShowOptions& options);

}  // namespace pressure::cli
