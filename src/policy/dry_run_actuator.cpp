// --dry-run's Actuator: nothing reaches the machine; each call is kept as a line.
#include <string>

#include "policy/actuator.hpp"
#include "sys/control.hpp"

namespace pressure::policy {

void DryRunActuator::record(std::string line) {
  if (m_rehearsed.size() >= 100) m_rehearsed.erase(m_rehearsed.begin());
  m_rehearsed.push_back(std::move(line));
}

Result<std::vector<int>> DryRunActuator::processes(const std::string& dir) {
  return sys::cgroup_processes(dir, true);  // a read: the dry run says how many it would reach
}

Result<void> DryRunActuator::signal_process(int pid, int sig, const std::string& within_cgroup) {
  record("signal " + std::to_string(sig) + " to pid " + std::to_string(pid) + " within " + within_cgroup);
  return {};
}

Result<Actuator::GroupKill> DryRunActuator::kill_cgroup(const std::string& dir, const std::string& cgroup) {
  record("kill cgroup " + cgroup);
  Result<std::vector<int>> pids = processes(dir);
  return GroupKill{pids ? pids->size() : 0, true};
}

Result<void> DryRunActuator::write_control(const std::string& path, const std::string& value,
                                           std::function<void(const Result<void>&)> done) {
  record("write " + value + " to " + path);
  done(Result<void>{});
  return {};
}

Result<void> DryRunActuator::exec(const std::vector<std::string>& argv,
                                  const std::vector<std::pair<std::string, std::string>>&,
                                  std::chrono::microseconds, std::function<void(int, bool)>) {
  std::string line = "exec";
  for (const std::string& a : argv) line += " " + a;
  record(std::move(line));
  return {};
}

void DryRunActuator::run_hook(const std::vector<std::string>& argv,
                              const std::vector<std::pair<std::string, std::string>>&,
                              std::chrono::microseconds timeout, std::function<void(const HookEnd&)> done) {
  std::string line = "prekill";
  for (const std::string& a : argv) line += " " + a;
  record(line + " (timeout " + std::to_string(timeout.count() / 1000) + " ms)");
  done(HookEnd{HookEnd::How::rehearsed, 0, {}});
}

Result<void> DryRunActuator::send_datagram(const std::string& socket, const std::string& payload) {
  record("datagram to " + socket + ": " + payload);
  return {};
}

Result<void> DryRunActuator::append_line(const std::string& path, const std::string& line) {
  record("append to " + path + ": " + line);
  return {};
}

}  // namespace pressure::policy
