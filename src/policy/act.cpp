// Acting: every action of a rule, only through the Actuator (kills and signals in kill.cpp). A dry
// run goes down the same path with a DryRunActuator; only the words ("would ...") and the result
// ("dry-run") differ.
#include <csignal>
#include <cstdio>

#include "policy/engine_parts.hpp"
#include "sys/control.hpp"
#include "sys/files.hpp"

namespace pressure::policy::engine {
namespace {

std::string measured_prefix(const Decision& d) { return d.measured.empty() ? "" : d.measured + "; "; }

void fail_decision(Decision& d, const std::string& detail) {
  d.severity = Decision::Severity::error;
  d.result = "failed";
  d.detail = detail;
}

void finish(Context& ctx, const Rule& rule, const Decision& d) {
  ctx.count(rule, d.result);
  ctx.report(d);
}

}  // namespace

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

namespace {

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
