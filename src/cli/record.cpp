#include "cli/record.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/core.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/format.hpp"
#include "cli/recorded.hpp"
#include "core/cgroup_path.hpp"
#include "core/printable.hpp"
#include "recorder/history.hpp"
#include "recorder/plot.hpp"
#include "recorder/recorder.hpp"
#include "recorder/store.hpp"
#include "recorder/time_arg.hpp"
#include "sys/output.hpp"
#include "sys/stop_signals.hpp"

namespace pressure::cli {

using recorder::Store;

std::string default_history_path() {
  if (::geteuid() == 0) return "/var/lib/pressure/history.db";
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/pressure/history.db";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/share/pressure/history.db";
}

// ---- record

CLI::App* add_record(CLI::App& app, RecordOptions& options) {
  CLI::App* cmd =
      app.add_subcommand("record", "sample the system and cgroups every interval into an SQLite history");
  cmd->add_option("--db", options.db, "the history file (default: " + default_history_path() + ")")
      ->option_text("FILE");
  cmd->add_option("--interval", options.interval, "seconds between samples (default 1)")
      ->check(seconds_between(0.01, 86400));
  cmd->add_option("--cgroup", options.cgroups,
                  "cgroups to record: selectors relative to the cgroup2 mount, '*' one level, '**' any "
                  "depth (default '/*', the top-level groups); repeat for more")
      ->option_text("GLOB");
  cmd->add_flag("--no-system", options.no_system, "record only the cgroups, not the whole system");
  cmd->add_option("--retention", options.retention, "delete samples older than this (default 30d)")
      ->option_text("DURATION");
  cmd->add_option("--raw", options.raw, "keep every sample this long, then one per minute (default 24h)")
      ->option_text("DURATION");
  cmd->add_option("--count", options.count, "stop after N samples")->check(CLI::PositiveNumber);
  return cmd;
}

int run_record(const GlobalOptions& global, const RecordOptions& options) {
  // Before anything could start a thread (threads inherit the mask).
  Result<sys::StopSignals> stop = sys::StopSignals::take();
  if (!stop) return report(stop.error());
  recorder::RecordOptions record;
  record.interval = std::chrono::microseconds(static_cast<long long>(std::llround(options.interval * 1e6)));
  record.count = options.count;
  Result<std::chrono::microseconds> retention =
      recorder::parse_duration_arg(options.retention, "--retention");
  if (!retention) return report(retention.error());
  Result<std::chrono::microseconds> raw = recorder::parse_duration_arg(options.raw, "--raw");
  if (!raw) return report(raw.error());
  record.retention.retention = *retention;
  record.retention.raw = *raw;

  recorder::SamplerOptions sampler_options;
  sampler_options.system = !options.no_system;
  sampler_options.reader = global.reader_options();
  sampler_options.cgroups_optional = options.cgroups.empty();  // the default on a system without cgroup2
  if (!options.cgroups.empty()) {
    sampler_options.globs.clear();
    for (const std::string& glob : options.cgroups) {
      Result<CgroupSelector> g = parse_cgroup_selector(glob);
      if (!g) return report(Error(Errc::invalid_argument, "--cgroup: " + g.error().message()));
      sampler_options.globs.push_back(g->canonical());
    }
  }
  sampler_options.on_notice = [](const std::string& notice) {
    fmt::print(stderr, "pressure: record: {}\n", core::printable(notice));
  };
  recorder::TargetSampler sampler(sampler_options);
  // The first sample before the file is touched: no PSI here means nothing to record.
  if (Result<recorder::Tick> first = sampler.sample(); !first) return report(first.error());

  Result<std::string> path = db_path(options.db, true);
  if (!path) return report(path.error());
  Result<Store> store = Store::open(*path, Store::Mode::write);
  if (!store) return report(store.error());

  std::string what = sampler_options.system ? "the system" : "";
  for (const std::string& g : sampler_options.globs) what += (what.empty() ? "cgroups " : ", cgroups ") + g;
  fmt::print(stderr, "pressure: recording {} every {}s into {} (Ctrl-C stops)\n", what, options.interval,
             *path);
  record.on_unreadable = [](const std::string& target, const Error& error) {
    fmt::print(stderr, "pressure: {}: {} (left out of the history while it fails)\n", core::printable(target),
               core::printable(error.message()));
  };
  Result<recorder::RecordStats> stats = recorder::record(*store, sampler, record, stop->stop_requested());
  if (!stats) return report(stats.error());
  return k_exit_ok;
}

// ---- history

CLI::App* add_history(CLI::App& app, HistoryOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "history", "which resource was short, where and when: stall shares from the recorded history");
  add_recorded_options(*cmd, options.db, options.since, options.until, options.target);
  cmd->add_flag("--json", options.json, "one JSON object per target and line");
  cmd->add_flag("--all", options.all, "also the lines that never stalled");
  cmd->add_option("--window", options.window, "length of the worst window reported (default 1m)")
      ->option_text("DURATION");
  cmd->add_option("--above", options.above,
                  "list the stretches when a line stalled at least PCT % of every sample (default 10)")
      ->check(CLI::Range(0.0, 100.0))
      ->option_text("PCT");
  cmd->add_option("--for", options.min_for, "only stretches at least this long (default 0s)")
      ->option_text("DURATION");
  return cmd;
}

