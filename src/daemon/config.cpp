#include "daemon/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <set>

#include <fcntl.h>

#include <toml++/toml.h>

#include <pressure/io.hpp>

#include "core/cgroup_path.hpp"
#include "core/printable.hpp"
#include "exporter/cgroup_glob.hpp"
#include "exporter/listen.hpp"

namespace pressure::daemon {
namespace {

using policy::ActionKind;
using policy::Rule;
using policy::Victim;

// An error at a place in the file.
struct Problem {
  std::string where;
  std::string what;
};

class Checker {
 public:
  explicit Checker(std::string path) : m_path(std::move(path)) {}

  std::string at(const toml::node& node) const {
    const auto& src = node.source();
    return m_path + ":" + std::to_string(src.begin.line);
  }

  tl::unexpected<Error> error(const toml::node& node, const std::string& message) const {
    return fail(Errc::invalid_argument, at(node) + ": " + message, m_path);
  }

  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

template <class T>
using R = Result<T>;

R<std::string> need_string(const Checker& ck, const toml::node& node, const std::string& key,
                           const std::string& ctx) {
  if (auto s = node.value<std::string>()) return *s;
  return ck.error(node, ctx + "key '" + key + "' must be a string");
}

R<std::chrono::microseconds> need_duration(const Checker& ck, const toml::node& node, const std::string& key,
                                           const std::string& ctx) {
  auto s = need_string(ck, node, key, ctx);
  if (!s) return tl::unexpected(s.error());
  auto d = parse_duration(*s);
  if (!d) return ck.error(node, ctx + "key '" + key + "': " + d.error().message());
  return *d;
}

R<std::vector<std::string>> need_strings(const Checker& ck, const toml::node& node, const std::string& key,
                                         const std::string& ctx) {
  std::vector<std::string> out;
  if (auto s = node.value<std::string>()) {
    out.push_back(*s);
    return out;
  }
  const toml::array* arr = node.as_array();
  if (arr == nullptr) return ck.error(node, ctx + "key '" + key + "' must be a string or a list of strings");
  for (const toml::node& item : *arr) {
    auto s = item.value<std::string>();
    if (!s) return ck.error(item, ctx + "key '" + key + "' must list only strings");
    out.push_back(*s);
  }
  return out;
}

R<void> only_keys(const Checker& ck, const toml::table& table, std::initializer_list<std::string_view> known,
                  const std::string& ctx) {
  for (const auto& [key, node] : table) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return ck.error(node, ctx + "unknown key '" + std::string(key.str()) + "' (known: " + list + ")");
  }
  return {};
}

bool is_root(const Rule& r) { return r.system || r.cgroup == "/"; }

bool in_scope(const std::string& cgroup, const std::vector<std::string>& scope) {
  // The target or one of its ancestors matches a scope glob.
  std::string path = cgroup;
  while (!path.empty()) {
    for (const std::string& glob : scope) {
      std::string g = glob.empty() || glob.front() != '/' ? "/" + glob : glob;
      if (policy::glob_match(g, path)) return true;
    }
    std::size_t slash = path.rfind('/');
    if (slash == 0 || slash == std::string::npos) break;
    path.resize(slash);
  }
  return false;
}

R<Rule> parse_rule(const Checker& ck, const toml::table& t, const toml::node& node, std::size_t index) {
  Rule r;
  r.source = ck.at(node);
  std::string ctx = "rule " + std::to_string(index + 1) + ": ";
  if (auto ok = only_keys(
          ck, t,
          {"name", "target", "allow_root", "when", "for", "interval", "cooldown", "repeat", "action",
           "victim", "prefer", "avoid", "grace", "signal", "command", "timeout", "memory_high", "notify"},
          ctx);
      !ok)
    return tl::unexpected(ok.error());

  if (const toml::node* n = t.get("name")) {
    auto s = need_string(ck, *n, "name", ctx);
    if (!s) return tl::unexpected(s.error());
    if (s->empty()) return ck.error(*n, ctx + "key 'name' is empty");
    // It starts log lines and labels metrics: a control character would forge or break them.
    if (core::printable(*s) != *s)
      return ck.error(*n, ctx + "key 'name' has a control character or broken UTF-8 (\"" +
                              core::printable(*s) + "\"); names are printable text");
    r.name = *s;
  } else {
    return ck.error(node,
                    ctx + "key 'name' is missing: every rule needs a name for its log lines and metrics");
  }
  ctx = "rule '" + r.name + "': ";

  // target
  const toml::node* target = t.get("target");
  if (target == nullptr)
    return ck.error(node, ctx + "key 'target' is missing (\"system\" or { cgroup = \"...\" })");
  if (auto s = target->value<std::string>()) {
    if (*s != "system")
      return ck.error(*target, ctx + "key 'target': a string target must be \"system\"; write { cgroup = \"" +
                                   *s + "\" }");
    r.system = true;
    r.cgroup = "/";
  } else if (const toml::table* tt = target->as_table()) {
    if (auto ok = only_keys(ck, *tt, {"cgroup"}, ctx + "target: "); !ok) return tl::unexpected(ok.error());
    const toml::node* cg = tt->get("cgroup");
    if (cg == nullptr) return ck.error(*target, ctx + "key 'target' needs cgroup = \"PATH\"");
    auto path = need_string(ck, *cg, "target.cgroup", ctx);
    if (!path) return tl::unexpected(path.error());
    if (path->empty()) return ck.error(*cg, ctx + "key 'target.cgroup' is empty; the root group is \"/\"");
    auto norm = core::normalize_cgroup_path(*path, "");
    if (!norm) return ck.error(*cg, ctx + "key 'target.cgroup': " + norm.error().message());
    r.cgroup = *norm;
  } else {
    return ck.error(*target, ctx + "key 'target' must be \"system\" or { cgroup = \"...\" }");
  }
  if (const toml::node* n = t.get("allow_root")) {
    auto b = n->value<bool>();
    if (!b) return ck.error(*n, ctx + "key 'allow_root' must be true or false");
    r.allow_root = *b;
  }

  // action
  const toml::node* action = t.get("action");
  if (action == nullptr)
    return ck.error(node, ctx + "key 'action' is missing (kill, signal, exec, memory-high, notify or log)");
  {
    auto s = need_string(ck, *action, "action", ctx);
    if (!s) return tl::unexpected(s.error());
    static const std::pair<std::string_view, ActionKind> k_actions[] = {
        {"kill", ActionKind::kill},     {"signal", ActionKind::signal},
        {"exec", ActionKind::exec},     {"memory-high", ActionKind::memory_high},
        {"notify", ActionKind::notify}, {"log", ActionKind::log}};
    bool found = false;
    for (auto [name, kind] : k_actions) {
      if (*s == name) r.action = kind, found = true;
    }
    if (!found)
      return ck.error(*action, ctx + "key 'action': '" + *s +
                                   "' is not one of kill, signal, exec, memory-high, notify, log");
  }

  // memory_high (before when: steering needs no condition)
  if (const toml::node* n = t.get("memory_high")) {
    if (r.action != ActionKind::memory_high)
      return ck.error(*n, ctx + "key 'memory_high' is only for action = \"memory-high\"");
    if (auto s = n->value<std::string>()) {
      if (*s != "max") {
        auto b = parse_size(*s);
        if (!b) return ck.error(*n, ctx + "key 'memory_high': " + b.error().message());
        r.memory_high.bytes = *b;
      }
    } else if (const toml::table* mt = n->as_table()) {
      if (auto ok = only_keys(ck, *mt, {"steer", "target", "min", "max", "interval", "hard_limit"},
                              ctx + "memory_high: ");
          !ok)
        return tl::unexpected(ok.error());
      r.memory_high.mode = policy::MemoryHigh::Mode::steer;
      if (const toml::node* st = mt->get("steer"); st == nullptr || st->value<bool>() != true)
        return ck.error(
            *n, ctx + "key 'memory_high' as a table needs steer = true (or give a size such as \"512M\")");
      if (const toml::node* v = mt->get("target")) {
        auto pct_text = need_string(ck, *v, "memory_high.target", ctx);
        if (!pct_text) return tl::unexpected(pct_text.error());
        std::string_view num = *pct_text;
        if (num.ends_with("%")) num.remove_suffix(1);
        double pct = -1;
        auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), pct);
        if (ec != std::errc{} || p != num.data() + num.size() || pct <= 0 || pct > 100)
          return ck.error(
              *v, ctx + "key 'memory_high.target': '" + *pct_text + "' is not a percentage in (0, 100]");
        r.memory_high.target_share = pct / 100.0;
      }
      for (auto [key, field] :
           {std::pair{"min", &r.memory_high.min_bytes}, std::pair{"max", &r.memory_high.max_bytes}}) {
        if (const toml::node* v = mt->get(key)) {
          auto size_text = need_string(ck, *v, std::string("memory_high.") + key, ctx);
          if (!size_text) return tl::unexpected(size_text.error());
          auto b = parse_size(*size_text);
          if (!b) return ck.error(*v, ctx + "key 'memory_high." + key + "': " + b.error().message());
          *field = *b;
        }
      }
      if (r.memory_high.max_bytes != 0 && r.memory_high.max_bytes < r.memory_high.min_bytes)
        return ck.error(*n, ctx + "key 'memory_high': max is below min");
      if (const toml::node* v = mt->get("hard_limit")) {
        auto b = v->value<bool>();
        if (!b) return ck.error(*v, ctx + "key 'memory_high.hard_limit' must be true or false");
        r.memory_high.hard_limit = *b;
      }
      if (const toml::node* v = mt->get("interval")) {
        auto d = need_duration(ck, *v, "memory_high.interval", ctx);
        if (!d) return tl::unexpected(d.error());
        if (d->count() < 100'000)
          return ck.error(*v, ctx + "key 'memory_high.interval' must be at least 100ms");
        r.memory_high.interval = *d;
      }
    } else {
      return ck.error(*n,
                      ctx + "key 'memory_high' must be a size (\"512M\", \"max\") or { steer = true, ... }");
    }
  } else if (r.action == ActionKind::memory_high) {
    return ck.error(node, ctx + "action 'memory-high' needs memory_high = \"SIZE\" or { steer = true }");
  }
  bool steering =
      r.action == ActionKind::memory_high && r.memory_high.mode == policy::MemoryHigh::Mode::steer;

