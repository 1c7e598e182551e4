// The daemon's rules: where to measure, when to act, what to do. Pure values and the victim
// choice; engine.hpp's Engine runs them on a Monitor and acts through an Actuator.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <pressure/condition.hpp>
#include <pressure/decay.hpp>
#include <pressure/trigger.hpp>

namespace pressure::policy {

using std::chrono::microseconds;

enum class ActionKind { kill, signal, exec, memory_high, notify, log };
std::string_view to_string(ActionKind kind) noexcept;

// Whom a kill or a signal reaches.
struct Victim {
  enum class Among { children, processes, self };  // child groups, processes below, the target
  enum class By { memory, growth, pressure };
  Among among = Among::children;
  By by = By::memory;
};

// A command run before a kill's first signal, with the victim in its environment (PRESSURE_VICTIM_*),
// to capture evidence (a heap dump, smaps) while the victim still lives. The kill waits for it at
// most `timeout`; at the timeout its process group is killed and the kill goes ahead.
struct PreKill {
  std::vector<std::string> command;  // argv, no shell
  microseconds timeout{1'000'000};
  static constexpr microseconds k_max_timeout{60'000'000};
};

struct MemoryHigh {
  enum class Mode { set, steer };
  Mode mode = Mode::set;
  std::optional<std::uint64_t> bytes;  // set: the value written ("max" if empty)
  // steer (senpai): hold `target` stall share of `memory some` by moving the limit.
  double target_share = 0.001;
  std::uint64_t min_bytes = 64ULL << 20;
  std::uint64_t max_bytes = 0;  // 0: no upper bound but the host's memory
  microseconds interval{2'000'000};
  // Steering a v1 memory.limit_in_bytes (hybrid systems, no memory.high) drives a hard limit:
  // probing too low OOM-kills instead of slowing down. Only with this opt-in.
  bool hard_limit = false;
};

// What a rule can wait for besides PSI: memory and swap left, the target's usage against its
// limit, reclaim activity, and "pressure has ended" from the kernel's decay model.
//   "memory available<10%"  "memory available<2G"   host MemAvailable (of MemTotal, or bytes)
//   "swap free<10%"         "swap free<1G"          SwapFree (never holds without swap)
//   "memory usage>90%"      "memory usage>3G"       the target's memory (of its limit, or bytes)
//   "reclaim>0"             "reclaim>1000/s"        pages scanned per second in the target
//   "memory some ended"     "io full ended avg10=0.5,avg60=1"   averages decayed, total still
struct Check {
  enum class What { available, swap_free, usage, reclaim, ended };
  What what = What::available;
  Condition::Op op = Condition::Op::less;
  double value = 0;                      // percent, bytes, or pages per second
  bool percent = false;                  // value is a percentage
  Resource resource = Resource::memory;  // ended
  Line line = Line::some;                // ended
  EndCriteria criteria;                  // ended
  std::string text;                      // as written
  bool holds(double measured) const;
};
// Parses one of the forms above; invalid_argument naming the part at fault.
Result<Check> parse_check(std::string_view text);
// True if `text` is meant as a Check rather than a PSI condition.
bool looks_like_check(std::string_view text);

struct Rule {
  std::string name;
  std::string source;   // "file:line" where the rule starts, for messages
  std::string cgroup;   // the target, relative to the cgroup2 mount; "/" is the root
  bool system = false;  // measure /proc/pressure (the whole machine; acts on the root group)
  bool allow_root = false;

  // When: a spec (a kernel trigger, sampled from `total` while it holds) or conditions (all).
  std::optional<TriggerSpec> spec;
  std::vector<Condition> conditions;
  std::vector<Check> checks;       // all must hold too
  microseconds hold{0};            // "for": must hold this long
  microseconds interval{500'000};  // how often conditions are sampled
  microseconds cooldown{15'000'000};
  bool repeat = true;  // act again after the cooldown while it still holds

  ActionKind action = ActionKind::log;
  Victim victim;
  // Globs on the victim's name (group name or path, or comm), or "KEY:GLOB" on what the group's
  // path says it is (parse_name_pattern).
  std::vector<std::string> prefer, avoid;
  microseconds grace{0};           // SIGTERM first, SIGKILL after this
  std::optional<PreKill> prekill;  // kill: run before the first signal
  int signal = 15;
  std::vector<std::string> command;  // exec
  microseconds timeout{10'000'000};  // exec
  MemoryHigh memory_high;
  std::string notify_socket, notify_file;  // notify

  // The target as people read it: "system" or "/batch.slice".
  std::string where() const { return system ? "system" : cgroup; }
  bool acts_on_processes() const { return action == ActionKind::kill || action == ActionKind::signal; }
};

// A candidate victim, measured.
struct Candidate {
  std::string path;          // cgroup path ("/batch/job1") or "" for a process
  int pid = 0;               // for a process
  std::string name;          // what prefer/avoid globs match: the group's name or the comm
  std::uint64_t memory = 0;  // bytes
  double growth = 0;         // bytes/s since the previous look, 0 when new
  double pressure = 0;       // stall share of the candidate's memory some line, 0..1
  bool protected_ = false;   // holds pid 1 or the daemon, or has oom_score_adj -1000: never chosen
  // A process listed by its memory alone: its oom_score_adj (and its name, when no prefer/avoid
  // glob needs it) is read only if it is chosen (Engine: finish_candidate).
  bool partial = false;
};

struct Choice {
  std::size_t index = 0;
  std::string reason;  // "largest memory of 3 (120 MiB)", "preferred (*.scope)"
};

// A prefer or avoid entry (a cgroup selector, pressure/selector.hpp) against a victim: a
// selector of one component matches its `name` (a group's last component, a process's name),
// a deeper one its cgroup `path` (relative to the mount; empty for a process).
bool glob_match(std::string_view pattern, std::string_view name, std::string_view path = {});

// A prefer/avoid entry: a plain glob, or "KEY:GLOB" matched against one field of the group's
// identify_cgroup() (the same names as in `show --json` and the metrics labels):
//   "unit:batch-*.service"  "container_id:3f2a*"  "pod_uid:1d2c3e4f-*"  "runtime:docker"
//   "qos_class:besteffort"  "kind:container"  "user:1000"  "session:4"
// A KEY (lowercase letters and '_' before the first ':') must be one of those; a group name
// holding ':' is matched with "[:]". invalid_argument names the entry and the keys.
struct NamePattern {
  std::string_view key;  // empty: a plain glob
  std::string_view glob;
};
Result<NamePattern> parse_name_pattern(std::string_view text);
// True if `pattern` (valid for parse_name_pattern) matches the candidate. Keys match groups only.
bool name_pattern_match(std::string_view pattern, const Candidate& c);

// The victim: preferred candidates first, avoided ones last, then the criterion, ties to the
// larger memory. Protected candidates are never chosen. Empty when none can be.
std::optional<Choice> choose_victim(const std::vector<Candidate>& candidates, const Rule& rule);

}  // namespace pressure::policy
