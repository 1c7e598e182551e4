#include "cli/daemon.hpp"

#include <fmt/core.h>

#include "core/exit_code.hpp"

#ifdef PRESSURE_HAS_DAEMON
#include "daemon/daemon.hpp"
#endif

namespace pressure::cli {

CLI::App* add_daemon(CLI::App& app, DaemonOptions& options) {
  CLI::App* daemon = app.add_subcommand(
      "daemon",
      "run the rules of a TOML file: kill, signal, exec, memory-high, notify or log under pressure");
  daemon->add_option("--config", options.config, "the rules (TOML); see packaging/daemon.toml")
      ->option_text("FILE")
      ->required();
  daemon->add_flag("--dry-run", options.dry_run, "log every decision exactly, act on nothing");
  daemon->add_flag("--check", options.check,
                   "validate the file as start-up does (parse, resolve targets, arm triggers), then exit");
  daemon->add_option("--log-format", options.log_format, "text (journal priority prefixes) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return daemon;
}

int run_daemon(const GlobalOptions& global, const DaemonOptions& options) {
#ifdef PRESSURE_HAS_DAEMON
  daemon::Options o;
  o.config_path = options.config;
  o.dry_run = options.dry_run;
  o.check = options.check;
  if (options.log_format == "json") o.log_format = daemon::LogFormat::json;
  if (options.log_format == "text") o.log_format = daemon::LogFormat::text;
  o.reader = global.reader_options();
  return daemon::run(o);
#else
  (void)global;
  (void)options;
  fmt::print(stderr, "pressure: the daemon needs Linux (PSI triggers, cgroups, pidfds)\n");
  return core::k_exit_unsupported;
#endif
}

}  // namespace pressure::cli
