// What the pieces of pressure._native share: a pressure::Error raised as the Python exception
// pressure._errors builds for it, and the targets, reader options and readings every call takes.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <pybind11/pybind11.h>

#include <pressure/pressure.hpp>

namespace pressure_py {

namespace py = pybind11;

using pressure::Errc;
using pressure::Error;

// Sets the Python exception for `error` (built by pressure._errors.from_native) and unwinds
// to pybind11, which returns it to Python.
[[noreturn]] inline void raise_error(const Error& error) {
  py::object exc = py::module_::import("pressure._errors")
                       .attr("from_native")(std::string(pressure::code_name(error.code())), error.sys_errno(),
                                            error.message(), error.path());
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

template <class T>
T value_or_raise(pressure::Result<T> result) {
  if (!result) raise_error(result.error());
  return std::move(*result);
}

inline pressure::Target make_target(const std::optional<std::string>& cgroup, const std::optional<int>& pid) {
  if (cgroup && pid) raise_error(Error(Errc::invalid_argument, "give either cgroup= or pid=, not both"));
  if (cgroup) return pressure::Target::cgroup(*cgroup);
  if (pid) {
    if (*pid <= 0)
      raise_error(Error(Errc::invalid_argument, "pid must be positive, not " + std::to_string(*pid)));
    return pressure::Target::pid(*pid);
  }
  return pressure::Target::system();
}

inline pressure::ReaderOptions make_options(const std::optional<std::string>& proc_root,
                                            const std::optional<std::string>& cgroup_root) {
  pressure::ReaderOptions options;
  if (proc_root) options.proc_root = *proc_root;
  if (cgroup_root) options.cgroup_root = *cgroup_root;
  return options;
}

inline pressure::Resource resource_or_raise(const std::string& name) {
  std::optional<pressure::Resource> resource = pressure::resource_from_string(name);
  if (!resource) raise_error(Error(Errc::invalid_argument, "unknown resource '" + name + "'"));
  return *resource;
}

// (some_avg10, some_avg60, some_avg300, some_total, full_avg10, ..., full_total); None where
// the kernel prints no such line.
inline py::tuple to_tuple(const pressure::Pressure& p) {
  py::tuple out(8);
  std::size_t i = 0;
  for (const std::optional<pressure::Stall>* line : {&p.some, &p.full}) {
    if (*line) {
      out[i++] = py::float_((*line)->avg10.value());
      out[i++] = py::float_((*line)->avg60.value());
      out[i++] = py::float_((*line)->avg300.value());
      out[i++] = py::int_((*line)->total_us);
    } else {
      for (int k = 0; k < 4; ++k) out[i++] = py::none();
    }
  }
  return out;
}

inline double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// (target, time, monotonic, cpu, memory, io, irq, {resource: why unavailable}); a resource this
// kernel does not provide is None, any other error is raised, or with `raise_errors` false
// also None with its message.
inline py::tuple snapshot_tuple(const std::string& where, const pressure::Snapshot& s, bool raise_errors) {
  py::list out;
  out.append(where);
  out.append(seconds(s.time.time_since_epoch()));
  out.append(seconds(s.monotonic.time_since_epoch()));
  py::dict unavailable;
  for (pressure::Resource r : pressure::k_resources) {
    const pressure::Result<pressure::Pressure>& p = s[r];
    if (p) {
      out.append(to_tuple(*p));
      continue;
    }
    if (raise_errors && p.error().code() != Errc::unavailable) raise_error(p.error());
    out.append(py::none());
    unavailable[py::str(std::string(pressure::to_string(r)))] = p.error().message();
  }
  out.append(unavailable);
  return py::tuple(out);
}

// Bindings defined in their own files, called from PYBIND11_MODULE.
void bind_tools(py::module_& m);
void bind_levels(py::module_& m);

}  // namespace pressure_py
