// For system tests: a program the test starts in the background (e.g. the daemon), its
// stderr in a file; killed by pid and reaped when the object goes away.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace pressure::test {

class Background {
 public:
  // argv[0] is a path; `env` is added to the test's environment; stdout and stderr go to `log`.
  Background(const std::vector<std::string>& argv, std::string log,
             const std::vector<std::pair<std::string, std::string>>& env = {});
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return m_pid; }
  bool running();
  void signal(int sig);
  // The exit status (128 + signal) once it ends within `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  pid_t m_pid = -1;
  std::optional<int> m_status;
  std::string m_log;
};

// True once `done()` is true, polling every `step`; false after `timeout`.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(50));

// True if our child `pid` has ended (reaps it).
bool child_exited(pid_t pid);

// A file's contents ("" if missing).
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
// The same, for kernel files that may refuse the value: true if the whole text was written.
bool write_file_ok(const std::string& path, const std::string& text);

}  // namespace pressure::test
