// How every program here stops on SIGINT and SIGTERM (and the daemon reloads on SIGHUP), one way:
// the signals are blocked in the calling thread before any other thread starts, so every thread
// inherits the mask and no handler interrupts one; a thread of its own takes them with sigwait
// and hands them on as bytes on a pipe (for an event loop: fd() and next(), or wait()) and as a
// flag (for a loop that polls). The calling thread's mask is restored when it goes away.
// Commands started through sys (spawn, run_command) start with an empty mask and default
// dispositions.
//
//   Result<sys::StopSignals> stop = sys::StopSignals::take();  // before any thread starts
//   monitor.add_fd(stop->fd(), [&] { if (stop->next() != 0) monitor.stop(); });
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <pressure/error.hpp>

namespace pressure::sys {

class StopSignals {
 public:
  // SIGINT and SIGTERM, and the signals in `also` (the daemon's SIGHUP).
  static Result<StopSignals> take(const std::vector<int>& also = {});
  StopSignals(StopSignals&&) noexcept;
  StopSignals& operator=(StopSignals&&) = delete;
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // Destroy it on the thread that took it: that thread's mask is restored.
  ~StopSignals();

  int fd() const;  // readable while a signal is waiting for next()
  int next();      // the next signal that came, or 0 (never blocks)
  int wait();      // blocks until a signal comes; the signal
  // Raised once SIGINT or SIGTERM came, for loops that look now and then (top, record).
  const std::atomic<bool>& stop_requested() const;

  struct State;

 private:
  explicit StopSignals(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace pressure::sys
