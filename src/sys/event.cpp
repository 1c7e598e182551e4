#include "sys/event.hpp"

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <string>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace pressure::sys {

const std::uint32_t k_readable = EPOLLIN;
const std::uint32_t k_priority = EPOLLPRI;
const std::uint32_t k_error = EPOLLERR;

namespace {

tl::unexpected<Error> os_error(const char* what, int err) {
  return fail(Errc::system, std::string(what) + ": " + std::strerror(err), {}, err);
}

timespec to_timespec(std::chrono::nanoseconds d) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(d.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(d.count() % 1'000'000'000);
  return ts;
}

}  // namespace

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = other.release();
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (m_fd >= 0) ::close(m_fd);
}

int OwnedFd::release() {
  int fd = m_fd;
  m_fd = -1;
  return fd;
}

Result<Epoll> Epoll::create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return os_error("epoll_create1", errno);
  Epoll e;
  e.m_fd = OwnedFd(fd);
  return e;
}

Result<void> Epoll::add(int fd, std::uint32_t events, std::uint64_t key) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = key;
  if (::epoll_ctl(m_fd.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return os_error("epoll_ctl(ADD)", errno);
  return {};
}

void Epoll::remove(int fd) { ::epoll_ctl(m_fd.get(), EPOLL_CTL_DEL, fd, nullptr); }

Result<std::vector<ReadyEvent>> Epoll::wait(int timeout_ms, int max_events) {
  std::vector<epoll_event> raw(static_cast<std::size_t>(max_events));
  int n = ::epoll_wait(m_fd.get(), raw.data(), max_events, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return std::vector<ReadyEvent>{};
    return os_error("epoll_wait", errno);
  }
  std::vector<ReadyEvent> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    out.push_back({raw[static_cast<std::size_t>(i)].data.u64, raw[static_cast<std::size_t>(i)].events});
  return out;
}

namespace {

// The next multiple of `period` on CLOCK_MONOTONIC, strictly after now.
timespec next_multiple(std::chrono::nanoseconds period) {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  auto now_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  auto p = std::max<std::int64_t>(period.count(), 1);
  return to_timespec(std::chrono::nanoseconds((now_ns / p + 1) * p));
}

}  // namespace

Result<Timer> Timer::create(std::chrono::nanoseconds period, std::chrono::nanoseconds first) {
  int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return os_error("timerfd_create", errno);
  Timer t;
  t.m_fd = OwnedFd(fd);
  if (first.count() <= 0) {
    if (Result<void> ok = t.set_period(period); !ok) return tl::unexpected(ok.error());
    return t;
  }
  itimerspec spec{};
  spec.it_interval = to_timespec(period);
  spec.it_value = to_timespec(first);
  if (::timerfd_settime(fd, 0, &spec, nullptr) != 0) return os_error("timerfd_settime", errno);
  return t;
}

Result<void> Timer::set_period(std::chrono::nanoseconds period) {
  // On multiples of the period: timers of equal (or dividing) periods then expire together and
  // cost the loop one wakeup, not one each.
  itimerspec spec{};
  spec.it_interval = to_timespec(period);
  spec.it_value = next_multiple(period);
  if (::timerfd_settime(m_fd.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0)
    return os_error("timerfd_settime", errno);
  return {};
}

std::uint64_t Timer::consume() {
  std::uint64_t expirations = 0;
  if (::read(m_fd.get(), &expirations, sizeof expirations) != sizeof expirations) return 0;
  return expirations;
}

Result<Wakeup> Wakeup::create() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return os_error("eventfd", errno);
  Wakeup w;
  w.m_fd = OwnedFd(fd);
  return w;
}

void Wakeup::notify() {
  std::uint64_t one = 1;
  (void)!::write(m_fd.get(), &one, sizeof one);
}

void Wakeup::consume() {
  std::uint64_t value = 0;
  (void)!::read(m_fd.get(), &value, sizeof value);
}

}  // namespace pressure::sys
