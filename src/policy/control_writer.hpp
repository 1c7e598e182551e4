// Writes control files (memory.high, memory.limit_in_bytes) on a thread of its own and reports
// each result on the Monitor's loop. Lowering a memory limit below a group's usage makes the
// kernel reclaim inside write(), for as long as reclaim takes (seconds under heavy IO on v1);
// the loop has to keep detecting and killing meanwhile.
//
//   ControlWriter writer(monitor);
//   writer.write("/sys/fs/cgroup/job/memory.high", "2147483648",
//                [](const Result<void>& done) { ... });   // later, on the loop's thread
//
// The file is opened at write(), so a write queued for a group that is then removed fails
// (Errc::gone) instead of reaching a new group of the same path. Writes run one at a time, in
// the order given; the thread starts with the first write. Destroying the writer waits for a
// write in progress and drops results not yet delivered.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <pressure/monitor.hpp>

#include "sys/control.hpp"
#include "sys/event.hpp"

namespace pressure::policy {

class ControlWriter {
 public:
  using Done = std::function<void(const Result<void>&)>;
  // `write` is the blocking write itself (sys::ControlFile::write; a test may pass its own).
  using Write = std::function<Result<void>(const sys::ControlFile& file, const std::string& value)>;

  explicit ControlWriter(Monitor& monitor, Write write = {});
  ~ControlWriter();
  ControlWriter(const ControlWriter&) = delete;
  ControlWriter& operator=(const ControlWriter&) = delete;

  // Opens `path` and queues the write; `done` runs on the loop's thread once it is over. Call
  // from the loop's thread. An error when the file cannot be opened or the writer cannot start
  // (no eventfd, no thread): then `done` never runs.
  Result<void> write(std::string path, std::string value, Done done);

 private:
  struct Job {
    sys::ControlFile file;
    std::string value;
    Done done;
    std::optional<Result<void>> result;
  };
  Result<void> start();
  void work();
  void deliver();

  Monitor& m_monitor;
  Write m_write;
  std::optional<sys::Wakeup> m_wakeup;
  std::optional<FdWatchId> m_watch;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Job> m_todo;
  std::deque<Job> m_done;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace pressure::policy
