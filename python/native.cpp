// pressure._native: the C++ library for Python. Every call turns a pressure::Error into the
// exception pressure._errors builds for it (OSError subclasses with errno and filename), and
// every C++ exception into a Python one: nothing crosses the boundary uncaught.
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <pressure/pressure.hpp>

#include "native_common.hpp"

#include "sys/platform.hpp"

namespace py = pybind11;

namespace {

using namespace pressure_py;
using pressure::Errc;
using pressure::Error;

// The system's readers stay open between calls (one pread per call); the GIL serialises them.
pressure::Reader& system_reader(pressure::Resource resource) {
  static std::array<std::unique_ptr<pressure::Reader>, 4>* readers =
      new std::array<std::unique_ptr<pressure::Reader>, 4>();  // never destroyed: used until exit
  auto& slot = (*readers)[static_cast<std::size_t>(resource)];
  if (!slot) slot = std::make_unique<pressure::Reader>(pressure::Target::system());
  return *slot;
}

py::tuple read_pressure(const std::string& resource_name, const std::optional<std::string>& cgroup,
                        const std::optional<int>& pid, const std::optional<std::string>& proc_root,
                        const std::optional<std::string>& cgroup_root) {
  pressure::Resource resource = resource_or_raise(resource_name);
  pressure::Target target = make_target(cgroup, pid);
  if (target.kind() == pressure::Target::Kind::system && !proc_root && !cgroup_root)
    return to_tuple(value_or_raise(system_reader(resource).read(resource)));
  return to_tuple(value_or_raise(pressure::read(resource, target, make_options(proc_root, cgroup_root))));
}

// "linux", "darwin" or "unsupported": what this build reads (PRESSURE_PLATFORM).
std::string platform() { return PRESSURE_PY_PLATFORM; }

// The platform's level, or (for tests) the level sys::read_memory_level makes of what
// `sysctl(name)` returns; an OSError from it is a failed sysctl, as in platform/darwin.cpp.
std::string memory_level(const py::object& sysctl) {
  if (sysctl.is_none()) return std::string(pressure::to_string(value_or_raise(pressure::memory_level())));
  auto reader = [&sysctl](const char* name) -> pressure::Result<std::int64_t> {
    try {
      return sysctl(name).cast<std::int64_t>();
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_OSError)) throw;
      py::object err = e.value().attr("errno");
      int code = err.is_none() ? 0 : err.cast<int>();
      return pressure::fail(code == ENOENT ? Errc::unsupported : Errc::system,
                            std::string("sysctl ") + name + ": " + std::string(py::str(e.value())), name,
                            code);
    } catch (py::cast_error&) {
      return pressure::fail(Errc::malformed, std::string("sysctl ") + name + " did not give an integer",
                            name);
    }
  };
  return std::string(pressure::to_string(value_or_raise(pressure::sys::read_memory_level(reader))));
}

