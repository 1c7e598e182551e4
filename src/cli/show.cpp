#include "cli/show.hpp"

#include <iostream>
#include <thread>

#include <fmt/core.h>

#include "cli/cli.hpp"
#include "cli/format.hpp"

namespace pressure::cli {

CLI::App* add_show(CLI::App& app, ShowOptions& options) {
  CLI::App* show =
      app.add_subcommand("show", "show pressure now, or every interval with the stall share over it");
  options.target.add_to(*show);
  show->add_flag("--json", options.json, "one JSON object per line");
  CLI::Option* interval = show->add_option("--interval", options.interval,
                                           "seconds between samples; each line gets the stall share over it")
                              ->check(seconds_between(0.01, 86400));
  show->add_option("--count", options.count, "stop after N samples (with --interval)")
      ->check(CLI::PositiveNumber)
      ->needs(interval);
  return show;
}

namespace {

void print(const ShowOptions& options, const TargetLabel& label, const Snapshot& snapshot,
           const Snapshot* previous) {
  if (options.json)
    std::cout << json_line(to_json(label, snapshot, previous)) << '\n';
  else
    std::cout << to_table(label, snapshot, previous) << (previous != nullptr ? "\n" : "");
  std::cout.flush();
}

// Resources that failed for a reason other than "not provided" (permission, malformed file):
// shown as missing, reported once each on stderr, and the run ends with exit 4.
int report_resource_errors(const Snapshot& snapshot) {
  int code = k_exit_ok;
  for (const Result<Pressure>& p : snapshot.resources)
    if (!p && p.error().code() != Errc::unavailable) code = report(p.error());
  return code;
}

}  // namespace

int run_show(const GlobalOptions& global, const ShowOptions& options) {
  Reader reader(options.target.target(), global.reader_options());
  Result<Snapshot> first = reader.snapshot();
  if (!first) return report(first.error());
  Result<std::string> where = reader.resolved_path();
  if (!where) return report(where.error());
  TargetLabel label{*where, options.target.pid};

  if (!options.interval) {
    print(options, label, *first, nullptr);
    return report_resource_errors(*first);
  }
  auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(*options.interval));
  auto deadline = first->monotonic;
  Snapshot previous = std::move(*first);
  for (long printed = 0; !options.count || printed < *options.count; ++printed) {
    deadline += period;
    std::this_thread::sleep_until(deadline);
    Result<Snapshot> next = reader.snapshot();
    if (!next) return report(next.error());
    print(options, label, *next, &previous);
    if (int code = report_resource_errors(*next); code != k_exit_ok) return code;
    previous = std::move(*next);
  }
  return k_exit_ok;
}

}  // namespace pressure::cli
