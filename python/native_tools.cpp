// pressure._native's one-shot tools: snapshots, cgroup scans, stall shares and admission. Every
// read and wait releases the GIL.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
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

// (admitted, reason, [measured percent or NaN]) for conditions in the CLI's syntax.
py::tuple admit(const std::vector<std::string>& texts, const std::optional<std::string>& cgroup,
                const std::optional<int>& pid, const std::optional<std::string>& proc_root,
                const std::optional<std::string>& cgroup_root) {
  std::vector<pressure::Condition> conditions;
  for (const std::string& text : texts) conditions.push_back(value_or_raise(pressure::parse_condition(text)));
  pressure::Target target = make_target(cgroup, pid);
  pressure::Result<pressure::Admission> a;
  {
    // The windows sleep inside; up to the longest window (at most 1 h) without Ctrl-C.
    py::gil_scoped_release release;
    a = pressure::admit(target, conditions, make_options(proc_root, cgroup_root));
  }
  pressure::Admission admission = value_or_raise(std::move(a));
  return py::make_tuple(admission.admitted, admission.reason, admission.measured);
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
}

}  // namespace pressure_py
