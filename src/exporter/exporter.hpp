// The metrics of `pressure serve`: reads the system and a configured set of cgroups (a
// CgroupSet: files kept open, directories listed again) on every scrape and renders the Prometheus text
// format. Embeddable: the daemon adds its own families.
//
//   pressure::exporter::ExporterOptions options;            // system + every top-level cgroup
//   options.cgroups = {*parse_cgroup_selector("system.slice/*")};
//   pressure::exporter::Exporter exporter(std::move(options));
//   exporter.add_source([&](std::string& out) { out += "# HELP ...\n# TYPE ...\n..."; });
//   std::string text = exporter.render();                    // thread-safe
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <pressure/cgroup_set.hpp>
#include <pressure/reader.hpp>
#include <pressure/selector.hpp>

#include "exporter/metrics.hpp"

namespace pressure::exporter {

// The exporter's default: every top-level group.
inline constexpr std::string_view k_default_cgroups = "*";

struct ExporterOptions {
  ReaderOptions reader;  // proc root, cgroup2 mount (fixture trees in tests)
  bool system = true;    // /proc/pressure with node_exporter's names
  std::vector<CgroupSelector> cgroups = default_cgroups();  // kept open, listed again on every scrape
  bool averages = true;                                     // pressure_avg_ratio gauges
  bool names = true;                                        // unit, container_id, pod_uid labels
  // Told once when the groups outgrow the fd budget (CgroupSetStatus::notice); the library
  // never logs, its caller does.
  std::function<void(const std::string&)> on_notice;

  // Every top-level group ("*").
  static std::vector<CgroupSelector> default_cgroups();
};

class Exporter {
 public:
  explicit Exporter(ExporterOptions options);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Reads everything and returns the whole exposition. Thread-safe: scrapes run one at a time
  // (so a storm of scrapes costs one reader's worth of memory and file descriptors).
  std::string render();
  void render(std::string& out);

  // Extra metric families appended to every scrape (HELP, TYPE and samples, complete lines),
  // e.g. the daemon's action counters. Called under the exporter's lock: a source must not call
  // render(). Thread-safe.
  void add_source(std::function<void(std::string& out)> source);

  // One scrape's reading, without rendering; counts its errors like render().
  Scrape collect();
  // The errors counted so far (pressure_scrape_errors_total).
  ErrorCounts errors() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace pressure::exporter