  // when
  if (const toml::node* n = t.get("when")) {
    auto texts = need_strings(ck, *n, "when", ctx);
    if (!texts) return tl::unexpected(texts.error());
    if (texts->empty()) return ck.error(*n, ctx + "key 'when' is empty");
    if (texts->size() == 1 && texts->front().find('/') != std::string::npos &&
        !policy::looks_like_check(texts->front())) {
      auto spec = parse_trigger_spec(texts->front());
      if (!spec) return ck.error(*n, ctx + "key 'when': " + spec.error().message());
      r.spec = *spec;
    } else {
      for (const std::string& text : *texts) {
        if (policy::looks_like_check(text)) {
          auto c = policy::parse_check(text);
          if (!c) return ck.error(*n, ctx + "key 'when': " + c.error().message());
          r.checks.push_back(*c);
          continue;
        }
        if (text.find('/') != std::string::npos && text.find("/s") == std::string::npos)
          return ck.error(*n, ctx + "key 'when': a trigger spec ('" + text +
                                  "') stands alone, not in a list of conditions");
        auto c = parse_condition(text);
        if (!c) return ck.error(*n, ctx + "key 'when': " + c.error().message());
        r.conditions.push_back(*c);
      }
    }
  } else if (!steering) {
    return ck.error(node, ctx +
                              "key 'when' is missing: a trigger spec (\"memory full 10%/1s\") or conditions "
                              "(\"memory full avg10>10\")");
  }
  if (const toml::node* n = t.get("when"); n != nullptr && steering)
    return ck.error(
        *n, ctx + "key 'when' does not go with memory_high = { steer = true }: steering runs all the time");

