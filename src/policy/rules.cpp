#include "policy/rules.hpp"

#include <pressure/selector.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include <pressure/cgroup_identity.hpp>

namespace pressure::policy {

std::string_view to_string(ActionKind kind) noexcept {
  switch (kind) {
    case ActionKind::kill: return "kill";
    case ActionKind::signal: return "signal";
    case ActionKind::exec: return "exec";
    case ActionKind::memory_high: return "memory-high";
    case ActionKind::notify: return "notify";
    case ActionKind::log: return "log";
  }
  return "?";
}

bool Check::holds(double measured) const { return compare(measured, op, value); }

namespace {

tl::unexpected<Error> bad_check(std::string_view text, const std::string& why) {
  return fail(Errc::invalid_argument, "'" + std::string(text) + "': " + why);
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// "10%", "2G", "512M", "1000", "1000/s" -> value; percent / per-second said by flags.
bool parse_amount(std::string_view v, double& out, bool& percent, bool allow_rate) {
  v = trimmed(v);
  percent = false;
  double mult = 1;
  if (allow_rate && v.ends_with("/s")) v.remove_suffix(2);
  if (v.ends_with("%")) {
    percent = true;
    v.remove_suffix(1);
  } else if (!allow_rate && !v.empty()) {
    static constexpr std::pair<char, double> k_units[] = {
        {'K', 1024.0}, {'M', 1048576.0}, {'G', 1073741824.0}, {'T', 1099511627776.0}};
    for (auto [c, m] : k_units) {
      if (v.back() == c) {
        mult = m;
        v.remove_suffix(1);
        break;
      }
    }
  }
  v = trimmed(v);
  if (v.empty() || v.front() == '-' || v.front() == '+') return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size() || std::isnan(out) || std::isinf(out)) return false;
  out *= mult;
  return !(percent && out > 100.0);
}

}  // namespace

bool looks_like_check(std::string_view text) {
  text = trimmed(text);
  return text.starts_with("memory available") || text.starts_with("swap free") ||
         text.starts_with("memory usage") || text.starts_with("reclaim") ||
         text.find(" ended") != std::string_view::npos;
}

Result<Check> parse_check(std::string_view text) {
  Check c;
  c.text = std::string(trimmed(text));
  std::string_view t = trimmed(text);
  if (std::size_t at = t.find(" ended"); at != std::string_view::npos) {
    c.what = Check::What::ended;
    c.op = Condition::Op::greater;  // measured as 1 (ended) or 0
    c.value = 0.5;
    std::string_view head = t.substr(0, at);
    std::size_t space = head.find(' ');
    auto resource = resource_from_string(head.substr(0, space));
    auto line =
        space == std::string_view::npos ? std::nullopt : line_from_string(trimmed(head.substr(space + 1)));
    if (!resource || !line)
      return bad_check(text, "write '<resource> <some|full> ended [avg10=..,avg60=..]'");
    c.resource = *resource;
    c.line = *line;
    std::string_view rest = trimmed(t.substr(at + 6));
    if (!rest.empty()) {
      auto thresholds = parse_thresholds(rest);
      if (!thresholds) return bad_check(text, thresholds.error().message());
      c.criteria.below = *thresholds;
    }
    return c;
  }
  struct Form {
    std::string_view name;
    Check::What what;
    bool rate;
  };
  static constexpr Form k_forms[] = {{"memory available", Check::What::available, false},
                                     {"swap free", Check::What::swap_free, false},
                                     {"memory usage", Check::What::usage, false},
                                     {"reclaim", Check::What::reclaim, true}};
  for (const Form& f : k_forms) {
    if (!t.starts_with(f.name)) continue;
    c.what = f.what;
    std::string_view rest = trimmed(t.substr(f.name.size()));
    std::optional<Condition::Op> op = take_op(rest);
    if (!op) return bad_check(text, "no comparison (<, <=, > or >=) after '" + std::string(f.name) + "'");
    c.op = *op;
    if (!parse_amount(rest, c.value, c.percent, f.rate))
      return bad_check(
          text, f.rate ? "'" + std::string(trimmed(rest)) + "' is not a rate of pages (e.g. 0, 1000/s)"
                       : "'" + std::string(trimmed(rest)) + "' is not a percentage or a size (e.g. 10%, 2G)");
    if (f.rate && c.percent) return bad_check(text, "reclaim is counted in pages per second, not percent");
    return c;
  }
  return bad_check(text, "not a check (memory available, swap free, memory usage, reclaim, or '... ended')");
}

bool glob_match(std::string_view pattern, std::string_view name, std::string_view path) {
  Result<CgroupSelector> selector = parse_cgroup_selector(pattern);
  if (!selector) return false;  // the configuration refuses it before a rule runs
  return selector->matches_name(name) || (!path.empty() && selector->matches(path));
}

namespace {

constexpr std::array<std::string_view, 8> k_name_keys{"kind",    "unit",         "user",    "session",
                                                      "runtime", "container_id", "pod_uid", "qos_class"};

}  // namespace

Result<NamePattern> parse_name_pattern(std::string_view text) {
  std::size_t colon = text.find(':');
  std::string_view key = colon == std::string_view::npos ? std::string_view{} : text.substr(0, colon);
  bool keyed = !key.empty() && key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos;
  if (text.empty()) return tl::unexpected(Error(Errc::invalid_argument, "an empty pattern matches nothing"));
  if (!keyed) return NamePattern{{}, text};
  std::string keys;
  for (std::string_view k : k_name_keys) keys += (keys.empty() ? "" : ", ") + std::string(k);
  if (std::find(k_name_keys.begin(), k_name_keys.end(), key) == k_name_keys.end())
    return tl::unexpected(Error(Errc::invalid_argument, "'" + std::string(text) + "': '" + std::string(key) +
                                                            "' is not a key (" + keys +
                                                            "); a name holding ':' is written with '[:]'"));
  if (colon + 1 == text.size())
    return tl::unexpected(Error(Errc::invalid_argument, "'" + std::string(text) + "': a glob must follow '" +
                                                            std::string(key) + ":'"));
  return NamePattern{key, text.substr(colon + 1)};
}

bool name_pattern_match(std::string_view pattern, const Candidate& c) {
  Result<NamePattern> p = parse_name_pattern(pattern);
  if (!p) return false;
  if (p->key.empty()) return glob_match(p->glob, c.name, c.path);
  if (c.path.empty()) return false;
  CgroupIdentity id = identify_cgroup(c.path);
  for (auto [key, value] : identity_fields(id))
    if (key == p->key) return glob_match(p->glob, value);
  return false;
}

namespace {

bool any_match(const std::vector<std::string>& globs, const Candidate& c, std::string* which) {
  for (const std::string& g : globs) {
    if (name_pattern_match(g, c)) {
      if (which != nullptr) *which = g;
      return true;
    }
  }
  return false;
}

double score(const Candidate& c, Victim::By by) {
  switch (by) {
    case Victim::By::memory: return static_cast<double>(c.memory);
    case Victim::By::growth: return c.growth;
    case Victim::By::pressure: return c.pressure;
  }
  return 0;
}

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

std::optional<Choice> choose_victim(const std::vector<Candidate>& candidates, const Rule& rule) {
  // Tiers: 0 preferred, 1 neither, 2 avoided. Lower tier wins, then the criterion, then memory.
  std::optional<std::size_t> best;
  int best_tier = 3;
  std::string best_glob;
  std::size_t eligible = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (c.protected_) continue;
    ++eligible;
    std::string glob;
    int tier = any_match(rule.prefer, c, &glob) ? 0 : any_match(rule.avoid, c, nullptr) ? 2 : 1;
    bool better = !best || tier < best_tier;
    if (best && tier == best_tier) {
      double a = score(c, rule.victim.by), b = score(candidates[*best], rule.victim.by);
      better = a > b || (a == b && c.memory > candidates[*best].memory);
    }
    if (better) {
      best = i;
      best_tier = tier;
      best_glob = tier == 0 ? glob : std::string{};
    }
  }
  if (!best) return std::nullopt;
  const Candidate& c = candidates[*best];
  std::string reason;
  switch (rule.victim.by) {
    case Victim::By::memory: reason = "largest memory (" + mib(c.memory) + ")"; break;
    case Victim::By::growth: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "fastest growth (%.1f MiB/s, %s)", c.growth / (1024.0 * 1024.0),
                    mib(c.memory).c_str());
      reason = buf;
      break;
    }
    case Victim::By::pressure: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "most memory pressure (%.1f%% some)", c.pressure * 100.0);
      reason = buf;
      break;
    }
  }
  reason += " of " + std::to_string(eligible) + " candidate" + (eligible == 1 ? "" : "s");
  if (best_tier == 0) reason += ", preferred by '" + best_glob + "'";
  if (best_tier == 2) reason += ", though avoided: no other candidate";
  return Choice{*best, reason};
}

}  // namespace pressure::policy