// A Monitor driven from Python: next() runs the loop with the GIL released, waking every
// 100 ms to let Python handle signals (Ctrl-C) and the timeout.
class Watch {
 public:
  Watch(const std::vector<std::string>& specs, const std::optional<std::string>& cgroup,
        const std::optional<int>& pid, const std::string& mode, bool strict_window,
        const std::optional<std::string>& proc_root, const std::optional<std::string>& cgroup_root,
        bool from_environment) {
    if (specs.empty()) raise_error(Error(Errc::invalid_argument, "watch needs at least one spec"));
    pressure::TriggerOptions options;
    if (mode == "auto")
      options.mode = pressure::TriggerMode::automatic;
    else if (mode == "kernel")
      options.mode = pressure::TriggerMode::kernel;
    else if (mode == "polling")
      options.mode = pressure::TriggerMode::polling;
    else
      raise_error(Error(Errc::invalid_argument, "mode must be auto, kernel or polling, not '" + mode + "'"));
    if (strict_window) options.window_policy = pressure::WindowPolicy::refuse;
    pressure::Target target = make_target(cgroup, pid);
    std::vector<pressure::TriggerSpec> parsed;
    for (const std::string& text : specs)
      parsed.push_back(value_or_raise(pressure::parse_trigger_spec(text)));

    m_monitor = std::make_unique<pressure::Monitor>(make_options(proc_root, cgroup_root));
    pressure::Monitor* monitor = m_monitor.get();
    auto on_event = [this, monitor](const pressure::Event& e) {
      m_events.push_back(e);
      monitor->stop();
    };
    if (from_environment) arm_environment(on_event, parsed);
    for (const pressure::TriggerSpec& spec : parsed) {
      auto info = m_monitor->add(target, spec, on_event, options);
      if (!info) {
        close();
        raise_error(info.error());
      }
      m_infos.push_back(std::move(*info));
    }
    if (m_infos.empty())
      raise_error(Error(Errc::invalid_argument,
                        "nothing to watch: the service manager's $..._PRESSURE_WATCH set /dev/null for the "
                        "resources of every spec (from_environment=False ignores it)"));
    auto tick = m_monitor->add_timer(std::chrono::milliseconds(100), [monitor] { monitor->stop(); });
    if (!tick) {
      close();
      raise_error(tick.error());
    }
  }
  ~Watch() { close(); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // The next event as a tuple, None when `timeout` seconds pass first.
  py::object next(std::optional<double> timeout) {
    using clock = std::chrono::steady_clock;
    std::optional<clock::time_point> deadline;
    if (timeout)
      deadline =
          clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(*timeout));
    // m_running, m_close_requested and m_monitor change only with the GIL held.
    if (m_running)
      raise_error(Error(Errc::invalid_argument, "this watch is already waiting in another thread"));
    while (m_events.empty()) {
      if (!m_monitor) raise_error(Error(Errc::invalid_argument, "this watch is closed"));
      if (m_monitor->watch_count() == 0) return py::none();
      if (deadline && clock::now() >= *deadline) return py::none();
      pressure::Result<void> ran;
      m_running = true;
      {
        py::gil_scoped_release release;
        ran = m_monitor->run();
      }
      m_running = false;
      if (m_close_requested) {  // close() from another thread while run() ran
        close();
        return py::none();
      }
      if (!ran) raise_error(ran.error());
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
    pressure::Event e = std::move(m_events.front());
    m_events.pop_front();
    if (e.kind != pressure::Event::Kind::pressure)
      raise_error(e.error.value_or(Error(Errc::gone, e.where + " can no longer be watched", e.where)));
    double time = std::chrono::duration<double>(e.time.time_since_epoch()).count();
    bool measured = e.variable.empty();  // a watch from the environment measures nothing
    auto observed = [measured](auto value) { return measured ? py::cast(value) : py::none(); };
    return py::make_tuple(
        e.spec.window.count() > 0 ? e.spec.to_string() : std::string(pressure::to_string(e.spec.resource)),
        std::string(pressure::to_string(e.spec.resource)), std::string(pressure::to_string(e.spec.line)),
        e.where, time, static_cast<std::int64_t>(e.spec.stall.count()),
        static_cast<std::int64_t>(e.spec.window.count()), observed(e.observed_stall_us),
        observed(static_cast<std::int64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(e.observed_span).count())),
        observed(e.share * 100.0), std::string(pressure::to_string(e.mode)),
        measured ? py::none() : py::cast(e.variable));
  }

  // (spec as armed, mode, notice) for every watch.
  std::vector<py::tuple> armed() const {
    std::vector<py::tuple> out;
    for (const pressure::WatchInfo& info : m_infos)
      out.push_back(
          py::make_tuple(info.spec.to_string(), std::string(pressure::to_string(info.mode)), info.notice));
    return out;
  }

  bool closed() const { return !m_monitor || m_close_requested; }

