// Runs rules on a Monitor: wakes on a kernel trigger (or polls), samples `total` while the
// rule holds, and acts through an Actuator once it has held long enough (a DryRunActuator for
// --dry-run). Every decision is reported once, with the numbers behind it, and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <pressure/monitor.hpp>
#include <pressure/reader.hpp>

#include "policy/actuator.hpp"
#include "policy/clock.hpp"
#include "policy/rules.hpp"

namespace pressure::policy {

// `s` as a JSON string, quotes included (for notify lines and JSON logs). Always valid UTF-8 and
// one line: a byte that is not part of valid UTF-8 becomes U+FFFD; control characters (C0, DEL,
// C1) are escaped (\n, \t, \u00XX).
std::string json_string(std::string_view s);

// One thing the engine decided or noticed.
struct Decision {
  enum class Severity { error = 3, warning = 4, notice = 5, info = 6 };
  Severity severity = Severity::notice;
  std::chrono::system_clock::time_point time;
  std::string rule;
  std::string where;     // the target
  std::string what;      // "kill", "signal", "exec", "armed", "held", "skipped", ...
  std::string detail;    // the sentence a person reads
  std::string victim;    // group path or "pid 1234 (name)"
  double share = 0;      // the stall share that caused it, 0..1
  std::string measured;  // "memory full 31.2% over 1s"
  bool dry_run = false;
  std::string result;  // "ok", "failed", "dry-run", "skipped"
};

// Counts by (rule, action, result), for metrics: shared by the engines of successive reloads so
// counters only grow. Any thread.
using ActionCounts = std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t>;
class Counters {
 public:
  void add(const std::string& rule, std::string_view action, std::string_view result);
  ActionCounts snapshot() const;
  // Which rules run and whether each is armed (false: disarmed, e.g. waiting for its removed
  // target to come back). set_rules replaces the set once an engine has started.
  void set_rules(std::map<std::string, bool> armed);
  void set_armed(const std::string& rule, bool armed);
  std::map<std::string, bool> armed() const;

 private:
  mutable std::mutex m_mutex;
  ActionCounts m_counts;
  std::map<std::string, bool> m_armed;
};

// What outlives one Engine across reloads: the action counters, each rule's cooldown (by rule
// name), and kills still in their grace period. One per daemon, shared by its engines; all on
// the loop thread but the counters.
class Carryover {
 public:
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  std::map<std::string, std::chrono::steady_clock::time_point> quiet_until;
  struct PendingKill {
    Monitor* monitor = nullptr;
    std::optional<TimerId> timer;
    std::function<void()> finish;
  };
  std::vector<std::shared_ptr<PendingKill>> pending;
  // Runs one pending kill now (its grace period is over, or the daemon is stopping).
  void finish(std::shared_ptr<PendingKill> kill);
  // SIGKILL now to every victim still in its grace period.
  void finish_kills();
};

struct EngineOptions {
  ReaderOptions reader;
  // Where holds, cooldowns and rates take their time from; empty: real_clock().
  std::shared_ptr<const Clock> clock;
  // Where the kernel takes no trigger and rules poll: how often to sample a target whose stall
  // has not moved for a whole window (see TriggerOptions::idle_period).
  std::chrono::milliseconds idle_poll{500};
  // How often a rule whose target cgroup was removed looks for it to come back.
  std::chrono::milliseconds rearm_period{1000};
  // A rule whose target cgroup does not exist at start() waits for it (as if it had been
  // removed) instead of failing the start: for reloads, where a running rule may be waiting.
  bool await_missing_targets = false;
  std::function<void(const Decision&)> report;  // called on the loop thread
  // Shared across reloads; empty: the engine keeps its own and finishes its kills when it stops.
  std::shared_ptr<Carryover> carryover;
};

class Engine {
 public:
  Engine(Monitor& monitor, Actuator& actuator, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Arms every rule; if one cannot be armed, none is, and the error names the rule.
  Result<void> start(std::vector<Rule> rules);
  // Disarms every rule. A victim still in its grace period gets its SIGKILL when the period
  // ends (a shared Carryover keeps it across a reload) or, with an engine-owned one, now.
  void stop();
  std::size_t rule_count() const;
  ActionCounts counts() const;  // any thread
  std::shared_ptr<Counters> counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace pressure::policy
