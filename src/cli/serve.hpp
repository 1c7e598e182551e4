// `pressure serve`: a Prometheus /metrics endpoint for the system and a set of cgroups.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"

namespace pressure::cli {

struct ServeOptions {
  std::string listen;
  std::vector<std::string> cgroups;  // globs relative to the cgroup2 mount; empty: "*"
  bool no_cgroups = false;
  bool no_averages = false;
  bool no_name_labels = false;
};

CLI::App* add_serve(CLI::App& app, ServeOptions& options);
int run_serve(const GlobalOptions& global, const ServeOptions& options);

}  // namespace pressure::cli
