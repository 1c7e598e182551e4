#include "cli/top.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include "cli/cli.hpp"
#include "core/printable.hpp"
#include "sys/stop_signals.hpp"
#include "top/screen.hpp"

namespace pressure::cli {

CLI::App* add_top(CLI::App& app, TopOptions& options) {
  CLI::App* top = app.add_subcommand("top",
                                     "live view: the system's pressure and the cgroups under the most "
                                     "pressure (plain text when not a terminal)");
  top->add_option("--interval", options.interval, "seconds between updates (default 1)")
      ->check(seconds_between(0.05, 3600));
  top->add_option("--count", options.count, "when not on a terminal: stop after N updates")
      ->check(CLI::PositiveNumber);
  top->add_option("--cgroup", options.cgroups,
                  "cgroups to show: selectors relative to the cgroup2 mount, '*' one level, '**' any "
                  "depth (default '**', every group); repeat for more")
      ->option_text("SELECTOR");
  top->footer(
      "Keys: c/m/i/r sort by cpu/memory/io/irq, s/f some/full, Tab the next line, / filter by name\n"
      "(Enter keeps it, Esc clears), space or p pause, q quit.");
  return top;
}

int run_top(const GlobalOptions& global, const TopOptions& options) {
  Result<sys::StopSignals> stop = sys::StopSignals::take();
  if (!stop) return report(stop.error());
  top::TopOptions o{options.interval, options.count, global.reader_options(), {}, nullptr};
  o.on_notice = [](const std::string& notice) {
    fmt::print(stderr, "pressure: top: {}\n", core::printable(notice));
  };
  for (const std::string& text : options.cgroups) {
    Result<CgroupSelector> selector = parse_cgroup_selector(text);
    if (!selector) return report(Error(Errc::invalid_argument, "--cgroup: " + selector.error().message()));
    o.cgroups.push_back(std::move(*selector));
  }
  bool terminal = ::isatty(STDOUT_FILENO) == 1 && ::isatty(STDIN_FILENO) == 1;
  Result<void> r =
      terminal ? top::run_terminal(o, stop->stop_requested()) : top::run_plain(o, stop->stop_requested());
  if (!r) return report(r.error());
  return k_exit_ok;
}

}  // namespace pressure::cli
