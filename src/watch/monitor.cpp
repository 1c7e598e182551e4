#include <pressure/monitor.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/stall_window.hpp"
#include "sys/event.hpp"
#include "sys/pressure_channel.hpp"
#include "sys/trigger.hpp"

namespace pressure {

std::string_view to_string(TriggerMode mode) noexcept {
  switch (mode) {
    case TriggerMode::automatic: return "automatic";
    case TriggerMode::kernel: return "kernel";
    case TriggerMode::polling: return "polling";
    case TriggerMode::relayed: return "relayed";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

// epoll keys: the id in the high bits, what the fd is in the low two.
enum Source : std::uint64_t { k_trigger = 0, k_sampler = 1, k_timer = 2, k_wakeup = 3 };
std::uint64_t key(std::uint64_t id, Source source) { return id << 2 | source; }

// Polling samples `total` at window/10, the kernel's own rate for triggers. Kernel triggers get
// no sampler: a read of a pressure file that lands first in a 2 s period does the kernel's
// averaging, and the kernel then skips its check of unprivileged triggers for that period, so
// periodic reads delay or starve them. They read only when armed and when they fire.
std::chrono::nanoseconds sampler_period(const TriggerSpec& spec) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(spec.window) / 10;
}

struct Sample {
  Clock::time_point t;
  std::uint64_t total_us;
};

struct Watch {
  using Callback = std::function<void(const Event&)>;
  WatchInfo info;
  Resource resource;
  Line line;
  Callback callback;
  std::optional<Reader> reader;                 // none for a watch from the environment
  std::optional<sys::PressureChannel> channel;  // the environment's watch
  sys::Fd trigger;                              // kernel mode
  std::optional<Sample> last;                   // kernel mode: at arming, then at each event
  sys::Timer sampler;                           // polling mode
  core::StallWindow window;                     // polling mode
  std::chrono::nanoseconds idle_period{0};      // polling mode: the slow period while total is flat
  std::uint64_t last_total = 0;
  int flat_samples = 0;
  bool idle = false;
  std::atomic<bool> removed{false};
  std::mutex callback_mutex;  // held while the callback runs; remove() waits on it

  Watch(WatchInfo i, Callback cb, std::optional<Reader> r, core::StallWindow w)
      : info(std::move(i)),
        resource(info.spec.resource),
        line(info.spec.line),
        callback(std::move(cb)),
        reader(std::move(r)),
        window(w) {}
};

struct UserTimer {
  sys::Timer timer;
  int fd = -1;  // a caller's fd instead of the timer (add_fd)
  std::function<void()> callback;
  std::atomic<bool> cancelled{false};
  std::mutex callback_mutex;
};

}  // namespace

struct Monitor::Impl {
  ReaderOptions options;
  sys::Epoll epoll;
  sys::Wakeup wakeup;
  std::atomic<bool> stopping{false};
  mutable std::mutex mutex;
  // By the value of their ids (the id types share one counter, so values never collide).
  std::unordered_map<std::uint64_t, std::shared_ptr<Watch>> watches;
  std::unordered_map<std::uint64_t, std::shared_ptr<UserTimer>> timers;
  std::uint64_t next_id = 1;
  std::atomic<std::uint64_t> spurious{0};
  std::atomic<std::thread::id> dispatching{};
  std::optional<Error> setup_error;

  std::shared_ptr<Watch> find_watch(std::uint64_t id) {
    std::lock_guard lock(mutex);
    auto it = watches.find(id);
    return it == watches.end() ? nullptr : it->second;
  }

  // Takes the watch out of the loop; false if someone else already did.
  bool drop(const std::shared_ptr<Watch>& w) {
    bool expected = false;
    if (!w->removed.compare_exchange_strong(expected, true)) return false;
    if (w->trigger) epoll.remove(w->trigger.get());
    if (w->channel) epoll.remove(w->channel->fd.get());
    if (w->sampler.fd() >= 0) epoll.remove(w->sampler.fd());
    std::lock_guard lock(mutex);
    watches.erase(w->info.id.value);
    return true;
  }

