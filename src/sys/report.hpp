// Memory housekeeping a program asks for under pressure: give free heap back to the OS, and
// write a memory report, triggered safely from a signal.
#pragma once

#include <string>

#include <pressure/error.hpp>

#include "sys/event.hpp"

namespace pressure::sys {

// malloc_trim(0): returns the heap's free pages to the kernel (glibc; a no-op elsewhere).
// True if memory was released.
bool trim_malloc();

// Appends /proc/self/status, /proc/self/smaps_rollup and malloc_info() to `path`.
Result<void> write_memory_report(const std::string& path);

// A pipe whose read end becomes readable when `signal` arrives. The handler only writes one
// byte (async-signal-safe); the work happens wherever the read end is watched. One per process.
class SignalPipe {
 public:
  static Result<SignalPipe> install(int signal);
  SignalPipe(SignalPipe&&) noexcept;
  SignalPipe& operator=(SignalPipe&&) = delete;
  SignalPipe(const SignalPipe&) = delete;
  ~SignalPipe();
  int fd() const { return m_read.get(); }
  void drain();

 private:
  SignalPipe() = default;
  int m_signal = 0;
  OwnedFd m_read;
  OwnedFd m_write;
};

}  // namespace pressure::sys