  for (auto [key, field] :
       {std::pair{"for", &r.hold}, std::pair{"interval", &r.interval}, std::pair{"cooldown", &r.cooldown},
        std::pair{"grace", &r.grace}, std::pair{"timeout", &r.timeout}}) {
    if (const toml::node* n = t.get(key)) {
      auto d = need_duration(ck, *n, key, ctx);
      if (!d) return tl::unexpected(d.error());
      *field = *d;
    }
  }
  if (const toml::node* n = t.get("interval"); n != nullptr && r.interval.count() < 10'000)
    return ck.error(*n, ctx + "key 'interval' must be at least 10ms");
  if (const toml::node* n = t.get("timeout"); n != nullptr && r.timeout.count() <= 0)
    return ck.error(*n, ctx + "key 'timeout' must be positive");
  if (r.spec) {
    for (const char* key : {"interval", "repeat"}) {
      if (const toml::node* n = t.get(key))
        return ck.error(*n, ctx + "key '" + key + "' is only for conditions; a trigger spec ('" +
                                r.spec->to_string() +
                                "') is sampled at window/10 and acts again after its cooldown");
    }
  }
  if (const toml::node* n = t.get("repeat")) {
    auto b = n->value<bool>();
    if (!b) return ck.error(*n, ctx + "key 'repeat' must be true or false");
    r.repeat = *b;
  }

  // victim, prefer, avoid, grace, signal
  bool on_processes = r.acts_on_processes();
  if (r.action == ActionKind::signal) r.victim.among = Victim::Among::self;
  if (const toml::node* n = t.get("victim")) {
    if (!on_processes) return ck.error(*n, ctx + "key 'victim' is only for kill and signal");
    const toml::table* vt = n->as_table();
    if (vt == nullptr) return ck.error(*n, ctx + "key 'victim' must be a table { among = ..., by = ... }");
    if (auto ok = only_keys(ck, *vt, {"among", "by"}, ctx + "victim: "); !ok)
      return tl::unexpected(ok.error());
    if (const toml::node* a = vt->get("among")) {
      auto s = need_string(ck, *a, "victim.among", ctx);
      if (!s) return tl::unexpected(s.error());
      if (*s == "children")
        r.victim.among = Victim::Among::children;
      else if (*s == "processes")
        r.victim.among = Victim::Among::processes;
      else if (*s == "self" || *s == "target")
        r.victim.among = Victim::Among::self;
      else
        return ck.error(*a, ctx + "key 'victim.among': '" + *s + "' is not children, processes or self");
    }
    if (const toml::node* b = vt->get("by")) {
      auto s = need_string(ck, *b, "victim.by", ctx);
      if (!s) return tl::unexpected(s.error());
      if (*s == "memory")
        r.victim.by = Victim::By::memory;
      else if (*s == "growth")
        r.victim.by = Victim::By::growth;
      else if (*s == "pressure")
        r.victim.by = Victim::By::pressure;
      else
        return ck.error(*b, ctx + "key 'victim.by': '" + *s + "' is not memory, growth or pressure");
      if (r.victim.by == Victim::By::pressure && r.victim.among == Victim::Among::processes)
        return ck.error(*b, ctx +
                                "key 'victim.by': processes have no pressure of their own; use memory or "
                                "growth, or among = \"children\"");
    }
  }
  for (auto [key, field] : {std::pair{"prefer", &r.prefer}, std::pair{"avoid", &r.avoid}}) {
    if (const toml::node* n = t.get(key)) {
      if (!on_processes)
        return ck.error(*n, ctx + "key '" + std::string(key) + "' is only for kill and signal");
      auto v = need_strings(ck, *n, key, ctx);
      if (!v) return tl::unexpected(v.error());
      *field = *v;
    }
  }
  if (const toml::node* n = t.get("grace"); n != nullptr && r.action != ActionKind::kill)
    return ck.error(*n, ctx + "key 'grace' is only for kill");
  if (const toml::node* n = t.get("signal")) {
    if (r.action != ActionKind::signal)
      return ck.error(*n, ctx + "key 'signal' is only for action = \"signal\"");
    std::string text;
    if (auto i = n->value<std::int64_t>())
      text = std::to_string(*i);
    else if (auto s = n->value<std::string>())
      text = *s;
    auto sig = parse_signal(text);
    if (!sig) return ck.error(*n, ctx + "key 'signal': " + sig.error().message());
    r.signal = *sig;
  } else if (r.action == ActionKind::signal) {
    return ck.error(node, ctx + "action 'signal' needs signal = \"SIGUSR1\" (or another)");
  }

  // exec
  if (const toml::node* n = t.get("command")) {
    if (r.action != ActionKind::exec)
      return ck.error(*n, ctx + "key 'command' is only for action = \"exec\"");
    const toml::array* arr = n->as_array();
    if (arr == nullptr)
      return ck.error(*n,
                      ctx + "key 'command' must be a list: [\"program\", \"arg\", ...] (no shell is used)");
    auto v = need_strings(ck, *n, "command", ctx);
    if (!v) return tl::unexpected(v.error());
    if (v->empty() || v->front().empty()) return ck.error(*n, ctx + "key 'command' names no program");
    r.command = *v;
  } else if (r.action == ActionKind::exec) {
    return ck.error(node, ctx + "action 'exec' needs command = [\"program\", \"arg\", ...]");
  }
  if (const toml::node* n = t.get("timeout"); n != nullptr && r.action != ActionKind::exec)
    return ck.error(*n, ctx + "key 'timeout' is only for exec");

  // notify
  if (const toml::node* n = t.get("notify")) {
    if (r.action != ActionKind::notify)
      return ck.error(*n, ctx + "key 'notify' is only for action = \"notify\"");
    const toml::table* nt = n->as_table();
    if (nt == nullptr)
      return ck.error(*n, ctx + "key 'notify' must be { socket = \"PATH\" } or { file = \"PATH\" }");
    if (auto ok = only_keys(ck, *nt, {"socket", "file"}, ctx + "notify: "); !ok)
      return tl::unexpected(ok.error());
    const toml::node* sock = nt->get("socket");
    const toml::node* file = nt->get("file");
    if ((sock == nullptr) == (file == nullptr))
      return ck.error(*n, ctx + "key 'notify' needs exactly one of socket or file");
    auto s = need_string(ck, sock != nullptr ? *sock : *file,
                         sock != nullptr ? "notify.socket" : "notify.file", ctx);
    if (!s) return tl::unexpected(s.error());
    if (s->empty()) return ck.error(*n, ctx + "key 'notify' has an empty path");
    (sock != nullptr ? r.notify_socket : r.notify_file) = *s;
  } else if (r.action == ActionKind::notify) {
    return ck.error(node,
                    ctx + "action 'notify' needs notify = { socket = \"PATH\" } or { file = \"PATH\" }");
  }

  // Safety: acting on the root group needs an explicit opt-in.
  bool touches = on_processes || r.action == ActionKind::memory_high;
  if (touches && is_root(r) && !r.allow_root)
    return ck.error(
        *target,
        ctx + "the target is the root cgroup: a " + std::string(policy::to_string(r.action)) +
            " rule there could reach any process on the machine; add allow_root = true if you mean it");
  return r;
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::uint64_t mult = 1;
  struct Unit {
    std::string_view suffix;
    std::uint64_t mult;
  };
  static constexpr Unit k_units[] = {
      {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40}, {"K", 1ULL << 10},
      {"M", 1ULL << 20},   {"G", 1ULL << 30},   {"T", 1ULL << 40},   {"k", 1ULL << 10},   {"B", 1}};
  for (const Unit& u : k_units) {
    if (s.ends_with(u.suffix)) {
      s.remove_suffix(u.suffix.size());
      mult = u.mult;
      break;
    }
  }
  double value = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || value < 0 || s.front() == '-' ||
      s.front() == '+')
    return fail(Errc::invalid_argument, "'" + std::string(text) + "' is not a size (e.g. 512M, 2G, 1048576)");
  double bytes = value * static_cast<double>(mult);
  if (bytes > 9.2e18) return fail(Errc::invalid_argument, "'" + std::string(text) + "' is too large");
  return static_cast<std::uint64_t>(bytes);
}

Result<int> parse_signal(std::string_view text) {
  static const std::pair<std::string_view, int> k_signals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
      {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"PWR", SIGPWR},   {"WINCH", SIGWINCH}};
  std::string_view s = text;
  if (s.starts_with("SIG")) s.remove_prefix(3);
  for (auto [name, number] : k_signals) {
    if (s == name) return number;
  }
  int number = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (!text.empty() && ec == std::errc{} && p == text.data() + text.size() && number > 0 && number < 65)
    return number;
  return fail(Errc::invalid_argument,
              "'" + std::string(text) + "' is not a signal (e.g. SIGTERM, SIGUSR1, 10)");
}

