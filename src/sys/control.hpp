// Acting on processes and cgroups, and talking to the service manager: the daemon's hands.
// Linux only. One header, a file per job: cgroup.cpp (processes and children of a group,
// cgroup.kill, control files), process_info.cpp (what /proc says of a process),
// pidfd.cpp (ProcessHandle), spawn.cpp (commands), service.cpp (datagrams, appends,
// sd_notify). Cgroup memory is read by the library's cgroup_memory.cpp and small files
// by small_file.cpp, both through the Io seam.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pressure/error.hpp>
#include <pressure/io.hpp>

#include "sys/cgroup_memory.hpp"
#include "sys/fd.hpp"

namespace pressure::sys {

using Pid = int;

// The pids in `dir`/cgroup.procs, and in every group below it when `recursive`.
Result<std::vector<Pid>> cgroup_processes(const std::string& dir, bool recursive);
// The names of the groups directly under `dir`.
// Whether the cgroup directory `dir` exists (false also when it cannot be looked at).
bool cgroup_exists(const std::string& dir);
Result<std::vector<std::string>> child_cgroups(const std::string& dir);
// The process's cgroup2 path ("/a/b") from /proc/PID/cgroup under `proc_root`.
Result<std::string> process_cgroup(Pid pid, const std::string& proc_root = "/proc");
// Resident set size in bytes, from /proc/PID/statm.
Result<std::uint64_t> process_rss(Pid pid, const std::string& proc_root = "/proc");
// Resident anonymous memory in bytes (statm resident - shared: RssAnon): what killing the
// process frees and, without swap, nothing else can. File pages in its RSS are reclaimable.
Result<std::uint64_t> process_anonymous_rss(Pid pid, const std::string& proc_root = "/proc");
// /proc/PID/comm without its newline.
std::string process_name(Pid pid, const std::string& proc_root = "/proc");
// /proc/PID/oom_score_adj (-1000 means: never an OOM victim); nothing if it cannot be read.
std::optional<int> process_oom_score_adj(Pid pid, const std::string& proc_root = "/proc");
// Our own pid.
Pid self_pid();

// Memory charged to the cgroup2 group `relative` (e.g. "/batch/job1"): its memory.current
// under `cgroup2_root`, else the v1 memory group of the same path (hybrid systems), else the
// sum of its processes' RSS. Says which in `source`.
struct CgroupMemory {
  std::uint64_t bytes = 0;
  std::string source;  // "memory.current", "memory.usage_in_bytes (v1)", "rss of N processes"
};
Result<CgroupMemory> cgroup_memory(const std::string& cgroup2_root, const std::string& relative,
                                   const std::string& proc_root = "/proc", const Io& io = *real_io());
// The group's memory limit: memory.max, else memory.high (v2), else the v1 limit of the same
// path; nothing when unlimited.
std::optional<std::uint64_t> cgroup_memory_limit(const std::string& cgroup2_root, const std::string& relative,
                                                 const std::string& proc_root = "/proc",
                                                 const Io& io = *real_io());

// A process held by a pidfd, so a signal cannot reach a recycled pid.
class ProcessHandle {
 public:
  static Result<ProcessHandle> open(Pid pid);
  Pid pid() const { return m_pid; }
  int fd() const { return m_fd.get(); }  // readable when the process has exited
  Result<void> signal(int sig) const;
  // process_mrelease: reap the memory of a killed process now (5.15+); a no-op where missing.
  void release_memory() const;
  bool exited() const;

 private:
  Pid m_pid = 0;
  Fd m_fd;
};

// Writes "1" to `dir`/cgroup.kill (5.14+): SIGKILL to every process below, atomically with
// respect to forks. `unsupported` where the file is missing.
Result<void> cgroup_kill(const std::string& dir);

// Replaces the contents of a control file (memory.high, memory.limit_in_bytes ...).
Result<void> write_control(const std::string& path, const std::string& value);

// A control file opened now and written later, perhaps on another thread: if its group is
// removed meanwhile the write fails (Errc::gone) instead of reaching a new group of the same path.
class ControlFile {
 public:
  static Result<ControlFile> open(const std::string& path);
  // Blocks for as long as the kernel takes (lowering a memory limit reclaims inside it).
  Result<void> write(const std::string& value) const;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
  Fd m_fd;
};

// A control file's first line, e.g. "max" or "536870912".
Result<std::string> read_control(const std::string& path);

// One datagram to a unix socket ("@name" for the abstract namespace); never blocks.
Result<void> send_datagram(const std::string& socket_path, const std::string& payload);
// Appends `line` + '\n' with one write to `path` (created 0644).
Result<void> append_line(const std::string& path, const std::string& line);

// A command started without a shell, in its own process group, with `extra` added to the
// environment; its pidfd tells when it ends.
// Where exec would find `program`: searched in $PATH (as execvp does) when it has no '/', else
// the path itself, which must be executable. Errc::not_found names what was searched.
Result<std::string> find_program(const std::string& program);

// Whether `host` (an address or a name; empty: every interface) is one this machine can listen
// on: a bind to an ephemeral port, released at once. Errc::invalid_argument when it is not.
Result<void> check_local_address(const std::string& host);

struct Child {
  ProcessHandle handle;
};
Result<Child> spawn(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& extra);
// Reaps an exited child: its exit status (128 + signal if killed), or nothing if still running.
std::optional<int> reap(Pid pid);
// SIGKILL to the child's whole process group.
void kill_group(Pid pid);

// sd_notify: sends `state` to $NOTIFY_SOCKET; false when there is none or it failed.
bool notify_service_manager(const std::string& state);
// $WATCHDOG_USEC for us (WATCHDOG_PID unset or ours), else 0.
std::chrono::microseconds watchdog_interval();
// CLOCK_MONOTONIC in µs, for RELOADING=1's MONOTONIC_USEC.
std::uint64_t monotonic_usec();

}  // namespace pressure::sys