  // Off the loop's thread, wait for a callback that is running to return, so that nothing the
  // caller frees after remove() is still in use. On it (inside a callback) that would deadlock.
  void wait_for_callback(std::mutex& callback_mutex) const {
    if (dispatching.load() == std::this_thread::get_id()) return;
    std::lock_guard lock(callback_mutex);
  }

  // A timer or a caller's fd into the loop; its id's value.
  Result<std::uint64_t> add_user(std::shared_ptr<UserTimer> t) {
    std::uint64_t id;
    {
      std::lock_guard lock(mutex);
      id = next_id++;
      timers[id] = t;
    }
    if (auto ok = epoll.add(t->fd >= 0 ? t->fd : t->timer.fd(), sys::k_readable, key(id, k_timer)); !ok) {
      std::lock_guard lock(mutex);
      timers.erase(id);
      return tl::unexpected(ok.error());
    }
    return id;
  }

  bool cancel_user(std::uint64_t id) {
    std::shared_ptr<UserTimer> t;
    {
      std::lock_guard lock(mutex);
      auto it = timers.find(id);
      if (it == timers.end()) return false;
      t = it->second;
      timers.erase(it);
    }
    t->cancelled = true;
    epoll.remove(t->fd >= 0 ? t->fd : t->timer.fd());
    wait_for_callback(t->callback_mutex);
    return true;
  }

  // A fresh reading of `total` for the watched line, or why there is none (normally gone).
  Result<Sample> sample(Watch& w) {
    Result<Pressure> p = w.reader->read(w.resource);
    if (!p) return tl::unexpected(p.error());
    const std::optional<Stall>& stall = (*p)[w.line];
    if (!stall)
      return fail(Errc::unavailable, "the kernel prints no '" + std::string(to_string(w.line)) +
                                         "' line for " + std::string(to_string(w.resource)));
    return Sample{Clock::now(), stall->total_us};
  }

  void emit(Watch& w, Event::Kind kind, std::uint64_t stall_us, std::chrono::nanoseconds span,
            std::uint64_t total_us, std::optional<Error> error = std::nullopt) {
    Event e;
    e.kind = kind;
    e.id = w.info.id;
    e.where = w.info.where;
    e.spec = w.info.spec;
    e.mode = w.info.mode;
    e.time = std::chrono::system_clock::now();
    e.observed_stall_us = stall_us;
    e.observed_span = span;
    e.share = core::StallWindow::Growth{stall_us, span}.share();
    e.total_us = total_us;
    e.error = std::move(error);
    e.variable = w.info.variable;
    std::lock_guard lock(w.callback_mutex);
    if (w.removed && kind == Event::Kind::pressure) return;  // remove() won: no callback after it
    w.callback(e);
  }

  void gone(const std::shared_ptr<Watch>& w, Error error) {
    if (!drop(w)) return;  // remove() came first: it ends the watch silently
    Event::Kind kind = error.code() == Errc::gone ? Event::Kind::gone : Event::Kind::error;
    emit(*w, kind, 0, {}, 0, std::move(error));
  }

  void on_channel(const std::shared_ptr<Watch>& w, std::uint32_t events) {
    switch (sys::take_signal(*w->channel, events)) {
      case sys::ChannelSignal::none: return;
      case sys::ChannelSignal::pressure: emit(*w, Event::Kind::pressure, 0, {}, 0); return;
      case sys::ChannelSignal::closed:
        gone(w, Error(Errc::gone, "$" + w->info.variable + "=" + w->info.where + ": the " +
                                      std::string(sys::to_string(w->channel->form)) +
                                      (w->channel->form == sys::ChannelForm::pressure_file
                                           ? "'s cgroup was removed"
                                           : " was closed by the other side")));
        return;
    }
  }