Result<Config> parse_config(std::string_view text, const std::string& path) {
  Checker ck(path);
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return fail(Errc::invalid_argument,
                path + ":" + std::to_string(e.source().begin.line) +
                    ": not valid TOML: " + std::string(e.description()),
                path);
  }
  Config config;
  config.path = path;
  for (const auto& [key, node] : doc) {
    if (key.str() != "daemon" && key.str() != "rule")
      return ck.error(node, "unknown section '" + std::string(key.str()) + "' (known: [daemon], [[rule]])");
  }
  if (const toml::node* d = doc.get("daemon")) {
    const toml::table* dt = d->as_table();
    if (dt == nullptr) return ck.error(*d, "[daemon] must be a table");
    if (auto ok =
            only_keys(ck, *dt, {"log_format", "scope", "idle_poll", "listen", "metrics_cgroups", "realtime"},
                      "[daemon]: ");
        !ok)
      return tl::unexpected(ok.error());
    if (const toml::node* n = dt->get("log_format")) {
      auto s = need_string(ck, *n, "log_format", "[daemon]: ");
      if (!s) return tl::unexpected(s.error());
      if (*s == "text")
        config.log_format = LogFormat::text;
      else if (*s == "json")
        config.log_format = LogFormat::json;
      else
        return ck.error(*n, "[daemon]: key 'log_format': '" + *s + "' is not text or json");
    }
    if (const toml::node* n = dt->get("idle_poll")) {
      auto poll = need_duration(ck, *n, "idle_poll", "[daemon]: ");
      if (!poll) return tl::unexpected(poll.error());
      if (*poll < std::chrono::milliseconds(10) || *poll > std::chrono::seconds(10))
        return ck.error(*n, "[daemon]: key 'idle_poll' must be between 10ms and 10s");
      config.idle_poll = std::chrono::duration_cast<std::chrono::milliseconds>(*poll);
    }
    if (const toml::node* n = dt->get("realtime")) {
      std::optional<bool> b = n->value<bool>();
      if (!b) return ck.error(*n, "[daemon]: key 'realtime' must be true or false");
      config.realtime = *b;
    }
    if (const toml::node* n = dt->get("listen")) {
      auto address_text = need_string(ck, *n, "listen", "[daemon]: ");
      if (!address_text) return tl::unexpected(address_text.error());
      if (auto address = exporter::parse_listen_address(*address_text); !address)
        return ck.error(*n, "[daemon]: key 'listen': " + address.error().message());
      config.listen = *address_text;
    }
    if (const toml::node* n = dt->get("metrics_cgroups")) {
      auto globs = need_strings(ck, *n, "metrics_cgroups", "[daemon]: ");
      if (!globs) return tl::unexpected(globs.error());
      for (const std::string& g : *globs) {
        if (auto glob = exporter::parse_cgroup_glob(g); !glob)
          return ck.error(*n, "[daemon]: key 'metrics_cgroups': " + glob.error().message());
      }
      config.metrics_cgroups = *globs;
    }
    if (const toml::node* n = dt->get("scope")) {
      auto v = need_strings(ck, *n, "scope", "[daemon]: ");
      if (!v) return tl::unexpected(v.error());
      config.scope = *v;
    }
  }
  const toml::node* rules = doc.get("rule");
  if (rules == nullptr)
    return fail(Errc::invalid_argument, path + ":1: no [[rule]] in the file: nothing to do", path);
  const toml::array* arr = rules->as_array();
  if (arr == nullptr) return ck.error(*rules, "'rule' must be an array of tables: write [[rule]]");
  std::set<std::string> names;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& node = *arr->get(i);
    const toml::table* t = node.as_table();
    if (t == nullptr) return ck.error(node, "each rule must be a table: write [[rule]]");
    auto rule = parse_rule(ck, *t, node, i);
    if (!rule) return tl::unexpected(rule.error());
    if (!names.insert(rule->name).second)
      return ck.error(node, "rule '" + rule->name + "': the name is already used by another rule");
    bool touches = rule->acts_on_processes() || rule->action == ActionKind::memory_high;
    if (touches && config.scope && !in_scope(rule->cgroup, *config.scope)) {
      std::string list;
      for (const std::string& g : *config.scope) list += (list.empty() ? "" : ", ") + g;
      if (list.empty()) list = "empty: scope = [] lets no rule act anywhere";
      return ck.error(node, "rule '" + rule->name + "': target " + rule->where() +
                                " is outside the daemon's scope (" + list + "); it may not " +
                                std::string(policy::to_string(rule->action)) + " there");
    }
    config.rules.push_back(std::move(*rule));
  }
  return config;
}

