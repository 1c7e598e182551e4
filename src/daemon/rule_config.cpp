// One [[rule]] of the daemon's configuration, parsed key group by key group: each part checks
// only its own keys and their combinations with the action, in the order of the file's errors.
#include <charconv>

#include <pressure/selector.hpp>

#include "core/cgroup_path.hpp"
#include "core/printable.hpp"
#include "core/try.hpp"
#include "daemon/config.hpp"
#include "daemon/config_check.hpp"

namespace pressure::daemon::config_detail {
namespace {

using policy::ActionKind;
using policy::NamePattern;
using policy::parse_name_pattern;
using policy::Rule;
using policy::Victim;

bool is_root(const Rule& r) { return r.system || r.cgroup == "/"; }

// What every part of a rule's parse needs: where it is, its table, and the rule so far.
struct RuleText {
  const Checker& ck;
  const toml::table& t;
  const toml::node& node;  // the rule's table, for errors about a missing key
  std::string ctx;         // "rule 'NAME': "
  const toml::node* get(std::string_view key) const { return t.get(key); }
  tl::unexpected<Error> error(const toml::node& at, const std::string& message) const {
    return ck.error(at, ctx + message);
  }
};

R<void> parse_name(RuleText& in, Rule& r, std::size_t index) {
  in.ctx = "rule " + std::to_string(index + 1) + ": ";
  PRESSURE_TRY(only_keys(
      in.ck, in.t,
      {"name", "target", "allow_root", "when", "for", "interval", "cooldown", "repeat", "action", "victim",
       "prefer", "avoid", "grace", "signal", "command", "timeout", "memory_high", "notify", "prekill"},
      in.ctx));
  const toml::node* n = in.get("name");
  if (n == nullptr)
    return in.error(in.node, "key 'name' is missing: every rule needs a name for its log lines and metrics");
  auto s = need_string(in.ck, *n, "name", in.ctx);
  if (!s) return tl::unexpected(s.error());
  if (s->empty()) return in.error(*n, "key 'name' is empty");
  // It starts log lines and labels metrics: a control character would forge or break them.
  if (core::printable(*s) != *s)
    return in.error(*n, "key 'name' has a control character or broken UTF-8 (\"" + core::printable(*s) +
                            "\"); names are printable text");
  r.name = *s;
  in.ctx = "rule '" + r.name + "': ";
  return {};
}

R<void> parse_target(const RuleText& in, Rule& r) {
  const toml::node* target = in.get("target");
  if (target == nullptr)
    return in.error(in.node, "key 'target' is missing (\"system\" or { cgroup = \"...\" })");
  if (auto s = target->value<std::string>()) {
    if (*s != "system")
      return in.error(*target,
                      "key 'target': a string target must be \"system\"; write { cgroup = \"" + *s + "\" }");
    r.system = true;
    r.cgroup = "/";
  } else if (const toml::table* tt = target->as_table()) {
    PRESSURE_TRY(only_keys(in.ck, *tt, {"cgroup"}, in.ctx + "target: "));
    const toml::node* cg = tt->get("cgroup");
    if (cg == nullptr) return in.error(*target, "key 'target' needs cgroup = \"PATH\"");
    auto path = need_string(in.ck, *cg, "target.cgroup", in.ctx);
    if (!path) return tl::unexpected(path.error());
    if (path->empty()) return in.error(*cg, "key 'target.cgroup' is empty; the root group is \"/\"");
    auto norm = core::normalize_cgroup_path(*path, "");
    if (!norm) return in.error(*cg, "key 'target.cgroup': " + norm.error().message());
    r.cgroup = *norm;
  } else {
    return in.error(*target, "key 'target' must be \"system\" or { cgroup = \"...\" }");
  }
  if (const toml::node* n = in.get("allow_root")) {
    auto b = n->value<bool>();
    if (!b) return in.error(*n, "key 'allow_root' must be true or false");
    r.allow_root = *b;
  }
  return {};
}

R<void> parse_action(const RuleText& in, Rule& r) {
  const toml::node* action = in.get("action");
  if (action == nullptr)
    return in.error(in.node, "key 'action' is missing (kill, signal, exec, memory-high, notify or log)");
  auto s = need_string(in.ck, *action, "action", in.ctx);
  if (!s) return tl::unexpected(s.error());
  static const std::pair<std::string_view, ActionKind> k_actions[] = {
      {"kill", ActionKind::kill},     {"signal", ActionKind::signal},
      {"exec", ActionKind::exec},     {"memory-high", ActionKind::memory_high},
      {"notify", ActionKind::notify}, {"log", ActionKind::log}};
  for (auto [name, kind] : k_actions) {
    if (*s == name) {
      r.action = kind;
      return {};
    }
  }
  return in.error(*action,
                  "key 'action': '" + *s + "' is not one of kill, signal, exec, memory-high, notify, log");
}

// memory_high = { steer = true, target = "0.5%", min = "128M", max = "2G", interval = "1s", hard_limit =
// false }
R<void> parse_steering(const RuleText& in, const toml::node& n, const toml::table& mt,
                       policy::MemoryHigh& mh) {
  PRESSURE_TRY(only_keys(in.ck, mt, {"steer", "target", "min", "max", "interval", "hard_limit"},
                         in.ctx + "memory_high: "));
  mh.mode = policy::MemoryHigh::Mode::steer;
  if (const toml::node* st = mt.get("steer"); st == nullptr || st->value<bool>() != true)
    return in.error(n, "key 'memory_high' as a table needs steer = true (or give a size such as \"512M\")");
  if (const toml::node* v = mt.get("target")) {
    auto pct_text = need_string(in.ck, *v, "memory_high.target", in.ctx);
    if (!pct_text) return tl::unexpected(pct_text.error());
    std::string_view num = *pct_text;
    if (num.ends_with("%")) num.remove_suffix(1);
    double pct = -1;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), pct);
    if (ec != std::errc{} || p != num.data() + num.size() || pct <= 0 || pct > 100)
      return in.error(*v, "key 'memory_high.target': '" + *pct_text + "' is not a percentage in (0, 100]");
    mh.target_share = pct / 100.0;
  }
  for (auto [key, field] : {std::pair{"min", &mh.min_bytes}, std::pair{"max", &mh.max_bytes}}) {
    if (const toml::node* v = mt.get(key)) {
      auto size_text = need_string(in.ck, *v, std::string("memory_high.") + key, in.ctx);
      if (!size_text) return tl::unexpected(size_text.error());
      auto b = parse_size(*size_text);
      if (!b) return in.error(*v, "key 'memory_high." + std::string(key) + "': " + b.error().message());
      *field = *b;
    }
  }
  if (mh.max_bytes != 0 && mh.max_bytes < mh.min_bytes)
    return in.error(n, "key 'memory_high': max is below min");
  if (const toml::node* v = mt.get("hard_limit")) {
    auto b = v->value<bool>();
    if (!b) return in.error(*v, "key 'memory_high.hard_limit' must be true or false");
    mh.hard_limit = *b;
  }
  if (const toml::node* v = mt.get("interval")) {
    auto d = need_duration(in.ck, *v, "memory_high.interval", in.ctx);
    if (!d) return tl::unexpected(d.error());
    if (d->count() < 100'000) return in.error(*v, "key 'memory_high.interval' must be at least 100ms");
    mh.interval = *d;
  }
  return {};
}

// Before 'when': steering needs no condition.
R<void> parse_memory_high(const RuleText& in, Rule& r) {
  const toml::node* n = in.get("memory_high");
  if (n == nullptr) {
    if (r.action == ActionKind::memory_high)
      return in.error(in.node, "action 'memory-high' needs memory_high = \"SIZE\" or { steer = true }");
    return {};
  }
  if (r.action != ActionKind::memory_high)
    return in.error(*n, "key 'memory_high' is only for action = \"memory-high\"");
  if (auto s = n->value<std::string>()) {
    if (*s == "max") return {};
    auto b = parse_size(*s);
    if (!b) return in.error(*n, "key 'memory_high': " + b.error().message());
    r.memory_high.bytes = *b;
    return {};
  }
  if (const toml::table* mt = n->as_table()) return parse_steering(in, *n, *mt, r.memory_high);
  return in.error(*n, "key 'memory_high' must be a size (\"512M\", \"max\") or { steer = true, ... }");
}

// One trigger spec alone, or conditions and checks (all must hold).
R<void> parse_when_texts(const RuleText& in, const toml::node& n, const std::vector<std::string>& texts,
                         Rule& r) {
  if (texts.size() == 1 && texts.front().find('/') != std::string::npos &&
      !policy::looks_like_check(texts.front())) {
    auto spec = parse_trigger_spec(texts.front());
    if (!spec) return in.error(n, "key 'when': " + spec.error().message());
    r.spec = *spec;
    return {};
  }
  for (const std::string& text : texts) {
    if (policy::looks_like_check(text)) {
      auto c = policy::parse_check(text);
      if (!c) return in.error(n, "key 'when': " + c.error().message());
      r.checks.push_back(*c);
      continue;
    }
    if (text.find('/') != std::string::npos && text.find("/s") == std::string::npos)
      return in.error(
          n, "key 'when': a trigger spec ('" + text + "') stands alone, not in a list of conditions");
    auto c = parse_condition(text);
    if (!c) return in.error(n, "key 'when': " + c.error().message());
    r.conditions.push_back(*c);
  }
  return {};
}

R<void> parse_when(const RuleText& in, Rule& r) {
  bool steering =
      r.action == ActionKind::memory_high && r.memory_high.mode == policy::MemoryHigh::Mode::steer;
  const toml::node* n = in.get("when");
  if (n == nullptr) {
    if (steering) return {};
    return in.error(in.node,
                    "key 'when' is missing: a trigger spec (\"memory full 10%/1s\") or conditions "
                    "(\"memory full avg10>10\")");
  }
  auto texts = need_strings(in.ck, *n, "when", in.ctx);
  if (!texts) return tl::unexpected(texts.error());
  if (texts->empty()) return in.error(*n, "key 'when' is empty");
  PRESSURE_TRY(parse_when_texts(in, *n, *texts, r));
  if (steering)
    return in.error(*n,
                    "key 'when' does not go with memory_high = { steer = true }: steering runs all the time");
  return {};
}

R<void> parse_timing(const RuleText& in, Rule& r) {
  for (auto [key, field] :
       {std::pair{"for", &r.hold}, std::pair{"interval", &r.interval}, std::pair{"cooldown", &r.cooldown},
        std::pair{"grace", &r.grace}, std::pair{"timeout", &r.timeout}}) {
    if (const toml::node* n = in.get(key)) {
      auto d = need_duration(in.ck, *n, key, in.ctx);
      if (!d) return tl::unexpected(d.error());
      *field = *d;
    }
  }
  if (const toml::node* n = in.get("interval"); n != nullptr && r.interval.count() < 10'000)
    return in.error(*n, "key 'interval' must be at least 10ms");
  if (const toml::node* n = in.get("timeout"); n != nullptr && r.timeout.count() <= 0)
    return in.error(*n, "key 'timeout' must be positive");
  if (r.spec) {
    for (const char* key : {"interval", "repeat"}) {
      if (const toml::node* n = in.get(key))
        return in.error(*n, "key '" + std::string(key) + "' is only for conditions; a trigger spec ('" +
                                r.spec->to_string() +
                                "') is sampled at window/10 and acts again after its cooldown");
    }
  }
  if (const toml::node* n = in.get("repeat")) {
    auto b = n->value<bool>();
    if (!b) return in.error(*n, "key 'repeat' must be true or false");
    r.repeat = *b;
  }
  return {};
}

// One of `names` (the enum's values in order, with aliases after '|'), or the error listing them.
template <class E>
R<E> need_choice(const RuleText& in, const toml::node& n, const std::string& key,
                 std::initializer_list<std::pair<std::string_view, E>> names, std::string_view listed) {
  auto s = need_string(in.ck, n, key, in.ctx);
  if (!s) return tl::unexpected(s.error());
  for (auto [name, value] : names)
    if (*s == name) return value;
  return in.error(n, "key '" + key + "': '" + *s + "' is not " + std::string(listed));
}

R<void> parse_victim(const RuleText& in, Rule& r) {
  if (r.action == ActionKind::signal) r.victim.among = Victim::Among::self;
  const toml::node* n = in.get("victim");
  if (n == nullptr) return {};
  if (!r.acts_on_processes()) return in.error(*n, "key 'victim' is only for kill and signal");
  const toml::table* vt = n->as_table();
  if (vt == nullptr) return in.error(*n, "key 'victim' must be a table { among = ..., by = ... }");
  PRESSURE_TRY(only_keys(in.ck, *vt, {"among", "by"}, in.ctx + "victim: "));
  if (const toml::node* a = vt->get("among")) {
    auto among = need_choice<Victim::Among>(in, *a, "victim.among",
                                            {{"children", Victim::Among::children},
                                             {"processes", Victim::Among::processes},
                                             {"self", Victim::Among::self},
                                             {"target", Victim::Among::self}},
                                            "children, processes or self");
    if (!among) return tl::unexpected(among.error());
    r.victim.among = *among;
  }
  if (const toml::node* b = vt->get("by")) {
    auto by = need_choice<Victim::By>(
        in, *b, "victim.by",
        {{"memory", Victim::By::memory}, {"growth", Victim::By::growth}, {"pressure", Victim::By::pressure}},
        "memory, growth or pressure");
    if (!by) return tl::unexpected(by.error());
    r.victim.by = *by;
    if (r.victim.by == Victim::By::pressure && r.victim.among == Victim::Among::processes)
      return in.error(*b,
                      "key 'victim.by': processes have no pressure of their own; use memory or "
                      "growth, or among = \"children\"");
  }
  return {};
}

// prefer, avoid, grace, signal: the keys of kill and signal.
R<void> parse_victim_keys(const RuleText& in, Rule& r) {
  for (auto [key, field] : {std::pair{"prefer", &r.prefer}, std::pair{"avoid", &r.avoid}}) {
    if (const toml::node* n = in.get(key)) {
      if (!r.acts_on_processes())
        return in.error(*n, "key '" + std::string(key) + "' is only for kill and signal");
      auto v = need_strings(in.ck, *n, key, in.ctx);
      if (!v) return tl::unexpected(v.error());
      for (const std::string& text : *v) {
        Result<NamePattern> pattern = parse_name_pattern(text);
        if (!pattern) return in.error(*n, "key '" + std::string(key) + "': " + pattern.error().message());
        if (auto selector = parse_cgroup_selector(pattern->glob); !selector)
          return in.error(*n, "key '" + std::string(key) + "': " + selector.error().message());
        if (!pattern->key.empty() && r.victim.among == Victim::Among::processes)
          return in.error(*n, "key '" + std::string(key) + "': '" + text +
                                  "' matches cgroups, but victim.among = \"processes\" chooses processes");
      }
      *field = *v;
    }
  }
  if (const toml::node* n = in.get("grace"); n != nullptr && r.action != ActionKind::kill)
    return in.error(*n, "key 'grace' is only for kill");
  const toml::node* n = in.get("signal");
  if (n == nullptr) {
    if (r.action == ActionKind::signal)
      return in.error(in.node, "action 'signal' needs signal = \"SIGUSR1\" (or another)");
    return {};
  }
  if (r.action != ActionKind::signal) return in.error(*n, "key 'signal' is only for action = \"signal\"");
  std::string text;
  if (auto i = n->value<std::int64_t>())
    text = std::to_string(*i);
  else if (auto s = n->value<std::string>())
    text = *s;
  auto sig = parse_signal(text);
  if (!sig) return in.error(*n, "key 'signal': " + sig.error().message());
  r.signal = *sig;
  return {};
}

// A command: a list of strings, the program first; no shell is used.
R<std::vector<std::string>> need_argv(const RuleText& in, const toml::node& n, const std::string& key) {
  if (n.as_array() == nullptr)
    return in.error(n, "key '" + key + "' must be a list: [\"program\", \"arg\", ...] (no shell is used)");
  auto v = need_strings(in.ck, n, key, in.ctx);
  if (!v) return tl::unexpected(v.error());
  if (v->empty() || v->front().empty()) return in.error(n, "key '" + key + "' names no program");
  return v;
}

R<void> parse_exec(const RuleText& in, Rule& r) {
  if (const toml::node* n = in.get("command")) {
    if (r.action != ActionKind::exec) return in.error(*n, "key 'command' is only for action = \"exec\"");
    auto v = need_argv(in, *n, "command");
    if (!v) return tl::unexpected(v.error());
    r.command = *v;
  } else if (r.action == ActionKind::exec) {
    return in.error(in.node, "action 'exec' needs command = [\"program\", \"arg\", ...]");
  }
  if (const toml::node* n = in.get("timeout"); n != nullptr && r.action != ActionKind::exec)
    return in.error(*n, "key 'timeout' is only for exec");
  return {};
}

// prekill = { command = ["program", "arg"], timeout = "1s" }: kill only; the timeout bounds how
// long the kill waits, so it is short of the cooldown (or the rule would act again meanwhile).
R<void> parse_prekill(const RuleText& in, Rule& r) {
  const toml::node* n = in.get("prekill");
  if (n == nullptr) return {};
  if (r.action != ActionKind::kill) return in.error(*n, "key 'prekill' is only for action = \"kill\"");
  const toml::table* pt = n->as_table();
  if (pt == nullptr)
    return in.error(*n,
                    "key 'prekill' must be a table: { command = [\"program\", \"arg\"], timeout = \"1s\" }");
  PRESSURE_TRY(only_keys(in.ck, *pt, {"command", "timeout"}, in.ctx + "prekill: "));
  policy::PreKill hook;
  const toml::node* c = pt->get("command");
  if (c == nullptr) return in.error(*n, "key 'prekill' needs command = [\"program\", \"arg\", ...]");
  auto argv = need_argv(in, *c, "prekill.command");
  if (!argv) return tl::unexpected(argv.error());
  hook.command = *argv;
  if (const toml::node* t = pt->get("timeout")) {
    auto d = need_duration(in.ck, *t, "prekill.timeout", in.ctx);
    if (!d) return tl::unexpected(d.error());
    if (d->count() <= 0 || *d > policy::PreKill::k_max_timeout)
      return in.error(*t, "key 'prekill.timeout' must be above 0 and at most 60s: the kill waits that long");
    hook.timeout = *d;
  }
  if (hook.timeout >= r.cooldown)
    return in.error(*n,
                    "key 'prekill.timeout' must be shorter than the rule's cooldown, or the rule could act "
                    "again while the hook runs");
  r.prekill = std::move(hook);
  return {};
}

R<void> parse_notify(const RuleText& in, Rule& r) {
  const toml::node* n = in.get("notify");
  if (n == nullptr) {
    if (r.action == ActionKind::notify)
      return in.error(in.node, "action 'notify' needs notify = { socket = \"PATH\" } or { file = \"PATH\" }");
    return {};
  }
  if (r.action != ActionKind::notify) return in.error(*n, "key 'notify' is only for action = \"notify\"");
  const toml::table* nt = n->as_table();
  if (nt == nullptr) return in.error(*n, "key 'notify' must be { socket = \"PATH\" } or { file = \"PATH\" }");
  PRESSURE_TRY(only_keys(in.ck, *nt, {"socket", "file"}, in.ctx + "notify: "));
  const toml::node* sock = nt->get("socket");
  const toml::node* file = nt->get("file");
  if ((sock == nullptr) == (file == nullptr))
    return in.error(*n, "key 'notify' needs exactly one of socket or file");
  auto s = need_string(in.ck, sock != nullptr ? *sock : *file,
                       sock != nullptr ? "notify.socket" : "notify.file", in.ctx);
  if (!s) return tl::unexpected(s.error());
  if (s->empty()) return in.error(*n, "key 'notify' has an empty path");
  (sock != nullptr ? r.notify_socket : r.notify_file) = *s;
  return {};
}

// Safety: acting on the root group needs an explicit opt-in.
R<void> check_root(const RuleText& in, const Rule& r) {
  bool touches = r.acts_on_processes() || r.action == ActionKind::memory_high;
  if (touches && is_root(r) && !r.allow_root)
    return in.error(
        *in.get("target"),
        "the target is the root cgroup: a " + std::string(policy::to_string(r.action)) +
            " rule there could reach any process on the machine; add allow_root = true if you mean it");
  return {};
}

}  // namespace

// A rule is parsed key group by key group, in this order (so the first error a file has is the
// one reported): each part checks only its own keys and their combinations with the action.
R<Rule> parse_rule(const Checker& ck, const toml::table& t, const toml::node& node, std::size_t index) {
  Rule r;
  r.source = ck.at(node);
  RuleText in{ck, t, node, ""};
  PRESSURE_TRY(parse_name(in, r, index));
  for (auto part : {parse_target, parse_action, parse_memory_high, parse_when, parse_timing, parse_victim,
                    parse_victim_keys, parse_exec, parse_prekill, parse_notify})
    PRESSURE_TRY(part(in, r));
  PRESSURE_TRY(check_root(in, r));
  return r;
}

#undef TRY

}  // namespace pressure::daemon::config_detail
