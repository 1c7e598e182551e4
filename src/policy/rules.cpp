#include "policy/rules.hpp"

#include <fnmatch.h>

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

bool glob_match(std::string_view pattern, std::string_view text) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

namespace {

bool any_match(const std::vector<std::string>& globs, const Candidate& c, std::string* which) {
  for (const std::string& g : globs) {
    if (glob_match(g, c.name) || (!c.path.empty() && glob_match(g, c.path))) {
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
