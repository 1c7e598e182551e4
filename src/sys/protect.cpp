#include "sys/protect.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sys/control.hpp"
#include "sys/files.hpp"
#include "sys/small_file.hpp"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace pressure::sys {
namespace {

constexpr int k_cap_ipc_lock = 14;

// The value after "Key:" in /proc/self/status, as text.
std::string_view status_field(std::string_view status, std::string_view key) {
  for (std::size_t at = 0; at < status.size();) {
    std::size_t end = status.find('\n', at);
    if (end == std::string_view::npos) end = status.size();
    std::string_view line = status.substr(at, end - at);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      return line;
    }
    at = end + 1;
  }
  return {};
}

bool may_lock_without_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur == RLIM_INFINITY) return true;
  Result<std::string> status = read_small_file("/proc/self/status");
  if (!status) return false;
  std::string caps(status_field(*status, "CapEff"));
  if (caps.empty()) return false;
  unsigned long long eff = std::strtoull(caps.c_str(), nullptr, 16);
  return ((eff >> k_cap_ipc_lock) & 1U) != 0;
}

}  // namespace

Result<MemoryLock> lock_memory() {
  // The first call faults everything mapped in now (text, libraries, data) and locks it; the
  // second adds MCL_FUTURE with MCL_ONFAULT, so 8 MiB thread stacks and 64 MiB malloc arenas
  // reserved later cost only the pages used. Pages already locked stay locked.
  if (::mlockall(MCL_CURRENT) != 0) {
    int err = errno;
    return fail(err == EPERM ? Errc::permission : Errc::system,
                "cannot lock the daemon's memory (mlockall: " + errno_text(err) +
                    "); raise RLIMIT_MEMLOCK (LimitMEMLOCK=infinity) or grant CAP_IPC_LOCK",
                {}, err);
  }
  if (!may_lock_without_limit()) return MemoryLock::current_only;
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) return MemoryLock::current_only;
  return MemoryLock::all;
}

Result<int> shield_from_oom_killer() {
  constexpr const char* k_path = "/proc/self/oom_score_adj";
  Result<std::string> text = read_small_file(k_path);
  if (!text) return tl::unexpected(text.error());
  int now = std::atoi(text->c_str());
  if (now != 0) return now;  // chosen by whoever started us
  int fd = ::open(k_path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(open_error(errno, k_path, "it"));
  static constexpr std::string_view k_value = "-1000";
  ssize_t n = ::write(fd, k_value.data(), k_value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(k_value.size()))
    return fail(err == EACCES || err == EPERM ? Errc::permission : Errc::system,
                std::string("cannot lower ") + k_path + " to -1000 (" + errno_text(err) +
                    "): it needs CAP_SYS_RESOURCE; the service's OOMScoreAdjust=-1000 does it instead",
                k_path, err);
  return -1000;
}

Result<std::uint64_t> raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return fail(Errc::system, std::string("getrlimit(RLIMIT_NOFILE): ") + errno_text(errno), {}, errno);
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0)
      return fail(Errc::system, std::string("setrlimit(RLIMIT_NOFILE): ") + errno_text(errno), {}, errno);
    limit = raised;
  }
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

Result<void> run_in_real_time() {
  sched_param param{};
  param.sched_priority = 1;
  if (::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0) return {};
  int err = errno;
  return fail(err == EPERM ? Errc::permission : Errc::system,
              "cannot run the event loop in real time (sched_setscheduler SCHED_FIFO: " + errno_text(err) +
                  "); it needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 1 (systemd: RestrictRealtime=no)",
              {}, err);
}

Result<OwnMemory> own_memory() {
  Result<std::string> status = read_small_file("/proc/self/status");
  if (!status) return tl::unexpected(status.error());
  auto kib = [&](std::string_view key) {
    std::string v(status_field(*status, key));
    return static_cast<std::uint64_t>(std::strtoull(v.c_str(), nullptr, 10)) * 1024U;
  };
  return OwnMemory{kib("VmRSS"), kib("VmLck")};
}

}  // namespace pressure::sys
