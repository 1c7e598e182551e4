// The real Actuator: pidfd signals checked against the victim's cgroup, cgroup.kill (or rounds
// of SIGKILL before 5.14), control-file writes on the ControlWriter's thread, commands in their
// own process group with a timeout, datagrams and appended lines.
#include <algorithm>
#include <csignal>
#include <optional>

#include "core/cgroup_path.hpp"
#include "policy/actuator.hpp"
#include "policy/control_writer.hpp"
#include "sys/control.hpp"

namespace pressure::policy {
namespace {

class RealActuator final : public Actuator {
 private:
  struct Running;

 public:
  RealActuator(Monitor& monitor, std::string proc_root)
      : m_monitor(monitor), m_proc_root(std::move(proc_root)) {}

  ~RealActuator() override {
    for (auto& r : m_running) {
      if (r->fd_watch) m_monitor.remove_fd(*r->fd_watch);
      if (r->timer) m_monitor.cancel_timer(*r->timer);
    }
  }

  Result<std::vector<int>> processes(const std::string& dir) override {
    return sys::cgroup_processes(dir, true);
  }

  Result<void> signal_process(int pid, int sig, const std::string& within_cgroup) override {
    Result<sys::ProcessHandle> h = hold(pid, within_cgroup);
    if (!h) return tl::unexpected(h.error());
    Result<void> sent = h->signal(sig);
    if (sent && sig == SIGKILL) h->release_memory();
    return sent;
  }

  Result<GroupKill> kill_cgroup(const std::string& dir, const std::string& cgroup) override {
    Result<std::vector<sys::Pid>> pids = sys::cgroup_processes(dir, true);
    if (!pids) return tl::unexpected(pids.error());
    std::vector<sys::ProcessHandle> handles;
    for (sys::Pid pid : *pids) {
      if (pid <= 1 || pid == sys::self_pid())
        return fail(Errc::invalid_argument,
                    "refusing to kill " + cgroup + ": it holds pid " + std::to_string(pid));
      if (auto h = hold(pid, cgroup)) handles.push_back(std::move(*h));
    }
    Result<void> killed = sys::cgroup_kill(dir);
    if (!killed && killed.error().code() == Errc::unsupported)
      return kill_in_rounds(dir, cgroup, std::move(handles));
    if (!killed) return tl::unexpected(killed.error());
    for (const sys::ProcessHandle& h : handles) h.release_memory();
    return GroupKill{handles.size(), true};
  }

  Result<void> write_control(const std::string& path, const std::string& value,
                             std::function<void(const Result<void>&)> done) override {
    return m_writer.write(path, value, std::move(done));
  }

  Result<void> exec(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    std::chrono::microseconds timeout, std::function<void(int, bool)> done) override {
    return start(argv, env, timeout, std::move(done), nullptr);
  }

  void run_hook(const std::vector<std::string>& argv,
                const std::vector<std::pair<std::string, std::string>>& env,
                std::chrono::microseconds timeout, std::function<void(const HookEnd&)> done) override;

  Result<void> send_datagram(const std::string& socket, const std::string& payload) override {
    return sys::send_datagram(socket, payload);
  }
  Result<void> append_line(const std::string& path, const std::string& line) override {
    return sys::append_line(path, line);
  }

 private:
  // The pidfd is opened first and the process's cgroup read after it, so the signal goes to the
  // process that was checked, even if the pid was reused in between.
  Result<sys::ProcessHandle> hold(int pid, const std::string& within_cgroup) const {
    if (pid <= 1 || pid == sys::self_pid())
      return fail(Errc::invalid_argument, "refusing to signal pid " + std::to_string(pid));
    Result<sys::ProcessHandle> h = sys::ProcessHandle::open(pid);
    if (!h) return tl::unexpected(h.error());
    // Every process is within the root group: no need to ask. On a thrashing machine reading
    // /proc/PID/cgroup (the kernel allocates and takes the cgroup mutex) took up to 0.9 s in
    // the rescue bench, between choosing the victim and signalling it.
    if (within_cgroup == "/") return h;
    Result<std::string> where = sys::process_cgroup(pid, m_proc_root);
    if (!where) return tl::unexpected(where.error());
    if (!core::cgroup_within(*where, within_cgroup))
      return fail(Errc::invalid_argument, "refusing to signal pid " + std::to_string(pid) + ": it is in " +
                                              *where + ", outside " + within_cgroup);
    return h;
  }

