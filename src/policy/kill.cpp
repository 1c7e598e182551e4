// Kills and signals: the victim chosen among the candidates, its pre-kill hook, the first signal,
// and after a grace period the SIGKILL. What happens after a wait (a hook, a grace period) carries
// everything it needs in a Carryover::PendingKill, so it survives a reload of the rules.
#include <csignal>

#include "policy/engine_parts.hpp"
#include "sys/cgroup_memory.hpp"
#include "sys/control.hpp"
#include "sys/files.hpp"

namespace pressure::policy::engine {
namespace {

// What finishing a kill needs once its rule may be gone: the seams and the reporting, no Context.
struct Seams {
  Actuator* actuator = nullptr;
  Monitor* monitor = nullptr;
  std::shared_ptr<Carryover> carryover;
  std::shared_ptr<const Clock> clock;
  std::string proc_root;
  std::function<void(Decision, std::string_view)> report;  // counts and reports

  explicit Seams(const Context& ctx)
      : actuator(&ctx.actuator),
        monitor(&ctx.monitor),
        carryover(ctx.carryover),
        clock(ctx.clock_owner),
        proc_root(ctx.proc_root()),
        report(ctx.detached_reporter()) {}
  bool rehearses() const { return actuator->rehearses(); }
};

// Where a victim is and what reaches it.
struct Aim {
  Candidate victim;
  std::string dir;    // a group victim's directory
  std::string scope;  // the group every signalled process must be inside
  int first_signal = SIGKILL;
};

// A kill or signal on its way to the victim.
struct Strike {
  Decision d;     // the decision as far as the choice
  Decision base;  // what a later SIGKILL (after the grace period) reports from
  Aim aim;
  std::string action;  // "kill" or "signal"
  microseconds grace{0};
  std::size_t candidates = 0;
  std::chrono::nanoseconds choosing{0};  // how long choosing the victim took
};

std::string describe(const Candidate& c) {
  if (c.pid != 0) return "pid " + std::to_string(c.pid) + " (" + c.name + ")";
  return c.path;
}

// The first signal to every process of a group victim (SIGTERM of a grace kill, or a signal
// rule's); an error only when none could be sent.
Result<void> signal_group(Actuator& act, const Aim& aim, Decision& d) {
  Result<std::vector<int>> pids = act.processes(aim.dir);
  if (!pids) return tl::unexpected(pids.error());
  std::size_t sent = 0;
  std::optional<Error> first_error;
  for (int pid : *pids) {
    Result<void> one = act.signal_process(pid, aim.first_signal, aim.scope);
    if (one)
      ++sent;
    else if (!first_error && one.error().code() != Errc::gone)
      first_error = one.error();
  }
  d.detail += "; signal " + std::to_string(aim.first_signal) +
              (act.rehearses() ? " would reach " : " sent to ") + std::to_string(sent) + " of " +
              std::to_string(pids->size()) + " processes";
  if (sent == 0 && first_error) return tl::unexpected(*first_error);
  return {};
}

// The first signal to the victim. The actuator checks, after taking a pidfd, that each process
// is still inside its group.
Result<void> strike(Actuator& act, const Aim& aim, Decision& d) {
  if (aim.victim.pid != 0) return act.signal_process(aim.victim.pid, aim.first_signal, aim.scope);
  if (aim.first_signal != SIGKILL) return signal_group(act, aim, d);
  Result<Actuator::GroupKill> n = act.kill_cgroup(aim.dir, aim.scope);
  if (!n) return tl::unexpected(n.error());
  if (!act.rehearses())  // a rehearsal killed nothing: no count to give
    d.detail += "; " + std::to_string(n->processes) + " processes killed " + n->how();
  return {};
}

// SIGKILL to a victim whose grace period is over.
void finish_grace_kill(const Seams& seams, Decision d, const Aim& aim) {
  const Candidate& victim = aim.victim;
  Actuator& act = *seams.actuator;
  Result<void> outcome;
  if (victim.pid != 0) {
    // Still the process we sent SIGTERM to? (It may have exited and its pid been reused.)
    bool exited = sys::process_name(victim.pid, seams.proc_root) != victim.name;
    if (!exited) {
      outcome = act.signal_process(victim.pid, SIGKILL, aim.scope);
      exited = !outcome && outcome.error().code() == Errc::gone;
    }
    if (exited) {
      d.detail = d.victim + " exited within the grace period";
      d.result = "ok";
      seams.report(d, "kill");
      return;
    }
    d.detail = "grace period over: SIGKILL to " + d.victim;
  } else {
    Result<Actuator::GroupKill> n = act.kill_cgroup(aim.dir, aim.scope);
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
  seams.report(d, "kill");
}

// Runs `finish` after `wait` (a grace period), or when `start` (given the pending kill's finish)
// says so (a hook that ended) if that comes first; at once if the daemon stops meanwhile.
// The pending kill lives in the Carryover, so it survives a reload of the rules.
void pend(const Seams& seams, std::optional<microseconds> wait, std::function<void()> finish,
          const std::function<void(std::function<void()>)>& start = nullptr) {
  auto pending = std::make_shared<Carryover::PendingKill>();
  pending->monitor = seams.monitor;
  pending->finish = std::move(finish);
  std::weak_ptr<Carryover::PendingKill> weak = pending;
  std::weak_ptr<Carryover> keeper = seams.carryover;
  auto now = [weak, keeper] {
    auto p = weak.lock();
    auto c = keeper.lock();
    if (p && c) c->finish(p);
  };
  seams.carryover->pending.push_back(pending);
  if (wait) {
    Result<TimerId> t = seams.monitor->add_timer(*wait, now);
    if (!t) return now();
    pending->timer = *t;
  }
  if (start) start(now);  // may finish it at once (a hook that could not start)
}

void schedule_sigkill(const Seams& seams, const Strike& k) {
  pend(seams, k.grace, [seams, base = k.base, aim = k.aim] { finish_grace_kill(seams, base, aim); });
}

// The first signal, the decision reported and counted, and a grace kill's SIGKILL scheduled.
// `hook` says how a pre-kill hook ended ("" without one).
void land(const Seams& seams, Strike k, const std::string& hook) {
  Decision& d = k.d;
  if (!hook.empty()) d.detail += "; " + hook;
  bool process_gone = k.aim.victim.pid != 0 && !hook.empty() && !seams.rehearses() &&
                      sys::process_name(k.aim.victim.pid, seams.proc_root) != k.aim.victim.name;
  TimePoint before = seams.clock->now();
  Result<void> outcome = process_gone ? Result<void>(fail(Errc::gone, d.victim + " is gone"))
                                      : strike(*seams.actuator, k.aim, d);
  bool gone = !outcome && (outcome.error().code() == Errc::gone || outcome.error().code() == Errc::not_found);
  if (gone && !hook.empty()) {
    d.detail += "; " + d.victim + " exited during the pre-kill hook";
    d.result = "ok";
  } else if (!outcome) {
    d.severity = Decision::Severity::error;
    d.result = "failed";
    d.detail += "; failed: " + outcome.error().message();
  }
  // How long choosing among the candidates and signalling (with, for a kill, reaping the
  // victim's memory) took: on a thrashing machine, part of the time to rescue.
  if (!seams.rehearses())
    d.detail += "; chosen among " + std::to_string(k.candidates) + " in " + seconds(k.choosing) +
                ", signalled in " + seconds(seams.clock->now() - before);
  seams.report(d, k.action);
  // A dry run rehearses the first signal only (a grace period would end in a SIGKILL).
  if (outcome && k.action == "kill" && k.aim.first_signal != SIGKILL && !seams.rehearses())
    schedule_sigkill(seams, k);
}

std::string bytes_or_empty(std::optional<std::uint64_t> v) { return v ? std::to_string(*v) : std::string{}; }

// What a pre-kill hook is told of the victim, besides what every command is told of the event.
std::vector<std::pair<std::string, std::string>> hook_env(const Context& ctx, const RuleState& s,
                                                          const Strike& k, const std::string& reason) {
  auto env = event_env(ctx, s, k.d);
  const Candidate& v = k.aim.victim;
  std::string pids;
  std::string cgroup = v.path;
  std::optional<std::uint64_t> peak;
  if (v.pid != 0) {
    pids = std::to_string(v.pid);
    cgroup = sys::process_cgroup(v.pid, ctx.proc_root()).value_or("");
    peak = sys::process_peak_rss(v.pid, ctx.proc_root(), ctx.io());
    env.emplace_back("PRESSURE_VICTIM_PID", pids);
  } else {
    if (auto all = ctx.actuator.processes(k.aim.dir))
      for (std::size_t i = 0; i < all->size() && i < 1000; ++i)
        pids += (i == 0 ? "" : " ") + std::to_string((*all)[i]);
    peak = sys::cgroup_memory_peak(ctx.cgroup_root, v.path, ctx.proc_root(), ctx.io());
  }
  env.insert(env.end(),
             {{"PRESSURE_VICTIM", k.d.victim},
              {"PRESSURE_VICTIM_CGROUP", cgroup},
              {"PRESSURE_VICTIM_NAME", v.name},
              {"PRESSURE_VICTIM_PIDS", pids},
              {"PRESSURE_VICTIM_MEMORY_CURRENT", std::to_string(v.memory)},
              {"PRESSURE_VICTIM_MEMORY_PEAK", bytes_or_empty(peak)},
              {"PRESSURE_REASON", reason},
              {"PRESSURE_SIGNAL", std::to_string(k.aim.first_signal)},
              {"PRESSURE_PREKILL_TIMEOUT_MS", std::to_string(s.rule.prekill->timeout.count() / 1000)}});
  return env;
}

// How a hook ended, in words for the decision and a result for the counters.
std::pair<std::string, std::string> hook_words(const Actuator::HookEnd& end, const std::string& cmd,
                                               const std::string& timeout, const std::string& took) {
  using How = Actuator::HookEnd::How;
  std::string hook = "pre-kill hook '" + cmd + "'";
  switch (end.how) {
    case How::rehearsed: return {"would run " + hook + " first (for up to " + timeout + ")", "dry-run"};
    case How::not_started: return {hook + " could not start: " + end.error, "failed"};
    case How::timed_out:
      return {hook + " timed out after " + timeout + " (its process group was killed)", "timed-out"};
    case How::exited:
      return {hook + " exited with status " + std::to_string(end.status) + " after " + took,
              end.status == 0 ? "ok" : "failed"};
  }
  return {hook, "failed"};
}

// The hook first; the strike when it ends, at its timeout at the latest, or at once if the
// daemon stops meanwhile.
void run_prekill(const Context& ctx, const RuleState& s, const Seams& seams, Strike k,
                 const std::string& reason) {
  const PreKill& hook = *s.rule.prekill;
  std::string cmd;
  for (const std::string& a : hook.command) cmd += (cmd.empty() ? "" : " ") + a;
  auto env = hook_env(ctx, s, k, reason);
  auto said = std::make_shared<std::string>("pre-kill hook '" + cmd +
                                            "' still running as the daemon stopped: killed without waiting");
  TimePoint begun = ctx.clock.now();
  std::string rule = s.rule.name;
  pend(
      seams, std::nullopt, [seams, k, said] { land(seams, k, *said); },
      [seams, said, cmd, begun, rule, argv = hook.command, timeout = hook.timeout,
       env](std::function<void()> now) {
        seams.actuator->run_hook(argv, env, timeout, [=](const Actuator::HookEnd& end) {
          auto [words, result] = hook_words(end, cmd, seconds(timeout), seconds(seams.clock->now() - begun));
          *said = words;
          seams.carryover->counters->add(rule, "prekill", result);
          now();
        });
      });
}

}  // namespace

void act_on_victim(Context& ctx, RuleState& s, Decision& d) {
  const Rule& rule = s.rule;
  if (s.target() == "/" && !rule.allow_root) {
    d.severity = Decision::Severity::error;
    d.result = "refused";
    d.detail = "the target is the root cgroup and the rule has no allow_root = true";
    ctx.count(rule, d.result);
    return ctx.report(d);
  }
  TimePoint started = ctx.clock.now();
  std::vector<Candidate> list = candidates(ctx, s);
  std::optional<Choice> choice = choose_victim(list, rule);
  while (choice && finish_candidate(ctx, list[choice->index])) choice = choose_victim(list, rule);
  std::string measured = d.measured.empty() ? "" : d.measured + "; ";
  if (!choice) {
    d.result = "no-victim";
    d.detail = measured + "no candidate to " + std::string(to_string(rule.action)) + " among " +
               std::to_string(list.size()) + (list.empty() ? "" : " (all protected)");
    ctx.count(rule, d.result);
    return ctx.report(d);
  }
  Strike k;
  k.action = std::string(to_string(rule.action));
  k.grace = rule.grace;
  k.candidates = list.size();
  k.choosing = ctx.clock.now() - started;
  Aim& aim = k.aim;
  aim.victim = list[choice->index];
  aim.dir = aim.victim.pid == 0 ? sys::cgroup_directory(ctx.cgroup_root, aim.victim.path) : std::string{};
  aim.scope = aim.victim.pid == 0 ? aim.victim.path : s.target();
  aim.first_signal = rule.action == ActionKind::signal ? rule.signal
                     : rule.grace.count() > 0          ? SIGTERM
                                                       : SIGKILL;
  d.victim = describe(aim.victim);
  std::string verb = rule.action == ActionKind::kill ? "kill" : "signal " + std::to_string(rule.signal);
  if (rule.action == ActionKind::kill && rule.grace.count() > 0)
    verb += " (SIGTERM, SIGKILL after " + seconds(rule.grace) + ")";
  d.detail = measured + ctx.would() + verb + " " + d.victim + ": " + choice->reason;
  k.d = d;
  k.base = ctx.decision(s, Decision::Severity::warning, "kill", "");
  k.base.victim = d.victim;
  Seams seams(ctx);
  if (rule.prekill && rule.action == ActionKind::kill)
    return run_prekill(ctx, s, seams, std::move(k), choice->reason);
  land(seams, std::move(k), "");
}

}  // namespace pressure::policy::engine
