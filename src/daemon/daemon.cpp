#include "daemon/daemon.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>

#include <pressure/cgroup_identity.hpp>
#include <pressure/monitor.hpp>

#include <pressure/selector.hpp>
#include "core/exit_code.hpp"
#include "core/printable.hpp"
#include "daemon/preflight.hpp"
#include "exporter/exporter.hpp"
#include "exporter/metrics.hpp"
#include "exporter/server.hpp"
#include "sys/control.hpp"
#include "sys/protect.hpp"
#include "sys/stop_signals.hpp"

namespace pressure::daemon {
namespace {

using core::k_exit_ok;
using core::k_exit_runtime;
constexpr int k_exit_config = core::k_exit_usage;

int exit_code_for(const Error& e) { return core::exit_code(e.code(), core::Stage::configuration); }

void log_line(const std::string& line) {
  std::fputs((line + "\n").c_str(), stderr);
  std::fflush(stderr);
}

// A text line that carries outside text (paths, rule and group names): escaped, so no name can
// start a line of its own that reads like one of ours.
void log_message(const std::string& line) { log_line(core::printable(line)); }

void log_text(int priority, const std::string& message, LogFormat format) {
  if (format == LogFormat::json) {
    double t = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", t);
    log_line("{\"priority\":" + std::to_string(priority) + ",\"time\":" + buf +
             ",\"message\":" + policy::json_string(message) + "}");
  } else {
    log_message("<" + std::to_string(priority) + ">pressure: " + message);
  }
}

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// When memory runs out the daemon must still run: its code and data stay resident (a page it
// had to read back from disk would cost it the seconds it is there to save), and the kernel's
// OOM killer passes it by. Neither is required: without them it runs, and says so.
void protect_self(LogFormat format, bool realtime) {
  Result<sys::OwnMemory> before = sys::own_memory();
  Result<sys::MemoryLock> locked = sys::lock_memory();
  Result<sys::OwnMemory> after = sys::own_memory();
  if (!locked) {
    log_text(5, "running with memory that can be paged out: " + locked.error().message(), format);
  } else {
    std::string sizes = before && after
                            ? ": resident " + mib(before->resident) + " before, " + mib(after->resident) +
                                  " after, " + mib(after->locked) + " locked"
                            : "";
    log_text(
        6,
        std::string(*locked == sys::MemoryLock::all
                        ? "memory locked (pages mapped later are locked as they are touched)"
                        : "memory mapped now locked; later mappings are not, as RLIMIT_MEMLOCK is finite "
                          "and CAP_IPC_LOCK is missing") +
            sizes,
        format);
  }
  if (realtime) {
    if (Result<void> rt = sys::run_in_real_time(); !rt)
      log_text(5, "the event loop runs as a normal task: " + rt.error().message(), format);
    else
      log_text(6, "the event loop runs in real time (SCHED_FIFO 1); threads and commands it starts do not",
               format);
  }
  Result<int> adj = sys::shield_from_oom_killer();
  if (!adj)
    log_text(5, "the kernel's OOM killer may choose the daemon: " + adj.error().message(), format);
  else if (*adj != -1000)
    log_text(6, "oom_score_adj " + std::to_string(*adj) + " kept, as set when the daemon was started",
             format);
}

// {"kind":...,"name":...,...}: the victim group's identity, the keys of `show --json`.
std::string identity_json(const CgroupIdentity& id) {
  std::string out = "{";
  for (auto [key, value] : identity_fields(id))
    out += (out.size() > 1 ? "," : "") + policy::json_string(key) + ":" + policy::json_string(value);
  if (id.conmon) out += ",\"conmon\":true";
  return out + "}";
}

std::string rules_summary(const Config& c) {
  return std::to_string(c.rules.size()) + " rule" + (c.rules.size() == 1 ? "" : "s") + " from " + c.path;
}

}  // namespace

std::string format_decision(const policy::Decision& d, LogFormat format) {
  int priority = static_cast<int>(d.severity);
  if (format == LogFormat::json) {
    double t = std::chrono::duration<double>(d.time.time_since_epoch()).count();
    char time_buf[64], share_buf[32];
    std::snprintf(time_buf, sizeof time_buf, "%.3f", t);
    std::snprintf(share_buf, sizeof share_buf, "%.4f", d.share);
    std::string out = "{\"priority\":" + std::to_string(priority) + ",\"time\":" + time_buf +
                      ",\"rule\":" + policy::json_string(d.rule) +
                      ",\"target\":" + policy::json_string(d.where) +
                      ",\"what\":" + policy::json_string(d.what);
    if (!d.victim.empty()) out += ",\"victim\":" + policy::json_string(d.victim);
    if (d.victim.starts_with('/')) out += ",\"victim_identity\":" + identity_json(identify_cgroup(d.victim));
    if (!d.measured.empty())
      out += ",\"measured\":" + policy::json_string(d.measured) + ",\"share\":" + share_buf;
    if (!d.result.empty()) out += ",\"result\":" + policy::json_string(d.result);
    out += ",\"dry_run\":" + std::string(d.dry_run ? "true" : "false") +
           ",\"message\":" + policy::json_string(d.detail) + "}";
    return out;
  }
  std::string out = "<" + std::to_string(priority) + ">pressure: rule '" + core::printable(d.rule) + "' on " +
                    core::printable(d.where) + ": " + core::printable(d.what);
  if (d.dry_run && (d.result == "dry-run")) out += " [dry-run]";
  if (!d.detail.empty()) out += ": " + core::printable(d.detail);
  // The victim as people know it, where its path says more than the path itself.
  if (CgroupIdentity id = identify_cgroup(d.victim);
      d.victim.starts_with('/') && id.kind != CgroupKind::other)
    out += " [" + core::printable(id.name) + "]";
  return out;
}

// The file, then what it needs of this machine: the same for --check, the start and reloads.
Result<Config> load_and_check(const std::string& path) {
  Result<Config> config = load_config(path);
  if (!config) return config;
  if (Result<void> ready = preflight(*config); !ready) return tl::unexpected(ready.error());
  return config;
}

namespace {

// What one run of the daemon holds: the configuration, the loop, the actuator, the engine of the
// rules now running, and the metrics server. The functions below each do one of its jobs.
struct Run {
  Run(const Options& o, Config c)
      : options(o),
        config(std::move(c)),
        format(o.log_format.value_or(config.log_format)),
        dry_run(o.dry_run || o.check),
        monitor(o.reader) {}

