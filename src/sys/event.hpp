// The kernel objects an event loop is built from: epoll, timerfd, eventfd. Thin and owning.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <pressure/error.hpp>

namespace pressure::sys {

// An owned descriptor closed with ::close (event objects never go through the Io seam).
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : m_fd(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : m_fd(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();
  int get() const { return m_fd; }
  int release();

 private:
  int m_fd = -1;
};

// epoll's bits, so callers need no system header.
extern const std::uint32_t k_readable;  // EPOLLIN
extern const std::uint32_t k_priority;  // EPOLLPRI: a PSI trigger fired
extern const std::uint32_t k_error;     // EPOLLERR: e.g. the trigger's cgroup was removed

struct ReadyEvent {
  std::uint64_t key;
  std::uint32_t events;  // k_readable, k_priority, k_error ...
};

class Epoll {
 public:
  static Result<Epoll> create();
  int fd() const { return m_fd.get(); }
  // `events` as for epoll_ctl; `key` comes back in ReadyEvent.
  Result<void> add(int fd, std::uint32_t events, std::uint64_t key);
  void remove(int fd);
  // Waits up to `timeout_ms` (-1: forever, 0: not at all); EINTR is an empty result.
  Result<std::vector<ReadyEvent>> wait(int timeout_ms, int max_events = 64);

 private:
  OwnedFd m_fd;
};

// A periodic CLOCK_MONOTONIC timer; readable each time it expires. Without `first`, it expires on
// multiples of the period, so timers of one period wake a loop together.
class Timer {
 public:
  static Result<Timer> create(std::chrono::nanoseconds period, std::chrono::nanoseconds first = {});
  int fd() const { return m_fd.get(); }
  // Clears the expiry count; returns it (0 if it had not expired).
  std::uint64_t consume();
  // From now on every `period`, on its multiples.
  Result<void> set_period(std::chrono::nanoseconds period);

 private:
  OwnedFd m_fd;
};

// A counter another thread bumps to wake a loop.
class Wakeup {
 public:
  static Result<Wakeup> create();
  int fd() const { return m_fd.get(); }
  void notify();
  void consume();

 private:
  OwnedFd m_fd;
};

}  // namespace pressure::sys
