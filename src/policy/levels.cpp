#include <pressure/levels.hpp>

#include <array>
#include <atomic>
#include <cmath>
#include <stdexcept>

#include <pressure/window.hpp>

#include "core/stall_window.hpp"

namespace pressure::levels {

// ---- conditions ---------------------------------------------------------------------------

namespace {

class Custom final : public LevelCondition {
 public:
  explicit Custom(std::function<bool(const Reading&)> f) : m_f(std::move(f)) {}
  bool holds(const Reading& r) override { return m_f(r); }

 private:
  std::function<bool(const Reading&)> m_f;
};

class AllOf final : public LevelCondition {
 public:
  explicit AllOf(std::vector<ConditionPtr> c) : m_c(std::move(c)) {}
  bool holds(const Reading& r) override {
    for (auto& c : m_c)
      if (!c->holds(r)) return false;
    return true;
  }

 private:
  std::vector<ConditionPtr> m_c;
};

class AnyOf final : public LevelCondition {
 public:
  explicit AnyOf(std::vector<ConditionPtr> c) : m_c(std::move(c)) {}
  bool holds(const Reading& r) override {
    for (auto& c : m_c)
      if (c->holds(r)) return true;
    return false;
  }

 private:
  std::vector<ConditionPtr> m_c;
};

class Not final : public LevelCondition {
 public:
  explicit Not(ConditionPtr c) : m_c(std::move(c)) {}
  bool holds(const Reading& r) override { return !m_c->holds(r); }

 private:
  ConditionPtr m_c;
};

const std::optional<Snapshot>& snapshot_of(const Reading& r, Scope scope) {
  return scope == Scope::system ? r.system : r.local;
}

const Stall* stall_of(const std::optional<Snapshot>& s, Resource resource, Line line) {
  if (!s || !(*s)[resource]) return nullptr;
  const std::optional<Stall>& stall = (*(*s)[resource])[line];
  return stall ? &*stall : nullptr;
}

class PsiAverage final : public LevelCondition {
 public:
  PsiAverage(Resource r, Line l, Average a, double percent, Scope s)
      : m_resource(r), m_line(l), m_average(a), m_percent(percent), m_scope(s) {}
  bool holds(const Reading& reading) override {
    const Stall* stall = stall_of(snapshot_of(reading, m_scope), m_resource, m_line);
    return stall != nullptr && average_of(*stall, m_average).value() > m_percent;
  }

 private:
  Resource m_resource;
  Line m_line;
  Average m_average;
  double m_percent;
  Scope m_scope;
};

class PsiShare final : public LevelCondition {
 public:
  PsiShare(Resource r, Line l, double fraction, Scope s)
      : m_resource(r), m_line(l), m_fraction(fraction), m_scope(s) {}
  bool holds(const Reading& reading) override {
    const std::optional<Snapshot>& now = snapshot_of(reading, m_scope);
    const Stall* stall = stall_of(now, m_resource, m_line);
    if (stall == nullptr) return false;
    bool above = false;
    if (m_previous) {
      double share = stall_share(m_previous->second, *stall, now->monotonic - m_previous->first);
      above = !std::isnan(share) && share > m_fraction;
    }
    m_previous = {now->monotonic, *stall};
    return above;
  }

 private:
  Resource m_resource;
  Line m_line;
  double m_fraction;
  Scope m_scope;
  std::optional<std::pair<std::chrono::steady_clock::time_point, Stall>> m_previous;
};

class PsiWindowShare final : public LevelCondition {
 public:
  PsiWindowShare(Resource r, Line l, double fraction, std::chrono::nanoseconds window, Scope s)
      : m_resource(r),
        m_line(l),
        m_fraction(fraction),
        m_scope(s),
        m_window(std::chrono::duration_cast<std::chrono::microseconds>(window)) {}
  bool holds(const Reading& reading) override {
    const std::optional<Snapshot>& now = snapshot_of(reading, m_scope);
    const Stall* stall = stall_of(now, m_resource, m_line);
    if (stall == nullptr) return false;
    m_window.add(now->monotonic, stall->total_us);
    std::optional<core::StallWindow::Growth> g = m_window.growth();
    return g && g->share() > m_fraction;
  }

 private:
  Resource m_resource;
  Line m_line;
  double m_fraction;
  Scope m_scope;
  core::StallWindow m_window;
};

class Hysteresis final : public LevelCondition {
 public:
  Hysteresis(ConditionPtr enter, ConditionPtr exit) : m_enter(std::move(enter)), m_exit(std::move(exit)) {}
  // Both sides see every reading, so stateful ones (stall shares) measure from the last tick.
  bool holds(const Reading& r) override {
    bool enter = m_enter->holds(r);
    bool exit = m_exit->holds(r);
    m_on = m_on ? !exit : enter;
    return m_on;
  }