Result<Config> load_config(const std::string& path) {
  // Through the Io seam, which opens only regular files: a FIFO never blocks the start, and a
  // device such as /dev/zero is refused instead of read until memory runs out.
  constexpr std::size_t k_limit = 1 << 20;
  const Io& io = *real_io();
  int fd = io.open_at(AT_FDCWD, path.c_str(), O_RDONLY);
  if (fd < 0) {
    int err = -fd;
    if (err == ENOENT) return fail(Errc::not_found, path + ": no such file", path, err);
    if (err == EACCES || err == EPERM) return fail(Errc::permission, path + ": permission denied", path, err);
    if (err == k_not_a_regular_file)
      return fail(Errc::invalid_argument,
                  path +
                      ": not a regular file (a FIFO, a device or a socket); give the "
                      "configuration file",
                  path, err);
    return fail(Errc::invalid_argument, path + ": cannot read the file: " + std::strerror(err), path, err);
  }
  std::string text;
  char chunk[16384];
  for (;;) {
    long n = io.pread(fd, chunk, sizeof chunk, static_cast<long>(text.size()));
    if (n < 0) {
      io.close(fd);
      return fail(Errc::invalid_argument,
                  path + ": cannot read the file: " + std::strerror(static_cast<int>(-n)), path,
                  static_cast<int>(-n));
    }
    if (n == 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
    if (text.size() > k_limit) {
      io.close(fd);
      return fail(Errc::invalid_argument, path + ": larger than 1 MiB; a configuration is a few KiB", path);
    }
  }
  io.close(fd);
  return parse_config(text, path);
}

}  // namespace pressure::daemon
