#include "recorder/recorder.hpp"

#include <set>

#include <algorithm>
#include <thread>

#include <fnmatch.h>

namespace pressure::recorder {
namespace {

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

TargetSampler::TargetSampler(SamplerOptions options) : m_options(std::move(options)) {
  if (m_options.system) m_system.emplace(Target::system(), m_options.reader);
}

Result<void> TargetSampler::sample_glob(const std::string& glob, std::vector<TargetSample>& out,
                                        std::vector<std::string>& seen) {
  Result<void> r = sample_glob_once(glob, out, seen);
  if (!r && m_options.cgroups_optional && r.error().code() == Errc::unsupported) return {};
  return r;
}

Result<void> TargetSampler::sample_glob_once(const std::string& glob, std::vector<TargetSample>& out,
                                             std::vector<std::string>& seen) {
  auto add = [&](const std::string& path, Snapshot snapshot) {
    if (std::find(seen.begin(), seen.end(), path) != seen.end()) return;
    seen.push_back(path);
    out.push_back(TargetSample{path, std::move(snapshot)});
  };
  if (!has_wildcard(glob)) {
    auto it = m_literal.find(glob);
    if (it == m_literal.end())
      it = m_literal.emplace(glob, Reader(Target::cgroup(glob), m_options.reader)).first;
    Result<Snapshot> s = it->second.snapshot();
    if (!s) {
      it->second.reset();  // gone or not there yet: look again next tick
      if (s.error().code() == Errc::not_found || s.error().code() == Errc::gone) return {};
      return tl::unexpected(s.error());
    }
    add(glob, std::move(*s));
    return {};
  }
  // Scan from the deepest directory without wildcards; recursively only when the pattern has
  // more than one level below it.
  std::size_t wild = glob.find_first_of("*?[");
  std::size_t base_end = glob.rfind('/', wild);
  std::string base = base_end == 0 ? "/" : glob.substr(0, base_end);
  bool deep = glob.find('/', wild) != std::string::npos;
  Result<std::vector<CgroupSnapshot>> groups = scan_cgroups(base, {.recursive = deep}, m_options.reader);
  if (!groups) {
    if (groups.error().code() == Errc::not_found || groups.error().code() == Errc::gone) return {};
    return tl::unexpected(groups.error());
  }
  for (CgroupSnapshot& g : *groups)
    if (g.snapshot && ::fnmatch(glob.c_str(), g.path.c_str(), FNM_PATHNAME) == 0)
      add(g.path, std::move(*g.snapshot));
  return {};
}

Result<Tick> TargetSampler::sample() {
  Tick tick;
  tick.time = Clock::now();
  if (m_system) {
    Result<Snapshot> s = m_system->snapshot();
    if (!s) return tl::unexpected(s.error());
    tick.targets.push_back(TargetSample{"system", std::move(*s)});
  }
  std::vector<std::string> seen;
  for (const std::string& glob : m_options.globs)
    if (auto r = sample_glob(glob, tick.targets, seen); !r) return tl::unexpected(r.error());
  return tick;
}

namespace {

void report_unreadable(const Tick& tick,
                       const std::function<void(const std::string&, const Error&)>& on_unreadable,
                       std::set<std::string>& reported) {
  for (const TargetSample& t : tick.targets)
    for (const Result<Pressure>& r : t.snapshot.resources)
      if (!r && r.error().code() != Errc::unavailable &&
          reported.insert(t.name + '\n' + r.error().message()).second)
        on_unreadable(t.name, r.error());
}

}  // namespace

Result<RecordStats> record(Store& store, TargetSampler& sampler, const RecordOptions& options,
                           const std::atomic<bool>& stop) {
  using namespace std::chrono;
  RecordStats stats;
  auto maintain = [&]() -> Result<void> {
    Result<MaintenanceReport> m = store.maintain(Clock::now(), options.retention);
    if (!m) return tl::unexpected(m.error());
    stats.rows_thinned += m->samples_deleted + m->ticks_deleted;
    return {};
  };
  if (auto r = maintain(); !r) return tl::unexpected(r.error());
  std::set<std::string> reported;
  auto next = steady_clock::now();
  auto next_maintenance = next + options.maintain_every;
  while (!stop.load() && (!options.count || stats.ticks < *options.count)) {
    Result<Tick> tick = sampler.sample();
    if (!tick) return tl::unexpected(tick.error());
    if (options.on_unreadable) report_unreadable(*tick, options.on_unreadable, reported);
    tick->interval = options.interval;
    if (auto r = store.append(*tick); !r) return tl::unexpected(r.error());
    ++stats.ticks;
    if (options.count && stats.ticks >= *options.count) break;
    if (steady_clock::now() >= next_maintenance) {
      if (auto r = maintain(); !r) return tl::unexpected(r.error());
      next_maintenance = steady_clock::now() + options.maintain_every;
    }
    next += duration_cast<steady_clock::duration>(options.interval);
    auto now = steady_clock::now();
    if (next < now) next = now;  // fell behind (suspend, slow disk): no burst to catch up
    // Sleep in short steps so a stop request is seen within 100 ms.
    while (!stop.load() && steady_clock::now() < next)
      std::this_thread::sleep_for(
          std::min<steady_clock::duration>(next - steady_clock::now(), milliseconds(100)));
  }
  return stats;
}

}  // namespace pressure::recorder