  void on_trigger(const std::shared_ptr<Watch>& w, std::uint32_t events) {
    if (w->channel) return on_channel(w, events);
    Result<Sample> now = sample(*w);
    if (!now) {
      gone(w, now.error());  // normally Errc::gone: the cgroup was removed
      return;
    }
    if (events & sys::k_error) {  // the kernel destroyed the trigger, yet the file still reads
      gone(w, Error(Errc::gone, "the trigger on " + w->info.where + " was destroyed by the kernel"));
      return;
    }
    if (!(events & sys::k_priority)) return;
    Sample before = w->last.value_or(*now);
    w->last = *now;
    std::uint64_t stall = now->total_us >= before.total_us ? now->total_us - before.total_us : 0;
    auto span = std::chrono::duration_cast<std::chrono::nanoseconds>(now->t - before.t);
    // Some kernels (before "psi: fix avg trigger being fired unexpectedly") signal a trigger
    // whose window never held its stall. The most the window can hold is what we saw since our
    // last reading plus, for any part of the window before that reading, all of it (stall
    // cannot outrun the wall clock; 2 % for per-CPU skew). Below the threshold: not an event.
    auto unseen = std::max<std::chrono::nanoseconds>(std::chrono::nanoseconds(0), w->info.spec.window - span);
    double most = static_cast<double>(stall) + 1.02 * static_cast<double>(unseen.count()) / 1000.0 + 1000.0;
    if (most < static_cast<double>(w->info.spec.stall.count())) {
      ++spurious;
      return;
    }
    emit(*w, Event::Kind::pressure, stall, span, now->total_us);
  }

  void on_sampler(const std::shared_ptr<Watch>& w) {
    if (w->sampler.consume() == 0) return;
    Result<Sample> now = sample(*w);
    if (!now) {
      gone(w, now.error());
      return;
    }
    w->window.add(now->t, now->total_us);
    if (w->idle_period.count() > 0) pace(*w, now->total_us);
    if (!w->window.should_fire(static_cast<std::uint64_t>(w->info.spec.stall.count()))) return;
    core::StallWindow::Growth g = w->window.growth().value_or(core::StallWindow::Growth{});
    emit(*w, Event::Kind::pressure, g.stall_us, g.span, now->total_us);
  }

  // Polling slows to idle_period after a whole window without stall, and returns to window/10
  // at the first growth.
  void pace(Watch& w, std::uint64_t total) {
    bool flat = total == w.last_total;
    w.last_total = total;
    if (!flat) {
      w.flat_samples = 0;
      if (w.idle && w.sampler.set_period(sampler_period(w.info.spec))) w.idle = false;
      return;
    }
    if (!w.idle && ++w.flat_samples >= 10 && w.sampler.set_period(w.idle_period)) w.idle = true;
  }

  Result<void> dispatch(int timeout_ms) {
    if (setup_error) return tl::unexpected(*setup_error);
    struct Dispatching {  // marks this thread as the loop's while it dispatches
      std::atomic<std::thread::id>& id;
      explicit Dispatching(std::atomic<std::thread::id>& i) : id(i) { id = std::this_thread::get_id(); }
      ~Dispatching() { id = std::thread::id(); }
    } marker(dispatching);
    Result<std::vector<sys::ReadyEvent>> ready = epoll.wait(timeout_ms);
    if (!ready) return tl::unexpected(ready.error());
    for (const sys::ReadyEvent& ev : *ready) {
      std::uint64_t id = ev.key >> 2;
      switch (static_cast<Source>(ev.key & 3)) {
        case k_wakeup: wakeup.consume(); break;
        case k_trigger:
          if (auto w = find_watch(id); w && !w->removed) on_trigger(w, ev.events);
          break;
        case k_sampler:
          if (auto w = find_watch(id); w && !w->removed) on_sampler(w);
          break;
        case k_timer: {
          std::shared_ptr<UserTimer> t;
          {
            std::lock_guard lock(mutex);
            auto it = timers.find(id);
            if (it != timers.end()) t = it->second;
          }
          if (t && (t->fd >= 0 || t->timer.consume() > 0)) {
            std::lock_guard callback_lock(t->callback_mutex);
            if (!t->cancelled) t->callback();
          }
          break;
        }
      }
    }
    return {};
  }

