#include "cli/watch.hpp"

#include <cmath>
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <pressure/monitor.hpp>

#include "cli/cli.hpp"
#include "cli/format.hpp"
#include "sys/process.hpp"
#include "sys/stop_signals.hpp"

namespace pressure::cli {
namespace {

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }
double epoch_seconds(std::chrono::system_clock::time_point t) {
  return static_cast<double>(
             std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()) /
         1000.0;
}
double percent(double share) { return std::round(share * 100.0 * 100.0) / 100.0; }

std::string_view kind_name(Event::Kind kind) {
  switch (kind) {
    case Event::Kind::pressure: return "pressure";
    case Event::Kind::gone: return "gone";
    case Event::Kind::error: return "error";
  }
  return "?";
}

// A watch from the environment measures nothing: its events say only that pressure came.
bool measured(const Event& e) { return e.variable.empty(); }
std::string spec_text(const Event& e) {
  return e.spec.window.count() > 0 ? e.spec.to_string() : std::string(to_string(e.spec.resource));
}

std::string event_json(const Event& e) {
  nlohmann::ordered_json j;
  j["time"] = epoch_seconds(e.time);
  j["target"] = e.where;
  j["event"] = kind_name(e.kind);
  j["spec"] = spec_text(e);
  j["resource"] = to_string(e.spec.resource);
  j["line"] = to_string(e.spec.line);
  j["stall_us"] = e.spec.stall.count();
  j["window_us"] = e.spec.window.count();
  j["observed_stall_us"] = e.observed_stall_us;
  j["observed_window_us"] = std::chrono::duration_cast<std::chrono::microseconds>(e.observed_span).count();
  j["share"] = percent(e.share);
  if (!measured(e)) {  // absent, not zero
    for (const char* key : {"observed_stall_us", "observed_window_us", "share"}) j[key] = nullptr;
    j["variable"] = e.variable;
  }
  j["mode"] = to_string(e.mode);
  if (e.error) j["message"] = e.error->message();
  return json_line(j);
}

std::string event_line(const Event& e) {
  std::string when = format_time(e.time);
  if (e.kind != Event::Kind::pressure)  // gone, or unreadable (e.g. its PSI switched off)
    return fmt::format("{}  {}  {}  {}: {}", when, e.where, spec_text(e), kind_name(e.kind),
                       e.error ? e.error->message() : "");
  if (!measured(e))
    return fmt::format("{}  {}  {}  pressure signalled (${}, {})", when, e.where, spec_text(e), e.variable,
                       to_string(e.mode));
  return fmt::format("{}  {}  {}  stalled {:.2f}% of the last {:.2f}s ({})", when, e.where,
                     e.spec.to_string(), e.share * 100.0, seconds(e.observed_span), to_string(e.mode));
}

std::vector<std::pair<std::string, std::string>> event_environment(const Event& e) {
  std::vector<std::pair<std::string, std::string>> vars{
      {"PRESSURE_EVENT", std::string(kind_name(e.kind))},
      {"PRESSURE_TARGET", e.where},
      {"PRESSURE_RESOURCE", std::string(to_string(e.spec.resource))},
      {"PRESSURE_LINE", std::string(to_string(e.spec.line))},
      {"PRESSURE_SPEC", e.spec.to_string()},
      {"PRESSURE_STALL_US", std::to_string(e.spec.stall.count())},
      {"PRESSURE_WINDOW_US", std::to_string(e.spec.window.count())},
      {"PRESSURE_OBSERVED_STALL_US", std::to_string(e.observed_stall_us)},
      {"PRESSURE_OBSERVED_WINDOW_US",
       std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(e.observed_span).count())},
      {"PRESSURE_SHARE", fmt::format("{:.2f}", e.share * 100.0)},
      {"PRESSURE_TIME", fmt::format("{:.3f}", epoch_seconds(e.time))},
      {"PRESSURE_MODE", std::string(to_string(e.mode))},
      {"PRESSURE_VARIABLE", e.variable},
  };
  if (!measured(e))  // absent, not zero
    for (auto& [name, value] : vars)
      if (name.starts_with("PRESSURE_OBSERVED_") || name == "PRESSURE_SHARE") value.clear();
  return vars;
}

// Arms what $MEMORY/CPU/IO_PRESSURE_WATCH ask for and drops the SPECs of the resources they
// decide (set to a watch or to /dev/null). How many watches it armed, or why it could not.
Result<int> arm_from_environment(Monitor& monitor, const Monitor::Callback& on_event,
                                 std::vector<TriggerSpec>& specs) {
  int armed = 0;
  for (Resource resource : {Resource::memory, Resource::cpu, Resource::io}) {
    Result<EnvironmentWatch> request = environment_watch(resource);
    if (!request) return tl::unexpected(request.error());
    if (request->state == EnvironmentWatch::State::unset) continue;
    std::erase_if(specs, [&](const TriggerSpec& s) { return s.resource == resource; });
    if (request->state == EnvironmentWatch::State::disabled) {
      fmt::print(stderr, "pressure: notice: ${} is /dev/null: not watching {} pressure\n",
                 watch_variable(resource), to_string(resource));
      continue;
    }
    Result<WatchInfo> info = monitor.add(*request, on_event);
    if (!info) return tl::unexpected(info.error());
    ++armed;
  }
  return armed;
}

}  // namespace

