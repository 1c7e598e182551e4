// The candidates a kill or signal chooses among, measured: child groups or processes below the
// target (or the target itself), with their memory, its growth and their memory stall since an
// earlier look, and whether they are protected. rules.cpp's choose_victim picks one.
#include <optional>
#include <set>

#include "core/cgroup_path.hpp"
#include "policy/engine_parts.hpp"
#include "sys/control.hpp"

namespace pressure::policy::engine {
namespace {

std::string basename_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Remembers what was seen of `key` now, unless the baseline is under a second old: a fresher
// one (the look timer may just have run) would make growth and pressure about zero. Returns the
// seconds since the baseline kept before, or nothing for a new key.
std::optional<double> look(RuleState& s, const std::string& key, const Seen& now_seen, Seen& before) {
  std::optional<double> dt;
  bool keep_baseline = false;
  if (auto it = s.seen.find(key); it != s.seen.end()) {
    before = it->second;
    dt = std::chrono::duration<double>(now_seen.t - before.t).count();
    keep_baseline = *dt < 1.0;
  }
  if (!keep_baseline) s.seen[key] = now_seen;
  return dt;
}

class Looker {
 public:
  Looker(const Context& ctx, RuleState& s) : m_ctx(ctx), m_s(s), m_now(ctx.clock.now()) {}

  // A group, measured now, or from what the rule's kept-open set of children read (`kept`).
  Candidate group(const std::string& path, const CgroupReading* kept = nullptr) {
    Candidate c;
    c.path = path;
    c.name = basename_of(path);
    // memory.current where cgroup2 has the memory controller; else (hybrid) the v1 group's.
    if (kept != nullptr && kept->memory && *kept->memory)
      c.memory = (*kept->memory)->current;
    else if (auto m = sys::cgroup_memory(m_ctx.cgroup_root, path, m_ctx.proc_root(), m_ctx.io()))
      c.memory = m->bytes;
    // Our group and pid 1's, read only when groups are the candidates (processes are protected
    // by pid): reading /proc/PID/cgroup is slow on a thrashing machine (see RealActuator::hold).
    if (!m_self) m_self = sys::process_cgroup(sys::self_pid(), m_ctx.proc_root());
    if (!m_init) m_init = sys::process_cgroup(1, m_ctx.proc_root());
    // Where we or pid 1 cannot be told, protect everything (fail closed).
    c.protected_ =
        !*m_self || !*m_init || core::cgroup_within(**m_self, path) || core::cgroup_within(**m_init, path);
    Seen now_seen{c.memory, 0, m_now};
    Result<Pressure> p =
        kept != nullptr
            ? (kept->snapshot ? (*kept->snapshot)[Resource::memory] : tl::unexpected(kept->snapshot.error()))
            : pressure::read(Resource::memory, Target::cgroup(path), m_ctx.options.reader);
    if (p && p->some) now_seen.some_total_us = p->some->total_us;
    Seen before;
    if (std::optional<double> dt = look(m_s, path, now_seen, before); dt && *dt > 0) {
      c.growth = (static_cast<double>(c.memory) - static_cast<double>(before.memory)) / *dt;
      if (now_seen.some_total_us >= before.some_total_us)
        c.pressure = static_cast<double>(now_seen.some_total_us - before.some_total_us) / (*dt * 1e6);
    }
    m_alive.insert(path);
    return c;
  }

  Candidate process(int pid) {
    const std::string& proc = m_ctx.proc_root();
    Candidate c;
    c.pid = pid;
    // One /proc read per process here (a machine-wide list is the whole process table, read
    // while the machine thrashes); the rest for the one chosen (finish_candidate).
    if (!m_s.rule.prefer.empty() || !m_s.rule.avoid.empty()) c.name = sys::process_name(pid, proc);
    // Its anonymous memory, not its RSS: the mapped file pages a thrashing service keeps
    // refaulting can outweigh a hog still growing, yet killing it frees nothing lasting.
    c.memory = sys::process_anonymous_rss(pid, proc).value_or(0);
    c.protected_ = pid <= 1 || pid == sys::self_pid();
    c.partial = !c.protected_;
    std::string key = "pid:" + std::to_string(pid);
    Seen before;
    if (std::optional<double> dt = look(m_s, key, Seen{c.memory, 0, m_now}, before); dt && *dt > 0)
      c.growth = (static_cast<double>(c.memory) - static_cast<double>(before.memory)) / *dt;
    m_alive.insert(key);
    return c;
  }

  // Forgets what is gone.
  void forget_the_rest() {
    for (auto it = m_s.seen.begin(); it != m_s.seen.end();)
      it = m_alive.count(it->first) != 0 ? std::next(it) : m_s.seen.erase(it);
  }

 private:
  const Context& m_ctx;
  RuleState& m_s;
  TimePoint m_now;
  std::optional<Result<std::string>> m_self, m_init;
  std::set<std::string> m_alive;
};

}  // namespace

std::vector<Candidate> candidates(const Context& ctx, RuleState& s) {
  std::vector<Candidate> out;
  Looker looker(ctx, s);
  switch (s.rule.victim.among) {
    case Victim::Among::self: out.push_back(looker.group(s.target())); break;
    case Victim::Among::children: {
      // Kept open between looks: listing the target's directory again costs one getdents64.
      if (!s.children) {
        ReaderOptions reader = ctx.options.reader;
        reader.cgroup_root = ctx.cgroup_root;
        s.children.emplace(std::vector<CgroupSelector>{CgroupSelector::below(s.target(), false)},
                           CgroupSetOptions{std::move(reader), true, 0});
      }
      if (auto reading = s.children->update())
        for (const CgroupReading& g : (*reading)->groups) out.push_back(looker.group(g.path, &g));
      break;
    }
    case Victim::Among::processes:
      if (auto pids = sys::cgroup_processes(s.dir, true))
        for (int pid : *pids) out.push_back(looker.process(pid));
      break;
  }
  looker.forget_the_rest();
  return out;
}

bool finish_candidate(const Context& ctx, Candidate& c) {
  if (!c.partial) return false;
  c.partial = false;
  if (c.name.empty()) c.name = sys::process_name(c.pid, ctx.proc_root());
  // What the kernel's OOM killer may never take (oom_score_adj -1000), we do not either.
  c.protected_ = sys::process_oom_score_adj(c.pid, ctx.proc_root()) == -1000;
  return c.protected_;
}

}  // namespace pressure::policy::engine
