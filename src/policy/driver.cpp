#include <pressure/levels.hpp>

#include "sys/report.hpp"

namespace pressure::levels {

Sampler::Sampler(SamplerOptions options)
    : m_options(std::move(options)),
      m_system(Target::system(), m_options.reader),
      m_local(Target::self(), m_options.reader) {}

Reading Sampler::read() {
  Reading r;
  r.time = std::chrono::steady_clock::now();
  if (m_options.system_psi)
    if (Result<Snapshot> s = m_system.snapshot()) r.system = std::move(*s);
  if (m_options.local_psi)
    if (Result<Snapshot> s = m_local.snapshot()) r.local = std::move(*s);
  if (m_options.host)
    if (Result<HostMemory> h = host_memory(m_options.reader)) r.host = *h;
  if (m_options.local_memory)
    if (Result<LocalMemory> l = local_memory(m_options.rss_budget, m_options.reader)) r.local_memory = *l;
  return r;
}

Driver::Driver(Manager& manager, Sampler& sampler, Monitor& monitor, DriverOptions options)
    : m_manager(manager), m_sampler(sampler), m_monitor(monitor), m_options(std::move(options)) {}

Driver::~Driver() { stop(); }

void Driver::tick() {
  std::lock_guard lock(m_tick_mutex);
  m_manager.check_now(m_sampler.read());
  ++m_ticks;
}

Result<void> Driver::arm_environment(std::vector<std::string>& notices, std::array<bool, 4>& taken) {
  for (Resource resource : {Resource::memory, Resource::cpu, Resource::io}) {
    Result<EnvironmentWatch> request = environment_watch(resource);
    if (!request) return tl::unexpected(request.error());
    if (request->state == EnvironmentWatch::State::unset) continue;
    taken[static_cast<std::size_t>(resource)] = true;
    std::string variable(watch_variable(resource));
    if (request->state == EnvironmentWatch::State::disabled) {
      notices.push_back("$" + variable + " is /dev/null: no " + std::string(to_string(resource)) +
                        " pressure trigger (the service manager's setting)");
      continue;
    }
    Result<WatchInfo> watch = m_monitor.add(*request, [this](const Event& e) {
      if (e.kind == Event::Kind::pressure) tick();
    });
    if (!watch) return tl::unexpected(watch.error());
    m_watches.push_back(watch->id);
    notices.push_back("ticking on the service manager's watch $" + variable + "=" + request->path +
                      (request->trigger ? " (" + request->trigger->to_string() + ")" : ""));
  }
  return {};
}

Result<std::vector<std::string>> Driver::start() {
  std::vector<std::string> notices;
  Result<TimerId> timer = m_monitor.add_timer(m_options.interval, [this] { tick(); });
  if (!timer) return tl::unexpected(timer.error());
  m_timer = *timer;
  std::array<bool, 4> taken{};  // resources whose watch the environment decided
  if (m_options.from_environment)
    if (Result<void> ok = arm_environment(notices, taken); !ok) {
      stop();
      return tl::unexpected(ok.error());
    }
  for (const auto& [target, spec] : m_options.wake_on) {
    if (taken[static_cast<std::size_t>(spec.resource)]) continue;
    Result<WatchInfo> watch = m_monitor.add(
        target, spec,
        [this](const Event& e) {
          if (e.kind == Event::Kind::pressure) tick();
        },
        m_options.trigger_options);
    if (!watch) {
      stop();
      return tl::unexpected(watch.error());
    }
    if (!watch->notice.empty()) notices.push_back(watch->notice);
    m_watches.push_back(watch->id);
  }
  return notices;
}

void Driver::stop() {
  if (m_timer) m_monitor.cancel_timer(*m_timer);
  m_timer.reset();
  for (WatchId id : m_watches) m_monitor.remove(id);
  m_watches.clear();
}

Handler trim_malloc() {
  return [](const Transition&) { sys::trim_malloc(); };
}

struct MemoryReport::Pipe {
  sys::SignalPipe pipe;
};

MemoryReport::MemoryReport(Monitor& monitor, std::string path)
    : m_monitor(monitor), m_path(std::move(path)) {}

Result<std::unique_ptr<MemoryReport>> MemoryReport::install(Monitor& monitor, int signal, std::string path) {
  Result<sys::SignalPipe> pipe = sys::SignalPipe::install(signal);
  if (!pipe) return tl::unexpected(pipe.error());
  std::unique_ptr<MemoryReport> report(new MemoryReport(monitor, std::move(path)));
  report->m_pipe = std::make_unique<Pipe>(Pipe{std::move(*pipe)});
  MemoryReport* self = report.get();
  Result<FdWatchId> watch = monitor.add_fd(self->m_pipe->pipe.fd(), [self] {
    self->m_pipe->pipe.drain();
    if (sys::write_memory_report(self->m_path)) ++self->m_written;
  });
  if (!watch) return tl::unexpected(watch.error());
  report->m_watch = *watch;
  return report;
}

MemoryReport::~MemoryReport() {
  if (m_watch) m_monitor.remove_fd(*m_watch);
}

}  // namespace pressure::levels
