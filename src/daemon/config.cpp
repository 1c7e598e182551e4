#include "daemon/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <set>

#include <pressure/io.hpp>

#include <pressure/selector.hpp>
#include "core/cgroup_path.hpp"
#include "daemon/config_check.hpp"
#include "exporter/listen.hpp"
#include "sys/control.hpp"
#include "sys/small_file.hpp"

namespace pressure::daemon {

namespace config_detail {

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

}  // namespace config_detail

namespace {

using namespace config_detail;

using policy::ActionKind;
using policy::Rule;

bool in_scope(const std::string& cgroup, const std::vector<std::string>& scope) {
  // The target or one of its ancestors matches a scope glob.
  std::string path = cgroup;
  while (!path.empty()) {
    for (const std::string& glob : scope) {
      if (Result<CgroupSelector> s = parse_cgroup_selector(glob); s && s->matches(path)) return true;
    }
    std::size_t slash = path.rfind('/');
    if (slash == 0 || slash == std::string::npos) break;
    path.resize(slash);
  }
  return false;
}

// [daemon]'s /metrics keys: listen, metrics_cgroups, metrics_names.
R<void> parse_metrics_keys(const Checker& ck, const toml::table& dt, Config& config) {
  if (const toml::node* n = dt.get("listen")) {
    auto address_text = need_string(ck, *n, "listen", "[daemon]: ");
    if (!address_text) return tl::unexpected(address_text.error());
    if (auto address = exporter::parse_listen_address(*address_text); !address)
      return ck.error(*n, "[daemon]: key 'listen': " + address.error().message());
    config.listen = *address_text;
  }
  if (const toml::node* n = dt.get("metrics_cgroups")) {
    auto globs = need_strings(ck, *n, "metrics_cgroups", "[daemon]: ");
    if (!globs) return tl::unexpected(globs.error());
    for (const std::string& g : *globs) {
      if (auto glob = parse_cgroup_selector(g); !glob)
        return ck.error(*n, "[daemon]: key 'metrics_cgroups': " + glob.error().message());
    }
    config.metrics_cgroups = *globs;
  }
  if (const toml::node* n = dt.get("metrics_names")) {
    std::optional<bool> b = n->value<bool>();
    if (!b) return ck.error(*n, "[daemon]: key 'metrics_names' must be true or false");
    config.metrics_names = *b;
  }
  return {};
}

// The [daemon] table.
R<void> parse_daemon_section(const Checker& ck, const toml::node* d, Config& config) {
  const toml::table* dt = d->as_table();
  if (dt == nullptr) return ck.error(*d, "[daemon] must be a table");
  if (auto ok = only_keys(
          ck, *dt,
          {"log_format", "scope", "idle_poll", "listen", "metrics_cgroups", "metrics_names", "realtime"},
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
  if (auto ok = parse_metrics_keys(ck, *dt, config); !ok) return ok;
  if (const toml::node* n = dt->get("scope")) {
    auto v = need_strings(ck, *n, "scope", "[daemon]: ");
    if (!v) return tl::unexpected(v.error());
    for (const std::string& g : *v)
      if (auto selector = parse_cgroup_selector(g); !selector)
        return ck.error(*n, "[daemon]: key 'scope': " + selector.error().message());
    config.scope = *v;
  }
  return {};
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
    if (auto ok = parse_daemon_section(ck, d, config); !ok) return tl::unexpected(ok.error());
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

namespace {

// A file that could not be read, in the words of a configuration (and with the exit code it means).
Error config_file_error(const Error& e, const std::string& path) {
  int err = e.sys_errno();
  if (e.code() == Errc::not_found) return Error(Errc::not_found, path + ": no such file", path, err);
  if (e.code() == Errc::permission) return Error(Errc::permission, path + ": permission denied", path, err);
  if (err == k_not_a_regular_file)
    return Error(Errc::invalid_argument,
                 path + ": not a regular file (a FIFO, a device or a socket); give the configuration file",
                 path, err);
  return Error(Errc::invalid_argument, path + ": cannot read the file: " + std::strerror(err), path, err);
}

}  // namespace

Result<Config> load_config(const std::string& path, const Io& io) {
  // Through the Io seam, which opens only regular files: a FIFO never blocks the start, and a
  // device such as /dev/zero is refused instead of read until memory runs out.
  Result<std::string> text = sys::read_small_file(path, io);
  if (!text) return tl::unexpected(config_file_error(text.error(), path));
  if (text->size() > (1U << 20))
    return fail(Errc::invalid_argument, path + ": larger than 1 MiB; a configuration is a few KiB", path);
  return parse_config(*text, path);
}

}  // namespace pressure::daemon
