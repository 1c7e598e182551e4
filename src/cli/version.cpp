#include "cli/version.hpp"

#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <pressure/version.hpp>

#include "exporter/server.hpp"

// Set on pressure_cli_lib by the top-level CMakeLists.txt, which knows whether the Python module
// is part of this build.
#ifndef PRESSURE_WITH_PYTHON
#define PRESSURE_WITH_PYTHON 0
#endif

namespace pressure::cli {

std::string version_line() { return fmt::format("pressure {}", PRESSURE_VERSION_STRING); }

CLI::App* add_version(CLI::App& app, VersionOptions& options) {
  CLI::App* version = app.add_subcommand(
      "version", "the version, and what this build has: platform, daemon, HTTP module, Python module");
  version->add_flag("--json", options.json, "one JSON object instead of lines");
  return version;
}

int run_version(const VersionOptions& options) {
  Version library = version();
#ifdef PRESSURE_HAS_DAEMON
  constexpr bool daemon = true;
#else
  constexpr bool daemon = false;
#endif
  // The HTTP module is loaded (not bound) exactly as `serve` would, so a missing or foreign
  // module shows here with the same sentence.
  Result<void> http = exporter::MetricsServer::load();
  if (options.json) {
    nlohmann::ordered_json j;
    j["version"] = PRESSURE_VERSION_STRING;
    j["library"] = {{"version", library.text}, {"platform", library.platform}};
    j["platform"] = library.platform;
    j["daemon"] = daemon;
    j["http_module"] = http ? nlohmann::ordered_json{{"available", true}}
                            : nlohmann::ordered_json{{"available", false}, {"error", http.error().message()}};
    j["python_module"] = static_cast<bool>(PRESSURE_WITH_PYTHON);
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("{}\n", version_line());
  fmt::print("library        {}\n", library.text);
  fmt::print("platform       {}\n", library.platform);
  fmt::print("daemon         {}\n", daemon ? "yes" : "no (Linux only)");
  fmt::print("http module    {}\n", http ? "yes" : "no: " + http.error().message());
  fmt::print("python module  {}\n",
             PRESSURE_WITH_PYTHON ? "built with this build" : "not built with this build");
  return 0;
}

}  // namespace pressure::cli
