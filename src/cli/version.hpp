// `pressure --version` and `pressure version [--json]`: the one version number, and what this
// build has (platform, daemon, HTTP module, Python module).
#pragma once

#include <CLI/CLI.hpp>

namespace pressure::cli {

struct VersionOptions {
  bool json = false;
};

// "pressure 0.1.0": what --version prints.
std::string version_line();
CLI::App* add_version(CLI::App& app, VersionOptions& options);
int run_version(const VersionOptions& options);

}  // namespace pressure::cli
