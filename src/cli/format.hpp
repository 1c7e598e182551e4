// How snapshots are written for people (aligned table) and programs (JSON lines).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <pressure/types.hpp>

namespace pressure::cli {

// What a snapshot is of, as shown: "system", or a cgroup path with the pid it came from.
struct TargetLabel {
  std::string name;
  std::optional<int> pid;
};

// The DESIGN.md shape: target, time, one object per resource (null when unavailable, with the
// reason under "unavailable"), and "window" (percent of the interval stalled) when given.
nlohmann::ordered_json to_json(const TargetLabel& label, const Snapshot& snapshot, const Snapshot* previous);

// What a cgroup is in the names people know (identify_cgroup): {"kind", "name", then unit, user,
// session, runtime, container_id, pod_uid, qos_class, conmon where the path says them}; null for
// "system". `show --json` and `history --json` carry it as "identity".
nlohmann::ordered_json identity_json(std::string_view target);

// `j` as one line of JSON in valid UTF-8 whatever the names in it hold: a byte that is not part
// of valid UTF-8 (a cgroup name can have any) becomes U+FFFD, as in the daemon's JSON lines,
// where nlohmann's plain dump() would throw.
template <class Json>
std::string json_line(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// An aligned table, resources as rows; SHARE column when `previous` is given.
std::string to_table(const TargetLabel& label, const Snapshot& snapshot, const Snapshot* previous);

// "2026-11-21 20:31:12.345", local time.
std::string format_time(std::chrono::system_clock::time_point t);

// "12.34" from integer hundredths: exactly the kernel's text.
std::string format_percent(Percent p);

}  // namespace pressure::cli
