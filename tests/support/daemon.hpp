// For system tests: `pressure daemon` as a user starts it, in a scratch directory of its own, and
// small workloads to aim it at.
#pragma once

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>
#include <cstdlib>

#include "support/live.hpp"
#include "support/process.hpp"

namespace pressure::test {

// A temporary directory for one daemon run: its config, its log, sockets and files.
class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/pressure-test-daemon-XXXXXX";
    m_dir = ::mkdtemp(tmpl) != nullptr ? tmpl : "";
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string path(const std::string& name) const { return m_dir + "/" + name; }

 private:
  std::string m_dir;
};

// The daemon as a user starts it, with `toml` as its config.
class Daemon {
 public:
  Daemon(const Scratch& scratch, const std::string& toml, std::vector<std::string> extra = {},
         std::vector<std::pair<std::string, std::string>> env = {})
      : m_config(scratch.path("daemon.toml")) {
    write_file(m_config, toml);
    std::vector<std::string> argv{PRESSURE_BINARY, "daemon", "--config", m_config};
    argv.insert(argv.end(), extra.begin(), extra.end());
    m_process = std::make_unique<Background>(argv, scratch.path("daemon.log"), env);
  }
  Background& process() { return *m_process; }
  std::string log() const { return m_process->log(); }
  bool log_has(const std::string& needle, std::chrono::milliseconds timeout) {
    return wait_until([&] { return log().find(needle) != std::string::npos; }, timeout);
  }
  const std::string& config() const { return m_config; }

 private:
  std::string m_config;
  std::unique_ptr<Background> m_process;
};

// True while our child `pid` runs.
inline bool alive(pid_t pid) { return !child_exited(pid) && ::kill(pid, 0) == 0; }

// A process holding `mib` MiB of written memory in `group`.
inline pid_t spawn_holder(TestCgroup& group, int mib) {
  return group.spawn_command(
      {"/usr/bin/python3", "-c",
       "import time\nb = b'\\x01' * (" + std::to_string(mib) + " << 20)\ntime.sleep(600)\n"},
      "/dev/null");
}

// Waits until process `pid` holds at least `mib` MiB resident (a holder has written its
// memory: python starts slowly under emulation or on a busy machine); false after `timeout`.
inline bool wait_for_rss(pid_t pid, int mib, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const std::string statm = "/proc/" + std::to_string(pid) + "/statm";
  const auto page = static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
  return wait_until(
      [&] {
        std::string text = read_file(statm);
        std::size_t space = text.find(' ');
        return space != std::string::npos && std::strtoull(text.c_str() + space + 1, nullptr, 10) * page >=
                                                 (static_cast<unsigned long long>(mib) << 20);
      },
      timeout);
}

// A process holding `mib` MiB, written and resident, in `group`; -1 if it could not start or fill.
inline pid_t holding(TestCgroup& group, int mib) {
  pid_t pid = group.ok() ? spawn_holder(group, mib) : -1;
  return pid > 0 && wait_for_rss(pid, mib) ? pid : -1;
}

}  // namespace pressure::test