CLI::App* add_watch(CLI::App& app, WatchOptions& options) {
  CLI::App* watch =
      app.add_subcommand("watch", "print a line each time a stall threshold is crossed (PSI triggers)");
  options.target.add_to(*watch);
  watch->add_option("spec", options.specs,
                    "\"<resource> <some|full> <stall>/<window>\", e.g. \"memory full 100ms/2s\"");
  watch->add_flag(
      "--from-environment", options.from_environment,
      "watch what the service manager asks for in $MEMORY_PRESSURE_WATCH, $CPU_PRESSURE_WATCH and "
      "$IO_PRESSURE_WATCH (systemd's MemoryPressureWatch=); SPECs are the default for the others");
  watch->add_flag("--json", options.json, "one JSON object per event");
  watch->add_option("--count", options.count, "exit 0 after N events")->check(CLI::PositiveNumber);
  watch->add_option("--timeout", options.timeout, "stop after SECONDS; exit 1 if no event came")
      ->check(seconds_between(0.001, 31'536'000));  // a year
  watch->add_option("--mode", options.mode, "auto (kernel trigger, else polling), kernel, or polling")
      ->check(CLI::IsMember({"auto", "kernel", "polling"}));
  watch->add_flag(
      "--strict-window", options.strict_window,
      "refuse a window the kernel will not take unprivileged, instead of rounding it up to 2s steps");
  watch->footer(
      "--exec -- CMD ARGS...  runs CMD (no shell) on each event, with PRESSURE_TARGET, PRESSURE_RESOURCE,\n"
      "  PRESSURE_LINE, PRESSURE_STALL_US, PRESSURE_WINDOW_US, PRESSURE_OBSERVED_STALL_US, PRESSURE_SHARE,\n"
      "  PRESSURE_TIME, PRESSURE_MODE, PRESSURE_EVENT and PRESSURE_VARIABLE in its environment. It must come "
      "last.");
  return watch;
}

namespace {

// The watches asked for: from the environment (systemd's $*_PRESSURE_WATCH), and the specs given
// (less those of the resources the environment decides).
Result<void> arm_watches(Monitor& monitor, const Monitor::Callback& on_event, std::vector<TriggerSpec>& specs,
                         const WatchOptions& options) {
  TriggerOptions trigger_options;
  trigger_options.mode = options.mode == "kernel"    ? TriggerMode::kernel
                         : options.mode == "polling" ? TriggerMode::polling
                                                     : TriggerMode::automatic;
  trigger_options.window_policy = options.strict_window ? WindowPolicy::refuse : WindowPolicy::round_up;
  if (options.from_environment) {
    Result<int> armed = arm_from_environment(monitor, on_event, specs);
    if (!armed) return tl::unexpected(armed.error());
    if (*armed == 0 && specs.empty())
      return fail(Errc::invalid_argument,
                  "--from-environment: nothing to watch (none of $MEMORY_PRESSURE_WATCH, "
                  "$CPU_PRESSURE_WATCH, $IO_PRESSURE_WATCH names a watch, and no SPEC is left for "
                  "the resources they leave unset)");
  } else if (specs.empty()) {
    return fail(Errc::invalid_argument, "watch: give at least one spec, or --from-environment");
  }
  for (const TriggerSpec& spec : specs) {
    Result<WatchInfo> info = monitor.add(options.target.target(), spec, on_event, trigger_options);
    if (!info) return tl::unexpected(info.error());
    if (!info->notice.empty()) fmt::print(stderr, "pressure: notice: {}\n", info->notice);
  }
  return {};
}

}  // namespace

int run_watch(const GlobalOptions& global, const WatchOptions& options) {
  std::vector<TriggerSpec> specs;
  for (const std::string& text : options.specs) {
    Result<TriggerSpec> spec = parse_trigger_spec(text);
    if (!spec) return report(spec.error());
    specs.push_back(*spec);
  }

  // Before the Monitor, which may start threads (they inherit the mask).
  Result<sys::StopSignals> stop = sys::StopSignals::take();
  if (!stop) return report(stop.error());
  Monitor monitor(global.reader_options());
  long events = 0;
  int code = k_exit_ok;
  bool timed_out = false;
  auto on_event = [&](const Event& e) {
    std::cout << (options.json ? event_json(e) : event_line(e)) << '\n' << std::flush;
    if (e.kind != Event::Kind::pressure) {  // the watch ended: gone, or unreadable
      code = e.error ? report(*e.error) : k_exit_runtime;
      monitor.stop();
      return;
    }
    ++events;
    if (!options.exec.empty()) {
      Result<int> status = sys::run_command(options.exec, event_environment(e));
      if (!status) {
        code = report(status.error());
        monitor.stop();
        return;
      }
    }
    if (options.count && events >= *options.count) monitor.stop();
  };
  if (Result<void> armed = arm_watches(monitor, on_event, specs, options); !armed)
    return report(armed.error());
  if (options.timeout) {
    auto after =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(*options.timeout));
    Result<TimerId> timer = monitor.add_timer(after, [&] {
      timed_out = true;
      monitor.stop();
    });
    if (!timer) return report(timer.error());
  }
  Result<FdWatchId> stop_watch = monitor.add_fd(stop->fd(), [&] {
    if (stop->next() != 0) monitor.stop();
  });
  if (!stop_watch) return report(stop_watch.error());
  Result<void> ran = monitor.run();
  if (!ran) return report(ran.error());
  if (code != k_exit_ok) return code;
  return timed_out && events == 0 ? k_exit_negative : k_exit_ok;
}

}  // namespace pressure::cli
