#include "policy/engine.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <set>

#include <pressure/memory.hpp>

#include "core/cgroup_path.hpp"
#include "core/stall_window.hpp"
#include "sys/control.hpp"
#include "sys/files.hpp"

namespace pressure::policy {
namespace {

using TimePoint = Clock::TimePoint;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100.0);
  return buf;
}

std::string seconds(nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", std::chrono::duration<double>(d).count());
  return buf;
}

std::string join(const std::string& parent, const std::string& child) {
  return parent == "/" ? "/" + child : parent + "/" + child;
}

std::string basename_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

// What the engine remembers about a candidate between looks, for growth and pressure.
struct Seen {
  std::uint64_t memory = 0;
  std::uint64_t some_total_us = 0;
  TimePoint t;
};

// What steering shares with the write of its last step, which ends on the loop later (perhaps
// after a reload has replaced the rule).
struct SteerShared {
  bool busy = false;  // a step is being written: the next one waits
  int direction = 0;  // of the last step written: a step is logged when it turns
};

// What a rule measures of its target while armed; all of it belongs to one cgroup, and a
// rule armed again on a new group of the same path starts from a fresh one.
struct Measured {
  std::optional<Reader> reader;  // the target's pressure files
  std::optional<core::StallWindow> window;
  std::vector<core::StallWindow> condition_windows;
  std::vector<std::optional<std::pair<std::uint64_t, TimePoint>>> reclaim_seen;  // per check
  std::vector<std::optional<PressureEnded>> ended;                               // per check
  std::optional<TimePoint> held_since;
  bool acted_in_streak = false;
  std::map<std::string, Seen> seen;
  // steering
  std::optional<std::uint64_t> steer_total;
  TimePoint steer_t{};
  std::shared_ptr<SteerShared> steer = std::make_shared<SteerShared>();
};

struct RuleState : Measured {
  Rule rule;
  std::string dir;  // the target's cgroup directory
  std::optional<WatchId> watch;
  std::optional<TimerId> timer;        // hot sampling, condition ticks, or steering
  std::optional<TimerId> look_timer;   // refreshes `seen` for growth/pressure victims
  std::optional<TimerId> rearm_timer;  // looks for a removed target to come back
  bool waiting = false;                // disarmed until the target is back
  bool waiting_for_psi = false;        // ... or until its PSI is switched on again
  TimePoint quiet_until{};
  std::string last_error;  // reported once
};

}  // namespace

struct Engine::Impl {
  Monitor& monitor;
  Actuator& actuator;
  EngineOptions options;
  std::shared_ptr<const Clock> clock_owner;
  const Clock& clock;
  std::string cgroup_root;
  std::vector<std::unique_ptr<RuleState>> rules;
  std::shared_ptr<Carryover> carryover;
  bool own_carryover = false;
  std::shared_ptr<Counters> counters;
  bool published = false;  // the rules' armed states reach the counters once started

  Impl(Monitor& m, Actuator& a, EngineOptions o)
      : monitor(m),
        actuator(a),
        options(std::move(o)),
        clock_owner(options.clock ? options.clock : real_clock()),
        clock(*clock_owner),
        carryover(options.carryover ? options.carryover : std::make_shared<Carryover>()),
        own_carryover(!options.carryover),
        counters(carryover->counters) {}

  // Reports and counts without the engine: for what finishes after a reload (a pending kill,
  // an exec that ends later).
  std::function<void(Decision, std::string_view)> detached_reporter() const {
    return [report = options.report, dry_run = actuator.rehearses(), clock = clock_owner,
            counters = counters](Decision d, std::string_view action) {
      d.time = clock->wall();
      d.dry_run = dry_run;
      counters->add(d.rule, action, d.result);
      if (report) report(d);
    };
  }

  // "ok", or "dry-run" when the actuator only rehearses.
  std::string ok_result() const { return actuator.rehearses() ? "dry-run" : "ok"; }
  std::string would() const { return actuator.rehearses() ? "would " : ""; }

  void count(const Rule& rule, std::string_view result) {
    counters->add(rule.name, to_string(rule.action), result);
  }

  void report(Decision d) {
    d.time = clock.wall();
    d.dry_run = actuator.rehearses();
    if (options.report) options.report(d);
  }

  Decision decision(const RuleState& s, Decision::Severity severity, std::string what, std::string detail) {
    Decision d;
    d.severity = severity;
    d.rule = s.rule.name;
    d.where = s.rule.where();
    d.what = std::move(what);
    d.detail = std::move(detail);
    return d;
  }

  // ---- arming -----------------------------------------------------------------------------

