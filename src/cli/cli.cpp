#include "cli/cli.hpp"

#include <fmt/core.h>

#include "cli/common.hpp"
#include "cli/show.hpp"

namespace pressure::cli {

int run(int argc, char** argv) {
  CLI::App app{"pressure: see resource pressure (Linux PSI, macOS memory level) and act on it", "pressure"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the subcommand too
  GlobalOptions global;
  app.add_option("--proc-root", global.proc_root,
                 "read DIR/pressure/<resource>, DIR/self/mountinfo, ... instead of /proc")
      ->option_text("DIR");
  app.add_option("--cgroup-root", global.cgroup_root,
                 "the cgroup2 mount (default: found from /proc/self/mountinfo)")
      ->option_text("DIR");

  ShowOptions show_options;
  CLI::App* show = add_show(app, show_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "pressure: {}\nRun 'pressure --help' for the commands and flags.\n", e.what());
    return k_exit_usage;
  }
  try {
    if (show->parsed()) return run_show(global, show_options);
  } catch (const std::exception& e) {
    // The library returns errors; this is for what it cannot (out of memory, a bug).
    fmt::print(stderr, "pressure: internal error: {}\n", e.what());
    return k_exit_runtime;
  }
  return k_exit_usage;
}

}  // namespace pressure::cli
