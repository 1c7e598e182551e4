// Processes held by pidfds: a signal cannot reach a recycled pid; process_mrelease reaps a
// killed one's memory at once.
#include <cerrno>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys/control.hpp"
#include "sys/files.hpp"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

namespace pressure::sys {

Result<ProcessHandle> ProcessHandle::open(Pid pid) {
  if (pid <= 0) return fail(Errc::invalid_argument, "no process " + std::to_string(pid));
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    int err = errno;
    if (err == ESRCH) return fail(Errc::gone, "process " + std::to_string(pid) + " has exited", {}, err);
    return fail(Errc::system, "pidfd_open(" + std::to_string(pid) + "): " + errno_text(err), {}, err);
  }
  ProcessHandle h;
  h.m_pid = pid;
  h.m_fd = Fd(real_io().get(), static_cast<int>(fd));
  return h;
}

Result<void> ProcessHandle::signal(int sig) const {
  if (::syscall(SYS_pidfd_send_signal, m_fd.get(), sig, nullptr, 0) == 0) return {};
  int err = errno;
  if (err == ESRCH) return fail(Errc::gone, "process " + std::to_string(m_pid) + " has exited", {}, err);
  if (err == EPERM)
    return fail(Errc::permission, "not allowed to signal process " + std::to_string(m_pid), {}, err);
  return fail(Errc::system, "signal to process " + std::to_string(m_pid) + ": " + errno_text(err), {}, err);
}

void ProcessHandle::release_memory() const { ::syscall(SYS_process_mrelease, m_fd.get(), 0); }

bool ProcessHandle::exited() const {
  pollfd p{m_fd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace pressure::sys
