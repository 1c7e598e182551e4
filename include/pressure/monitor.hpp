// Watching pressure: kernel PSI triggers on epoll, a polling fallback with the same meaning,
// and timers, in one loop that can run on its own thread or inside another loop.
//
//   pressure::Monitor monitor;
//   auto spec = pressure::parse_trigger_spec("memory full 100ms/2s");
//   auto watch = monitor.add(pressure::Target::cgroup("batch.slice"), *spec,
//                            [](const pressure::Event& e) { shed_load(e.share); });
//   monitor.run();                        // until stop(), from any thread
//   // or: poll monitor.fd() for readability in your own loop and call monitor.dispatch()
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <pressure/environment.hpp>
#include <pressure/error.hpp>
#include <pressure/reader.hpp>
#include <pressure/trigger.hpp>

namespace pressure {

enum class TriggerMode {
  automatic,  // a kernel trigger where the kernel allows one, else polling
  kernel,     // a kernel trigger or an error
  polling,    // sample `total` at window/10 and apply the kernel's rule
  relayed,    // reported, never asked for: the service manager's socket or FIFO signals for it
};
std::string_view to_string(TriggerMode mode) noexcept;

// Without CAP_SYS_RESOURCE the kernel takes only windows that are multiples of 2 s.
enum class WindowPolicy {
  round_up,  // use the next allowed window, stall scaled to the same share, and say so
  refuse,    // fail with a message that says why
  poll,      // keep the exact window: in automatic mode, poll where the kernel refuses it
};

struct TriggerOptions {
  TriggerMode mode = TriggerMode::automatic;
  WindowPolicy window_policy = WindowPolicy::round_up;
  // Polling only: once `total` has not moved for a whole window, sample every `idle_period`
  // instead of every window/10, until it moves again (0: never slow down). Saves wakeups on an
  // idle target; the first event after a quiet spell can come up to idle_period - stall later.
  std::chrono::milliseconds idle_period{0};
};

// The ids a Monitor hands out: one type for each kind of thing it holds, so that an id is never
// taken for another kind's (giving a TimerId to remove_fd() does not compile).
template <class Kind>
struct MonitorId {
  std::uint64_t value = 0;
  friend bool operator==(const MonitorId&, const MonitorId&) = default;
};
using WatchId = MonitorId<struct WatchKind>;      // add(): a pressure watch
using TimerId = MonitorId<struct TimerKind>;      // add_timer()
using FdWatchId = MonitorId<struct FdWatchKind>;  // add_fd(): a caller's descriptor

struct Event {
  enum class Kind {
    pressure,  // the spec's stall was reached within its window
    gone,      // the cgroup was removed; the watch is dropped
    error,     // the target can no longer be read (permission, a malformed file ...); dropped
  };
  Kind kind = Kind::pressure;
  WatchId id;
  std::string where;  // "system" or the cgroup path
  TriggerSpec spec;   // as armed (after any rounding)
  TriggerMode mode = TriggerMode::kernel;
  std::chrono::system_clock::time_point time;
  // What `total` showed: polling, over the last window (shorter right after the watch was
  // added); kernel triggers, since the previous event or the arming, because reading the file
  // periodically would delay the kernel's own checks.
  std::uint64_t observed_stall_us = 0;
  std::chrono::nanoseconds observed_span{0};
  double share = 0.0;          // observed_stall / observed_span, in [0, 1]
  std::uint64_t total_us = 0;  // the line's `total` at the reading behind the event (µs)
  std::optional<Error> error;  // why, for Kind::gone
  // For a watch armed from the environment: its variable ("MEMORY_PRESSURE_WATCH"). Such a
  // watch measures nothing (the observed fields are 0): the signal is the whole message.
  std::string variable;
};

struct WatchInfo {
  WatchId id;
  std::string where;
  TriggerSpec spec;                        // what is armed
  TriggerMode mode = TriggerMode::kernel;  // kernel or polling
  std::string notice;    // e.g. the window was rounded up, or the kernel refused and we poll
  std::string variable;  // armed from the environment: its variable, else ""
};

class Monitor {
 public:
  using Callback = std::function<void(const Event&)>;

  explicit Monitor(ReaderOptions options = {});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Thread-safe, also while run() is running and from inside a callback.
  Result<WatchInfo> add(const Target& target, const TriggerSpec& spec, Callback callback,
                        TriggerOptions options = {});
  // The watch the service manager asked for (request.state must be `watch`; see
  // environment.hpp): where = the path, spec = the trigger written (resource only when the text
  // is not one), mode = kernel for a pressure file, relayed for a socket or FIFO. `gone` when the
  // cgroup is removed or the other side hangs up. Thread-safe as add().
  Result<WatchInfo> add(const EnvironmentWatch& request, Callback callback);
  // False if there was no such watch (or it had just ended with `gone`). Waits for a callback
  // of this watch that is running on another thread; from inside a callback it does not wait.
  // No callback of the watch starts after it returns.
  bool remove(WatchId id);
  // `callback` every `interval` on the loop's thread.
  Result<TimerId> add_timer(std::chrono::nanoseconds interval, std::function<void()> callback);
  // As remove(): waits for a running tick on another thread; none starts after.
  bool cancel_timer(TimerId id);

  // `callback` on the loop's thread whenever `fd` is readable (the caller keeps it open and
  // drains it); e.g. a self-pipe written by a signal handler.
  Result<FdWatchId> add_fd(int fd, std::function<void()> callback);
  // As cancel_timer().
  bool remove_fd(FdWatchId id);

  // Dispatches until stop(); sleeps in epoll_wait between events.
  Result<void> run();
  // Makes run() return soon; thread-safe and async-signal-safe.
  void stop();
  // For embedding: readable when dispatch() has work; dispatch() never blocks.
  int fd() const;
  Result<void> dispatch();

  std::size_t watch_count() const;
  // Kernel signals dropped because our own readings prove the window never held the stall
  // (some kernels signal a trigger whose window did not reach its threshold).
  std::uint64_t spurious_events() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace pressure
