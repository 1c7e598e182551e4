// Arming a rule (a trigger or polling for a spec, a timer for conditions, steering or victim
// looks), disarming it, and arming it again from scratch once a removed target is back.
#include "policy/engine_parts.hpp"
#include "sys/control.hpp"
#include "sys/files.hpp"

namespace pressure::policy::engine {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// A spec: a kernel trigger where the kernel takes it, else polling.
Result<void> arm_spec(Context& ctx, RuleState& s) {
  const Rule& rule = s.rule;
  RuleState* state = &s;
  Context* c = &ctx;
  Result<WatchInfo> info = ctx.monitor.add(
      rule.system ? Target::system() : Target::cgroup(rule.cgroup), *rule.spec,
      [c, state](const Event& e) { on_event(*c, *state, e); },
      TriggerOptions{TriggerMode::automatic, WindowPolicy::poll, ctx.options.idle_poll});
  if (!info) return tl::unexpected(info.error());
  s.watch = info->id;
  std::string how = info->mode == TriggerMode::kernel
                        ? "kernel trigger '" + info->spec.to_string() + "'"
                        : "polling total every " +
                              std::to_string(duration_cast<milliseconds>(info->spec.window).count() / 10) +
                              "ms (every " + std::to_string(ctx.options.idle_poll.count()) +
                              "ms while it does not move)";
  // (The Monitor's notice would repeat that it polls.)
  ctx.report(ctx.decision(s, Decision::Severity::info, "armed",
                          "watching '" + rule.spec->to_string() + "' by " + how));
  return {};
}

// Checks and conditions: each measured once now (so a rule that cannot be measured fails to
// arm), then on a timer.
Result<void> arm_conditions(Context& ctx, RuleState& s) {
  const Rule& rule = s.rule;
  for (const Check& c : rule.checks) {
    s.reclaim_seen.emplace_back();
    s.ended.emplace_back();
    if (c.what == Check::What::ended) s.ended.back().emplace(c.resource, c.line, c.criteria);
    Result<double> first = measure(ctx, s, c, s.reclaim_seen.size() - 1);
    if (!first) return tl::unexpected(first.error());
    if (c.what == Check::What::usage && c.percent &&
        !sys::cgroup_memory_limit(ctx.cgroup_root, s.target(), ctx.proc_root(), ctx.io()))
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
  Context* cx = &ctx;
  Result<TimerId> t = ctx.monitor.add_timer(rule.interval, [cx, state] { on_condition_tick(*cx, *state); });
  if (!t) return tl::unexpected(t.error());
  s.timer = *t;
  std::string text;
  for (const Condition& c : rule.conditions) text += (text.empty() ? "" : " and ") + c.to_string();
  for (const Check& c : rule.checks) text += (text.empty() ? "" : " and ") + c.text;
  ctx.report(ctx.decision(s, Decision::Severity::info, "armed",
                          "checking " + text + " every " + seconds(rule.interval)));
  return {};
}

Result<void> arm_steering(Context& ctx, RuleState& s) {
  const Rule& rule = s.rule;
  bool v1 = false;
  std::string file = memory_limit_file(ctx, s, v1);
  if (v1 && !rule.memory_high.hard_limit)
    return fail(Errc::invalid_argument,
                rule.where() + " has no memory.high (the memory controller is on cgroup v1 here): steering " +
                    file +
                    " would move a hard limit, where probing too low OOM-kills instead of slowing down; add "
                    "hard_limit = true to memory_high if you mean it");
  RuleState* state = &s;
  Context* c = &ctx;
  Result<TimerId> t = ctx.monitor.add_timer(rule.memory_high.interval, [c, state] { steer(*c, *state); });
  if (!t) return tl::unexpected(t.error());
  s.look_timer = *t;
  ctx.report(
      ctx.decision(s, Decision::Severity::info, "armed",
                   "steering memory.high to hold memory some at " + percent(rule.memory_high.target_share)));
  return {};
}

// Growth and pressure are rates: the candidates are looked at every 5 s, so a baseline exists
// when the rule acts.
Result<void> arm_looks(Context& ctx, RuleState& s) {
  RuleState* state = &s;
  Context* c = &ctx;
  Result<TimerId> t =
      ctx.monitor.add_timer(std::chrono::seconds(5), [c, state] { (void)candidates(*c, *state); });
  if (!t) return tl::unexpected(t.error());
  s.look_timer = *t;
  (void)candidates(ctx, s);
  return {};
}

// True if PSI was switched off for the target's group: cgroup.pressure is 0, or its pressure
// files are hidden (the kernel hides them, and wakes triggers with EPOLLERR, before
// cgroup.pressure reads 0). Every descriptor on them stays dead (ENODEV) even after PSI is
// switched on again (6.1 and 6.18 alike), so only arming from scratch watches it again.
bool psi_off(const RuleState& s) {
  if (s.rule.system) return false;
  Result<std::string> value = sys::read_control(s.dir + "/cgroup.pressure");
  if (value && *value == "0") return true;
  return sys::cgroup_exists(s.dir) && !sys::read_control(s.dir + "/cpu.pressure");
}

void rearm(Context& ctx, RuleState& s);

void look_for_target(Context& ctx, RuleState& s) {
  RuleState* state = &s;
  Context* c = &ctx;
  Result<TimerId> t = ctx.monitor.add_timer(ctx.options.rearm_period, [c, state] {
    if (target_ready(*c, *state)) rearm(*c, *state);
  });
  if (t) {
    s.rearm_timer = *t;
    return;
  }
  ctx.report_failure(s, "disarmed",
                     "cannot look for " + s.rule.cgroup + " to come back: " + t.error().message() +
                         "; the rule stays disarmed until a reload");
}

void rearm(Context& ctx, RuleState& s) {
  if (s.rearm_timer) ctx.monitor.cancel_timer(*s.rearm_timer);
  s.rearm_timer.reset();
  static_cast<Measured&>(s) = Measured{};  // everything measured belongs to the old group
  if (Result<void> armed = arm(ctx, s); !armed) {
    // Back but not usable (e.g. removed again at once): keep looking, and say why once.
    disarm(ctx, s);
    if (armed.error().message() != s.last_error) {
      s.last_error = armed.error().message();
      ctx.report_failure(s, "disarmed", s.rule.cgroup + " is back but cannot be watched: " + s.last_error);
    }
    look_for_target(ctx, s);
    return;
  }
  s.last_error.clear();
  s.waiting = false;
  if (ctx.published) ctx.counters->set_armed(s.rule.name, true);
  ctx.report(
      ctx.decision(s, Decision::Severity::notice, "re-armed",
                   s.waiting_for_psi ? "PSI is on again for " + s.rule.cgroup : s.rule.cgroup + " is back"));
  s.waiting_for_psi = false;
}

}  // namespace

Result<void> arm(Context& ctx, RuleState& s) {
  const Rule& rule = s.rule;
  if (auto it = ctx.carryover->quiet_until.find(rule.name); it != ctx.carryover->quiet_until.end())
    s.quiet_until = it->second;
  s.dir = sys::cgroup_directory(ctx.cgroup_root, s.target());
  s.reader.emplace(rule.system ? Target::system() : Target::cgroup(rule.cgroup), ctx.options.reader);
  if (!rule.system) {
    Result<std::string> resolved = s.reader->resolved_path();
    if (!resolved) return tl::unexpected(resolved.error());
  }
  Result<void> when = rule.spec                                          ? arm_spec(ctx, s)
                      : !rule.conditions.empty() || !rule.checks.empty() ? arm_conditions(ctx, s)
                                                                         : Result<void>{};
  if (!when) return when;
  if (rule.action == ActionKind::memory_high && rule.memory_high.mode == MemoryHigh::Mode::steer)
    return arm_steering(ctx, s);
  if (rule.acts_on_processes() &&
      (rule.victim.by == Victim::By::growth || rule.victim.by == Victim::By::pressure))
    return arm_looks(ctx, s);
  return {};
}

void disarm(Context& ctx, RuleState& s) {
  if (s.watch) ctx.monitor.remove(*s.watch);
  if (s.timer) ctx.monitor.cancel_timer(*s.timer);
  if (s.look_timer) ctx.monitor.cancel_timer(*s.look_timer);
  if (s.rearm_timer) ctx.monitor.cancel_timer(*s.rearm_timer);
  s.watch.reset();
  s.timer.reset();
  s.look_timer.reset();
  s.rearm_timer.reset();
}

// A waiting rule can arm: its group exists and has PSI on.
bool target_ready(const Context&, const RuleState& s) { return sys::cgroup_exists(s.dir) && !psi_off(s); }

// The target's cgroup was removed (its service stopped, its job ended), or its PSI switched
// off: the rule disarms and looks every `rearm_period` for the group to come back (a restarted
// service gets a new group at the same path) with PSI on, then arms again from scratch. A rule
// on the system never gets here.
void await_target(Context& ctx, RuleState& s, const std::string& why) {
  disarm(ctx, s);
  s.waiting = true;
  s.waiting_for_psi = sys::cgroup_exists(s.dir) && psi_off(s);
  if (ctx.published) ctx.counters->set_armed(s.rule.name, false);
  ctx.report_failure(
      s, "disarmed",
      why + "; armed again when " +
          (s.waiting_for_psi ? "PSI is switched on for " + s.rule.cgroup + " (cgroup.pressure set to 1)"
                             : s.rule.cgroup + " is back"));
  if (target_ready(ctx, s)) {
    rearm(ctx, s);  // already back (a fast restart)
    return;
  }
  look_for_target(ctx, s);
}

// The reader says its group is gone (though a group of the same path may already be back), or
// the path no longer exists, or PSI was switched off.
bool target_removed(Context& ctx, RuleState& s, const Error& error) {
  if (s.rule.system) return false;
  bool removed = error.code() == Errc::gone || !sys::cgroup_exists(s.dir);
  if (!removed && psi_off(s)) {
    await_target(ctx, s, "PSI was switched off for " + s.rule.cgroup + " (cgroup.pressure is 0)");
    return true;
  }
  if (!removed) return false;
  await_target(ctx, s, "the target can no longer be watched: " + error.message());
  return true;
}

}  // namespace pressure::policy::engine
