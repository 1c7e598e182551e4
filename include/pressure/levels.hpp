// Severity levels for programs that hold droppable memory: composable conditions, a Manager
// that walks levels one at a time, and handlers on entering, leaving and remaining in a level.
//
//   using namespace pressure::levels;
//   Manager manager({any_of({host_available_below_percent(20), psi_average_above(
//                        pressure::Resource::memory, pressure::Line::some, pressure::Average::avg10, 10.0)}),
//                    host_available_below_percent(10)});
//   auto h = manager.on_entered(1, [&](const Transition& t) { cache.drop_half(); });
//   manager.check_now(reading);              // deterministic tick, e.g. in tests
//   h.cancel();                               // from any thread
//
// The conditions are pure: they look at a Reading (PSI snapshots, host and local memory) that
// the caller, or a sampler, collects once per tick.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <pressure/decay.hpp>
#include <pressure/memory.hpp>
#include <pressure/monitor.hpp>
#include <pressure/types.hpp>

namespace pressure::levels {

// Everything conditions may look at, gathered once per tick.
struct Reading {
  std::chrono::steady_clock::time_point time;
  std::optional<Snapshot> system;  // PSI of the whole system
  std::optional<Snapshot> local;   // PSI of the process's own cgroup
  std::optional<HostMemory> host;
  std::optional<LocalMemory> local_memory;
};

// A level's condition is evaluated once per tick, in level order; it may keep state (hysteresis,
// windows). Missing data makes a condition false, never true. (Not pressure::Condition, a
// condition on PSI as text such as "memory full avg10<10": both names stay apart when both
// namespaces are used.)
class LevelCondition {
 public:
  virtual ~LevelCondition() = default;
  virtual bool holds(const Reading& reading) = 0;
};
using ConditionPtr = std::shared_ptr<LevelCondition>;

ConditionPtr custom(std::function<bool(const Reading&)> predicate);
// Short-circuit: all_of stops at the first false, any_of at the first true.
ConditionPtr all_of(std::vector<ConditionPtr> conditions);
ConditionPtr any_of(std::vector<ConditionPtr> conditions);
ConditionPtr negate(ConditionPtr condition);

ConditionPtr host_available_below(std::uint64_t bytes);
ConditionPtr host_available_below_percent(double percent);  // of MemTotal, one reading
// Local usage at or above `percent` of the limit (the right way round; Satella's B-1 inverted it).
ConditionPtr local_usage_above_percent(double percent);
// limit - usage below `bytes` (false without a limit).
ConditionPtr local_available_below(std::uint64_t bytes);
enum class Scope { system, local };
// The kernel's average (avg10/avg60/avg300) strictly above `percent`.
ConditionPtr psi_average_above(Resource resource, Line line, Average average, double percent,
                               Scope scope = Scope::local);
// The stall share between the previous tick and this one above `fraction` (0..1).
ConditionPtr psi_share_above(Resource resource, Line line, double fraction, Scope scope = Scope::local);
// The stall share over the last `window` (from `total` at each tick, interpolated at the
// window's start; over what there is while the history is shorter) above `fraction`.
ConditionPtr psi_share_above(Resource resource, Line line, double fraction, std::chrono::nanoseconds window,
                             Scope scope = Scope::local);

// Hysteresis: true once `enter` holds, and stays true until `exit` holds.
ConditionPtr hysteresis(ConditionPtr enter, ConditionPtr exit);
// Once true, stays true for at least `dwell` (by Reading::time).
ConditionPtr min_dwell(ConditionPtr condition, std::chrono::nanoseconds dwell);

// What a handler is told.
struct Transition {
  int level = 0;                     // the level entered, left or remained in (0: normal)
  int from = 0;                      // the level before this tick
  int to = 0;                        // the level after this tick
  const Reading* reading = nullptr;  // what caused it (valid during the call)
};
using Handler = std::function<void(const Transition&)>;

// A registration; cancel() from any thread, also from inside a handler. Destroying it does not
// cancel (keep it only if you want to cancel).
class Registration {
 public:
  Registration() = default;
  void cancel();
  bool active() const;

 private:
  friend class Manager;
  explicit Registration(std::shared_ptr<struct HandlerSlot> slot) : m_slot(std::move(slot)) {}
  std::shared_ptr<struct HandlerSlot> m_slot;
};

// Levels 1..N, the current level being the highest whose condition holds (lower levels need not
// hold). An explicit object: no singleton. Thread-safe: registration, cancellation and ticks
// from any threads; handlers run on the ticking thread without the manager's lock held.
class Manager {
 public:
  explicit Manager(std::vector<ConditionPtr> levels);

  int level() const;
  int level_count() const;

