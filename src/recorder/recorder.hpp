// Recording: which targets a tick samples (the system and cgroups matching globs), and the loop
// that writes a tick per interval into a Store.
//
//   TargetSampler sampler({.globs = {"/*.slice"}});
//   Result<Tick> tick = sampler.sample();            // one snapshot per target
//   Result<RecordStats> stats = record(store, sampler, {.interval = 1s}, stop_flag);
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <pressure/cgroup_set.hpp>
#include <pressure/reader.hpp>

#include "recorder/store.hpp"

namespace pressure::recorder {

struct SamplerOptions {
  bool system = true;                       // sample the system too
  std::vector<std::string> globs = {"/*"};  // cgroup selectors (pressure/selector.hpp), checked by the caller
  bool cgroups_optional = false;            // no cgroup2 mount here: record the system alone
  std::function<void(const std::string&)> on_notice;  // once: the groups outgrew the fd budget
  ReaderOptions reader;
};

class TargetSampler {
 public:
  explicit TargetSampler(SamplerOptions options);
  // The system (an error if it cannot be read at all) and every cgroup matching a glob now;
  // groups that vanish or cannot be read are left out of this tick.
  Result<Tick> sample();

 private:
  Result<void> sample_cgroups(std::vector<TargetSample>& out);
  SamplerOptions m_options;
  std::optional<Reader> m_system;
  std::optional<Error> m_bad_selector;
  bool m_noticed = false;
  std::vector<CgroupSelector> m_selectors;
  std::optional<CgroupSet> m_cgroups;  // kept open between ticks
};

struct RecordOptions {
  std::chrono::microseconds interval = std::chrono::seconds(1);
  std::optional<long> count;  // stop after N ticks
  Retention retention;
  std::chrono::microseconds maintain_every = std::chrono::hours(1);
  // Called once per target and distinct error for a resource that cannot be read for a reason
  // other than "not provided here" (a malformed file, permission): it is left out of the ticks
  // while it fails, and the caller says so. The library itself never prints.
  std::function<void(const std::string& target, const Error& error)> on_unreadable;
};

struct RecordStats {
  long ticks = 0;
  long long rows_thinned = 0;
};

// Samples every interval (steady clock, no drift) and appends each tick in its own transaction,
// until `stop` is set or `count` ticks; retention and downsampling at the start and then every
// `maintain_every`. Returns the first error that stops recording (the store cannot be written,
// the system cannot be read).
Result<RecordStats> record(Store& store, TargetSampler& sampler, const RecordOptions& options,
                           const std::atomic<bool>& stop);

}  // namespace pressure::recorder