  Result<void> arm(RuleState& s) {
    const Rule& rule = s.rule;
    if (auto it = carryover->quiet_until.find(rule.name); it != carryover->quiet_until.end())
      s.quiet_until = it->second;
    Target target = rule.system ? Target::system() : Target::cgroup(rule.cgroup);
    s.dir = sys::cgroup_directory(cgroup_root, rule.system ? "/" : rule.cgroup);
    s.reader.emplace(target, options.reader);
    if (!rule.system) {
      Result<std::string> resolved = s.reader->resolved_path();
      if (!resolved) return tl::unexpected(resolved.error());
    }
    if (rule.spec) {
      // The rule's own window: a kernel trigger where the kernel takes it, else polling.
      RuleState* state = &s;
      Result<WatchInfo> info = monitor.add(
          target, *rule.spec, [this, state](const Event& e) { on_event(*state, e); },
          TriggerOptions{TriggerMode::automatic, WindowPolicy::poll, options.idle_poll});
      if (!info) return tl::unexpected(info.error());
      s.watch = info->id;
      std::string how =
          info->mode == TriggerMode::kernel
              ? "kernel trigger '" + info->spec.to_string() + "'"
              : "polling total every " +
                    std::to_string(duration_cast<milliseconds>(info->spec.window).count() / 10) +
                    "ms (every " + std::to_string(options.idle_poll.count()) + "ms while it does not move)";
      // (The Monitor's notice would repeat that it polls.)
      Decision d = decision(s, Decision::Severity::info, "armed",
                            "watching '" + rule.spec->to_string() + "' by " + how);
      report(d);
    } else if (!rule.conditions.empty() || !rule.checks.empty()) {
      for (const Check& c : rule.checks) {
        s.reclaim_seen.emplace_back();
        s.ended.emplace_back();
        if (c.what == Check::What::ended) s.ended.back().emplace(c.resource, c.line, c.criteria);
        Result<double> first = measure(s, c, s.reclaim_seen.size() - 1);
        if (!first) return tl::unexpected(first.error());
        if (c.what == Check::What::usage && c.percent &&
            !sys::cgroup_memory_limit(cgroup_root, rule.system ? "/" : rule.cgroup, options.reader.proc_root))
          return fail(Errc::invalid_argument,
                      "'" + c.text + "': " + rule.where() +
                          " has no memory limit to take a percentage of; give bytes (e.g. memory usage>2G)");
      }
      for (const Condition& c : rule.conditions) {
        Result<Pressure> p = s.reader->read(c.resource);
        if (!p) return tl::unexpected(p.error());
        if (!(*p)[c.line])
          return fail(Errc::unavailable, "the kernel prints no '" + std::string(to_string(c.line)) +
                                             "' line for " + std::string(to_string(c.resource)));
        s.condition_windows.emplace_back(c.metric == Condition::Metric::window ? c.window : microseconds{1});
      }
      RuleState* state = &s;
      Result<TimerId> t = monitor.add_timer(rule.interval, [this, state] { on_condition_tick(*state); });
      if (!t) return tl::unexpected(t.error());
      s.timer = *t;
      std::string text;
      for (const Condition& c : rule.conditions) text += (text.empty() ? "" : " and ") + c.to_string();
      for (const Check& c : rule.checks) text += (text.empty() ? "" : " and ") + c.text;
      report(decision(s, Decision::Severity::info, "armed",
                      "checking " + text + " every " + seconds(rule.interval)));
    }
    if (rule.action == ActionKind::memory_high && rule.memory_high.mode == MemoryHigh::Mode::steer) {
      bool v1 = false;
      std::string file = memory_limit_file(s, v1);
      if (v1 && !rule.memory_high.hard_limit)
        return fail(
            Errc::invalid_argument,
            rule.where() + " has no memory.high (the memory controller is on cgroup v1 here): steering " +
                file +
                " would move a hard limit, where probing too low OOM-kills instead of slowing down; add "
                "hard_limit = true to memory_high if you mean it");
      RuleState* state = &s;
      Result<TimerId> t = monitor.add_timer(rule.memory_high.interval, [this, state] { steer(*state); });
      if (!t) return tl::unexpected(t.error());
      s.look_timer = *t;
      report(
          decision(s, Decision::Severity::info, "armed",
                   "steering memory.high to hold memory some at " + percent(rule.memory_high.target_share)));
    } else if (rule.acts_on_processes() &&
               (rule.victim.by == Victim::By::growth || rule.victim.by == Victim::By::pressure)) {
      RuleState* state = &s;
      Result<TimerId> t =
          monitor.add_timer(std::chrono::seconds(5), [this, state] { (void)candidates(*state); });
      if (!t) return tl::unexpected(t.error());
      s.look_timer = *t;
      (void)candidates(s);
    }
    return {};
  }

  void disarm(RuleState& s) {
    if (s.watch) monitor.remove(*s.watch);
    if (s.timer) monitor.cancel_timer(*s.timer);
    if (s.look_timer) monitor.cancel_timer(*s.look_timer);
    if (s.rearm_timer) monitor.cancel_timer(*s.rearm_timer);
    s.watch.reset();
    s.timer.reset();
    s.look_timer.reset();
    s.rearm_timer.reset();
  }

  // True if PSI was switched off for the target's group: cgroup.pressure is 0, or its pressure
  // files are hidden (the kernel hides them, and wakes triggers with EPOLLERR, before
  // cgroup.pressure reads 0). Every descriptor on them stays dead (ENODEV) even after PSI is
  // switched on again (6.1 and 6.18 alike), so only arming from scratch watches it again.
  bool psi_off(const RuleState& s) const {
    if (s.rule.system) return false;
    Result<std::string> value = sys::read_control(s.dir + "/cgroup.pressure");
    if (value && *value == "0") return true;
    return sys::cgroup_exists(s.dir) && !sys::read_control(s.dir + "/cpu.pressure");
  }

  // A waiting rule can arm: its group exists and has PSI on.
  bool target_ready(const RuleState& s) const { return sys::cgroup_exists(s.dir) && !psi_off(s); }

  // The target's cgroup was removed (its service stopped, its job ended), or its PSI switched
  // off: the rule disarms and looks every `rearm_period` for the group to come back (a restarted
  // service gets a new group at the same path) with PSI on, then arms again from scratch. A rule
  // on the system never gets here.
  void await_target(RuleState& s, const std::string& why) {
    disarm(s);
    s.waiting = true;
    s.waiting_for_psi = sys::cgroup_exists(s.dir) && psi_off(s);
    if (published) counters->set_armed(s.rule.name, false);
    Decision d = decision(
        s, Decision::Severity::error, "disarmed",
        why + "; armed again when " +
            (s.waiting_for_psi ? "PSI is switched on for " + s.rule.cgroup + " (cgroup.pressure set to 1)"
                               : s.rule.cgroup + " is back"));
    d.result = "failed";
    report(d);
    if (target_ready(s)) {
      rearm(s);  // already back (a fast restart)
      return;
    }
    look_for_target(s);
  }

