// Platforms without epoll, timerfd and PSI triggers (macOS, others): the event objects exist
// and say so, so the watch layer compiles everywhere and answers "unsupported".
#include "sys/event.hpp"
#include "sys/pressure_channel.hpp"
#include "sys/report.hpp"
#include "sys/trigger.hpp"

namespace pressure::sys {
namespace {

tl::unexpected<Error> no_events() {
  return fail(Errc::unsupported, "watching pressure needs Linux (epoll and PSI triggers)");
}

}  // namespace

const std::uint32_t k_readable = 1;
const std::uint32_t k_priority = 2;
const std::uint32_t k_error = 8;

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  m_fd = other.release();
  return *this;
}
OwnedFd::~OwnedFd() = default;
int OwnedFd::release() {
  int fd = m_fd;
  m_fd = -1;
  return fd;
}

Result<Epoll> Epoll::create() { return no_events(); }
Result<void> Epoll::add(int, std::uint32_t, std::uint64_t) { return no_events(); }
void Epoll::remove(int) {}
Result<std::vector<ReadyEvent>> Epoll::wait(int, int) { return no_events(); }

Result<Timer> Timer::create(std::chrono::nanoseconds, std::chrono::nanoseconds) { return no_events(); }
std::uint64_t Timer::consume() { return 0; }
Result<void> Timer::set_period(std::chrono::nanoseconds) { return no_events(); }

Result<Wakeup> Wakeup::create() { return no_events(); }
void Wakeup::notify() {}
void Wakeup::consume() {}

Result<Fd> arm_trigger(const Io&, const std::string& path, Scope, const TriggerSpec&) {
  return fail(Errc::unsupported, "PSI triggers need Linux", path);
}

std::string_view to_string(ChannelForm) noexcept { return "?"; }
Result<PressureChannel> open_channel(const EnvironmentWatch&) {
  return fail(Errc::unsupported, "the service manager's pressure watch needs Linux");
}
ChannelSignal take_signal(const PressureChannel&, std::uint32_t) { return ChannelSignal::none; }

bool trim_malloc() { return false; }

Result<void> write_memory_report(const std::string& path) {
  return fail(Errc::unsupported, "memory reports need Linux", path);
}

Result<SignalPipe> SignalPipe::install(int) { return no_events(); }
SignalPipe::SignalPipe(SignalPipe&& other) noexcept
    : m_signal(other.m_signal), m_read(std::move(other.m_read)), m_write(std::move(other.m_write)) {}
SignalPipe::~SignalPipe() = default;
void SignalPipe::drain() {}

}  // namespace pressure::sys