namespace {

// What `history` found: each line's summary and its stretches above the threshold, and the order
// to show the lines in (most stalled first).
struct Findings {
  std::vector<recorder::Summary> summaries;
  std::vector<std::vector<recorder::Episode>> stretches;  // per summary, before sorting
  std::vector<std::size_t> order;
};

Result<Findings> find_stalls(Recorded& rec, const Period& when, std::chrono::microseconds window,
                             double above, std::chrono::microseconds min_for) {
  Findings f;
  for (const std::string& target : rec.targets) {  // one target at a time: memory stays small
    Result<std::vector<recorder::Series>> series = rec.store->series(target, when.since_us, when.until_us);
    if (!series) return tl::unexpected(series.error());
    for (const recorder::Series& s : *series) {
      f.summaries.push_back(recorder::summarize(s, window));
      f.stretches.push_back(recorder::episodes(s, above / 100.0, min_for));
    }
  }
  f.order.resize(f.summaries.size());
  for (std::size_t i = 0; i < f.order.size(); ++i) f.order[i] = i;
  std::stable_sort(f.order.begin(), f.order.end(),
                   [&](std::size_t a, std::size_t b) { return f.summaries[a].share > f.summaries[b].share; });
  return f;
}

void print_history_json(const Findings& f, const Recorded& rec) {
  for (std::size_t index : f.order) {
    const recorder::Summary& s = f.summaries[index];
    nlohmann::ordered_json j;
    j["target"] = s.target;
    if (s.target != "system") j["identity"] = identity_json(s.target);
    j["resource"] = to_string(s.resource);
    j["line"] = to_string(s.line);
    j["share"] = percent4(s.share);
    j["stalled_s"] = static_cast<double>(s.stall_us) / 1e6;
    j["covered_s"] = static_cast<double>(s.covered_us) / 1e6;
    j["worst"] = {{"share", percent4(s.worst_share)},
                  {"start", epoch_seconds(s.worst_start_us)},
                  {"end", epoch_seconds(s.worst_end_us)}};
    j["peak"] = {{"share", percent4(s.peak_share)},
                 {"start", epoch_seconds(s.peak_start_us)},
                 {"end", epoch_seconds(s.peak_end_us)}};
    j["max_avg10"] = {{"value", s.max_avg10.value()}, {"time", epoch_seconds(s.max_avg10_us)}};
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const recorder::Episode& e : f.stretches[index])
      list.push_back({{"start", epoch_seconds(e.start_us)},
                      {"end", epoch_seconds(e.end_us)},
                      {"share", percent4(e.share())}});
    j["episodes"] = list;
    j["since"] = epoch_seconds(rec.ticks.front());
    j["until"] = epoch_seconds(rec.ticks.back());
    std::cout << json_line(j) << '\n';
  }
}

