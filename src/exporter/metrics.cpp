#include "exporter/metrics.hpp"

#include <array>
#include <charconv>

#include <pressure/cgroup_identity.hpp>

namespace pressure::exporter {

namespace {

struct CounterFamily {
  Resource resource;
  Line line;
  std::string_view node_name;       // empty: node_exporter has none (system cpu full is undefined)
  std::string_view container_name;  // cAdvisor's name (irq is ours: cAdvisor has none)
  std::string_view help;
};

constexpr std::array<CounterFamily, 7> k_counters{{
    {Resource::cpu, Line::some, "node_pressure_cpu_waiting_seconds_total",
     "container_pressure_cpu_waiting_seconds_total",
     "Total time in seconds that processes have waited for CPU time (PSI cpu some)"},
    {Resource::cpu, Line::full, "", "container_pressure_cpu_stalled_seconds_total",
     "Total time in seconds no process could make progress waiting for CPU time (PSI cpu full)"},
    {Resource::memory, Line::some, "node_pressure_memory_waiting_seconds_total",
     "container_pressure_memory_waiting_seconds_total",
     "Total time in seconds that processes have waited for memory (PSI memory some)"},
    {Resource::memory, Line::full, "node_pressure_memory_stalled_seconds_total",
     "container_pressure_memory_stalled_seconds_total",
     "Total time in seconds no process could make progress due to memory congestion (PSI memory full)"},
    {Resource::io, Line::some, "node_pressure_io_waiting_seconds_total",
     "container_pressure_io_waiting_seconds_total",
     "Total time in seconds that processes have waited due to IO congestion (PSI io some)"},
    {Resource::io, Line::full, "node_pressure_io_stalled_seconds_total",
     "container_pressure_io_stalled_seconds_total",
     "Total time in seconds no process could make progress due to IO congestion (PSI io full)"},
    {Resource::irq, Line::full, "node_pressure_irq_stalled_seconds_total",
     "container_pressure_irq_stalled_seconds_total",
     "Total time in seconds no process could make progress due to IRQ congestion (PSI irq full)"},
}};

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_uint(std::string& out, std::uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

// Exact `whole.fraction` with `digits` fractional digits (value / 10^digits).
void append_fixed(std::string& out, std::uint64_t value, std::uint64_t scale, int digits) {
  append_uint(out, value / scale);
  out += '.';
  char buffer[24];
  std::uint64_t fraction = value % scale;
  for (int i = digits - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  out.append(buffer, static_cast<std::size_t>(digits));
}

void append_double(std::string& out, double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

const Stall* stall_of(const Result<Snapshot>& snapshot, Resource resource, Line line) {
  if (!snapshot || !(*snapshot)[resource]) return nullptr;
  const std::optional<Stall>& stall = (*(*snapshot)[resource])[line];
  return stall ? &*stall : nullptr;
}

const Stall* stall_of(const Snapshot& snapshot, Resource resource, Line line) {
  if (!snapshot[resource]) return nullptr;
  const std::optional<Stall>& stall = (*snapshot[resource])[line];
  return stall ? &*stall : nullptr;
}

constexpr std::string_view k_avg_help =
    "The kernel's average share of time stalled over the window (PSI avgN / 100); system samples have no "
    "cgroup label";

void render_averages(const Scrape& scrape, const std::vector<std::string>& labels, std::string& out) {
  header(out, "pressure_avg_ratio", "gauge", k_avg_help);
  auto emit = [&](std::string_view cgroup_label, Resource resource, Line line, const Stall& stall) {
    constexpr std::array<std::string_view, 3> windows{"10s", "60s", "300s"};
    const std::array<Percent, 3> values{stall.avg10, stall.avg60, stall.avg300};
    for (std::size_t w = 0; w < windows.size(); ++w) {
      out += "pressure_avg_ratio{";
      if (!cgroup_label.empty()) {
        out += cgroup_label;
        out += ',';
      }
      out += "resource=\"";
      out += to_string(resource);
      out += "\",line=\"";
      out += to_string(line);
      out += "\",window=\"";
      out += windows[w];
      out += "\"} ";
      append_fixed(out, values[w].hundredths(), 10000, 4);
      out += '\n';
    }
  };
  for (Resource resource : k_resources)
    for (Line line : k_lines) {
      if (resource == Resource::cpu && line == Line::full) continue;  // undefined for the system
      if (const Stall* stall = stall_of(scrape.system, resource, line)) emit("", resource, line, *stall);
    }
  for (std::size_t i = 0; i < scrape.cgroups.size(); ++i) {
    if (!scrape.cgroups[i].snapshot) continue;
    for (Resource resource : k_resources)
      for (Line line : k_lines)
        if (const Stall* stall = stall_of(*scrape.cgroups[i].snapshot, resource, line))
          emit(labels[i], resource, line, *stall);
  }
}

// The names people know a group by (README "pressure serve"), each only where the path says it.
void append_name_labels(std::string& out, const CgroupIdentity& id) {
  for (auto [name, value] : {std::pair<std::string_view, const std::string&>{"unit", id.unit},
                             {"container_id", id.container_id},
                             {"pod_uid", id.pod_uid}}) {
    if (value.empty()) continue;
    out += ',';
    out += name;
    out += "=\"";
    append_label_value(out, value);
    out += '"';
  }
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

std::string seconds_text(std::uint64_t total_us) {
  std::string out;
  append_fixed(out, total_us, 1000000, 6);
  return out;
}

std::string ratio_text(Percent percent) {
  std::string out;
  append_fixed(out, percent.hundredths(), 10000, 4);
  return out;
}

namespace {

// System counters: node_exporter's names, no labels.
void render_system_counters(const Scrape& scrape, std::string& out) {
  for (const CounterFamily& family : k_counters) {
    if (family.node_name.empty()) continue;
    const Stall* stall = stall_of(scrape.system, family.resource, family.line);
    if (stall == nullptr) continue;
    header(out, family.node_name, "counter", family.help);
    out += family.node_name;
    out += ' ';
    append_fixed(out, stall->total_us, 1000000, 6);
    out += '\n';
  }
}

// Each cgroup's labels: its path, and with --names who it is.
std::vector<std::string> cgroup_labels(const Scrape& scrape, const RenderOptions& options) {
  std::vector<std::string> labels;
  labels.reserve(scrape.cgroups.size());
  for (const CgroupSnapshot& group : scrape.cgroups) {
    std::string label = "cgroup=\"";
    append_label_value(label, group.path);
    label += '"';
    if (options.names) append_name_labels(label, identify_cgroup(group.path));
    labels.push_back(std::move(label));
  }
  return labels;
}

// Cgroup counters: cAdvisor's names with a cgroup label.
void render_cgroup_counters(const Scrape& scrape, const std::vector<std::string>& labels, std::string& out) {
  for (const CounterFamily& family : k_counters) {
    bool any = false;
    for (std::size_t i = 0; i < scrape.cgroups.size(); ++i) {
      if (!scrape.cgroups[i].snapshot) continue;
      const Stall* stall = stall_of(*scrape.cgroups[i].snapshot, family.resource, family.line);
      if (stall == nullptr) continue;
      if (!any) header(out, family.container_name, "counter", family.help);
      any = true;
      out += family.container_name;
      out += '{';
      out += labels[i];
      out += "} ";
      append_fixed(out, stall->total_us, 1000000, 6);
      out += '\n';
    }
  }
}

// The exporter's own gauges: what it could read, how many cgroups, how long, which errors.
void render_scrape_metrics(const Scrape& scrape, const ErrorCounts& errors, std::string& out) {
  if (scrape.with_system) {
    header(out, "pressure_resource_available", "gauge",
           "Whether the system's pressure file of the resource could be read in this scrape (1) or not (0)");
    for (Resource resource : k_resources) {
      out += "pressure_resource_available{resource=\"";
      out += to_string(resource);
      out += "\"} ";
      out += scrape.system && (*scrape.system)[resource] ? '1' : '0';
      out += '\n';
    }
  }

  header(out, "pressure_exported_cgroups", "gauge", "Number of cgroups exported in this scrape");
  out += "pressure_exported_cgroups ";
  append_uint(out, scrape.cgroups.size());
  out += '\n';

  header(out, "pressure_scrape_duration_seconds", "gauge", "Time this scrape spent reading pressure files");
  out += "pressure_scrape_duration_seconds ";
  append_double(out, scrape.duration_seconds);
  out += '\n';

  header(out, "pressure_scrape_errors_total", "counter",
         "Pressure files or cgroups that could not be read, over every scrape, by scope and reason");
  for (const auto& [key, count] : errors) {
    out += "pressure_scrape_errors_total{scope=\"";
    append_label_value(out, key.first);
    out += "\",reason=\"";
    append_label_value(out, key.second);
    out += "\"} ";
    append_uint(out, count);
    out += '\n';
  }
}

}  // namespace

void render_metrics(const Scrape& scrape, const ErrorCounts& errors, const RenderOptions& options,
                    std::string& out) {
  render_system_counters(scrape, out);
  std::vector<std::string> labels = cgroup_labels(scrape, options);
  render_cgroup_counters(scrape, labels, out);
  if (options.averages) render_averages(scrape, labels, out);
  render_scrape_metrics(scrape, errors, out);
}

}  // namespace pressure::exporter
