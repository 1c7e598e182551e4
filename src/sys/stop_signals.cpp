// The one way of taking stop signals: blocked, then taken by a thread with sigwait and passed on
// through a pipe and a flag. POSIX only (sigwait, pipe, poll), so every platform has it.
#include "sys/stop_signals.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "sys/fd.hpp"
#include "sys/files.hpp"

namespace pressure::sys {

constexpr std::size_t k_taker_stack = 64 * 1024;

struct StopSignals::State {
  sigset_t set{};
  sigset_t previous{};
  Fd read_end, write_end;
  std::atomic<bool> stop{false};
  std::atomic<bool> closing{false};
  pthread_t taker{};

  void take_signals() {
    for (;;) {
      int sig = 0;
      if (::sigwait(&set, &sig) != 0) continue;
      if (closing.load()) return;
      if (sig == SIGINT || sig == SIGTERM) stop.store(true);
      auto byte = static_cast<unsigned char>(sig);
      (void)!::write(write_end.get(), &byte, 1);  // a full pipe already says "a signal came"
    }
  }
};

Result<StopSignals> StopSignals::take(const std::vector<int>& also) {
  auto state = std::make_unique<State>();
  sigemptyset(&state->set);
  for (int sig : {SIGINT, SIGTERM}) sigaddset(&state->set, sig);
  for (int sig : also) sigaddset(&state->set, sig);
  int fds[2];
  if (::pipe(fds) != 0) return fail(Errc::system, "pipe: " + errno_text(errno), {}, errno);
  state->read_end = Fd(real_io().get(), fds[0]);
  state->write_end = Fd(real_io().get(), fds[1]);
  for (int fd : fds) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  if (int err = ::pthread_sigmask(SIG_BLOCK, &state->set, &state->previous); err != 0)
    return fail(Errc::system, "pthread_sigmask: " + errno_text(err), {}, err);
  // A small stack: the thread only waits and writes a byte, and the daemon's mlockall would
  // otherwise fault in and lock the default 8 MiB.
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setstacksize(&attr, std::max<std::size_t>(k_taker_stack, PTHREAD_STACK_MIN));
  int err = ::pthread_create(
      &state->taker, &attr,
      [](void* s) -> void* {
        static_cast<State*>(s)->take_signals();
        return nullptr;
      },
      state.get());
  ::pthread_attr_destroy(&attr);
  if (err != 0) {
    ::pthread_sigmask(SIG_SETMASK, &state->previous, nullptr);
    return fail(Errc::system, "pthread_create: " + errno_text(err), {}, err);
  }
  return StopSignals(std::move(state));
}

StopSignals::StopSignals(std::unique_ptr<State> state) : m_state(std::move(state)) {}
StopSignals::StopSignals(StopSignals&& other) noexcept = default;

StopSignals::~StopSignals() {
  if (!m_state) return;
  m_state->closing.store(true);
  ::pthread_kill(m_state->taker, SIGINT);  // blocked there: its sigwait takes it
  ::pthread_join(m_state->taker, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &m_state->previous, nullptr);
}

int StopSignals::fd() const { return m_state->read_end.get(); }

int StopSignals::next() {
  unsigned char byte = 0;
  return ::read(m_state->read_end.get(), &byte, 1) == 1 ? byte : 0;
}

int StopSignals::wait() {
  for (;;) {
    if (int sig = next()) return sig;
    pollfd p{fd(), POLLIN, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) return 0;
  }
}

const std::atomic<bool>& StopSignals::stop_requested() const { return m_state->stop; }

}  // namespace pressure::sys
