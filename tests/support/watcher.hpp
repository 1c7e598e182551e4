// For system tests: a Monitor running on its own thread that keeps every event it delivers, so a
// test can wait for the first event of a kind.
//
//   EventWatcher w;
//   ASSERT_TRUE(w.add(Target::cgroup(group.path()), "cpu some 100ms/1s", {TriggerMode::kernel}));
//   std::optional<Event> e = w.wait_for(Event::Kind::stall, 10s);
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pressure/monitor.hpp>
#include <pressure/trigger.hpp>

namespace pressure::test {

class EventWatcher {
 public:
  EventWatcher() : m_thread([this] { m_ran = monitor.run(); }) {}
  ~EventWatcher() {
    monitor.stop();
    m_thread.join();
  }
  EventWatcher(const EventWatcher&) = delete;
  EventWatcher& operator=(const EventWatcher&) = delete;

  Result<WatchInfo> add(const Target& target, const std::string& spec, TriggerOptions options) {
    auto parsed = parse_trigger_spec(spec);
    if (!parsed) return tl::unexpected(parsed.error());
    return monitor.add(target, *parsed, record(), options);
  }
  // The service manager's watch (environment.hpp).
  Result<WatchInfo> add(const EnvironmentWatch& request) { return monitor.add(request, record()); }
  // The first event of `kind` after the first `skip` events, within `timeout`.
  std::optional<Event> wait_for(Event::Kind kind, std::chrono::seconds timeout, std::size_t skip = 0) {
    std::unique_lock lock(m_mutex);
    std::optional<Event> found;
    m_changed.wait_for(lock, timeout, [&] {
      for (std::size_t i = skip; i < m_events.size() && !found; ++i)
        if (m_events[i].kind == kind) found = m_events[i];
      return found.has_value();
    });
    return found;
  }
  // How many events came so far.
  std::size_t count() {
    std::lock_guard lock(m_mutex);
    return m_events.size();
  }

  Monitor monitor;

 private:
  Monitor::Callback record() {
    return [this](const Event& e) {
      std::lock_guard lock(m_mutex);
      m_events.push_back(e);
      m_changed.notify_all();
    };
  }
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<Event> m_events;
  Result<void> m_ran;
  std::thread m_thread;
};

}  // namespace pressure::test