// The lines, most stalled first. `shown` are the targets' printable names, `width` their column's.
void print_history_lines(const Findings& f, const Recorded& rec, const std::vector<std::string>& shown,
                         std::size_t width, const std::string& window, bool all) {
  fmt::print("{}  {} to {}  {} samples\n", rec.path, local_time(rec.ticks.front()),
             local_time(rec.ticks.back()), rec.ticks.size());
  fmt::print("{:<{}} {:<8} {:<4} {:>7} {:>9}  {:>7} {:<19}  {:>7} {:<19} {:>9}\n", "TARGET", width,
             "RESOURCE", "LINE", "SHARE", "STALLED", "WORST", window + " FROM", "PEAK", "AT", "MAX AVG10");
  long hidden = 0;
  for (std::size_t index : f.order) {
    const recorder::Summary& s = f.summaries[index];
    if (!all && s.stall_us == 0 && s.max_avg10.hundredths() == 0) {
      ++hidden;
      continue;
    }
    fmt::print("{:<{}} {:<8} {:<4} {:>6.2f}% {:>8.2f}s  {:>6.2f}% {:<19}  {:>6.2f}% {:<19} {:>9}\n",
               shown[index], width, to_string(s.resource), to_string(s.line), s.share * 100.0,
               static_cast<double>(s.stall_us) / 1e6, s.worst_share * 100.0, local_time(s.worst_start_us),
               s.peak_share * 100.0, local_time(s.peak_start_us), format_percent(s.max_avg10));
  }
  if (hidden > 0) fmt::print("({} lines without any stall not shown; --all shows them)\n", hidden);
}

// When: the stretches above the threshold, in time order.
void print_history_when(const Findings& f, const std::vector<std::string>& shown, std::size_t width,
                        const HistoryOptions& options, std::chrono::microseconds min_for) {
  struct When {
    recorder::Episode episode;
    std::size_t summary;
  };
  std::vector<When> all;
  for (std::size_t i = 0; i < f.stretches.size(); ++i)
    for (const recorder::Episode& e : f.stretches[i]) all.push_back({e, i});
  std::stable_sort(all.begin(), all.end(),
                   [](const When& a, const When& b) { return a.episode.start_us < b.episode.start_us; });
  fmt::print("\nWHEN: stalled at least {:g}% of every sample{}\n", options.above,
             min_for.count() > 0 ? " for " + options.min_for + " or more" : std::string());
  if (all.empty()) fmt::print("(never)\n");
  constexpr std::size_t k_most = 20;
  for (std::size_t i = 0; i < all.size() && i < k_most; ++i) {
    const recorder::Summary& s = f.summaries[all[i].summary];
    const recorder::Episode& e = all[i].episode;
    fmt::print("{} to {}  {:>8}  {:<{}} {:<8} {:<4} {:>6.2f}%\n", local_time(e.start_us),
               local_time(e.end_us, "%H:%M:%S"), human_duration(e.end_us - e.start_us), shown[all[i].summary],
               width, to_string(s.resource), to_string(s.line), e.share() * 100.0);
  }
  if (all.size() > k_most)
    fmt::print("({} more; --json lists them all, --above and --for narrow them)\n", all.size() - k_most);
}

}  // namespace

int run_history(const GlobalOptions& global, const HistoryOptions& options) {
  Result<Period> when = period(options.since, options.until);
  if (!when) return report(when.error());
  Result<std::chrono::microseconds> window = recorder::parse_duration_arg(options.window, "--window");
  if (!window) return report(window.error());
  Result<std::chrono::microseconds> min_for = recorder::parse_duration_arg(options.min_for, "--for");
  if (!min_for) return report(min_for.error());
  Recorded rec;
  if (std::optional<int> code = open_recorded(global, options.db, options.target, *when, rec)) return *code;
  Result<Findings> found = find_stalls(rec, *when, *window, options.above, *min_for);
  if (!found) return report(found.error());
  if (options.json) {
    print_history_json(*found, rec);
    return k_exit_ok;
  }
  // Targets are recorded cgroup names, outside text: printed so that none can forge a line.
  std::vector<std::string> shown;
  for (const recorder::Summary& s : found->summaries) shown.push_back(core::printable(s.target));
  std::size_t width = 6;
  for (const std::string& name : shown) width = std::max(width, name.size());
  print_history_lines(*found, rec, shown, width, human_duration(window->count()), options.all);
  print_history_when(*found, shown, width, options, *min_for);
  return k_exit_ok;
}

