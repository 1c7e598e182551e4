// pressure._native's one-shot tools: snapshots, cgroup scans, stall shares, admission, the decay
// prediction and waiting until pressure has ended. Every read and wait releases the GIL; the
// waits (admission windows too) wake every 100 ms to let Python handle signals, so Ctrl-C
// interrupts them.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pybind11/stl.h>

#include <pressure/admit.hpp>
#include <pressure/condition.hpp>
#include <pressure/decay.hpp>
#include <pressure/pressure.hpp>
#include <pressure/window.hpp>

#include "native_common.hpp"

namespace pressure_py {
namespace {

using Clock = std::chrono::steady_clock;

// Sleeps until `until` with the GIL released, looking for signals every 100 ms (a raised
// KeyboardInterrupt unwinds from here).
void sleep_until(Clock::time_point until) {
  for (;;) {
    Clock::time_point now = Clock::now();
    if (now >= until) return;
    {
      py::gil_scoped_release release;
      std::this_thread::sleep_until(std::min(until, now + std::chrono::milliseconds(100)));
    }
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

pressure::Line line_or_raise(const std::string& name) {
  std::optional<pressure::Line> line = pressure::line_from_string(name);
  if (!line) raise_error(Error(Errc::invalid_argument, "unknown line '" + name + "' (some or full)"));
  return *line;
}

py::tuple snapshot(const std::optional<std::string>& cgroup, const std::optional<int>& pid,
                   const std::optional<std::string>& proc_root,
                   const std::optional<std::string>& cgroup_root) {
  pressure::Reader reader(make_target(cgroup, pid), make_options(proc_root, cgroup_root));
  pressure::Result<pressure::Snapshot> s;
  pressure::Result<std::string> where;
  {
    py::gil_scoped_release release;
    s = reader.snapshot();
    if (s) where = reader.resolved_path();
  }
  pressure::Snapshot taken = value_or_raise(std::move(s));
  return snapshot_tuple(value_or_raise(std::move(where)), taken, true);
}

std::vector<py::tuple> scan(const std::string& under, bool recursive, bool include_self,
                            const std::optional<std::string>& proc_root,
                            const std::optional<std::string>& cgroup_root) {
  pressure::Result<std::vector<pressure::CgroupSnapshot>> found;
  {
    py::gil_scoped_release release;
    found = pressure::scan_cgroups(under, {recursive, include_self}, make_options(proc_root, cgroup_root));
  }
  std::vector<py::tuple> out;
  for (const pressure::CgroupSnapshot& group : value_or_raise(std::move(found))) {
    // A group removed between the listing and its reading is left out, as the scan does; one
    // that cannot be read (PSI off in it) is there with every resource None and the reason.
    if (!group.snapshot && group.snapshot.error().code() == Errc::gone) continue;
    if (group.snapshot) {
      out.push_back(py::make_tuple(group.path, snapshot_tuple(group.path, *group.snapshot, false)));
      continue;
    }
    pressure::Snapshot failed;
    failed.time = std::chrono::system_clock::now();
    failed.monotonic = Clock::now();
    for (pressure::Resource r : pressure::k_resources) failed[r] = tl::unexpected(group.snapshot.error());
    out.push_back(py::make_tuple(group.path, snapshot_tuple(group.path, failed, false)));
  }
  return out;
}

// The C++ stall_share over two `total`s, in percent; NaN when the counter went backwards.
double share(std::uint64_t before_us, std::uint64_t after_us, std::int64_t elapsed_ns) {
  pressure::Stall before, after;
  before.total_us = before_us;
  after.total_us = after_us;
  return pressure::stall_share(before, after, std::chrono::nanoseconds(elapsed_ns)) * 100.0;
}

// pressure::admit sleeps through the longest window (up to 1 h), so it runs on a thread of its
// own while this one wakes every 100 ms for signals. After Ctrl-C that thread finishes alone (it
// holds no Python object) and its answer is dropped.
pressure::Result<pressure::Admission> admit_interruptibly(pressure::Target target,
                                                          std::vector<pressure::Condition> conditions,
                                                          pressure::ReaderOptions options) {
  struct State {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<pressure::Result<pressure::Admission>> result;
  };
  auto state = std::make_shared<State>();
  std::thread([state, target = std::move(target), conditions = std::move(conditions),
               options = std::move(options)] {
    pressure::Result<pressure::Admission> result = pressure::admit(target, conditions, options);
    std::lock_guard lock(state->mutex);
    state->result = std::move(result);
    state->done.notify_all();
  }).detach();
  for (;;) {
    {
      py::gil_scoped_release release;
      std::unique_lock lock(state->mutex);
      if (state->done.wait_for(lock, std::chrono::milliseconds(100),
                               [&] { return state->result.has_value(); }))
        return std::move(*state->result);
    }
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

// (admitted, reason, [measured percent or NaN]) for conditions in the CLI's syntax.
py::tuple admit(const std::vector<std::string>& texts, const std::optional<std::string>& cgroup,
                const std::optional<int>& pid, const std::optional<std::string>& proc_root,
                const std::optional<std::string>& cgroup_root) {
  std::vector<pressure::Condition> conditions;
  for (const std::string& text : texts) conditions.push_back(value_or_raise(pressure::parse_condition(text)));
  pressure::Target target = make_target(cgroup, pid);
  bool windows = std::any_of(conditions.begin(), conditions.end(), [](const pressure::Condition& c) {
    return c.metric == pressure::Condition::Metric::window;
  });
  pressure::Result<pressure::Admission> a;
  if (windows) {
    a = admit_interruptibly(std::move(target), std::move(conditions), make_options(proc_root, cgroup_root));
  } else {
    py::gil_scoped_release release;
    a = pressure::admit(target, conditions, make_options(proc_root, cgroup_root));
  }
  pressure::Admission admission = value_or_raise(std::move(a));
  return py::make_tuple(admission.admitted, admission.reason, admission.measured);
}

pressure::Thresholds thresholds_or_default(const std::optional<std::string>& text) {
  if (!text) return pressure::EndCriteria::default_thresholds();
  return value_or_raise(pressure::parse_thresholds(*text));
}

// What `pressure predict` prints for one line: (estimate, earliest, latest, never, below_now,
// stall_now, updates_min, updates_max), seconds and percent; stall_now None after a counter reset.
// One snapshot, read with the GIL released; raises unless it has `resource`'s `line`.
pressure::Snapshot read_or_raise(pressure::Reader& reader, pressure::Resource resource, pressure::Line line,
                                 const std::string& resource_name, const std::string& line_name) {
  pressure::Result<pressure::Snapshot> s;
  {
    py::gil_scoped_release release;
    s = reader.snapshot();
  }
  pressure::Snapshot snap = value_or_raise(std::move(s));
  const pressure::Result<pressure::Pressure>& p = snap[resource];
  if (!p) raise_error(p.error());
  if (!(*p)[line])
    raise_error(Error(Errc::unavailable,
                      "the kernel prints no '" + line_name + "' line for " + resource_name + " here"));
  return snap;
}

py::tuple predict(const std::string& resource_name, const std::string& line_name,
                  const std::optional<std::string>& thresholds_text, double sample,
                  const std::optional<std::string>& cgroup, const std::optional<int>& pid,
                  const std::optional<std::string>& proc_root,
                  const std::optional<std::string>& cgroup_root) {
  pressure::Resource resource = resource_or_raise(resource_name);
  pressure::Line line = line_or_raise(line_name);
  pressure::Thresholds thresholds = thresholds_or_default(thresholds_text);
  pressure::Reader reader(make_target(cgroup, pid), make_options(proc_root, cgroup_root));
  auto read = [&]() -> pressure::Stall {
    pressure::Snapshot snap = read_or_raise(reader, resource, line, resource_name, line_name);
    return *(*snap[resource])[line];
  };
  pressure::Stall before = read();
  Clock::time_point start = Clock::now();
  sleep_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(sample)));
  pressure::Stall after = read();
  double measured = pressure::stall_share(before, after, Clock::now() - start);
  // The kernel truncates each 2 s sample to a whole percent before averaging.
  auto background = static_cast<unsigned>(std::floor(std::isnan(measured) ? 0.0 : measured * 100.0));
  pressure::DecayPrediction d = pressure::time_until_below(after, thresholds, background);
  py::object stall_now =
      std::isnan(measured) ? py::object(py::none()) : py::object(py::float_(measured * 100.0));
  py::object none = py::none();
  return py::make_tuple(d.never ? none : py::float_(seconds(d.estimate)),
                        d.never ? none : py::float_(seconds(d.earliest)),
                        d.never ? none : py::float_(seconds(d.latest)), d.never,
                        !d.never && d.updates_max == 0, stall_now, d.updates_min, d.updates_max);
}

// True once pressure has ended (PressureEnded), False when `timeout` passes first; sleeps
// until the decay model says it can be true, as pressure::wait_until_ended does.
bool wait_ended(const std::string& resource_name, const std::string& line_name,
                const std::optional<std::string>& thresholds_text, double quiet,
                std::optional<double> timeout, const std::optional<std::string>& cgroup,
                const std::optional<int>& pid, const std::optional<std::string>& proc_root,
                const std::optional<std::string>& cgroup_root) {
  pressure::Resource resource = resource_or_raise(resource_name);
  pressure::Line line = line_or_raise(line_name);
  pressure::EndCriteria criteria;
  criteria.below = thresholds_or_default(thresholds_text);
  criteria.quiet = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(quiet));
  const std::chrono::nanoseconds longest_sleep =
      std::max<std::chrono::nanoseconds>(criteria.quiet, std::chrono::seconds(1));
  pressure::Reader reader(make_target(cgroup, pid), make_options(proc_root, cgroup_root));
  pressure::PressureEnded ended(resource, line, criteria);
  std::optional<Clock::time_point> deadline;
  if (timeout)
    deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*timeout));
  for (;;) {
    pressure::Snapshot snap = read_or_raise(reader, resource, line, resource_name, line_name);
    pressure::PressureEnded::Verdict verdict = ended.observe(snap);
    if (verdict.ended) return true;
    Clock::time_point now = Clock::now();
    if (deadline && now >= *deadline) return false;
    Clock::time_point wake = std::min(verdict.next_check, now + longest_sleep);
    if (deadline) wake = std::min(wake, *deadline);
    sleep_until(std::max(wake, now + std::chrono::milliseconds(1)));
  }
}

}  // namespace