 private:
  // The service manager's watches for memory, cpu and io; the specs of each resource the
  // environment decides (a watch or /dev/null) are dropped.
  void arm_environment(const pressure::Monitor::Callback& on_event,
                       std::vector<pressure::TriggerSpec>& specs) {
    for (pressure::Resource resource :
         {pressure::Resource::memory, pressure::Resource::cpu, pressure::Resource::io}) {
      pressure::EnvironmentWatch request = value_or_raise(pressure::environment_watch(resource));
      if (request.state == pressure::EnvironmentWatch::State::unset) continue;
      std::erase_if(specs, [resource](const pressure::TriggerSpec& s) { return s.resource == resource; });
      if (request.state == pressure::EnvironmentWatch::State::disabled) continue;
      auto info = m_monitor->add(request, on_event);
      if (!info) {
        close();
        raise_error(info.error());
      }
      m_infos.push_back(std::move(*info));
    }
  }

 public:
  // Disarms every trigger and closes the loop's descriptors; from another thread while next()
  // waits, it stops the loop and next() closes it and returns None.
  void close() {
    if (m_running) {
      m_close_requested = true;
      m_monitor->stop();
      return;
    }
    m_monitor.reset();
    m_events.clear();
    m_close_requested = false;
  }

 private:
  std::unique_ptr<pressure::Monitor> m_monitor;
  std::deque<pressure::Event> m_events;
  std::vector<pressure::WatchInfo> m_infos;
  bool m_running = false;
  bool m_close_requested = false;
};

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "The C++ core of the pressure module; use the pressure package, not this.";
  // Anything C++ throws that is not already a Python error becomes pressure.Error.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::error_already_set&) {
      throw;
    } catch (const py::builtin_exception&) {
      throw;
    } catch (const std::bad_alloc&) {
      throw;  // pybind11's own translator: MemoryError
    } catch (const std::exception& e) {
      try {
        raise_error(Error(Errc::system, std::string("internal error: ") + e.what()));
      } catch (py::error_already_set& set) {
        set.restore();
      }
    }
  });

  m.def("read", &read_pressure, py::arg("resource"), py::arg("cgroup") = py::none(),
        py::arg("pid") = py::none(), py::arg("proc_root") = py::none(), py::arg("cgroup_root") = py::none());
  m.def("platform", &platform);
  // The library's version, the one number of CMakeLists.txt's project(VERSION).
  m.def("version", [] { return std::string(pressure::version().text); });
  m.def("psi_missing_reason", [] { return std::string(pressure::sys::psi_missing_reason()); });
  m.def("memory_level", &memory_level, py::arg("sysctl") = py::none());
  // What a cgroup path names (identify_cgroup): its fields as (key, value) pairs and conmon.
  m.def(
      "identify",
      [](const std::string& path) {
        pressure::CgroupIdentity id = pressure::identify_cgroup(path);
        std::vector<std::pair<std::string, std::string>> fields;
        for (auto [key, value] : pressure::identity_fields(id)) fields.emplace_back(key, value);
        return py::make_tuple(fields, id.conmon);
      },
      py::arg("path"));
  m.def(
      "cgroup2_root",
      [](const std::optional<std::string>& proc_root) {
        return value_or_raise(pressure::cgroup2_root(make_options(proc_root, std::nullopt)));
      },
      py::arg("proc_root") = py::none());

  py::class_<Watch>(m, "Watch")
      .def(py::init<const std::vector<std::string>&, const std::optional<std::string>&,
                    const std::optional<int>&, const std::string&, bool, const std::optional<std::string>&,
                    const std::optional<std::string>&, bool>(),
           py::arg("specs"), py::arg("cgroup") = py::none(), py::arg("pid") = py::none(),
           py::arg("mode") = "auto", py::arg("strict_window") = false, py::arg("proc_root") = py::none(),
           py::arg("cgroup_root") = py::none(), py::arg("from_environment") = false)
      .def("next", &Watch::next, py::arg("timeout") = py::none())
      .def("armed", &Watch::armed)
      .def_property_readonly("closed", &Watch::closed)
      .def("close", &Watch::close);

  bind_tools(m);
  bind_levels(m);
}
