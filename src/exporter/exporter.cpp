#include "exporter/exporter.hpp"

#include <chrono>
#include <mutex>

namespace pressure::exporter {

std::vector<CgroupSelector> ExporterOptions::default_cgroups() {
  return {*parse_cgroup_selector(k_default_cgroups)};
}

struct Exporter::Impl {
  explicit Impl(ExporterOptions o)
      : options(std::move(o)),
        system(Target::system(), options.reader),
        cgroups(options.cgroups, CgroupSetOptions{options.reader}) {}

  void count(const char* scope, Errc code) { ++errors[{scope, std::string(code_name(code))}]; }

  // Resources that failed for a reason other than "this kernel does not provide it".
  void count_resources(const char* scope, const Snapshot& snapshot) {
    for (const Result<Pressure>& p : snapshot.resources)
      if (!p && p.error().code() != Errc::unavailable) count(scope, p.error().code());
  }

  // Every group once, however many selectors match it. A literal selector's group missing is an
  // error worth counting; a wildcard's base missing just matches nothing.
  void read_cgroups(Scrape& scrape) {
    Result<CgroupSet::Reading> reading = cgroups.update();
    if (!reading) {
      if (reading.error().code() != Errc::not_found) count("cgroup", reading.error().code());
      return;
    }
    if (std::string notice = cgroups.status().notice; !notice.empty() && !noticed && options.on_notice) {
      noticed = true;
      options.on_notice(notice);
    }
    const CgroupSetReading& r = **reading;
    for (std::size_t i = 0; i < r.selector_errors.size(); ++i)
      if (r.selector_errors[i] &&
          (options.cgroups[i].literal() || r.selector_errors[i]->code() != Errc::not_found))
        count("cgroup", r.selector_errors[i]->code());
    scrape.cgroups.reserve(r.groups.size());
    for (const CgroupReading& group : r.groups) {
      if (!group.snapshot) {
        count("cgroup", group.snapshot.error().code());
        continue;
      }
      count_resources("cgroup", *group.snapshot);
      scrape.cgroups.push_back({group.path, *group.snapshot});
    }
  }

  Scrape collect() {
    auto start = std::chrono::steady_clock::now();
    Scrape scrape;
    scrape.with_system = options.system;
    if (options.system) {
      scrape.system = system.snapshot();
      if (scrape.system) {
        count_resources("system", *scrape.system);
      } else {
        count("system", scrape.system.error().code());
        system.reset();  // open everything again next time
      }
    }
    if (!options.cgroups.empty()) read_cgroups(scrape);
    scrape.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return scrape;
  }

  ExporterOptions options;
  Reader system;
  CgroupSet cgroups;
  bool noticed = false;
  ErrorCounts errors;
  std::vector<std::function<void(std::string&)>> sources;
  mutable std::mutex mutex;
};

Exporter::Exporter(ExporterOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}
Exporter::~Exporter() = default;

std::string Exporter::render() {
  std::string out;
  render(out);
  return out;
}

void Exporter::render(std::string& out) {
  std::lock_guard lock(m_impl->mutex);
  Scrape scrape = m_impl->collect();
  render_metrics(scrape, m_impl->errors, RenderOptions{m_impl->options.averages, m_impl->options.names}, out);
  for (const auto& source : m_impl->sources) source(out);
}

void Exporter::add_source(std::function<void(std::string& out)> source) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->sources.push_back(std::move(source));
}

Scrape Exporter::collect() {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->collect();
}

ErrorCounts Exporter::errors() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->errors;
}

}  // namespace pressure::exporter
