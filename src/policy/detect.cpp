// Detection: a trigger event starts a hot streak sampled from `total` until the rule has held
// for its `for` (or falls back); a condition rule is measured on every tick. Either ends in
// act() once the rule has held long enough and the cooldown is over.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <pressure/memory.hpp>

#include "policy/engine_parts.hpp"
#include "sys/control.hpp"

namespace pressure::policy::engine {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

void cool(Context& ctx, RuleState& s) {
  if (s.timer) ctx.monitor.cancel_timer(*s.timer);
  s.timer.reset();
  s.held_since.reset();
  s.window.reset();
}

// The watch ended (its group removed, its file unreadable): the Monitor dropped it.
void on_watch_ended(Context& ctx, RuleState& s, const Event& e) {
  s.watch.reset();
  Error error = e.error ? *e.error : Error(Errc::gone, s.rule.where() + " is gone");
  if (target_removed(ctx, s, error)) return;
  if (ctx.published) ctx.counters->set_armed(s.rule.name, false);
  ctx.report_failure(s, "disarmed", "the target can no longer be watched: " + error.message());
}

// Each condition's value this tick, appended to `measured`; false when one does not hold (or
// cannot be read). Nothing when the target was removed.
std::optional<bool> conditions_hold(Context& ctx, RuleState& s, TimePoint now, std::string& measured,
                                    double& first_share) {
  bool all = true;
  for (std::size_t i = 0; i < s.rule.conditions.size(); ++i) {
    const Condition& c = s.rule.conditions[i];
    Result<Pressure> p = s.reader->read(c.resource);
    if (!p && target_removed(ctx, s, p.error())) return std::nullopt;  // gone: the group was removed
    if (!p || !(*p)[c.line]) {
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
  return all;
}

// A check's value as the decision shows it: "memory available=8.50%", "reclaim=120.00 pages/s".
std::string check_text(const Check& c, double v, bool first) {
  char buf[160];
  std::string subject = c.text.substr(0, c.text.find_first_of("<>"));
  if (c.what == Check::What::ended)
    std::snprintf(buf, sizeof buf, "%s%s: %s", first ? "" : ", ", c.text.c_str(), v > 0 ? "yes" : "not yet");
  else if (c.what == Check::What::reclaim || c.percent)
    std::snprintf(buf, sizeof buf, "%s%s=%.2f%s", first ? "" : ", ", subject.c_str(), v,
                  c.percent ? "%" : " pages/s");
  else
    std::snprintf(buf, sizeof buf, "%s%s=%.1f MiB", first ? "" : ", ", subject.c_str(), v / 1048576.0);
  return buf;
}

// Like conditions_hold, for the checks; an error measuring one is reported once.
std::optional<bool> checks_hold(Context& ctx, RuleState& s, std::string& measured) {
  bool all = true;
  for (std::size_t i = 0; i < s.rule.checks.size(); ++i) {
    const Check& c = s.rule.checks[i];
    Result<double> value = measure(ctx, s, c, i);
    if (!value && target_removed(ctx, s, value.error())) return std::nullopt;
    if (!value && value.error().message() != s.last_error) {  // once per distinct error
      s.last_error = value.error().message();
      Decision d = ctx.decision(s, Decision::Severity::error, "check",
                                "cannot measure '" + c.text + "': " + s.last_error);
      d.result = "failed";
      ctx.report(d);
    }
    double v = value ? *value : std::nan("");
    measured += check_text(c, v, measured.empty());
    all = all && c.holds(v);
  }
  return all;
}

// The conditions stopped holding: a streak that never acted says why.
void release(Context& ctx, RuleState& s, TimePoint now, const std::string& measured) {
  if (s.held_since && !s.acted_in_streak && s.rule.hold.count() > 0) {
    nanoseconds held = now - *s.held_since;
    ctx.report(ctx.decision(s, Decision::Severity::info, "released",
                            held < s.rule.hold
                                ? measured + ": the conditions held " + seconds(held) + ", less than " +
                                      seconds(s.rule.hold) + ": no action"
                                : measured + ": the conditions held " + seconds(held) +
                                      ", all within the cooldown of an earlier action: no action"));
  }
  s.held_since.reset();
  s.acted_in_streak = false;
}

double percent_of(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? std::nan("") : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// Pages scanned per second since the previous tick; NaN on the first.
Result<double> reclaim_rate(Context& ctx, RuleState& s, std::size_t index) {
  Result<std::uint64_t> pages = sys::pages_scanned(ctx.cgroup_root, s.target(), ctx.proc_root(), ctx.io());
  if (!pages) return tl::unexpected(pages.error());
  TimePoint now = ctx.clock.now();
  auto& seen = s.reclaim_seen[index];
  double rate = std::nan("");
  if (seen && *pages >= seen->first) {
    double dt = std::chrono::duration<double>(now - seen->second).count();
    if (dt > 0) rate = static_cast<double>(*pages - seen->first) / dt;
  }
  seen = std::make_pair(*pages, now);
  return rate;
}

}  // namespace

void on_event(Context& ctx, RuleState& s, const Event& e) {
  if (e.kind != Event::Kind::pressure) {
    on_watch_ended(ctx, s, e);
    return;
  }
  if (s.timer) return;  // already sampling
  TimePoint now = ctx.clock.now();
  if (now < s.quiet_until) return;
  const TriggerSpec& spec = *s.rule.spec;
  s.held_since = now;
  s.acted_in_streak = false;
  std::string measured =
      spec.to_string() + ": " + percent(e.share) + " stalled over the last " + seconds(e.observed_span);
  if (s.rule.hold.count() == 0) {
    act(ctx, s, e.share, measured);
    return;
  }
  // The hot streak starts from the `total` the event saw: nothing is read twice.
  s.window.emplace(spec.window);
  s.window->add(now, e.total_us);
  RuleState* state = &s;
  Context* c = &ctx;
  auto period = std::max<microseconds>(microseconds{50'000}, spec.window / 10);
  Result<TimerId> t = ctx.monitor.add_timer(period, [c, state] { on_hot_tick(*c, *state); });
  if (t) s.timer = *t;
}

void on_hot_tick(Context& ctx, RuleState& s) {
  const TriggerSpec& spec = *s.rule.spec;
  TimePoint now = ctx.clock.now();
  Result<Pressure> p = s.reader->read(spec.resource);
  if (!p || !(*p)[spec.line]) {
    cool(ctx, s);
    return;
  }
  s.window->add(now, (*p)[spec.line]->total_us);
  auto growth = s.window->growth();
  if (!growth) return;
  double share = growth->share();
  nanoseconds held = now - *s.held_since;
  if (share < spec.share()) {
    // A dip right after waking is noise; a sustained one ends the streak.
    if (growth->span >= std::min<nanoseconds>(spec.window, s.rule.hold) / 2) {
      ctx.report(ctx.decision(s, Decision::Severity::info, "released",
                              spec.to_string() + " held " + seconds(held) + ", less than " +
                                  seconds(s.rule.hold) + ", then fell to " + percent(share) + ": no action"));
      cool(ctx, s);
    }
    return;
  }
  if (held >= s.rule.hold && now >= s.quiet_until) {
    std::string measured = spec.to_string() + ": " + percent(share) + " stalled over the last " +
                           seconds(growth->span) + ", held " + seconds(held);
    cool(ctx, s);
    act(ctx, s, share, measured);
  }
}

void on_condition_tick(Context& ctx, RuleState& s) {
  TimePoint now = ctx.clock.now();
  std::string measured;
  double first_share = 0;
  std::optional<bool> conditions = conditions_hold(ctx, s, now, measured, first_share);
  if (!conditions) return;
  std::optional<bool> checks = checks_hold(ctx, s, measured);
  if (!checks) return;
  if (!*conditions || !*checks) {
    release(ctx, s, now, measured);
    return;
  }
  if (!s.held_since) s.held_since = now;
  nanoseconds held = now - *s.held_since;
  if (held < s.rule.hold || now < s.quiet_until) return;
  if (s.acted_in_streak && !s.rule.repeat) return;
  act(ctx, s, first_share, measured + ", held " + seconds(held));
}

// NaN while the value cannot be known yet (the first reclaim sample, a percentage without a
// limit, no swap at all: a swap check never holds).
Result<double> measure(Context& ctx, RuleState& s, const Check& c, std::size_t index) {
  switch (c.what) {
    case Check::What::available: {
      Result<HostMemory> m = host_memory(ctx.options.reader);
      if (!m) return tl::unexpected(m.error());
      return c.percent ? percent_of(m->available, m->total) : static_cast<double>(m->available);
    }
    case Check::What::swap_free: {
      Result<sys::Swap> swap = sys::swap_memory(ctx.proc_root(), ctx.io());
      if (!swap) return tl::unexpected(swap.error());
      if (swap->total == 0) return std::nan("");
      return c.percent ? percent_of(swap->free, swap->total) : static_cast<double>(swap->free);
    }
    case Check::What::usage: {
      Result<sys::CgroupMemory> m =
          sys::cgroup_memory(ctx.cgroup_root, s.target(), ctx.proc_root(), ctx.io());
      if (!m) return tl::unexpected(m.error());
      if (!c.percent) return static_cast<double>(m->bytes);
      return percent_of(
          m->bytes,
          sys::cgroup_memory_limit(ctx.cgroup_root, s.target(), ctx.proc_root(), ctx.io()).value_or(0));
    }
    case Check::What::reclaim: return reclaim_rate(ctx, s, index);
    case Check::What::ended: {
      Result<Snapshot> snap = s.reader->snapshot();
      if (!snap) return tl::unexpected(snap.error());
      if (!(*snap)[c.resource]) return tl::unexpected((*snap)[c.resource].error());
      return s.ended[index]->observe(*snap).ended ? 1.0 : 0.0;
    }
  }
  return std::nan("");
}

}  // namespace pressure::policy::engine