void bind_tools(py::module_& m) {
  m.def("snapshot", &snapshot, py::arg("cgroup") = py::none(), py::arg("pid") = py::none(),
        py::arg("proc_root") = py::none(), py::arg("cgroup_root") = py::none());
  m.def("scan", &scan, py::arg("under"), py::arg("recursive"), py::arg("include_self"),
        py::arg("proc_root") = py::none(), py::arg("cgroup_root") = py::none());
  m.def("share", &share, py::arg("before_us"), py::arg("after_us"), py::arg("elapsed_ns"));
  m.def("admit", &admit, py::arg("conditions"), py::arg("cgroup") = py::none(), py::arg("pid") = py::none(),
        py::arg("proc_root") = py::none(), py::arg("cgroup_root") = py::none());
  m.def("predict", &predict, py::arg("resource"), py::arg("line"), py::arg("thresholds"), py::arg("sample"),
        py::arg("cgroup") = py::none(), py::arg("pid") = py::none(), py::arg("proc_root") = py::none(),
        py::arg("cgroup_root") = py::none());
  m.def("wait_ended", &wait_ended, py::arg("resource"), py::arg("line"), py::arg("thresholds"),
        py::arg("quiet"), py::arg("timeout"), py::arg("cgroup") = py::none(), py::arg("pid") = py::none(),
        py::arg("proc_root") = py::none(), py::arg("cgroup_root") = py::none());
}

}  // namespace pressure_py
