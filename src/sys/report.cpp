#include "sys/report.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pressure::sys {
namespace {

std::atomic<int> g_signal_write_fd{-1};

extern "C" void on_report_signal(int) {
  int saved = errno;
  int fd = g_signal_write_fd.load();
  if (fd >= 0) (void)!::write(fd, "r", 1);
  errno = saved;
}

}  // namespace

bool trim_malloc() {
#if defined(__GLIBC__)
  return ::malloc_trim(0) == 1;
#else
  return false;
#endif
}

Result<void> write_memory_report(const std::string& path) {
  std::FILE* out = std::fopen(path.c_str(), "a");
  if (out == nullptr)
    return fail(errno == EACCES ? Errc::permission : Errc::system,
                "cannot write the memory report to " + path + ": " + std::strerror(errno), path, errno);
  std::fprintf(out, "=== pressure memory report, pid %d\n", static_cast<int>(::getpid()));
  for (const char* file : {"/proc/self/status", "/proc/self/smaps_rollup"}) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    std::fprintf(out, "--- %s\n%s", file, text.str().c_str());
  }
#if defined(__GLIBC__)
  std::fprintf(out, "--- malloc_info\n");
  ::malloc_info(0, out);
#endif
  std::fprintf(out, "=== end\n");
  bool ok = std::fclose(out) == 0;
  if (!ok) return fail(Errc::system, "cannot finish the memory report in " + path, path, errno);
  return {};
}

Result<SignalPipe> SignalPipe::install(int signal) {
  if (g_signal_write_fd.load() >= 0)
    return fail(Errc::invalid_argument, "a memory report signal is already installed in this process");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return fail(Errc::system, std::string("pipe2: ") + std::strerror(errno), {}, errno);
  SignalPipe p;
  p.m_signal = signal;
  p.m_read = OwnedFd(fds[0]);
  p.m_write = OwnedFd(fds[1]);
  g_signal_write_fd = fds[1];
  struct sigaction action {};
  action.sa_handler = on_report_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (::sigaction(signal, &action, nullptr) != 0) {
    g_signal_write_fd = -1;
    return fail(Errc::invalid_argument,
                "cannot handle signal " + std::to_string(signal) + ": " + std::strerror(errno), {}, errno);
  }
  return p;
}

SignalPipe::SignalPipe(SignalPipe&& other) noexcept
    : m_signal(std::exchange(other.m_signal, 0)),
      m_read(std::move(other.m_read)),
      m_write(std::move(other.m_write)) {}

SignalPipe::~SignalPipe() {
  if (m_signal == 0) return;
  ::signal(m_signal, SIG_DFL);
  g_signal_write_fd = -1;
}

void SignalPipe::drain() {
  char buf[64];
  while (::read(m_read.get(), buf, sizeof buf) > 0) {
  }
}

}  // namespace pressure::sys
