#include "cli/cli.hpp"

#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "cli/admit.hpp"
#include "cli/common.hpp"
#include "cli/daemon.hpp"
#include "cli/predict.hpp"
#include "cli/record.hpp"
#include "cli/serve.hpp"
#include "cli/show.hpp"
#include "cli/top.hpp"
#include "cli/version.hpp"
#include "cli/watch.hpp"
#include "core/printable.hpp"

namespace pressure::cli {

namespace {

// `--exec -- CMD ARGS...` takes the rest of the line, so it is cut off before parsing.
std::vector<std::string> split_exec(int& argc, char** argv) {
  std::vector<std::string> command;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--exec") continue;
    int first = i + 1 < argc && std::string_view(argv[i + 1]) == "--" ? i + 2 : i + 1;
    for (int j = first; j < argc; ++j) command.emplace_back(argv[j]);
    if (command.empty()) command.emplace_back();  // "--exec" with nothing after it
    argc = i;
    break;
  }
  return command;
}

// The first word that is not a flag (nor the value of a global flag) when it names no command:
// "pressure bogus" is told that, instead of CLI11's "A subcommand is required".
std::optional<std::string> unknown_command(int argc, char** argv, const CLI::App& app) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--proc-root" || arg == "--cgroup-root") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
      if (command->get_name() == arg) return std::nullopt;
    return std::string(arg);
  }
  return std::nullopt;
}

// What is wrong with the command line, said once, with where to look.
int report_usage(const CLI::ParseError& e, int argc, char** argv, const CLI::App& app) {
  std::optional<std::string> unknown = unknown_command(argc, argv, app);
  std::string commands;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
    commands += (commands.empty() ? "" : ", ") + command->get_name();
  if (unknown && app.get_subcommands().empty())
    fmt::print(stderr, "pressure: '{}' is not a command; the commands are {}\n", core::printable(*unknown),
               commands);
  else if (app.get_subcommands().empty() && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr)
    fmt::print(stderr, "pressure: a command is required: {}\n", commands);
  else
    fmt::print(stderr, "pressure: {}\n", core::printable(e.what()));
  fmt::print(stderr, "Run 'pressure --help' for the commands and flags.\n");
  return k_exit_usage;
}

void add_global_options(CLI::App& app, GlobalOptions& global) {
  app.add_option("--proc-root", global.proc_root,
                 "read DIR/pressure/<resource>, DIR/self/mountinfo, ... instead of /proc")
      ->option_text("DIR");
  app.add_option("--cgroup-root", global.cgroup_root,
                 "the cgroup2 mount (default: found from /proc/self/mountinfo)")
      ->option_text("DIR");
  app.set_version_flag("--version", version_line(), "print the version and exit (details: pressure version)");
}

}  // namespace

// A table of the commands (their options, then which one runs) that reads best whole.
int run(int argc, char** argv) {
  std::vector<std::string> exec = split_exec(argc, argv);
  CLI::App app{"pressure: see resource pressure (Linux PSI, macOS memory level) and act on it", "pressure"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the subcommand too
  GlobalOptions global;
  add_global_options(app, global);

  ShowOptions show_options;
  CLI::App* show = add_show(app, show_options);
  WatchOptions watch_options;
  CLI::App* watch = add_watch(app, watch_options);
  PredictOptions predict_options;
  CLI::App* predict = add_predict(app, predict_options);
  AdmitOptions admit_options;
  CLI::App* admit = add_admit(app, admit_options);
  DaemonOptions daemon_options;
  CLI::App* daemon = add_daemon(app, daemon_options);
  TopOptions top_options;
  CLI::App* top = add_top(app, top_options);
  RecordOptions record_options;
  CLI::App* record = add_record(app, record_options);
  HistoryOptions history_options;
  CLI::App* history = add_history(app, history_options);
  PlotOptions plot_options;
  CLI::App* plot = add_plot(app, plot_options);
  ServeOptions serve_options;
  CLI::App* serve = add_serve(app, serve_options);
  VersionOptions version_options;
  CLI::App* version = add_version(app, version_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report_usage(e, argc, argv, app);
  }
  if (!exec.empty() && (!watch->parsed() || exec.front().empty())) {
    fmt::print(stderr, "pressure: --exec needs a command after it, and only 'watch' takes it\n");
    return k_exit_usage;
  }
  watch_options.exec = std::move(exec);
  try {
    if (show->parsed()) return run_show(global, show_options);
    if (watch->parsed()) return run_watch(global, watch_options);
    if (predict->parsed()) return run_predict(global, predict_options);
    if (admit->parsed()) return run_admit(global, admit_options);
    if (daemon->parsed()) return run_daemon(global, daemon_options);
    if (top->parsed()) return run_top(global, top_options);
    if (record->parsed()) return run_record(global, record_options);
    if (history->parsed()) return run_history(global, history_options);
    if (plot->parsed()) return run_plot(global, plot_options);
    if (serve->parsed()) return run_serve(global, serve_options);
    if (version->parsed()) return run_version(version_options);
  } catch (const std::exception& e) {
    // The library returns errors; this is for what it cannot (out of memory, a bug).
    fmt::print(stderr, "pressure: internal error: {}\n", e.what());
    return k_exit_runtime;
  }
  return k_exit_usage;
}

}  // namespace pressure::cli