  // Gives the watch its id and puts its fd in the loop.
  Result<WatchInfo> enlist(const std::shared_ptr<Watch>& watch) {
    {
      std::lock_guard lock(mutex);
      watch->info.id = WatchId{next_id++};
      watches[watch->info.id.value] = watch;
    }
    std::uint64_t k = key(watch->info.id.value, watch->sampler.fd() >= 0 ? k_sampler : k_trigger);
    Result<void> ok = watch->channel   ? epoll.add(watch->channel->fd.get(), watch->channel->events, k)
                      : watch->trigger ? epoll.add(watch->trigger.get(), sys::k_priority, k)
                                       : epoll.add(watch->sampler.fd(), sys::k_readable, k);
    if (!ok) {
      drop(watch);
      return tl::unexpected(ok.error());
    }
    return watch->info;
  }

  // Arms the kernel trigger, applying the window policy. The notice says what changed.
  Result<sys::Fd> arm(Reader& reader, TriggerSpec& spec, const TriggerOptions& trigger_options,
                      std::string& notice) {
    Result<std::string> path = reader.file_path(spec.resource);
    if (!path) return tl::unexpected(path.error());
    const Io& io = options.io_or_real();
    sys::Scope scope =
        reader.target().kind() == Target::Kind::system ? sys::Scope::system : sys::Scope::cgroup;
    Result<sys::Fd> fd = sys::arm_trigger(io, *path, scope, spec);
    if (fd || fd.error().code() != Errc::permission || allowed_unprivileged(spec) ||
        trigger_options.window_policy != WindowPolicy::round_up)
      return fd;
    TriggerSpec rounded = round_for_unprivileged(spec);
    Result<sys::Fd> again = sys::arm_trigger(io, *path, scope, rounded);
    if (!again) return again;
    notice = "window of '" + spec.to_string() + "' rounded up to '" + rounded.to_string() +
             "' (same share): without CAP_SYS_RESOURCE the kernel takes only multiples of 2s";
    spec = rounded;
    return again;
  }
};

Monitor::Monitor(ReaderOptions options) : m_impl(std::make_unique<Impl>()) {
  m_impl->options = std::move(options);
  Result<sys::Epoll> epoll = sys::Epoll::create();
  Result<sys::Wakeup> wakeup = sys::Wakeup::create();
  if (!epoll || !wakeup) {
    m_impl->setup_error = !epoll ? epoll.error() : wakeup.error();
    return;
  }
  m_impl->epoll = std::move(*epoll);
  m_impl->wakeup = std::move(*wakeup);
  if (auto ok = m_impl->epoll.add(m_impl->wakeup.fd(), sys::k_readable, key(0, k_wakeup)); !ok)
    m_impl->setup_error = ok.error();
}

Monitor::~Monitor() = default;

Result<WatchInfo> Monitor::add(const Target& target, const TriggerSpec& spec, Callback callback,
                               TriggerOptions options) {
  Impl& impl = *m_impl;
  if (impl.setup_error) return tl::unexpected(*impl.setup_error);
  if (options.mode == TriggerMode::relayed)
    return fail(Errc::invalid_argument, "'relayed' is reported for the environment's watches, not asked for");
  Reader reader(target, impl.options);
  Result<Pressure> first = reader.read(spec.resource);
  if (!first) return tl::unexpected(first.error());
  if (!(*first)[spec.line])
    return fail(Errc::unavailable, "the kernel prints no '" + std::string(to_string(spec.line)) +
                                       "' line for " + std::string(to_string(spec.resource)) + " here");
  Result<std::string> where = reader.resolved_path();
  if (!where) return tl::unexpected(where.error());

  WatchInfo info;
  info.where = *where;
  info.spec = spec;
  info.mode = options.mode == TriggerMode::automatic ? TriggerMode::kernel : options.mode;
  sys::Fd trigger;
  if (info.mode == TriggerMode::kernel) {
    Result<sys::Fd> armed = impl.arm(reader, info.spec, options, info.notice);
    if (armed) {
      trigger = std::move(*armed);
    } else if (options.mode == TriggerMode::automatic &&
               (armed.error().code() == Errc::permission || armed.error().code() == Errc::unsupported) &&
               !(options.window_policy == WindowPolicy::refuse && !allowed_unprivileged(spec))) {
      // The kernel will not take this trigger from us; poll with the same meaning instead.
      info.mode = TriggerMode::polling;
      info.notice =
          armed.error().message() + "; polling total every " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(spec.window).count() / 10) +
          "ms instead";
    } else {
      return tl::unexpected(armed.error());
    }
  }
  auto watch = std::make_shared<Watch>(info, std::move(callback), std::optional<Reader>(std::move(reader)),
                                       core::StallWindow(info.spec.window));
  Sample armed{Clock::now(), (*first)[spec.line]->total_us};
  if (info.mode == TriggerMode::kernel) {
    watch->trigger = std::move(trigger);
    watch->last = armed;
  } else {
    Result<sys::Timer> sampler = sys::Timer::create(sampler_period(info.spec));
    if (!sampler) return tl::unexpected(sampler.error());
    watch->sampler = std::move(*sampler);
    watch->window.add(armed.t, armed.total_us);
    watch->last_total = armed.total_us;
    if (options.idle_period > sampler_period(info.spec)) watch->idle_period = options.idle_period;
  }
  return impl.enlist(watch);
}

