#include "policy/control_writer.hpp"

#include <system_error>

namespace pressure::policy {

ControlWriter::ControlWriter(Monitor& monitor, Write write)
    : m_monitor(monitor),
      m_write(write ? std::move(write) : Write([](const sys::ControlFile& file, const std::string& value) {
        return file.write(value);
      })) {}

ControlWriter::~ControlWriter() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable()) m_thread.join();
  if (m_watch) m_monitor.remove_fd(*m_watch);
}

Result<void> ControlWriter::start() {
  if (m_thread.joinable()) return {};
  if (!m_wakeup) {
    Result<sys::Wakeup> wakeup = sys::Wakeup::create();
    if (!wakeup) return tl::unexpected(wakeup.error());
    m_wakeup.emplace(std::move(*wakeup));
  }
  if (!m_watch) {
    Result<FdWatchId> watch = m_monitor.add_fd(m_wakeup->fd(), [this] { deliver(); });
    if (!watch) return tl::unexpected(watch.error());
    m_watch = *watch;
  }
  try {
    m_thread = std::thread([this] { work(); });
  } catch (const std::system_error& e) {
    return fail(Errc::system, std::string("cannot start the thread that writes control files: ") + e.what());
  }
  return {};
}

Result<void> ControlWriter::write(std::string path, std::string value, Done done) {
  Result<sys::ControlFile> file = sys::ControlFile::open(path);
  if (!file) return tl::unexpected(file.error());
  if (Result<void> started = start(); !started) return started;
  {
    std::lock_guard lock(m_mutex);
    m_todo.push_back(Job{std::move(*file), std::move(value), std::move(done), std::nullopt});
  }
  m_cv.notify_one();
  return {};
}

void ControlWriter::work() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_cv.wait(lock, [this] { return m_stopping || !m_todo.empty(); });
    if (m_stopping) return;
    Job job = std::move(m_todo.front());
    m_todo.pop_front();
    lock.unlock();
    job.result = m_write(job.file, job.value);
    lock.lock();
    m_done.push_back(std::move(job));
    m_wakeup->notify();
  }
}

void ControlWriter::deliver() {
  m_wakeup->consume();
  std::deque<Job> done;
  {
    std::lock_guard lock(m_mutex);
    done.swap(m_done);
  }
  for (Job& job : done) job.done(*job.result);
}

}  // namespace pressure::policy
