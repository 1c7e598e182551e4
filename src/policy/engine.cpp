// Engine: starts and stops the rules (arm.cpp and the other parts do the work), and what lasts
// across reloads (Counters, Carryover).
#include "policy/engine.hpp"

#include <algorithm>
#include <cstdio>

#include "core/printable.hpp"
#include "policy/engine_parts.hpp"
#include "sys/control.hpp"

namespace pressure::policy {

namespace engine {

Context::Context(Monitor& m, Actuator& a, EngineOptions o)
    : monitor(m),
      actuator(a),
      options(std::move(o)),
      clock_owner(options.clock ? options.clock : real_clock()),
      clock(*clock_owner),
      carryover(options.carryover ? options.carryover : std::make_shared<Carryover>()),
      counters(carryover->counters) {}

void Context::count(const Rule& rule, std::string_view result) const {
  counters->add(rule.name, to_string(rule.action), result);
}

void Context::report(Decision d) const {
  d.time = clock.wall();
  d.dry_run = actuator.rehearses();
  if (options.report) options.report(d);
}

Decision Context::decision(const RuleState& s, Decision::Severity severity, std::string what,
                           std::string detail) const {
  Decision d;
  d.severity = severity;
  d.rule = s.rule.name;
  d.where = s.rule.where();
  d.what = std::move(what);
  d.detail = std::move(detail);
  return d;
}

void Context::report_failure(const RuleState& s, std::string what, std::string detail) const {
  Decision d = decision(s, Decision::Severity::error, std::move(what), std::move(detail));
  d.result = "failed";
  report(d);
}

std::function<void(Decision, std::string_view)> Context::detached_reporter() const {
  return [report = options.report, dry_run = actuator.rehearses(), clock = clock_owner, counters = counters](
             Decision d, std::string_view action) {
    d.time = clock->wall();
    d.dry_run = dry_run;
    counters->add(d.rule, action, d.result);
    if (report) report(d);
  };
}

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100.0);
  return buf;
}

std::string seconds(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace engine

using engine::RuleState;

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t at = 0; at < s.size();) {
    char32_t code = 0;
    std::size_t length = core::utf8_sequence(s, at, &code);
    if (length == 0) {  // not UTF-8: U+FFFD, so the line stays valid JSON
      out += "\xef\xbf\xbd";
      ++at;
      continue;
    }
    if (code == '"' || code == '\\') {
      out += '\\';
      out += static_cast<char>(code);
    } else if (code == '\n') {
      out += "\\n";
    } else if (code == '\t') {
      out += "\\t";
    } else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {  // C0, DEL, C1: never raw on a terminal
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(code));
      out += buf;
    } else {
      out.append(s.substr(at, length));
    }
    at += length;
  }
  return out + "\"";
}

struct Engine::Impl {
  bool own_carryover;  // no Carryover was given: kills still in their grace period end with us
  engine::Context ctx;
  std::vector<std::unique_ptr<RuleState>> rules;

  Impl(Monitor& m, Actuator& a, EngineOptions o) : own_carryover(!o.carryover), ctx(m, a, std::move(o)) {}
};

Engine::Engine(Monitor& monitor, Actuator& actuator, EngineOptions options)
    : m_impl(std::make_unique<Impl>(monitor, actuator, std::move(options))) {}

Engine::~Engine() { stop(); }

Result<void> Engine::start(std::vector<Rule> rules) {
  engine::Context& ctx = m_impl->ctx;
  Result<std::string> root = cgroup2_root(ctx.options.reader);
  if (!root) return tl::unexpected(root.error());
  ctx.cgroup_root = *root;
  for (Rule& rule : rules) {
    auto state = std::make_unique<RuleState>();
    state->rule = std::move(rule);
    RuleState& s = *m_impl->rules.emplace_back(std::move(state));
    Result<void> armed = engine::arm(ctx, s);
    if (!armed && ctx.options.await_missing_targets && !s.rule.system && !engine::target_ready(ctx, s)) {
      engine::await_target(
          ctx, s,
          (sys::cgroup_exists(s.dir) ? "PSI is off for the target: " : "the target does not exist: ") +
              armed.error().message());
      continue;
    }
    if (!armed) {
      std::string name = s.rule.name, source = s.rule.source;
      stop();
      return fail(armed.error().code(),
                  "rule '" + name + "'" + (source.empty() ? "" : " (" + source + ")") + ": " +
                      armed.error().message(),
                  armed.error().path(), armed.error().sys_errno());
    }
  }
  std::map<std::string, bool> armed;
  for (const auto& s : m_impl->rules) armed[s->rule.name] = !s->waiting;
  ctx.counters->set_rules(std::move(armed));
  ctx.published = true;
  return {};
}

void Engine::stop() {
  for (auto& s : m_impl->rules) engine::disarm(m_impl->ctx, *s);
  if (m_impl->own_carryover) m_impl->ctx.carryover->finish_kills();
  m_impl->rules.clear();
}

std::size_t Engine::rule_count() const { return m_impl->rules.size(); }

ActionCounts Engine::counts() const { return m_impl->ctx.counters->snapshot(); }

std::shared_ptr<Counters> Engine::counters() const { return m_impl->ctx.counters; }

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
