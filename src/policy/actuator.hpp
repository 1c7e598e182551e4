// Everything the engine does to the machine, behind one interface: signals and kills through
// pidfds, cgroup kills, control-file writes, commands, notifications. Three implementations:
//   real_actuator(monitor)   acts, through sys (policy/real_actuator.cpp)
//   DryRunActuator           touches nothing, records what it would have done (--dry-run)
//   tests' RecordingActuator records and answers as a test says (tests/support)
// The engine reads through readers and acts only through this, so one rule's path from an
// event to an action is the same code in a dry run, a test and production.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pressure/error.hpp>
#include <pressure/monitor.hpp>

namespace pressure::policy {

class Actuator {
 public:
  virtual ~Actuator() = default;
  // True for an actuator that only rehearses (dry run): decisions say "would" and count as
  // "dry-run".
  virtual bool rehearses() const { return false; }
  // The pids in the cgroup directory `dir` and every group below it: whom a group signal reaches.
  virtual Result<std::vector<int>> processes(const std::string& dir) = 0;
  // SIGTERM/SIGKILL/... to one process, through a pidfd, if it is inside `within_cgroup` (a
  // path relative to the cgroup2 mount), never to pid 1 or ourselves.
  virtual Result<void> signal_process(int pid, int sig, const std::string& within_cgroup) = 0;
  // What a group kill did: how many processes were in the group, and how they were killed.
  struct GroupKill {
    std::size_t processes = 0;
    bool atomic = false;  // cgroup.kill (5.14+); else SIGKILL to each process, in rounds
    std::string how() const { return atomic ? "with cgroup.kill" : "one by one (no cgroup.kill)"; }
  };
  // SIGKILL to everything in the group `cgroup` whose directory is `dir` (cgroup.kill, else each
  // process).
  virtual Result<GroupKill> kill_cgroup(const std::string& dir, const std::string& cgroup) = 0;
  // Writes a control file (memory.high, memory.limit_in_bytes) off the loop: the kernel may
  // reclaim inside the write for seconds. `done` runs on the loop once it is over (or at once);
  // an error means it was not started, and then `done` never runs.
  virtual Result<void> write_control(const std::string& path, const std::string& value,
                                     std::function<void(const Result<void>&)> done) = 0;
  // Starts a command; `done(status)` is called on the loop when it ends or is killed (never, for
  // a command that was not started).
  virtual Result<void> exec(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& env,
                            std::chrono::microseconds timeout,
                            std::function<void(int status, bool timed_out)> done) = 0;
  // How a pre-kill hook ended.
  struct HookEnd {
    enum class How { exited, timed_out, not_started, rehearsed };
    How how = How::exited;
    int status = 0;     // exited: its exit status (128 + signal if killed)
    std::string error;  // not_started: why
  };
  // Runs a pre-kill hook: like exec, in its own process group, but `done` runs exactly once and
  // at most `timeout` after the call: when the hook exits, or at the timeout, right after its
  // process group is killed (without waiting for it to be reaped), or at once if it could not be
  // started or is only rehearsed. The kill that waits on it never waits longer.
  virtual void run_hook(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& env,
                        std::chrono::microseconds timeout, std::function<void(const HookEnd&)> done) = 0;
  virtual Result<void> send_datagram(const std::string& socket, const std::string& payload) = 0;
  virtual Result<void> append_line(const std::string& path, const std::string& line) = 0;
};

// The real one; exec needs the Monitor to wait for children, `proc_root` to check where a
// process lives before it is signalled.
std::unique_ptr<Actuator> real_actuator(Monitor& monitor, const std::string& proc_root = "/proc");

// The dry run's: acts on nothing, succeeds, and keeps one line per call ("signal 15 to pid 42
// within /batch"). It lists a group's processes for real, so a dry run names how many a signal
// would reach; a command it would run is never started, so its `done` never runs; a control
// file it would write reports `done` at once; a pre-kill hook it would run is reported `rehearsed`
// at once, so the rehearsed kill follows without waiting.
class DryRunActuator final : public Actuator {
 public:
  bool rehearses() const override { return true; }
  Result<std::vector<int>> processes(const std::string& dir) override;
  Result<void> signal_process(int pid, int sig, const std::string& within_cgroup) override;
  Result<GroupKill> kill_cgroup(const std::string& dir, const std::string& cgroup) override;
  Result<void> write_control(const std::string& path, const std::string& value,
                             std::function<void(const Result<void>&)> done) override;
  Result<void> exec(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    std::chrono::microseconds timeout, std::function<void(int, bool)> done) override;
  void run_hook(const std::vector<std::string>& argv,
                const std::vector<std::pair<std::string, std::string>>& env,
                std::chrono::microseconds timeout, std::function<void(const HookEnd&)> done) override;
  Result<void> send_datagram(const std::string& socket, const std::string& payload) override;
  Result<void> append_line(const std::string& path, const std::string& line) override;

  // What it would have done, oldest first (the last 100).
  const std::vector<std::string>& rehearsed() const { return m_rehearsed; }

 private:
  void record(std::string line);
  std::vector<std::string> m_rehearsed;
};

}  // namespace pressure::policy
