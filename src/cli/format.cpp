#include "cli/format.hpp"

#include <cmath>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <pressure/cgroup_identity.hpp>
#include <pressure/window.hpp>

#include "core/printable.hpp"

namespace pressure::cli {
namespace {

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

double round_to(double value, double scale) { return std::round(value * scale) / scale; }

nlohmann::ordered_json stall_json(const std::optional<Stall>& stall) {
  if (!stall) return nullptr;
  nlohmann::ordered_json j;
  j["avg10"] = stall->avg10.value();
  j["avg60"] = stall->avg60.value();
  j["avg300"] = stall->avg300.value();
  j["total_us"] = stall->total_us;
  return j;
}

// Stall share in percent, to the microsecond resolution of `total` over a second.
nlohmann::ordered_json share_json(const Snapshot& before, const Snapshot& after, Resource r, Line l) {
  double share = stall_share(before, after, r, l);
  if (std::isnan(share)) return nullptr;
  return round_to(share * 100.0, 1e4);
}

std::string local_time(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", tm);
}

std::string format_total(std::uint64_t total_us) {
  return fmt::format("{}.{:06}s", total_us / 1000000, total_us % 1000000);
}

}  // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  return fmt::format("{}.{:03}", local_time(t), ms);
}

std::string format_percent(Percent p) {
  return fmt::format("{}.{:02}", p.hundredths() / 100, p.hundredths() % 100);
}

nlohmann::ordered_json identity_json(std::string_view target) {
  if (target == "system") return nullptr;
  CgroupIdentity id = identify_cgroup(target);
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (auto [key, value] : identity_fields(id)) j[std::string(key)] = value;
  if (id.conmon) j["conmon"] = true;
  return j;
}

nlohmann::ordered_json to_json(const TargetLabel& label, const Snapshot& snapshot, const Snapshot* previous) {
  nlohmann::ordered_json j;
  j["target"] = label.name;
  if (label.name != "system") j["identity"] = identity_json(label.name);
  if (label.pid) j["pid"] = *label.pid;
  j["time"] = seconds_since_epoch(snapshot.time);
  nlohmann::ordered_json unavailable = nlohmann::ordered_json::object();
  for (Resource r : k_resources) {
    const Result<Pressure>& p = snapshot[r];
    std::string name(to_string(r));
    if (!p) {
      j[name] = nullptr;
      unavailable[name] = p.error().message();
      continue;
    }
    j[name] = {{"some", stall_json(p->some)}, {"full", stall_json(p->full)}};
  }
  j["unavailable"] = unavailable;
  if (previous != nullptr) {
    nlohmann::ordered_json window;
    auto elapsed = std::chrono::duration<double>(snapshot.monotonic - previous->monotonic).count();
    window["seconds"] = round_to(elapsed, 1e6);
    for (Resource r : k_resources) {
      std::string name(to_string(r));
      if (!snapshot[r] || !(*previous)[r]) {
        window[name] = nullptr;
        continue;
      }
      window[name] = {{"some", share_json(*previous, snapshot, r, Line::some)},
                      {"full", share_json(*previous, snapshot, r, Line::full)}};
    }
    j["window"] = window;
  }
  return j;
}

std::string to_table(const TargetLabel& label, const Snapshot& snapshot, const Snapshot* previous) {
  // The group's name and the messages (with paths) are outside text: never raw on a terminal.
  std::string out = core::printable(label.name);
  if (label.pid) out += fmt::format(" (pid {})", *label.pid);
  out += fmt::format("  {}", local_time(snapshot.time));
  if (previous != nullptr)
    out += fmt::format("  share over {:.2f}s",
                       std::chrono::duration<double>(snapshot.monotonic - previous->monotonic).count());
  out += '\n';
  out += fmt::format("{:<8} {:<4} {:>6} {:>6} {:>6} {:>18}", "RESOURCE", "LINE", "AVG10", "AVG60", "AVG300",
                     "TOTAL");
  if (previous != nullptr) out += fmt::format(" {:>8}", "SHARE");
  out += '\n';
  for (Resource r : k_resources) {
    const Result<Pressure>& p = snapshot[r];
    if (!p) {
      out += fmt::format("{:<8} {}\n", to_string(r), core::printable(p.error().message()));
      continue;
    }
    for (Line l : k_lines) {
      const std::optional<Stall>& s = (*p)[l];
      if (!s) {
        out += fmt::format("{:<8} {:<4} {:>6} {:>6} {:>6} {:>18}{}\n", to_string(r), to_string(l), "-", "-",
                           "-", "-", previous != nullptr ? fmt::format(" {:>8}", "-") : "");
        continue;
      }
      out += fmt::format("{:<8} {:<4} {:>6} {:>6} {:>6} {:>18}", to_string(r), to_string(l),
                         format_percent(s->avg10), format_percent(s->avg60), format_percent(s->avg300),
                         format_total(s->total_us));
      if (previous != nullptr) {
        double share = stall_share(*previous, snapshot, r, l);
        out += std::isnan(share) ? fmt::format(" {:>8}", "-") : fmt::format(" {:>7.2f}%", share * 100.0);
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace pressure::cli
