// The engine's seams, for unit tests: a clock moved by hand and an actuator that records every
// call and answers as the test says. With a fixture cgroup tree (readers take roots) they run
// the engine's decisions without a kernel, privileges or waiting.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/actuator.hpp"
#include "policy/clock.hpp"

namespace pressure::test {

class FakeClock final : public policy::Clock {
 public:
  TimePoint now() const override { return m_now; }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50) +
           (m_now - TimePoint{});
  }
  void advance(std::chrono::nanoseconds d) { m_now += d; }

 private:
  TimePoint m_now = TimePoint{} + std::chrono::hours(1);
};

// One call the engine made.
struct Call {
  std::string what;   // "signal", "kill_cgroup", "write_control", "exec", "prekill", "datagram", "append"
  std::string where;  // the pid, group, file, socket or argv[0]
  std::string value;  // the signal, the value written, the payload or line
  std::string scope;  // within_cgroup / cgroup, for signals and kills
  std::vector<std::pair<std::string, std::string>> env;  // exec, prekill
  std::chrono::microseconds timeout{0};                  // exec, prekill

  // The value of `name` in env, or nothing.
  std::optional<std::string> env_value(const std::string& name) const {
    for (const auto& [k, v] : env)
      if (k == name) return v;
    return std::nullopt;
  }
};

class RecordingActuator final : public policy::Actuator {
 public:
  std::vector<Call> calls;
  std::map<std::string, std::vector<int>> pids;  // what processes(dir) answers
  std::optional<Error> fail_with;                // every action fails with this
  bool hold_writes = false;  // write_control keeps `done` in `pending_writes` instead of calling it
  std::vector<std::function<void(const Result<void>&)>> pending_writes;
  std::vector<std::function<void(int, bool)>> running;     // exec's `done`, to end a command
  std::vector<std::function<void(const HookEnd&)>> hooks;  // run_hook's `done`, to end a hook

  Result<std::vector<int>> processes(const std::string& dir) override {
    auto it = pids.find(dir);
    if (it == pids.end()) return fail(Errc::not_found, dir + " has no processes in this test");
    return it->second;
  }
  Result<void> signal_process(int pid, int sig, const std::string& within) override {
    calls.push_back({"signal", std::to_string(pid), std::to_string(sig), within, {}});
    return answer();
  }
  Result<GroupKill> kill_cgroup(const std::string& dir, const std::string& cgroup) override {
    calls.push_back({"kill_cgroup", dir, "", cgroup, {}});
    if (fail_with) return tl::unexpected(*fail_with);
    auto it = pids.find(dir);
    return GroupKill{it == pids.end() ? 0 : it->second.size(), true};
  }
  Result<void> write_control(const std::string& path, const std::string& value,
                             std::function<void(const Result<void>&)> done) override {
    calls.push_back({"write_control", path, value, "", {}});
    if (fail_with) return tl::unexpected(*fail_with);
    if (hold_writes)
      pending_writes.push_back(std::move(done));
    else
      done(Result<void>{});
    return {};
  }
  Result<void> exec(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    std::chrono::microseconds timeout, std::function<void(int, bool)> done) override {
    std::string rest;
    for (std::size_t i = 1; i < argv.size(); ++i) rest += (i > 1 ? " " : "") + argv[i];
    calls.push_back({"exec", argv.empty() ? "" : argv[0], rest, "", env, timeout});
    if (fail_with) return tl::unexpected(*fail_with);
    running.push_back(std::move(done));
    return {};
  }
  void run_hook(const std::vector<std::string>& argv,
                const std::vector<std::pair<std::string, std::string>>& env,
                std::chrono::microseconds timeout, std::function<void(const HookEnd&)> done) override {
    std::string rest;
    for (std::size_t i = 1; i < argv.size(); ++i) rest += (i > 1 ? " " : "") + argv[i];
    calls.push_back({"prekill", argv.empty() ? "" : argv[0], rest, "", env, timeout});
    hooks.push_back(std::move(done));
  }
  Result<void> send_datagram(const std::string& socket, const std::string& payload) override {
    calls.push_back({"datagram", socket, payload, "", {}});
    return answer();
  }
  Result<void> append_line(const std::string& path, const std::string& line) override {
    calls.push_back({"append", path, line, "", {}});
    return answer();
  }

 private:
  Result<void> answer() const {
    if (fail_with) return tl::unexpected(*fail_with);
    return {};
  }
};

}  // namespace pressure::test