  void look_for_target(RuleState& s) {
    RuleState* state = &s;
    Result<TimerId> t = monitor.add_timer(options.rearm_period, [this, state] {
      if (target_ready(*state)) rearm(*state);
    });
    if (t) {
      s.rearm_timer = *t;
      return;
    }
    Decision d = decision(s, Decision::Severity::error, "disarmed",
                          "cannot look for " + s.rule.cgroup + " to come back: " + t.error().message() +
                              "; the rule stays disarmed until a reload");
    d.result = "failed";
    report(d);
  }

  void rearm(RuleState& s) {
    if (s.rearm_timer) monitor.cancel_timer(*s.rearm_timer);
    s.rearm_timer.reset();
    static_cast<Measured&>(s) = Measured{};  // everything measured belongs to the old group
    if (Result<void> armed = arm(s); !armed) {
      // Back but not usable (e.g. removed again at once): keep looking, and say why once.
      disarm(s);
      if (armed.error().message() != s.last_error) {
        s.last_error = armed.error().message();
        Decision d = decision(s, Decision::Severity::error, "disarmed",
                              s.rule.cgroup + " is back but cannot be watched: " + s.last_error);
        d.result = "failed";
        report(d);
      }
      look_for_target(s);
      return;
    }
    s.last_error.clear();
    s.waiting = false;
    if (published) counters->set_armed(s.rule.name, true);
    report(decision(s, Decision::Severity::notice, "re-armed",
                    s.waiting_for_psi ? "PSI is on again for " + s.rule.cgroup : s.rule.cgroup + " is back"));
    s.waiting_for_psi = false;
  }

  // After a read of the target failed: true (and the rule awaits its target) if the target's
  // cgroup was removed (the reader says its group is gone, though a group of the same path may
  // already be back, or the path no longer exists), or its PSI was switched off.
  bool target_removed(RuleState& s, const Error& error) {
    if (s.rule.system) return false;
    bool removed = error.code() == Errc::gone || !sys::cgroup_exists(s.dir);
    if (!removed && psi_off(s)) {
      await_target(s, "PSI was switched off for " + s.rule.cgroup + " (cgroup.pressure is 0)");
      return true;
    }
    if (!removed) return false;
    await_target(s, "the target can no longer be watched: " + error.message());
    return true;
  }

  // ---- detection --------------------------------------------------------------------------

