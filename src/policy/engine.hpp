// Runs rules on a Monitor: wakes on a kernel trigger (or polls), samples `total` while the
// rule holds, and acts through an Actuator once it has held long enough. Every decision is
// reported once, with the numbers behind it, and counted.
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

#include "policy/rules.hpp"

namespace pressure::policy {

// The side effects of rules. `real_actuator()` acts through sys; a dry run never reaches one.
class Actuator {
 public:
  virtual ~Actuator() = default;
  // SIGTERM/SIGKILL/... to one process, through a pidfd, if it is inside `within_cgroup` (a
  // path relative to the cgroup2 mount), never to pid 1 or ourselves.
  virtual Result<void> signal_process(int pid, int sig, const std::string& within_cgroup) = 0;
  // What a group kill did: how many processes were in the group, and how they were killed.
  struct GroupKill {
    std::size_t processes = 0;
    bool atomic = false;  // cgroup.kill (5.14+); else SIGKILL to each process, in rounds
    std::string how() const { return atomic ? "with cgroup.kill" : "one by one (no cgroup.kill)"; }
  };
  // SIGKILL to everything in the group `cgroup` whose directory is `dir` (cgroup.kill, else each
  // process).
  virtual Result<GroupKill> kill_cgroup(const std::string& dir, const std::string& cgroup) = 0;
  // Writes a control file (memory.high, memory.limit_in_bytes) off the loop: the kernel may
  // reclaim inside the write for seconds. `done` runs on the loop once it is over; an error
  // means it was not started, and then `done` never runs.
  virtual Result<void> write_control(const std::string& path, const std::string& value,
                                     std::function<void(const Result<void>&)> done) = 0;
  // Starts a command; `done(status)` is called on the loop when it ends or is killed.
  virtual Result<void> exec(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& env,
                            std::chrono::microseconds timeout,
                            std::function<void(int status, bool timed_out)> done) = 0;
  virtual Result<void> send_datagram(const std::string& socket, const std::string& payload) = 0;
  virtual Result<void> append_line(const std::string& path, const std::string& line) = 0;
};
// `s` as a JSON string, quotes included (for notify lines and JSON logs). Always valid UTF-8 and
// one line: a byte that is not part of valid UTF-8 becomes U+FFFD; control characters (C0, DEL,
// C1) are escaped (\n, \t, \u00XX).
std::string json_string(std::string_view s);

// The real one; exec needs the Monitor to wait for children.
std::unique_ptr<Actuator> real_actuator(Monitor& monitor, const std::string& proc_root = "/proc");

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
  bool dry_run = false;
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
