// `pressure predict`: when will the kernel's averages have decayed below thresholds?
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct PredictOptions {
  TargetOptions target;
  std::string below = "avg10=0.01,avg60=0.03";
  double sample = 1.0;
  bool json = false;
};

CLI::App* add_predict(CLI::App& app, PredictOptions& options);
int run_predict(const GlobalOptions& global, const PredictOptions& options);

}  // namespace pressure::cli