  void on_event(RuleState& s, const Event& e) {
    if (e.kind != Event::Kind::pressure) {
      s.watch.reset();  // the Monitor dropped it
      Error error = e.error ? *e.error : Error(Errc::gone, s.rule.where() + " is gone");
      if (target_removed(s, error)) return;
      if (published) counters->set_armed(s.rule.name, false);
      Decision d = decision(s, Decision::Severity::error, "disarmed",
                            "the target can no longer be watched: " + error.message());
      d.result = "failed";
      report(d);
      return;
    }
    if (s.timer) return;  // already sampling
    TimePoint now = clock.now();
    if (now < s.quiet_until) return;
    const TriggerSpec& spec = *s.rule.spec;
    s.held_since = now;
    s.acted_in_streak = false;
    std::string measured =
        spec.to_string() + ": " + percent(e.share) + " stalled over the last " + seconds(e.observed_span);
    if (s.rule.hold.count() == 0) {
      act(s, e.share, measured);
      return;
    }
    s.window.emplace(spec.window);
    if (auto p = s.reader->read(spec.resource); p && (*p)[spec.line])
      s.window->add(now, (*p)[spec.line]->total_us);
    RuleState* state = &s;
    auto period = std::max<microseconds>(microseconds{50'000}, spec.window / 10);
    Result<TimerId> t = monitor.add_timer(period, [this, state] { on_hot_tick(*state); });
    if (t) s.timer = *t;
  }

  void cool(RuleState& s) {
    if (s.timer) monitor.cancel_timer(*s.timer);
    s.timer.reset();
    s.held_since.reset();
    s.window.reset();
  }

  void on_hot_tick(RuleState& s) {
    const TriggerSpec& spec = *s.rule.spec;
    TimePoint now = clock.now();
    Result<Pressure> p = s.reader->read(spec.resource);
    if (!p || !(*p)[spec.line]) {
      cool(s);
      return;
    }
    s.window->add(now, (*p)[spec.line]->total_us);
    auto growth = s.window->growth();
    if (!growth) return;
    double share = growth->share();
    bool holds = share >= spec.share();
    nanoseconds held = now - *s.held_since;
    if (!holds) {
      // A dip right after waking is noise; a sustained one ends the streak.
      if (growth->span >= std::min<nanoseconds>(spec.window, s.rule.hold) / 2) {
        report(decision(s, Decision::Severity::info, "released",
                        spec.to_string() + " held " + seconds(held) + ", less than " + seconds(s.rule.hold) +
                            ", then fell to " + percent(share) + ": no action"));
        cool(s);
      }
      return;
    }
    if (held >= s.rule.hold && now >= s.quiet_until) {
      std::string measured = spec.to_string() + ": " + percent(share) + " stalled over the last " +
                             seconds(growth->span) + ", held " + seconds(held);
      cool(s);
      act(s, share, measured);
    }
  }

  // The value a Check compares: a percentage, bytes, pages per second, or 1/0 for "ended".
  // NaN while it cannot be known yet (the first reclaim sample, a percentage without a limit).
  Result<double> measure(RuleState& s, const Check& c, std::size_t index) {
    const std::string target = s.rule.system ? "/" : s.rule.cgroup;
    const std::string& proc = options.reader.proc_root;
    switch (c.what) {
      case Check::What::available: {
        Result<HostMemory> m = host_memory(options.reader);
        if (!m) return tl::unexpected(m.error());
        if (!c.percent) return static_cast<double>(m->available);
        return m->total == 0 ? std::nan("")
                             : 100.0 * static_cast<double>(m->available) / static_cast<double>(m->total);
      }
      case Check::What::swap_free: {
        Result<sys::Swap> swap = sys::swap_memory(proc);
        if (!swap) return tl::unexpected(swap.error());
        if (swap->total == 0) return std::nan("");  // no swap: a swap condition never holds
        if (!c.percent) return static_cast<double>(swap->free);
        return 100.0 * static_cast<double>(swap->free) / static_cast<double>(swap->total);
      }
      case Check::What::usage: {
        Result<sys::CgroupMemory> m = sys::cgroup_memory(cgroup_root, target, proc);
        if (!m) return tl::unexpected(m.error());
        if (!c.percent) return static_cast<double>(m->bytes);
        auto limit = sys::cgroup_memory_limit(cgroup_root, target, proc);
        return !limit || *limit == 0 ? std::nan("")
                                     : 100.0 * static_cast<double>(m->bytes) / static_cast<double>(*limit);
      }
      case Check::What::reclaim: {
        Result<std::uint64_t> pages = sys::pages_scanned(cgroup_root, target, proc);
        if (!pages) return tl::unexpected(pages.error());
        TimePoint now = clock.now();
        auto& seen = s.reclaim_seen[index];
        double rate = std::nan("");
        if (seen && *pages >= seen->first) {
          double dt = std::chrono::duration<double>(now - seen->second).count();
          if (dt > 0) rate = static_cast<double>(*pages - seen->first) / dt;
        }
        seen = std::make_pair(*pages, now);
        return rate;
      }
      case Check::What::ended: {
        Result<Snapshot> snap = s.reader->snapshot();
        if (!snap) return tl::unexpected(snap.error());
        if (!(*snap)[c.resource]) return tl::unexpected((*snap)[c.resource].error());
        return s.ended[index]->observe(*snap).ended ? 1.0 : 0.0;
      }
    }
    return std::nan("");
  }

  void on_condition_tick(RuleState& s) {
    TimePoint now = clock.now();
    std::string measured;
    bool all = true;
    double first_share = 0;
    for (std::size_t i = 0; i < s.rule.conditions.size(); ++i) {
      const Condition& c = s.rule.conditions[i];
      Result<Pressure> p = s.reader->read(c.resource);
      if (!p || !(*p)[c.line]) {
        if (p && !(*p)[c.line]) all = false;
        if (!p && target_removed(s, p.error())) return;  // gone: the group was removed
        all = false;
        continue;
      }
      const Stall& stall = *(*p)[c.line];
      double value = std::nan("");
      if (auto avg = c.average(stall)) {
        value = avg->value();
      } else {
        core::StallWindow& w = s.condition_windows[i];
        w.add(now, stall.total_us);
        if (auto g = w.growth(); g && g->span >= c.window * 9 / 10) value = g->share() * 100.0;
      }
      if (i == 0) first_share = std::isnan(value) ? 0 : value / 100.0;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s=%.2f%%", measured.empty() ? "" : ", ", c.subject().c_str(), value);
      measured += buf;
      all = all && c.holds(value);
    }
    for (std::size_t i = 0; i < s.rule.checks.size(); ++i) {
      const Check& c = s.rule.checks[i];
      Result<double> value = measure(s, c, i);
      if (!value && target_removed(s, value.error())) return;
      if (!value && value.error().message() != s.last_error) {  // once per distinct error
        s.last_error = value.error().message();
        Decision d = decision(s, Decision::Severity::error, "check",
                              "cannot measure '" + c.text + "': " + s.last_error);
        d.result = "failed";
        report(d);
      }
      double v = value ? *value : std::nan("");
      char buf[160];
      if (c.what == Check::What::ended)
        std::snprintf(buf, sizeof buf, "%s%s: %s", measured.empty() ? "" : ", ", c.text.c_str(),
                      v > 0 ? "yes" : "not yet");
      else if (c.what == Check::What::reclaim || c.percent)
        std::snprintf(buf, sizeof buf, "%s%s=%.2f%s", measured.empty() ? "" : ", ",
                      c.text.substr(0, c.text.find_first_of("<>")).c_str(), v, c.percent ? "%" : " pages/s");
      else
        std::snprintf(buf, sizeof buf, "%s%s=%.1f MiB", measured.empty() ? "" : ", ",
                      c.text.substr(0, c.text.find_first_of("<>")).c_str(), v / 1048576.0);
      measured += buf;
      all = all && c.holds(v);
    }
    if (!all) {
      if (s.held_since && !s.acted_in_streak && s.rule.hold.count() > 0) {
        nanoseconds held = now - *s.held_since;
        report(decision(s, Decision::Severity::info, "released",
                        held < s.rule.hold
                            ? measured + ": the conditions held " + seconds(held) + ", less than " +
                                  seconds(s.rule.hold) + ": no action"
                            : measured + ": the conditions held " + seconds(held) +
                                  ", all within the cooldown of an earlier action: no action"));
      }
      s.held_since.reset();
      s.acted_in_streak = false;
      return;
    }
    if (!s.held_since) s.held_since = now;
    nanoseconds held = now - *s.held_since;
    if (held < s.rule.hold || now < s.quiet_until) return;
    if (s.acted_in_streak && !s.rule.repeat) return;
    act(s, first_share, measured + ", held " + seconds(held));
  }

  // ---- candidates -------------------------------------------------------------------------

  std::vector<Candidate> candidates(RuleState& s) {
    std::vector<Candidate> out;
    const Rule& rule = s.rule;
    TimePoint now = clock.now();
    std::string target = rule.system ? "/" : rule.cgroup;
    Result<std::string> self_cgroup = sys::process_cgroup(sys::self_pid(), options.reader.proc_root);
    Result<std::string> init_cgroup = sys::process_cgroup(1, options.reader.proc_root);
    std::set<std::string> alive;
    auto holds_protected = [&](const std::string& path) {
      // Where we or pid 1 cannot be told, protect everything (fail closed).
      return !self_cgroup || !init_cgroup || core::cgroup_within(*self_cgroup, path) ||
             core::cgroup_within(*init_cgroup, path);
    };
    auto measure_group = [&](const std::string& path) {
      Candidate c;
      c.path = path;
      c.name = basename_of(path);
      if (auto m = sys::cgroup_memory(cgroup_root, path, options.reader.proc_root)) c.memory = m->bytes;
      c.protected_ = holds_protected(path);
      Seen now_seen{c.memory, 0, now};
      if (auto p = pressure::read(Resource::memory, Target::cgroup(path), options.reader); p && p->some)
        now_seen.some_total_us = p->some->total_us;
      // Growth and pressure since a look at least a second old: a fresher baseline (the look
      // timer may just have run) would make both about zero.
      bool keep_baseline = false;
      if (auto it = s.seen.find(path); it != s.seen.end()) {
        double dt = std::chrono::duration<double>(now - it->second.t).count();
        if (dt > 0) {
          c.growth = (static_cast<double>(c.memory) - static_cast<double>(it->second.memory)) / dt;
          if (now_seen.some_total_us >= it->second.some_total_us)
            c.pressure = static_cast<double>(now_seen.some_total_us - it->second.some_total_us) / (dt * 1e6);
        }
        keep_baseline = dt < 1.0;
      }
      if (!keep_baseline) s.seen[path] = now_seen;
      alive.insert(path);
      return c;
    };
    switch (rule.victim.among) {
      case Victim::Among::self: out.push_back(measure_group(target)); break;
      case Victim::Among::children: {
        if (auto names = sys::child_cgroups(s.dir)) {
          for (const std::string& name : *names) out.push_back(measure_group(join(target, name)));
        }
        break;
      }
      case Victim::Among::processes: {
        if (auto pids = sys::cgroup_processes(s.dir, true)) {
          for (sys::Pid pid : *pids) {
            Candidate c;
            c.pid = pid;
            c.name = sys::process_name(pid, options.reader.proc_root);
            // Its anonymous memory, not its RSS: the mapped file pages a thrashing service keeps
            // refaulting can outweigh a hog still growing, yet killing it frees nothing lasting.
            c.memory = sys::process_anonymous_rss(pid, options.reader.proc_root).value_or(0);
            // What the kernel's OOM killer may never take (oom_score_adj -1000), we do not either.
            c.protected_ = pid <= 1 || pid == sys::self_pid() ||
                           sys::process_oom_score_adj(pid, options.reader.proc_root) == -1000;
            std::string key = "pid:" + std::to_string(pid);
            bool keep_baseline = false;
            if (auto it = s.seen.find(key); it != s.seen.end()) {
              double dt = std::chrono::duration<double>(now - it->second.t).count();
              if (dt > 0)
                c.growth = (static_cast<double>(c.memory) - static_cast<double>(it->second.memory)) / dt;
              keep_baseline = dt < 1.0;
            }
            if (!keep_baseline) s.seen[key] = Seen{c.memory, 0, now};
            alive.insert(key);
            out.push_back(std::move(c));
          }
        }
        break;
      }
    }
    // Forget what is gone.
    for (auto it = s.seen.begin(); it != s.seen.end();) {
      it = alive.count(it->first) != 0 ? std::next(it) : s.seen.erase(it);
    }
    return out;
  }

  // ---- acting -----------------------------------------------------------------------------

  void act(RuleState& s, double share, const std::string& measured) {
    const Rule& rule = s.rule;
    TimePoint now = clock.now();
    s.quiet_until = now + rule.cooldown;
    carryover->quiet_until[rule.name] = s.quiet_until;  // a reload keeps the cooldown
    s.acted_in_streak = true;
    Decision d = decision(s, Decision::Severity::warning, std::string(to_string(rule.action)), "");
    d.share = share;
    d.measured = measured;
    d.result = ok_result();
    switch (rule.action) {
      case ActionKind::log:
        d.severity = Decision::Severity::notice;
        d.detail = measured;
        d.result = "ok";
        break;
      case ActionKind::kill:
      case ActionKind::signal: act_on_victim(s, d); return;
      case ActionKind::exec: act_exec(s, d); return;
      case ActionKind::memory_high: act_memory_high(s, d); return;
      case ActionKind::notify: act_notify(s, d); break;
    }
    count(rule, d.result);
    report(d);
  }

  std::string describe(const Candidate& c) const {
    if (c.pid != 0) return "pid " + std::to_string(c.pid) + " (" + c.name + ")";
    return c.path;
  }

  void act_on_victim(RuleState& s, Decision& d) {
    const Rule& rule = s.rule;
    std::string target = rule.system ? "/" : rule.cgroup;
    if (target == "/" && !rule.allow_root) {
      d.severity = Decision::Severity::error;
      d.result = "refused";
      d.detail = "the target is the root cgroup and the rule has no allow_root = true";
      count(rule, d.result);
      report(d);
      return;
    }
    std::vector<Candidate> list = candidates(s);
    std::optional<Choice> choice = choose_victim(list, rule);
    if (!choice) {
      d.severity = Decision::Severity::warning;
      d.result = "no-victim";
      d.detail = measured_prefix(d) + "no candidate to " + std::string(to_string(rule.action)) + " among " +
                 std::to_string(list.size()) + (list.empty() ? "" : " (all protected)");
      count(rule, d.result);
      report(d);
      return;
    }
    const Candidate& victim = list[choice->index];
    d.victim = describe(victim);
    std::string verb = rule.action == ActionKind::kill ? "kill" : "signal " + std::to_string(rule.signal);
    if (rule.action == ActionKind::kill && rule.grace.count() > 0)
      verb += " (SIGTERM, SIGKILL after " + seconds(rule.grace) + ")";
    d.detail = measured_prefix(d) + would() + verb + " " + d.victim + ": " + choice->reason;
    // The actuator checks, after taking a pidfd, that each process is still inside its group.
    Result<void> outcome;
    std::string dir = victim.pid == 0 ? sys::cgroup_directory(cgroup_root, victim.path) : std::string{};
    std::string scope = victim.pid == 0 ? victim.path : target;
    int first_signal = rule.action == ActionKind::signal ? rule.signal
                       : rule.grace.count() > 0          ? SIGTERM
                                                         : SIGKILL;
    if (victim.pid != 0) {
      outcome = actuator.signal_process(victim.pid, first_signal, scope);
    } else if (first_signal == SIGKILL) {
      Result<Actuator::GroupKill> n = actuator.kill_cgroup(dir, scope);
      if (n && !actuator.rehearses())
        d.detail += "; " + std::to_string(n->processes) + " processes killed " + n->how();
      outcome = n ? Result<void>{} : tl::unexpected(n.error());
    } else {
      Result<std::vector<int>> pids = actuator.processes(dir);
      if (!pids) outcome = tl::unexpected(pids.error());
      if (pids) {
        std::size_t sent = 0;
        std::optional<Error> first_error;
        for (int pid : *pids) {
          Result<void> one = actuator.signal_process(pid, first_signal, scope);
          if (one)
            ++sent;
          else if (!first_error && one.error().code() != Errc::gone)
            first_error = one.error();
        }
        d.detail += "; signal " + std::to_string(first_signal) +
                    (actuator.rehearses() ? " would reach " : " sent to ") + std::to_string(sent) + " of " +
                    std::to_string(pids->size()) + " processes";
        if (sent == 0 && first_error) outcome = tl::unexpected(*first_error);
      }
    }
    if (!outcome) {
      d.severity = Decision::Severity::error;
      d.result = "failed";
      d.detail += "; failed: " + outcome.error().message();
    }
    count(rule, d.result);
    report(d);
    // A dry run rehearses the first signal only: its grace period would end in a SIGKILL.
    if (outcome && rule.action == ActionKind::kill && first_signal != SIGKILL && !actuator.rehearses())
      schedule_sigkill(s, victim, dir, scope);
  }

  static std::string measured_prefix(const Decision& d) {
    return d.measured.empty() ? "" : d.measured + "; ";
  }

  // SIGKILL for a victim that had SIGTERM, when the grace period is over. The pending kill
  // carries everything it needs, so it survives a reload of the rules.
  void schedule_sigkill(RuleState& s, const Candidate& victim, const std::string& dir,
                        const std::string& scope) {
    auto pending = std::make_shared<Carryover::PendingKill>();
    pending->monitor = &monitor;
    Decision base = decision(s, Decision::Severity::warning, "kill", "");
    base.victim = describe(victim);
    Actuator* act = &actuator;
    std::string proc_root = options.reader.proc_root;
    pending->finish = [act, base, victim, dir, scope, proc_root, report = detached_reporter()] {
      Decision d = base;
      Result<void> outcome;
      if (victim.pid != 0) {
        // Still the process we sent SIGTERM to? (It may have exited and its pid been reused.)
        if (sys::process_name(victim.pid, proc_root) != victim.name) {
          d.detail = d.victim + " exited within the grace period";
          d.result = "ok";
          report(d, "kill");
          return;
        }
        outcome = act->signal_process(victim.pid, SIGKILL, scope);
        if (!outcome && outcome.error().code() == Errc::gone) {
          d.detail = d.victim + " exited within the grace period";
          d.result = "ok";
          report(d, "kill");
          return;
        }
        d.detail = "grace period over: SIGKILL to " + d.victim;
      } else {
        Result<Actuator::GroupKill> n = act->kill_cgroup(dir, scope);
        outcome = n ? Result<void>{} : tl::unexpected(n.error());
        d.detail = "grace period over: " + d.victim +
                   (n ? ": " + std::to_string(n->processes) + " processes left, killed " + n->how() : "");
        if (!n && n.error().code() == Errc::not_found) {
          d.detail = d.victim + " is gone: everything exited within the grace period";
          outcome = {};
        }
      }
      d.result = outcome ? "ok" : "failed";
      if (!outcome) d.detail += "; failed: " + outcome.error().message();
      report(d, "kill");
    };
    std::weak_ptr<Carryover::PendingKill> weak = pending;
    std::weak_ptr<Carryover> keeper = carryover;
    Result<TimerId> t = monitor.add_timer(s.rule.grace, [weak, keeper] {
      auto p = weak.lock();
      auto c = keeper.lock();
      if (p && c) c->finish(p);
    });
    if (!t) {
      pending->finish();
      return;
    }
    pending->timer = *t;
    carryover->pending.push_back(std::move(pending));
  }

  std::vector<std::pair<std::string, std::string>> event_env(const RuleState& s, const Decision& d) {
    std::vector<std::pair<std::string, std::string>> env{
        {"PRESSURE_RULE", s.rule.name},
        {"PRESSURE_TARGET", s.rule.where()},
        {"PRESSURE_SHARE", std::to_string(d.share * 100.0)},
        {"PRESSURE_MEASURED", d.measured},
        {"PRESSURE_DRY_RUN", actuator.rehearses() ? "1" : "0"}};
    if (s.rule.spec) {
      env.emplace_back("PRESSURE_RESOURCE", std::string(to_string(s.rule.spec->resource)));
      env.emplace_back("PRESSURE_LINE", std::string(to_string(s.rule.spec->line)));
      env.emplace_back("PRESSURE_SPEC", s.rule.spec->to_string());
    } else if (!s.rule.conditions.empty()) {
      env.emplace_back("PRESSURE_RESOURCE", std::string(to_string(s.rule.conditions[0].resource)));
      env.emplace_back("PRESSURE_LINE", std::string(to_string(s.rule.conditions[0].line)));
    }
    return env;
  }

  void act_exec(RuleState& s, Decision& d) {
    const Rule& rule = s.rule;
    std::string cmd;
    for (const std::string& a : rule.command) cmd += (cmd.empty() ? "" : " ") + a;
    d.detail = measured_prefix(d) + (actuator.rehearses() ? "would run: " : "running: ") + cmd;
    Decision base = decision(s, Decision::Severity::notice, "exec", "");
    std::string timeout = seconds(rule.timeout);
    Result<void> started =
        actuator.exec(rule.command, event_env(s, d), rule.timeout,
                      [base, cmd, timeout, report = detached_reporter()](int status, bool timed_out) {
                        Decision done = base;
                        done.result = status == 0 && !timed_out ? "exited-ok" : "exited-failed";
                        done.detail = "'" + cmd + "' " +
                                      (timed_out ? "timed out after " + timeout + " and was killed"
                                                 : "exited with status " + std::to_string(status));
                        if (done.result != "exited-ok") done.severity = Decision::Severity::warning;
                        report(done, "exec");
                      });
    if (!started) {
      d.severity = Decision::Severity::error;
      d.result = "failed";
      d.detail += "; failed: " + started.error().message();
    }
    count(rule, d.result);
    report(d);
  }

  // The file that limits the target's memory: memory.high (v2) or the v1 limit.
  std::string memory_limit_file(const RuleState& s, bool& v1) {
    std::string v2 = s.dir + "/memory.high";
    v1 = false;
    if (sys::read_control(v2)) return v2;
    if (auto root = sys::memory_v1_root(options.reader.proc_root)) {
      v1 = true;
      return sys::cgroup_directory(*root, s.rule.system ? "/" : s.rule.cgroup) + "/memory.limit_in_bytes";
    }
    return v2;
  }

  void act_memory_high(RuleState& s, Decision& d) {
    bool v1 = false;
    std::string file = memory_limit_file(s, v1);
    const MemoryHigh& mh = s.rule.memory_high;
    std::string value = mh.bytes ? std::to_string(*mh.bytes) : (v1 ? "-1" : "max");
    d.detail =
        measured_prefix(d) + (actuator.rehearses() ? "would write " : "wrote ") + value + " to " + file;
    // Reported once the write is over (it may reclaim for a while); the rule may be gone by then.
    auto set_limit_failed = [](Decision& failed, const Error& error) {
      failed.severity = Decision::Severity::error;
      failed.result = "failed";
      failed.detail = measured_prefix(failed) + "cannot set the limit: " + error.message();
    };
    Result<void> queued = actuator.write_control(
        file, value,
        [d, set_limit_failed, report = detached_reporter()](const Result<void>& written) mutable {
          if (!written) set_limit_failed(d, written.error());
          report(d, "memory-high");
        });
    if (!queued) {
      set_limit_failed(d, queued.error());
      count(s.rule, d.result);
      report(d);
    }
  }

  // Senpai: hold a little memory pressure by moving the limit; back off fast, probe slowly.
  void steer(RuleState& s) {
    if (s.steer->busy) return;  // the last step is still being written: measure across both
    const MemoryHigh& mh = s.rule.memory_high;
    TimePoint now = clock.now();
    Result<Pressure> p = s.reader->read(Resource::memory);
    if (!p) (void)target_removed(s, p.error());
    if (!p || !p->some) return;
    std::uint64_t total = p->some->total_us;
    if (!s.steer_total || total < *s.steer_total) {
      s.steer_total = total;
      s.steer_t = now;
      return;
    }
    double dt_us = std::chrono::duration<double, std::micro>(now - s.steer_t).count();
    double stalled = static_cast<double>(total - *s.steer_total);
    s.steer_total = total;
    s.steer_t = now;
    if (dt_us <= 0) return;
    bool v1 = false;
    std::string file = memory_limit_file(s, v1);
    std::uint64_t limit = 0;
    Result<std::string> current_text = sys::read_control(file);
    bool unlimited = !current_text || *current_text == "max" || current_text->size() >= 19;
    if (!unlimited) limit = std::strtoull(current_text->c_str(), nullptr, 10);
    if (unlimited || limit == 0) {
      auto m = sys::cgroup_memory(cgroup_root, s.rule.system ? "/" : s.rule.cgroup, options.reader.proc_root);
      if (!m) return;
      limit = m->bytes;
    }
    double target = mh.target_share * dt_us;
    double factor;
    int direction;
    if (stalled > target) {
      double err = stalled / std::max(target, 1.0);
      factor = 1.0 + std::min(std::pow(err / 20.0, 2.0), 1.0);
      direction = 1;
    } else {
      double err = target / std::max(stalled, 1.0);
      factor = 1.0 - std::min(std::pow(err / 10.0, 2.0) * 0.01, 0.01);
      direction = -1;
    }
    auto next = static_cast<std::uint64_t>(static_cast<double>(limit) * factor);
    next = std::max(next, mh.min_bytes);
    if (mh.max_bytes != 0) next = std::min(next, mh.max_bytes);
    next = next / 4096 * 4096;
    Decision d = decision(s, Decision::Severity::info, "memory-high", "");
    d.share = stalled / dt_us;
    d.measured = "memory some " + percent(d.share) + " over " +
                 seconds(duration_cast<nanoseconds>(std::chrono::duration<double, std::micro>(dt_us))) +
                 " (target " + percent(mh.target_share) + ")";
    d.result = ok_result();
    if (next == limit && !unlimited) return;
    // Every step is counted; a step is logged when the direction turns, or when it fails.
    bool turned = direction != s.steer->direction;
    d.detail = d.measured + "; " + (direction > 0 ? "backing off: " : "probing: ") + file + " " +
               std::to_string(limit) + " -> " + std::to_string(next) +
               (actuator.rehearses() ? " (dry run)" : "");
    auto steer_failed = [file](Decision& failed, const Error& error) {
      failed.severity = Decision::Severity::error;
      failed.result = "failed";
      failed.detail = "cannot steer " + file + ": " + error.message();
    };
    s.steer->busy = true;
    Result<void> queued =
        actuator.write_control(file, std::to_string(next),
                               [d, turned, direction, steer_failed, steer = s.steer, counters = counters,
                                report = detached_reporter()](const Result<void>& written) mutable {
                                 steer->busy = false;
                                 if (written) steer->direction = direction;
                                 if (!written) steer_failed(d, written.error());
                                 if (written && !turned)
                                   counters->add(d.rule, "memory-high", d.result);
                                 else
                                   report(d, "memory-high");
                               });
    if (!queued) {
      s.steer->busy = false;
      steer_failed(d, queued.error());
      count(s.rule, d.result);
      report(d);
    }
  }

  void act_notify(RuleState& s, Decision& d) {
    const Rule& rule = s.rule;
    std::string line =
        "{\"time\":" +
        std::to_string(std::chrono::duration<double>(clock.wall().time_since_epoch()).count()) +
        ",\"rule\":" + json_string(rule.name) + ",\"target\":" + json_string(rule.where()) +
        ",\"share\":" + std::to_string(d.share) + ",\"measured\":" + json_string(d.measured);
    if (rule.spec)
      line += ",\"resource\":" + json_string(to_string(rule.spec->resource)) +
              ",\"line\":" + json_string(to_string(rule.spec->line));
    line += ",\"dry_run\":" + std::string(actuator.rehearses() ? "true" : "false") + "}";
    std::string where = rule.notify_socket.empty() ? rule.notify_file : rule.notify_socket;
    d.detail = measured_prefix(d) + (actuator.rehearses() ? "would notify " : "notified ") + where;
    Result<void> sent = rule.notify_socket.empty() ? actuator.append_line(rule.notify_file, line)
                                                   : actuator.send_datagram(rule.notify_socket, line);
    if (!sent) {
      d.severity = Decision::Severity::error;
      d.result = "failed";
      d.detail = measured_prefix(d) + "cannot notify " + where + ": " + sent.error().message();
    }
  }
};

Engine::Engine(Monitor& monitor, Actuator& actuator, EngineOptions options)
    : m_impl(std::make_unique<Impl>(monitor, actuator, std::move(options))) {}

Engine::~Engine() { stop(); }

Result<void> Engine::start(std::vector<Rule> rules) {
  Impl& impl = *m_impl;
  Result<std::string> root = cgroup2_root(impl.options.reader);
  if (!root) return tl::unexpected(root.error());
  impl.cgroup_root = *root;
  for (Rule& rule : rules) {
    auto state = std::make_unique<RuleState>();
    state->rule = std::move(rule);
    impl.rules.push_back(std::move(state));
    RuleState& s = *impl.rules.back();
    Result<void> armed = impl.arm(s);
    if (!armed && impl.options.await_missing_targets && !s.rule.system && !impl.target_ready(s)) {
      impl.await_target(
          s, (sys::cgroup_exists(s.dir) ? "PSI is off for the target: " : "the target does not exist: ") +
                 armed.error().message());
      continue;
    }
    if (!armed) {
      std::string name = impl.rules.back()->rule.name, source = impl.rules.back()->rule.source;
      stop();
      return fail(armed.error().code(),
                  "rule '" + name + "'" + (source.empty() ? "" : " (" + source + ")") + ": " +
                      armed.error().message(),
                  armed.error().path(), armed.error().sys_errno());
    }
  }
  std::map<std::string, bool> armed;
  for (const auto& s : impl.rules) armed[s->rule.name] = !s->waiting;
  impl.counters->set_rules(std::move(armed));
  impl.published = true;
  return {};
}

void Engine::stop() {
  Impl& impl = *m_impl;
  for (auto& s : impl.rules) impl.disarm(*s);
  if (impl.own_carryover) impl.carryover->finish_kills();
  impl.rules.clear();
}

std::size_t Engine::rule_count() const { return m_impl->rules.size(); }

ActionCounts Engine::counts() const { return m_impl->counters->snapshot(); }

std::shared_ptr<Counters> Engine::counters() const { return m_impl->counters; }

void Carryover::finish(std::shared_ptr<PendingKill> kill) {
  if (kill->timer) kill->monitor->cancel_timer(*kill->timer);
  kill->timer.reset();
  pending.erase(std::remove(pending.begin(), pending.end(), kill), pending.end());
  kill->finish();
}

void Carryover::finish_kills() {
  while (!pending.empty()) finish(pending.front());
}

void Counters::add(const std::string& rule, std::string_view action, std::string_view result) {
  std::lock_guard lock(m_mutex);
  ++m_counts[{rule, std::string(action), std::string(result)}];
}

ActionCounts Counters::snapshot() const {
  std::lock_guard lock(m_mutex);
  return m_counts;
}

void Counters::set_rules(std::map<std::string, bool> armed) {
  std::lock_guard lock(m_mutex);
  m_armed = std::move(armed);
}

void Counters::set_armed(const std::string& rule, bool armed) {
  std::lock_guard lock(m_mutex);
  if (auto it = m_armed.find(rule); it != m_armed.end()) it->second = armed;
}

std::map<std::string, bool> Counters::armed() const {
  std::lock_guard lock(m_mutex);
  return m_armed;
}

}  // namespace pressure::policy
