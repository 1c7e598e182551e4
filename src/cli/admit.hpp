// `pressure admit`: may I start more work here? Exit 0 admit, 1 refuse, with one line why.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct AdmitOptions {
  TargetOptions target;
  std::vector<std::string> conditions;
  bool json = false;
};

CLI::App* add_admit(CLI::App& app, AdmitOptions& options);
int run_admit(const GlobalOptions& global, const AdmitOptions& options);

}  // namespace pressure::cli
