#include "recorder/recorder.hpp"

#include <set>

#include <algorithm>
#include <thread>

namespace pressure::recorder {
TargetSampler::TargetSampler(SamplerOptions options) : m_options(std::move(options)) {
  if (m_options.system) m_system.emplace(Target::system(), m_options.reader);
  for (const std::string& glob : m_options.globs) {
    Result<CgroupSelector> selector = parse_cgroup_selector(glob);
    if (!selector) {
      m_bad_selector = selector.error();
      return;
    }
    m_selectors.push_back(std::move(*selector));
  }
  if (!m_selectors.empty()) m_cgroups.emplace(m_selectors, CgroupSetOptions{m_options.reader});
}

// Groups that vanish or cannot be read are left out of the tick, as is a literal selector's group
// that is not there (yet); any other selector's trouble (permission) stops the recording.
Result<void> TargetSampler::sample_cgroups(std::vector<TargetSample>& out) {
  if (m_bad_selector) return tl::unexpected(*m_bad_selector);
  if (!m_cgroups) return {};
  Result<CgroupSet::Reading> reading = m_cgroups->update();
  if (!reading) {
    if (m_options.cgroups_optional && reading.error().code() == Errc::unsupported) return {};
    return tl::unexpected(reading.error());
  }
  if (std::string notice = m_cgroups->status().notice; !notice.empty() && !m_noticed && m_options.on_notice) {
    m_noticed = true;
    m_options.on_notice(notice);
  }
  for (const std::optional<Error>& error : (*reading)->selector_errors)
    if (error && error->code() != Errc::not_found && error->code() != Errc::gone)
      return tl::unexpected(*error);
  for (const CgroupReading& group : (*reading)->groups)
    if (group.snapshot) out.push_back(TargetSample{group.path, *group.snapshot});
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
  if (Result<void> r = sample_cgroups(tick.targets); !r) return tl::unexpected(r.error());
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