  // No cgroup.kill (before 5.14): kill what is there until nothing is left; new forks may
  // appear between rounds, so a bounded number of rounds.
  Result<GroupKill> kill_in_rounds(const std::string& dir, const std::string& cgroup,
                                   std::vector<sys::ProcessHandle> handles) const {
    std::size_t count = 0;
    for (int round = 0; round < 10 && !handles.empty(); ++round) {
      for (const sys::ProcessHandle& h : handles) count += h.signal(SIGKILL) ? 1 : 0;
      for (const sys::ProcessHandle& h : handles) h.release_memory();
      handles.clear();
      Result<std::vector<sys::Pid>> left = sys::cgroup_processes(dir, true);
      if (!left) break;
      for (sys::Pid pid : *left) {
        if (pid <= 1 || pid == sys::self_pid()) continue;
        if (auto h = hold(pid, cgroup)) handles.push_back(std::move(*h));
      }
    }
    if (!handles.empty())
      return fail(Errc::system, "processes kept appearing in " + cgroup + " after 10 rounds of SIGKILL");
    return GroupKill{count, false};
  }

  // A command started by exec or run_hook, until it ends.
  struct Running {
    sys::Child child;
    std::optional<FdWatchId> fd_watch;
    std::optional<TimerId> timer;
    bool timed_out = false;
    std::function<void(int, bool)> done;
    std::function<void()> at_timeout;  // once its group is killed, before it is reaped
  };
  Result<void> start(const std::vector<std::string>& argv,
                     const std::vector<std::pair<std::string, std::string>>& env,
                     std::chrono::microseconds timeout, std::function<void(int, bool)> done,
                     std::function<void()> at_timeout);
  void finished(const std::shared_ptr<Running>& r, sys::Pid pid);

  Monitor& m_monitor;
  std::string m_proc_root;
  std::vector<std::shared_ptr<Running>> m_running;
  ControlWriter m_writer{m_monitor};
};

Result<void> RealActuator::start(const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& env,
                                 std::chrono::microseconds timeout, std::function<void(int, bool)> done,
                                 std::function<void()> at_timeout) {
  Result<sys::Child> child = sys::spawn(argv, env);
  if (!child) return tl::unexpected(child.error());
  auto running = std::make_shared<Running>();
  running->child = std::move(*child);
  running->done = std::move(done);
  running->at_timeout = std::move(at_timeout);
  sys::Pid pid = running->child.handle.pid();
  std::weak_ptr<Running> weak = running;
  Result<FdWatchId> fd_watch = m_monitor.add_fd(running->child.handle.fd(), [this, weak, pid] {
    if (auto r = weak.lock()) finished(r, pid);
  });
  if (!fd_watch) {
    sys::kill_group(pid);
    return tl::unexpected(fd_watch.error());
  }
  running->fd_watch = *fd_watch;
  Result<TimerId> timer = m_monitor.add_timer(timeout, [weak, pid] {
    if (auto r = weak.lock(); r && !r->timed_out) {
      r->timed_out = true;
      sys::kill_group(pid);
      if (r->at_timeout) r->at_timeout();
    }
  });
  if (timer) running->timer = *timer;
  m_running.push_back(std::move(running));
  return {};
}

void RealActuator::finished(const std::shared_ptr<Running>& r, sys::Pid pid) {
  std::optional<int> status = sys::reap(pid);
  if (!status) return;
  if (r->fd_watch) m_monitor.remove_fd(*r->fd_watch);
  if (r->timer) m_monitor.cancel_timer(*r->timer);
  auto keep = r;  // the callbacks below may drop the last reference
  m_running.erase(std::remove(m_running.begin(), m_running.end(), r), m_running.end());
  keep->done(*status, keep->timed_out);
}

// A hook's `done` runs once: at its exit or at its timeout, whichever comes first. A hook in
// uninterruptible sleep may take long to die after SIGKILL; the kill does not wait for that.
void RealActuator::run_hook(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& env,
                            std::chrono::microseconds timeout, std::function<void(const HookEnd&)> done) {
  auto answer = std::make_shared<std::function<void(const HookEnd&)>>(std::move(done));
  auto once = [answer](const HookEnd& end) {
    if (!*answer) return;
    auto call = std::move(*answer);
    *answer = nullptr;
    call(end);
  };
  Result<void> started = start(
      argv, env, timeout,
      [once](int status, bool timed_out) {
        once(HookEnd{timed_out ? HookEnd::How::timed_out : HookEnd::How::exited, status, {}});
      },
      [once] {
        once(HookEnd{HookEnd::How::timed_out, 0, {}});
      });
  if (!started) once(HookEnd{HookEnd::How::not_started, 0, started.error().message()});
}

}  // namespace

std::unique_ptr<Actuator> real_actuator(Monitor& monitor, const std::string& proc_root) {
  return std::make_unique<RealActuator>(monitor, proc_root);
}

}  // namespace pressure::policy
