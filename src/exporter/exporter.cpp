#include "exporter/exporter.hpp"

#include <chrono>
#include <map>
#include <mutex>

namespace pressure::exporter {

std::vector<CgroupGlob> ExporterOptions::default_cgroups() {
  return {*parse_cgroup_glob(k_default_cgroup_glob)};
}

struct Exporter::Impl {
  explicit Impl(ExporterOptions o) : options(std::move(o)), system(Target::system(), options.reader) {}

  void count(const char* scope, Errc code) { ++errors[{scope, std::string(code_name(code))}]; }

  // Resources that failed for a reason other than "this kernel does not provide it".
  void count_resources(const char* scope, const Snapshot& snapshot) {
    for (const Result<Pressure>& p : snapshot.resources)
      if (!p && p.error().code() != Errc::unavailable) count(scope, p.error().code());
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
    std::map<std::string, Snapshot> groups;  // sorted, each group once however many globs match it
    for (const CgroupGlob& glob : options.cgroups) {
      if (glob.literal()) {
        Reader reader(Target::cgroup(glob.base()), options.reader);
        Result<Snapshot> snapshot = reader.snapshot();
        if (!snapshot) {
          count("cgroup", snapshot.error().code());
          continue;
        }
        count_resources("cgroup", *snapshot);
        groups.insert_or_assign(glob.base(), std::move(*snapshot));
        continue;
      }
      Result<std::vector<CgroupSnapshot>> found =
          scan_cgroups(glob.base(), ScanOptions{glob.recursive(), false}, options.reader);
      if (!found) {
        if (found.error().code() != Errc::not_found) count("cgroup", found.error().code());
        continue;  // a glob below a group that does not exist matches nothing
      }
      for (CgroupSnapshot& group : *found) {
        if (!glob.matches(group.path)) continue;
        if (!group.snapshot) {
          count("cgroup", group.snapshot.error().code());
          continue;
        }
        count_resources("cgroup", *group.snapshot);
        groups.insert_or_assign(std::move(group.path), std::move(*group.snapshot));
      }
    }
    scrape.cgroups.reserve(groups.size());
    for (auto& [path, snapshot] : groups) scrape.cgroups.push_back({path, std::move(snapshot)});
    scrape.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return scrape;
  }

  ExporterOptions options;
  Reader system;
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
