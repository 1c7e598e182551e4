// The engine's insides, one job per file, over one RuleState per rule. One event's way to an
// action: detect.cpp (on_event, or a tick, measures) -> act.cpp (act) -> choose.cpp
// (candidates, then rules.cpp's choose_victim) -> the Actuator.
//   arm.cpp     arming a rule, disarming it, waiting for a removed target and arming again
//   detect.cpp  trigger events, hot ticks while a spec holds, condition ticks, checks measured
//   choose.cpp  the candidates for a victim, measured (memory, growth, pressure, protection)
//   act.cpp     the actions, only through the Actuator, each decision reported and counted
//   kill.cpp    kill and signal: the victim, its pre-kill hook, the first signal, the grace kill
//   steer.cpp   memory.high steering; next_limit() is the pure step
//   engine.cpp  Engine (start/stop), Counters, Carryover, the Context's reporting
// Internal to the daemon library; the unit tests (tests/unit/engine_test.cpp) drive it directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pressure/cgroup_set.hpp>
#include <pressure/decay.hpp>
#include <pressure/monitor.hpp>
#include <pressure/reader.hpp>

#include "core/stall_window.hpp"
#include "policy/engine.hpp"

namespace pressure::policy::engine {

using TimePoint = Clock::TimePoint;

// What the engine remembers about a candidate between looks, for growth and pressure.
struct Seen {
  std::uint64_t memory = 0;
  std::uint64_t some_total_us = 0;
  TimePoint t;
};

// What steering shares with the write of its last step, which ends on the loop later (perhaps
// after a reload has replaced the rule).
struct SteerShared {
  bool busy = false;  // a step is being written: the next one waits
  int direction = 0;  // of the last step written: a step is logged when it turns
};

// What a rule measures of its target while armed; all of it belongs to one cgroup, and a
// rule armed again on a new group of the same path starts from a fresh one.
struct Measured {
  std::optional<Reader> reader;  // the target's pressure files
  std::optional<core::StallWindow> window;
  std::vector<core::StallWindow> condition_windows;
  std::vector<std::optional<std::pair<std::uint64_t, TimePoint>>> reclaim_seen;  // per check
  std::vector<std::optional<PressureEnded>> ended;                               // per check
  std::optional<TimePoint> held_since;
  bool acted_in_streak = false;
  std::map<std::string, Seen> seen;
  // steering
  std::optional<std::uint64_t> steer_total;
  TimePoint steer_t{};
  std::shared_ptr<SteerShared> steer = std::make_shared<SteerShared>();
};

struct RuleState : Measured {
  Rule rule;
  std::string dir;  // the target's cgroup directory
  std::optional<WatchId> watch;
  std::optional<TimerId> timer;        // hot sampling, condition ticks, or steering
  std::optional<TimerId> look_timer;   // refreshes `seen` for growth/pressure victims
  std::optional<TimerId> rearm_timer;  // looks for a removed target to come back
  bool waiting = false;                // disarmed until the target is back
  bool waiting_for_psi = false;        // ... or until its PSI is switched on again
  TimePoint quiet_until{};
  std::string last_error;             // reported once
  std::optional<CgroupSet> children;  // the target's child groups, kept open (victims among children)

  // The target as a cgroup path: "/" for a rule on the system.
  std::string target() const { return rule.system ? "/" : rule.cgroup; }
};

// What every part shares: the seams (Monitor, Actuator, Clock), the options, and reporting.
struct Context {
  Context(Monitor& monitor, Actuator& actuator, EngineOptions options);

  Monitor& monitor;
  Actuator& actuator;
  EngineOptions options;
  std::shared_ptr<const Clock> clock_owner;
  const Clock& clock;
  std::string cgroup_root;  // the cgroup2 mount
  std::shared_ptr<Carryover> carryover;
  std::shared_ptr<Counters> counters;
  bool published = false;  // the rules' armed states reach the counters once started

  const std::string& proc_root() const { return options.reader.proc_root; }
  // What every read of the engine goes through (the readers' and cgroup memory's).
  const Io& io() const { return options.reader.io_or_real(); }
  // The words of a decision: what was done, or in a dry run (the actuator only rehearses) what
  // would have been. The only difference a dry run makes here, but for its grace kills.
  std::string said(std::string_view done, std::string_view rehearsed) const {
    return std::string(actuator.rehearses() ? rehearsed : done);
  }
  std::string ok_result() const { return said("ok", "dry-run"); }
  std::string would() const { return said("", "would "); }
  void count(const Rule& rule, std::string_view result) const;
  void report(Decision d) const;
  Decision decision(const RuleState& s, Decision::Severity severity, std::string what,
                    std::string detail) const;
  // A failed decision (severity error, result "failed"), reported.
  void report_failure(const RuleState& s, std::string what, std::string detail) const;
  // Reports and counts without the engine: for what finishes after a reload (a pending kill,
  // an exec that ends later).
  std::function<void(Decision, std::string_view)> detached_reporter() const;
};

// arm.cpp
Result<void> arm(Context& ctx, RuleState& s);
void disarm(Context& ctx, RuleState& s);
bool target_ready(const Context& ctx, const RuleState& s);
void await_target(Context& ctx, RuleState& s, const std::string& why);
// After a read of the target failed: true (and the rule awaits its target) if its group was
// removed or its PSI switched off.
bool target_removed(Context& ctx, RuleState& s, const Error& error);

// detect.cpp
void on_event(Context& ctx, RuleState& s, const Event& e);
void on_hot_tick(Context& ctx, RuleState& s);
void on_condition_tick(Context& ctx, RuleState& s);
// The value a Check compares: a percentage, bytes, pages per second, or 1/0 for "ended".
Result<double> measure(Context& ctx, RuleState& s, const Check& c, std::size_t index);

// choose.cpp
std::vector<Candidate> candidates(const Context& ctx, RuleState& s);
// Reads what candidates() left out of a process it listed by memory alone (Candidate::partial):
// its name, and whether the kernel's OOM killer may never take it (oom_score_adj -1000), which
// we never take either. True if it turned out protected: choose again.
bool finish_candidate(const Context& ctx, Candidate& c);

// act.cpp
void act(Context& ctx, RuleState& s, double share, const std::string& measured);
// What a command learns of the event in its environment (PRESSURE_RULE, PRESSURE_SHARE, ...).
std::vector<std::pair<std::string, std::string>> event_env(const Context& ctx, const RuleState& s,
                                                           const Decision& d);

// kill.cpp: the victim chosen, its pre-kill hook run, the first signal sent, reported and counted.
void act_on_victim(Context& ctx, RuleState& s, Decision& d);

// The file that limits the target's memory: memory.high (v2) or the v1 limit.
std::string memory_limit_file(const Context& ctx, const RuleState& s, bool& v1);

// steer.cpp
struct Step {
  std::uint64_t limit = 0;
  int direction = 0;  // +1 backing off (raised), -1 probing (lowered)
};
// Senpai's step: from `limit`, given `stalled_us` of memory some over `span_us`: back off fast
// (up to doubling) when above the target share, probe slowly (at most 1 % down) when below;
// clamped to min/max and rounded down to a page.
Step next_limit(std::uint64_t limit, double stalled_us, double span_us, const MemoryHigh& mh);
void steer(Context& ctx, RuleState& s);

// Words for decisions.
std::string percent(double share);
std::string seconds(std::chrono::nanoseconds d);

}  // namespace pressure::policy::engine