  // A level outside 0..N is refused with std::out_of_range (a programming error).
  Registration on_entered(int level, Handler handler);
  Registration on_left(int level, Handler handler);
  // On ticks that stay in `level`; no more often than `min_interval` (the first call goes through).
  Registration on_remaining(int level, Handler handler, std::chrono::nanoseconds min_interval = {});
  Registration on_normal(Handler handler);  // after returning to level 0

  // `collector(object)` after `level`'s entered handlers, while the object lives; dead objects
  // are pruned on every tick, at any level.
  template <class T>
  void cleanup_on_entered(int level, const std::shared_ptr<T>& object, std::function<void(T&)> collector) {
    std::weak_ptr<T> weak = object;
    add_cleanup(
        level, [weak] { return !weak.expired(); },
        [weak, collector = std::move(collector)] {
          if (auto strong = weak.lock()) collector(*strong);
        });
  }

  // A handler that throws is reported here (default: ignored) and stays registered; the tick
  // goes on with the next handler (Satella's B-2 killed the thread and lost the handlers).
  void on_handler_error(std::function<void(const std::exception_ptr&, const Transition&)> report);

  // One evaluation with this reading; returns the new level.
  int check_now(const Reading& reading);
  // While stopped, ticks evaluate nothing and call nothing.
  void stop();
  void resume();

 private:
  void add_cleanup(int level, std::function<bool()> alive, std::function<void()> collect);
  Registration add(int kind, int level, Handler handler, std::chrono::nanoseconds min_interval);
  void call(int kind, int level, const Transition& t);

  struct State;
  std::shared_ptr<State> m_state;
};

// Collects a Reading: PSI of the system and of the process's own cgroup, host MemAvailable,
// and the process's memory against its cgroup limit (or RSS against `rss_budget`). What cannot
// be read is left empty, so conditions on it stay false.
struct SamplerOptions {
  bool system_psi = true;
  bool local_psi = true;
  bool host = true;
  bool local_memory = true;
  std::optional<std::uint64_t> rss_budget;
  ReaderOptions reader;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options = {});
  Reading read();

 private:
  SamplerOptions m_options;
  Reader m_system;
  Reader m_local;
};

// Ticks a Manager from a Monitor: every `interval`, and at once when one of `wake_on`'s kernel
// triggers fires (so a PSI condition is seen within its trigger's window, not the interval).
struct DriverOptions {
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};
  std::vector<std::pair<Target, TriggerSpec>> wake_on;
  TriggerOptions trigger_options;
  // Honour the service manager's watch (environment.hpp; systemd's MemoryPressureWatch=): for
  // memory, cpu and io, a set $..._PRESSURE_WATCH replaces that resource's `wake_on` triggers
  // with the watch it names, "/dev/null" drops them, unset leaves them. A bad value fails
  // start() with the variable named. False: `wake_on` alone, the environment ignored.
  bool from_environment = true;
};

class Driver {
 public:
  Driver(Manager& manager, Sampler& sampler, Monitor& monitor, DriverOptions options);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;
  // Arms the timer and the triggers; their notices (e.g. a rounded window) are returned.
  Result<std::vector<std::string>> start();
  void stop();
  std::uint64_t ticks() const { return m_ticks; }

 private:
  void tick();
  // Arms the environment's watches; `taken[r]` is set for each resource it decided.
  Result<void> arm_environment(std::vector<std::string>& notices, std::array<bool, 4>& taken);
  Manager& m_manager;
  Sampler& m_sampler;
  Monitor& m_monitor;
  DriverOptions m_options;
  std::optional<TimerId> m_timer;
  std::vector<WatchId> m_watches;
  std::mutex m_tick_mutex;
  std::atomic<std::uint64_t> m_ticks{0};
};

// A handler that gives the heap's free memory back to the kernel (malloc_trim(0)): the C++
// counterpart of forcing a garbage collection.
Handler trim_malloc();

// On `signal`, appends a memory report (/proc/self/status, smaps_rollup, malloc_info) to `path`.
// The signal handler only writes a byte to a pipe; the report is written on the Monitor's loop.
class MemoryReport {
 public:
  static Result<std::unique_ptr<MemoryReport>> install(Monitor& monitor, int signal, std::string path);
  ~MemoryReport();
  std::uint64_t written() const { return m_written; }

 private:
  MemoryReport(Monitor& monitor, std::string path);
  struct Pipe;
  Monitor& m_monitor;
  std::string m_path;
  std::unique_ptr<Pipe> m_pipe;
  std::optional<FdWatchId> m_watch;
  std::atomic<std::uint64_t> m_written{0};
};

}  // namespace pressure::levels