Result<WatchInfo> Monitor::add(const EnvironmentWatch& request, Callback callback) {
  Impl& impl = *m_impl;
  if (impl.setup_error) return tl::unexpected(*impl.setup_error);
  Result<sys::PressureChannel> channel = sys::open_channel(request);
  if (!channel) return tl::unexpected(channel.error());
  WatchInfo info;
  info.where = request.path;
  info.spec = request.trigger.value_or(TriggerSpec{request.resource, Line::some, {}, {}});
  info.mode = channel->form == sys::ChannelForm::pressure_file ? TriggerMode::kernel : TriggerMode::relayed;
  info.variable = std::string(watch_variable(request.resource));
  auto watch =
      std::make_shared<Watch>(info, std::move(callback), std::nullopt, core::StallWindow(info.spec.window));
  watch->channel = std::move(*channel);
  return impl.enlist(watch);
}

bool Monitor::remove(WatchId id) {
  std::shared_ptr<Watch> w = m_impl->find_watch(id.value);
  if (!w) return false;
  bool removed = m_impl->drop(w);
  m_impl->wait_for_callback(w->callback_mutex);
  return removed;
}

Result<TimerId> Monitor::add_timer(std::chrono::nanoseconds interval, std::function<void()> callback) {
  if (m_impl->setup_error) return tl::unexpected(*m_impl->setup_error);
  if (interval.count() <= 0) return fail(Errc::invalid_argument, "a timer interval must be positive");
  // First after exactly `interval` (callers use timers for grace periods and timeouts too).
  Result<sys::Timer> timer = sys::Timer::create(interval, interval);
  if (!timer) return tl::unexpected(timer.error());
  auto t = std::make_shared<UserTimer>();
  t->timer = std::move(*timer);
  t->callback = std::move(callback);
  return m_impl->add_user(std::move(t)).map([](std::uint64_t id) { return TimerId{id}; });
}

bool Monitor::cancel_timer(TimerId id) { return m_impl->cancel_user(id.value); }

Result<FdWatchId> Monitor::add_fd(int fd, std::function<void()> callback) {
  if (m_impl->setup_error) return tl::unexpected(*m_impl->setup_error);
  auto t = std::make_shared<UserTimer>();
  t->fd = fd;
  t->callback = std::move(callback);
  return m_impl->add_user(std::move(t)).map([](std::uint64_t id) { return FdWatchId{id}; });
}

bool Monitor::remove_fd(FdWatchId id) { return m_impl->cancel_user(id.value); }

Result<void> Monitor::run() {
  Result<void> ok;
  while (ok && !m_impl->stopping) ok = m_impl->dispatch(-1);
  m_impl->stopping = false;  // a stop() before run() still stops it; run() can be called again
  return ok;
}

void Monitor::stop() {
  m_impl->stopping = true;
  m_impl->wakeup.notify();
}

int Monitor::fd() const { return m_impl->epoll.fd(); }

Result<void> Monitor::dispatch() { return m_impl->dispatch(0); }

std::uint64_t Monitor::spurious_events() const { return m_impl->spurious; }

std::size_t Monitor::watch_count() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->watches.size();
}

}  // namespace pressure
