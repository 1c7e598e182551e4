// The Prometheus text format (0.0.4) for pressure: pure functions of snapshots, no I/O.
//
//   Scrape scrape{system_snapshot, cgroup_snapshots, 0.0012};
//   std::string text;
//   render_metrics(scrape, errors_so_far, {}, text);
//
// Names (README "pressure serve"): node_exporter's for the system, cAdvisor's with a `cgroup`
// label for cgroups (and unit, container_id, pod_uid where the path names them), kernel averages as the gauge
// `pressure_avg_ratio`, and self metrics.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pressure/reader.hpp>
#include <pressure/types.hpp>

namespace pressure::exporter {

inline constexpr std::string_view k_content_type = "text/plain; version=0.0.4; charset=utf-8";

// What one scrape read.
struct Scrape {
  bool with_system = true;  // false: no system samples at all (ExporterOptions::system off)
  Result<Snapshot> system = tl::unexpected(Error(Errc::unavailable, "not read"));
  std::vector<CgroupSnapshot> cgroups;  // the groups to export, sorted by path, each read
  double duration_seconds = 0;          // how long reading took
};

// Cumulative errors of every scrape so far: (scope "system"|"cgroup", reason) -> count, where reason
// is the Errc in snake_case: unsupported, unavailable, not_found, gone, permission, malformed, system.
using ErrorCounts = std::map<std::pair<std::string, std::string>, std::uint64_t>;

struct RenderOptions {
  bool averages = true;  // pressure_avg_ratio gauges (3 windows x each line x each target)
  bool names = true;     // unit, container_id and pod_uid labels on cgroup samples, where known
};

// Appends `value` escaped for a label value in the text format: \ -> \\, " -> \", newline -> \n.
void append_label_value(std::string& out, std::string_view value);
// total_us / 1e6 as an exact decimal: 12914566 -> "12.914566".
std::string seconds_text(std::uint64_t total_us);
// A kernel percentage / 100 as an exact decimal: 16.78 -> "0.1678".
std::string ratio_text(Percent percent);

// Appends every family with at least one sample, each as "# HELP", "# TYPE" and its samples.
// A resource that could not be read is left out of the samples (and the system's shows as
// pressure_resource_available 0); the other resources and targets are unaffected.
void render_metrics(const Scrape& scrape, const ErrorCounts& errors, const RenderOptions& options,
                    std::string& out);

}  // namespace pressure::exporter