 private:
  ConditionPtr m_enter, m_exit;
  bool m_on = false;
};

class MinDwell final : public LevelCondition {
 public:
  MinDwell(ConditionPtr c, std::chrono::nanoseconds dwell) : m_c(std::move(c)), m_dwell(dwell) {}
  bool holds(const Reading& r) override {
    if (m_c->holds(r)) {
      m_last_true = r.time;
      return true;
    }
    return m_last_true && r.time - *m_last_true < m_dwell;
  }

 private:
  ConditionPtr m_c;
  std::chrono::nanoseconds m_dwell;
  std::optional<std::chrono::steady_clock::time_point> m_last_true;
};

}  // namespace

ConditionPtr custom(std::function<bool(const Reading&)> predicate) {
  return std::make_shared<Custom>(std::move(predicate));
}
ConditionPtr all_of(std::vector<ConditionPtr> conditions) {
  return std::make_shared<AllOf>(std::move(conditions));
}
ConditionPtr any_of(std::vector<ConditionPtr> conditions) {
  return std::make_shared<AnyOf>(std::move(conditions));
}
ConditionPtr negate(ConditionPtr condition) { return std::make_shared<Not>(std::move(condition)); }

ConditionPtr host_available_below(std::uint64_t bytes) {
  return custom([bytes](const Reading& r) { return r.host && r.host->available < bytes; });
}

ConditionPtr host_available_below_percent(double percent) {
  return custom([percent](const Reading& r) {
    return r.host && r.host->total > 0 &&
           static_cast<double>(r.host->available) * 100.0 < percent * static_cast<double>(r.host->total);
  });
}

ConditionPtr local_usage_above_percent(double percent) {
  return custom([percent](const Reading& r) {
    return r.local_memory && r.local_memory->limit && *r.local_memory->limit > 0 &&
           static_cast<double>(r.local_memory->usage) * 100.0 >=
               percent * static_cast<double>(*r.local_memory->limit);
  });
}

ConditionPtr local_available_below(std::uint64_t bytes) {
  return custom([bytes](const Reading& r) {
    if (!r.local_memory || !r.local_memory->limit) return false;
    std::uint64_t limit = *r.local_memory->limit, usage = r.local_memory->usage;
    return (usage >= limit ? 0 : limit - usage) < bytes;
  });
}

ConditionPtr psi_average_above(Resource resource, Line line, Average average, double percent, Scope scope) {
  return std::make_shared<PsiAverage>(resource, line, average, percent, scope);
}

ConditionPtr psi_share_above(Resource resource, Line line, double fraction, Scope scope) {
  return std::make_shared<PsiShare>(resource, line, fraction, scope);
}

ConditionPtr psi_share_above(Resource resource, Line line, double fraction, std::chrono::nanoseconds window,
                             Scope scope) {
  return std::make_shared<PsiWindowShare>(resource, line, fraction, window, scope);
}

ConditionPtr hysteresis(ConditionPtr enter, ConditionPtr exit) {
  return std::make_shared<Hysteresis>(std::move(enter), std::move(exit));
}

ConditionPtr min_dwell(ConditionPtr condition, std::chrono::nanoseconds dwell) {
  return std::make_shared<MinDwell>(std::move(condition), dwell);
}

// ---- handlers -----------------------------------------------------------------------------

struct HandlerSlot {
  Handler handler;
  std::chrono::nanoseconds min_interval{0};
  std::optional<std::chrono::steady_clock::time_point> last_call;  // ticking thread only
  std::atomic<bool> cancelled{false};
};

void Registration::cancel() {
  if (m_slot) m_slot->cancelled = true;
}

bool Registration::active() const { return m_slot && !m_slot->cancelled; }

namespace {
enum Kind { k_entered = 0, k_left = 1, k_remaining = 2, k_normal = 3, k_kinds = 4 };

struct Cleanup {
  std::function<bool()> alive;
  std::function<void()> collect;
};
}  // namespace

struct Manager::State {
  std::mutex tick;   // one tick at a time; conditions keep state
  std::mutex mutex;  // the tables below
  std::vector<ConditionPtr> levels;
  std::atomic<int> current{0};
  std::atomic<bool> stopped{false};
  std::vector<std::array<std::vector<std::shared_ptr<HandlerSlot>>, k_kinds>> handlers;  // by level
  std::vector<std::vector<Cleanup>> cleanups;                                            // by level
  std::function<void(const std::exception_ptr&, const Transition&)> report;
};

Manager::Manager(std::vector<ConditionPtr> levels) : m_state(std::make_shared<State>()) {
  m_state->levels = std::move(levels);
  m_state->handlers.resize(m_state->levels.size() + 1);
  m_state->cleanups.resize(m_state->levels.size() + 1);
}

int Manager::level() const { return m_state->current; }
int Manager::level_count() const { return static_cast<int>(m_state->levels.size()); }

Registration Manager::add(int kind, int level, Handler handler, std::chrono::nanoseconds min_interval) {
  int lowest = kind == k_remaining || kind == k_normal ? 0 : 1;
  if (level < lowest || level > level_count())
    throw std::out_of_range("pressure::levels::Manager: no level " + std::to_string(level) + " (levels are " +
                            std::to_string(lowest) + ".." + std::to_string(level_count()) + ")");
  auto slot = std::make_shared<HandlerSlot>();
  slot->handler = std::move(handler);
  slot->min_interval = min_interval;
  std::lock_guard lock(m_state->mutex);
  m_state->handlers[static_cast<std::size_t>(level)][static_cast<std::size_t>(kind)].push_back(slot);
  return Registration(slot);
}

Registration Manager::on_entered(int level, Handler h) { return add(k_entered, level, std::move(h), {}); }
Registration Manager::on_left(int level, Handler h) { return add(k_left, level, std::move(h), {}); }
Registration Manager::on_remaining(int level, Handler h, std::chrono::nanoseconds min_interval) {
  return add(k_remaining, level, std::move(h), min_interval);
}
Registration Manager::on_normal(Handler h) { return add(k_normal, 0, std::move(h), {}); }

void Manager::add_cleanup(int level, std::function<bool()> alive, std::function<void()> collect) {
  if (level < 1 || level > level_count())
    throw std::out_of_range("pressure::levels::Manager: no level " + std::to_string(level));
  std::lock_guard lock(m_state->mutex);
  m_state->cleanups[static_cast<std::size_t>(level)].push_back({std::move(alive), std::move(collect)});
}

void Manager::on_handler_error(std::function<void(const std::exception_ptr&, const Transition&)> report) {
  std::lock_guard lock(m_state->mutex);
  m_state->report = std::move(report);
}

void Manager::call(int kind, int level, const Transition& t) {
  std::vector<std::shared_ptr<HandlerSlot>> slots;
  std::function<void(const std::exception_ptr&, const Transition&)> report;
  {
    std::lock_guard lock(m_state->mutex);
    slots = m_state->handlers[static_cast<std::size_t>(level)][static_cast<std::size_t>(kind)];
    report = m_state->report;
  }
  for (const auto& slot : slots) {
    if (slot->cancelled) continue;
    if (slot->min_interval.count() > 0 && slot->last_call &&
        t.reading->time - *slot->last_call < slot->min_interval)
      continue;
    slot->last_call = t.reading->time;
    try {
      slot->handler(t);
    } catch (...) {
      if (report) report(std::current_exception(), t);
    }
  }
}

int Manager::check_now(const Reading& reading) {
  State& s = *m_state;
  std::lock_guard tick(s.tick);
  if (s.stopped) return s.current;
  {
    // Drop cancelled handlers and dead cleanup objects, at every level.
    std::lock_guard lock(s.mutex);
    for (auto& kinds : s.handlers)
      for (auto& list : kinds) std::erase_if(list, [](const auto& slot) { return slot->cancelled.load(); });
    for (auto& list : s.cleanups) std::erase_if(list, [](const Cleanup& c) { return !c.alive(); });
  }
  // Every condition is evaluated on every tick, so stateful ones (hysteresis, windows) see
  // every reading; the level is the highest that holds.
  int target = 0;
  for (std::size_t i = 0; i < s.levels.size(); ++i)
    if (s.levels[i]->holds(reading)) target = static_cast<int>(i) + 1;

  const int from = s.current;
  Transition t{0, from, target, &reading};
  if (target == from) {
    t.level = from;
    call(k_remaining, from, t);
    return from;
  }
  while (s.current < target) {
    t.level = ++s.current;
    call(k_entered, t.level, t);
    std::vector<Cleanup> cleanups;
    {
      std::lock_guard lock(s.mutex);
      cleanups = s.cleanups[static_cast<std::size_t>(t.level)];
    }
    for (const Cleanup& c : cleanups) {
      try {
        c.collect();
      } catch (...) {
        std::function<void(const std::exception_ptr&, const Transition&)> report;
        {
          std::lock_guard lock(s.mutex);
          report = s.report;
        }
        if (report) report(std::current_exception(), t);
      }
    }
  }
  while (s.current > target) {
    t.level = s.current;
    call(k_left, t.level, t);
    --s.current;
    if (s.current == 0) {
      t.level = 0;
      call(k_normal, 0, t);
    }
  }
  return s.current;
}

void Manager::stop() { m_state->stopped = true; }
void Manager::resume() { m_state->stopped = false; }

}  // namespace pressure::levels