  const Options& options;
  Config config;
  LogFormat format;
  bool dry_run;
  Monitor monitor;
  std::unique_ptr<policy::Actuator> actuator;
  policy::EngineOptions engine_options;
  std::unique_ptr<policy::Engine> engine;
  std::atomic<std::size_t> rules_armed{0};
  std::atomic<std::uint64_t> reloads_ok{0}, reloads_failed{0};
  std::unique_ptr<exporter::Exporter> metrics;
  std::optional<exporter::MetricsServer> server;

  void log(int priority, const std::string& message) const { log_text(priority, message, format); }
};

// The daemon's own series, after those of `pressure serve`.
void render_daemon_metrics(std::string& out, const policy::Counters& counters, const Run& run) {
  out +=
      "# HELP pressure_daemon_actions_total Decisions of the daemon's rules, by rule, action and "
      "result.\n"
      "# TYPE pressure_daemon_actions_total counter\n";
  for (const auto& [key, n] : counters.snapshot()) {
    const auto& [rule, action, result] = key;
    out += "pressure_daemon_actions_total{rule=\"";
    exporter::append_label_value(out, rule);
    out += "\",action=\"";
    exporter::append_label_value(out, action);
    out += "\",result=\"";
    exporter::append_label_value(out, result);
    out += "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP pressure_daemon_rules Rules the daemon runs.\n# TYPE pressure_daemon_rules gauge\n";
  out += "pressure_daemon_rules " + std::to_string(run.rules_armed.load()) + "\n";
  out +=
      "# HELP pressure_daemon_rule_armed Whether the rule is armed (1) or disarmed, e.g. waiting for its "
      "removed target cgroup to come back (0).\n"
      "# TYPE pressure_daemon_rule_armed gauge\n";
  for (const auto& [rule, armed] : counters.armed()) {
    out += "pressure_daemon_rule_armed{rule=\"";
    exporter::append_label_value(out, rule);
    out += "\"} " + std::string(armed ? "1" : "0") + "\n";
  }
  out +=
      "# HELP pressure_daemon_reloads_total Reloads of the configuration (SIGHUP), by result.\n"
      "# TYPE pressure_daemon_reloads_total counter\n";
  out += "pressure_daemon_reloads_total{result=\"ok\"} " + std::to_string(run.reloads_ok.load()) + "\n";
  out +=
      "pressure_daemon_reloads_total{result=\"failed\"} " + std::to_string(run.reloads_failed.load()) + "\n";
}

// The actuator (a dry run's acts on nothing) and the engine with the file's rules armed.
std::optional<int> start_engine(Run& run) {
  run.actuator = run.dry_run ? std::make_unique<policy::DryRunActuator>()
                             : policy::real_actuator(run.monitor, run.options.reader.proc_root);
  run.engine_options.reader = run.options.reader;
  run.engine_options.idle_poll = run.config.idle_poll;
  run.engine_options.carryover = std::make_shared<policy::Carryover>();
  run.engine_options.report = [&run, quiet_arming = run.options.check](const policy::Decision& d) {
    if (quiet_arming && d.what == "armed") return;
    log_line(format_decision(d, run.format));
  };
  run.engine = std::make_unique<policy::Engine>(run.monitor, *run.actuator, run.engine_options);
  if (Result<void> started = run.engine->start(run.config.rules); !started) {
    log_message("pressure daemon: " + run.config.path + ": " + started.error().message());
    return exit_code_for(started.error());
  }
  run.rules_armed = run.config.rules.size();
  return std::nullopt;
}

// /metrics, as `pressure serve` gives it, plus the daemon's own counters.
std::optional<int> start_metrics(Run& run) {
  exporter::ExporterOptions exporter_options;
  exporter_options.reader = run.options.reader;
  exporter_options.names = run.config.metrics_names;
  if (!run.config.metrics_cgroups.empty()) {
    exporter_options.cgroups.clear();
    for (const std::string& g : run.config.metrics_cgroups)
      exporter_options.cgroups.push_back(*parse_cgroup_selector(g));  // checked by the config
  }
  run.metrics = std::make_unique<exporter::Exporter>(std::move(exporter_options));
  run.metrics->add_source([counters = run.engine_options.carryover->counters, &run](std::string& out) {
    render_daemon_metrics(out, *counters, run);
  });
  Result<exporter::MetricsServer> listening =
      exporter::MetricsServer::listen(run.config.listen, *run.metrics);
  if (!listening) {
    log_message("pressure daemon: " + run.config.path + ": [daemon] listen: " + listening.error().message());
    return listening.error().code() == Errc::invalid_argument ? k_exit_config : k_exit_runtime;
  }
  run.server.emplace(std::move(*listening));
  run.server->start();  // its threads inherit the blocked signals, which StopSignals takes
  run.log(6, "serving metrics at " + run.server->url());
  return std::nullopt;
}

// --check: the file parsed and its rules armed; the port may be the running daemon's, so it binds
// nothing, but the HTTP module must load.
int finish_check(const Run& run) {
  if (!run.config.listen.empty()) {
    if (Result<void> loaded = exporter::MetricsServer::load(); !loaded) {
      log_message("pressure daemon: " + run.config.path + ": [daemon] listen: " + loaded.error().message());
      return k_exit_runtime;
    }
  }
  log_message("pressure daemon: " + run.config.path + ": OK, " + std::to_string(run.config.rules.size()) +
              " rule" + (run.config.rules.size() == 1 ? "" : "s") + " parsed and armed");
  return k_exit_ok;
}

// SIGHUP: the file again; a new engine replaces the running one only once all its rules armed.
void reload(Run& run) {
  sys::notify_service_manager("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(sys::monotonic_usec()));
  auto failed = [&run](const Error& error) {
    ++run.reloads_failed;
    run.log(3, "reload failed, keeping the running rules: " + error.message());
    sys::notify_service_manager("READY=1\nSTATUS=reload failed; " + rules_summary(run.config));
  };
  Result<Config> next = load_and_check(run.options.config_path);
  if (!next) return failed(next.error());
  run.engine_options.idle_poll = next->idle_poll;
  run.engine_options.await_missing_targets = true;  // a running rule may be waiting for its target
  auto fresh = std::make_unique<policy::Engine>(run.monitor, *run.actuator, run.engine_options);
  if (Result<void> started = fresh->start(next->rules); !started) return failed(started.error());
  run.engine->stop();
  run.engine = std::move(fresh);
  run.config = std::move(*next);
  ++run.reloads_ok;
  run.rules_armed = run.config.rules.size();
  if (!run.options.log_format) run.format = run.config.log_format;
  run.log(5, "reloaded: " + rules_summary(run.config));
  sys::notify_service_manager("READY=1\nSTATUS=" + rules_summary(run.config));
}

// The loop until SIGTERM or SIGINT (SIGHUP reloads), with the service manager told and its
// watchdog fed; then every victim still in its grace period gets its SIGKILL.
int serve_until_stopped(Run& run, sys::StopSignals& signals) {
  run.log(5, std::string("started") + (run.dry_run ? " in dry-run mode (nothing will be acted on)" : "") +
                 ": " + rules_summary(run.config));
  sys::notify_service_manager("READY=1\nSTATUS=" + rules_summary(run.config));
  Result<FdWatchId> signal_watch = run.monitor.add_fd(signals.fd(), [&] {
    while (int sig = signals.next()) {
      if (sig == SIGHUP) {
        reload(run);
      } else {
        run.log(5, std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        run.monitor.stop();
      }
    }
  });
  if (!signal_watch) {
    log_message("pressure daemon: " + signal_watch.error().message());
    return k_exit_runtime;
  }
  if (auto wd = sys::watchdog_interval(); wd.count() > 0) {
    if (auto t = run.monitor.add_timer(wd / 2, [] { sys::notify_service_manager("WATCHDOG=1"); }); !t)
      run.log(3, "cannot keep the watchdog fed: " + t.error().message());
  }
  int exit_code = k_exit_ok;
  if (Result<void> ran = run.monitor.run(); !ran) {
    run.log(3, "the event loop failed: " + ran.error().message());
    exit_code = k_exit_runtime;
  }
  sys::notify_service_manager("STOPPING=1");
  if (run.server) run.server->stop();
  run.engine->stop();
  run.engine_options.carryover->finish_kills();  // victims in their grace period get SIGKILL now
  return exit_code;
}

}  // namespace

int run(const Options& options) {
  Result<Config> config = load_and_check(options.config_path);
  if (!config) {
    log_message("pressure daemon: " + config.error().message());
    return config.error().code() == Errc::permission ? k_exit_runtime : k_exit_config;
  }
  // Commands we start are reaped by us: SIGCHLD must not be inherited as ignored.
  std::signal(SIGCHLD, SIG_DFL);
  // Signals first, before anything could start a thread.
  Result<sys::StopSignals> signals = sys::StopSignals::take({SIGHUP});
  if (!signals) {
    log_message("pressure daemon: " + signals.error().message());
    return k_exit_runtime;
  }
  Run run(options, std::move(*config));
  if (!options.check) protect_self(run.format, run.config.realtime);  // before any other thread
  // Before arming (for --check too): each rule holds a file and often a trigger open.
  if (Result<std::uint64_t> files = sys::raise_open_file_limit(); !files)
    run.log(5, "the open-file limit stays where it was: " + files.error().message());
  if (auto failed = start_engine(run)) return *failed;
  if (options.check) return finish_check(run);
  if (!run.config.listen.empty()) {
    if (auto failed = start_metrics(run)) return *failed;
  }
  return serve_until_stopped(run, *signals);
}

}  // namespace pressure::daemon
