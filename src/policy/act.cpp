// Acting: every action of a rule, only through the Actuator. A dry run goes down the same path
// with a DryRunActuator; only the words ("would ...") and the result ("dry-run") differ.
#include <csignal>
#include <cstdio>

#include "policy/engine_parts.hpp"
#include "sys/control.hpp"
#include "sys/files.hpp"

namespace pressure::policy::engine {
namespace {

std::string measured_prefix(const Decision& d) { return d.measured.empty() ? "" : d.measured + "; "; }

std::string describe(const Candidate& c) {
  if (c.pid != 0) return "pid " + std::to_string(c.pid) + " (" + c.name + ")";
  return c.path;
}

void fail_decision(Decision& d, const std::string& detail) {
  d.severity = Decision::Severity::error;
  d.result = "failed";
  d.detail = detail;
}

// Where a victim is and what reaches it.
struct Aim {
  Candidate victim;
  std::string dir;    // a group victim's directory
  std::string scope;  // the group every signalled process must be inside
  int first_signal = SIGKILL;
};

// The first signal to every process of a group victim (SIGTERM of a grace kill, or a signal
// rule's); an error only when none could be sent.
Result<void> signal_group(Context& ctx, const Aim& aim, Decision& d) {
  Result<std::vector<int>> pids = ctx.actuator.processes(aim.dir);
  if (!pids) return tl::unexpected(pids.error());
  std::size_t sent = 0;
  std::optional<Error> first_error;
  for (int pid : *pids) {
    Result<void> one = ctx.actuator.signal_process(pid, aim.first_signal, aim.scope);
    if (one)
      ++sent;
    else if (!first_error && one.error().code() != Errc::gone)
      first_error = one.error();
  }
  d.detail += "; signal " + std::to_string(aim.first_signal) + ctx.said(" sent to ", " would reach ") +
              std::to_string(sent) + " of " + std::to_string(pids->size()) + " processes";
  if (sent == 0 && first_error) return tl::unexpected(*first_error);
  return {};
}

// The first signal to the victim. The actuator checks, after taking a pidfd, that each process
// is still inside its group.
Result<void> strike(Context& ctx, const Aim& aim, Decision& d) {
  if (aim.victim.pid != 0) return ctx.actuator.signal_process(aim.victim.pid, aim.first_signal, aim.scope);
  if (aim.first_signal != SIGKILL) return signal_group(ctx, aim, d);
  Result<Actuator::GroupKill> n = ctx.actuator.kill_cgroup(aim.dir, aim.scope);
  if (!n) return tl::unexpected(n.error());
  if (!ctx.actuator.rehearses())  // a rehearsal killed nothing: no count to give
    d.detail += "; " + std::to_string(n->processes) + " processes killed " + n->how();
  return {};
}

// SIGKILL to a victim whose grace period is over; `report` is detached (the rules may have been
// reloaded since).
void finish_grace_kill(Actuator& act, Decision d, const Aim& aim, const std::string& proc_root,
                       const std::function<void(Decision, std::string_view)>& report) {
  const Candidate& victim = aim.victim;
  Result<void> outcome;
  if (victim.pid != 0) {
    // Still the process we sent SIGTERM to? (It may have exited and its pid been reused.)
    bool exited = sys::process_name(victim.pid, proc_root) != victim.name;
    if (!exited) {
      outcome = act.signal_process(victim.pid, SIGKILL, aim.scope);
      exited = !outcome && outcome.error().code() == Errc::gone;
    }
    if (exited) {
      d.detail = d.victim + " exited within the grace period";
      d.result = "ok";
      report(d, "kill");
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
  report(d, "kill");
}

// SIGKILL for a victim that had SIGTERM, when the grace period is over. The pending kill
// carries everything it needs, so it survives a reload of the rules.
void schedule_sigkill(Context& ctx, RuleState& s, const Aim& aim) {
  auto pending = std::make_shared<Carryover::PendingKill>();
  pending->monitor = &ctx.monitor;
  Decision base = ctx.decision(s, Decision::Severity::warning, "kill", "");
  base.victim = describe(aim.victim);
  pending->finish = [act = &ctx.actuator, base, aim, proc_root = ctx.proc_root(),
                     report = ctx.detached_reporter()] {
    finish_grace_kill(*act, base, aim, proc_root, report);
  };
  std::weak_ptr<Carryover::PendingKill> weak = pending;
  std::weak_ptr<Carryover> keeper = ctx.carryover;
  Result<TimerId> t = ctx.monitor.add_timer(s.rule.grace, [weak, keeper] {
    auto p = weak.lock();
    auto c = keeper.lock();
    if (p && c) c->finish(p);
  });
  if (!t) {
    pending->finish();
    return;
  }
  pending->timer = *t;
  ctx.carryover->pending.push_back(std::move(pending));
}

void finish(Context& ctx, const Rule& rule, const Decision& d) {
  ctx.count(rule, d.result);
  ctx.report(d);
}

void act_on_victim(Context& ctx, RuleState& s, Decision& d) {
  const Rule& rule = s.rule;
  if (s.target() == "/" && !rule.allow_root) {
    d.severity = Decision::Severity::error;
    d.result = "refused";
    d.detail = "the target is the root cgroup and the rule has no allow_root = true";
    return finish(ctx, rule, d);
  }
  TimePoint started = ctx.clock.now();
  std::vector<Candidate> list = candidates(ctx, s);
  std::optional<Choice> choice = choose_victim(list, rule);
  while (choice && finish_candidate(ctx, list[choice->index])) choice = choose_victim(list, rule);
  TimePoint chosen = ctx.clock.now();
  if (!choice) {
    d.result = "no-victim";
    d.detail = measured_prefix(d) + "no candidate to " + std::string(to_string(rule.action)) + " among " +
               std::to_string(list.size()) + (list.empty() ? "" : " (all protected)");
    return finish(ctx, rule, d);
  }
  Aim aim;
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
  d.detail = measured_prefix(d) + ctx.would() + verb + " " + d.victim + ": " + choice->reason;
  Result<void> outcome = strike(ctx, aim, d);
  if (!outcome) fail_decision(d, d.detail + "; failed: " + outcome.error().message());
  // How long choosing among the candidates and signalling (with, for a kill, reaping the
  // victim's memory) took: on a thrashing machine, part of the time to rescue.
  if (!ctx.actuator.rehearses())
    d.detail += "; chosen among " + std::to_string(list.size()) + " in " + seconds(chosen - started) +
                ", signalled in " + seconds(ctx.clock.now() - chosen);
  finish(ctx, rule, d);
  // A dry run rehearses the first signal only (a grace period would end in a SIGKILL).
  if (outcome && rule.action == ActionKind::kill && aim.first_signal != SIGKILL && !ctx.actuator.rehearses())
    schedule_sigkill(ctx, s, aim);
}

std::vector<std::pair<std::string, std::string>> event_env(const Context& ctx, const RuleState& s,
                                                           const Decision& d) {
  std::vector<std::pair<std::string, std::string>> env{{"PRESSURE_RULE", s.rule.name},
                                                       {"PRESSURE_TARGET", s.rule.where()},
                                                       {"PRESSURE_SHARE", std::to_string(d.share * 100.0)},
                                                       {"PRESSURE_MEASURED", d.measured},
                                                       {"PRESSURE_DRY_RUN", ctx.said("0", "1")}};
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

void act_exec(Context& ctx, RuleState& s, Decision& d) {
  const Rule& rule = s.rule;
  std::string cmd;
  for (const std::string& a : rule.command) cmd += (cmd.empty() ? "" : " ") + a;
  d.detail = measured_prefix(d) + ctx.said("running: ", "would run: ") + cmd;
  Decision base = ctx.decision(s, Decision::Severity::notice, "exec", "");
  std::string timeout = seconds(rule.timeout);
  Result<void> started =
      ctx.actuator.exec(rule.command, event_env(ctx, s, d), rule.timeout,
                        [base, cmd, timeout, report = ctx.detached_reporter()](int status, bool timed_out) {
                          Decision done = base;
                          done.result = status == 0 && !timed_out ? "exited-ok" : "exited-failed";
                          done.detail = "'" + cmd + "' " +
                                        (timed_out ? "timed out after " + timeout + " and was killed"
                                                   : "exited with status " + std::to_string(status));
                          if (done.result != "exited-ok") done.severity = Decision::Severity::warning;
                          report(done, "exec");
                        });
  if (!started) fail_decision(d, d.detail + "; failed: " + started.error().message());
  finish(ctx, rule, d);
}

// Reported once the write is over (it may reclaim for a while); the rule may be gone by then.
void act_memory_high(Context& ctx, RuleState& s, Decision& d) {
  bool v1 = false;
  std::string file = memory_limit_file(ctx, s, v1);
  const MemoryHigh& mh = s.rule.memory_high;
  std::string value = mh.bytes ? std::to_string(*mh.bytes) : (v1 ? "-1" : "max");
  d.detail = measured_prefix(d) + ctx.said("wrote ", "would write ") + value + " to " + file;
  auto set_limit_failed = [](Decision& failed, const Error& error) {
    fail_decision(failed, measured_prefix(failed) + "cannot set the limit: " + error.message());
  };
  Result<void> queued = ctx.actuator.write_control(
      file, value,
      [d, set_limit_failed, report = ctx.detached_reporter()](const Result<void>& written) mutable {
        if (!written) set_limit_failed(d, written.error());
        report(d, "memory-high");
      });
  if (!queued) {
    set_limit_failed(d, queued.error());
    finish(ctx, s.rule, d);
  }
}

void act_notify(Context& ctx, RuleState& s, Decision& d) {
  const Rule& rule = s.rule;
  std::string line =
      "{\"time\":" +
      std::to_string(std::chrono::duration<double>(ctx.clock.wall().time_since_epoch()).count()) +
      ",\"rule\":" + json_string(rule.name) + ",\"target\":" + json_string(rule.where()) +
      ",\"share\":" + std::to_string(d.share) + ",\"measured\":" + json_string(d.measured);
  if (rule.spec)
    line += ",\"resource\":" + json_string(to_string(rule.spec->resource)) +
            ",\"line\":" + json_string(to_string(rule.spec->line));
  line += ",\"dry_run\":" + ctx.said("false", "true") + "}";
  std::string where = rule.notify_socket.empty() ? rule.notify_file : rule.notify_socket;
  d.detail = measured_prefix(d) + ctx.said("notified ", "would notify ") + where;
  Result<void> sent = rule.notify_socket.empty() ? ctx.actuator.append_line(rule.notify_file, line)
                                                 : ctx.actuator.send_datagram(rule.notify_socket, line);
  if (!sent) fail_decision(d, measured_prefix(d) + "cannot notify " + where + ": " + sent.error().message());
  finish(ctx, rule, d);
}

}  // namespace

void act(Context& ctx, RuleState& s, double share, const std::string& measured) {
  const Rule& rule = s.rule;
  s.quiet_until = ctx.clock.now() + rule.cooldown;
  ctx.carryover->quiet_until[rule.name] = s.quiet_until;  // a reload keeps the cooldown
  s.acted_in_streak = true;
  Decision d = ctx.decision(s, Decision::Severity::warning, std::string(to_string(rule.action)), "");
  d.share = share;
  d.measured = measured;
  d.result = ctx.ok_result();
  switch (rule.action) {
    case ActionKind::log:
      d.severity = Decision::Severity::notice;
      d.detail = measured;
      d.result = "ok";
      return finish(ctx, rule, d);
    case ActionKind::kill:
    case ActionKind::signal: return act_on_victim(ctx, s, d);
    case ActionKind::exec: return act_exec(ctx, s, d);
    case ActionKind::memory_high: return act_memory_high(ctx, s, d);
    case ActionKind::notify: return act_notify(ctx, s, d);
  }
}

std::string memory_limit_file(const Context& ctx, const RuleState& s, bool& v1) {
  std::string v2 = s.dir + "/memory.high";
  v1 = false;
  if (sys::read_control(v2)) return v2;
  if (auto root = sys::memory_v1_root(ctx.proc_root(), ctx.io())) {
    v1 = true;
    return sys::cgroup_directory(*root, s.target()) + "/memory.limit_in_bytes";
  }
  return v2;
}

}  // namespace pressure::policy::engine