// ---- plot

CLI::App* add_plot(CLI::App& app, PlotOptions& options) {
  CLI::App* cmd = app.add_subcommand("plot", "draw the recorded stall shares as an SVG chart");
  add_recorded_options(*cmd, options.db, options.since, options.until, options.target);
  cmd->add_option("-o,--output", options.output, "the SVG file to write ('-': standard output)")
      ->required()
      ->option_text("FILE.svg");
  cmd->add_option("--top", options.top,
                  "without a target: the system and the N-1 most stalled cgroups (default 8)")
      ->check(CLI::Range(1L, 50L));
  return cmd;
}

namespace {

// A target's lines resampled for the chart, and the worst bucket of any of them.
struct Ranked {
  std::string target;
  double worst = 0;
  std::vector<recorder::PlotSeries> series;
};

// The targets with samples in the period: the system first, then the most stalled.
Result<std::vector<Ranked>> rank_targets(Recorded& rec, const Period& when) {
  std::vector<Ranked> ranked;
  for (const std::string& target : rec.targets) {
    Result<std::vector<recorder::Series>> series = rec.store->series(target, when.since_us, when.until_us);
    if (!series) return tl::unexpected(series.error());
    Ranked r{target, 0, {}};
    for (const recorder::Series& s : *series) {
      std::vector<double> shares =
          recorder::resample(s, when.since_us, when.until_us, recorder::k_plot_buckets);
      for (double v : shares)
        if (!std::isnan(v)) r.worst = std::max(r.worst, v);
      r.series.push_back({s.target, s.resource, s.line, std::move(shares)});
    }
    if (!r.series.empty()) ranked.push_back(std::move(r));
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if ((a.target == "system") != (b.target == "system")) return a.target == "system";
    return a.worst > b.worst;
  });
  return ranked;
}

}  // namespace

int run_plot(const GlobalOptions& global, const PlotOptions& options) {
  Result<Period> when = period(options.since, options.until);
  if (!when) return report(when.error());
  Recorded rec;
  if (std::optional<int> code = open_recorded(global, options.db, options.target, *when, rec)) return *code;
  // The chart spans what was recorded within the period, not empty space around it.
  when->since_us = rec.ticks.front();
  when->until_us = rec.ticks.back();

  Result<std::vector<Ranked>> ranked = rank_targets(rec, *when);
  if (!ranked) return report(ranked.error());
  if (ranked->empty()) {
    fmt::print(stderr, "pressure: {} has no samples between {} and {}\n", rec.path,
               local_time(when->since_us), local_time(when->until_us));
    return k_exit_negative;
  }
  recorder::PlotData data;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  data.since_us = when->since_us;
  data.until_us = when->until_us;
  std::size_t shown = std::min<std::size_t>(ranked->size(), static_cast<std::size_t>(options.top));
  data.title = rec.wanted.has_value() ? fmt::format("Pressure stall of {} on {}", *rec.wanted, host)
                                      : fmt::format("Pressure stall on {}", host);
  if (ranked->size() > shown)
    data.note = fmt::format("{} more targets with less stall not shown (--top N, or name one with --cgroup)",
                            ranked->size() - shown);
  for (std::size_t i = 0; i < shown; ++i)
    for (recorder::PlotSeries& s : (*ranked)[i].series) data.series.push_back(std::move(s));
  std::string svg = recorder::render_svg(data);

  if (options.output == "-") {
    std::cout << svg;
    return k_exit_ok;
  }
  // Never a device, a FIFO or the history itself; never half a chart (sys/output.hpp).
  std::vector<std::string> inputs = {rec.path, rec.path + "-wal", rec.path + "-shm", rec.path + "-journal"};
  if (Result<void> written = sys::replace_file(options.output, svg, inputs); !written)
    return report(Error(written.error().code(), "-o " + written.error().message(), options.output,
                        written.error().sys_errno()));
  return k_exit_ok;
}

}  // namespace pressure::cli
