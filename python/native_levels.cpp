// pressure._native's severity levels: pressure::levels conditions and Manager, driven by a
// Monitor whose loop runs on a Python thread with the GIL released. Handlers, custom
// conditions and cleanups are Python callables, called with the GIL taken on the ticking thread.
//
// Locking rule: no Manager method is entered with the GIL held (every binding below releases it
// first), because the ticking thread takes the GIL while it holds the Manager's locks (custom
// conditions, handlers, cleanups). Python objects kept by C++ are held in PyRef, which takes the
// GIL to let go of them, since the Manager drops cancelled handlers on the ticking thread.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include <pressure/levels.hpp>
#include <pressure/pressure.hpp>

#include "native_common.hpp"

namespace pressure_py {
namespace {

namespace lv = pressure::levels;

// A Python object that C++ may copy and drop on any thread.
class PyRef {
 public:
  explicit PyRef(py::object object) : m_object(std::move(object)) {}
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef() {
    if (!m_object) return;
    if (!Py_IsInitialized()) {  // the interpreter is gone: nothing left to free it into
      m_object.release();
      return;
    }
    py::gil_scoped_acquire gil;
    m_object = py::object();
  }
  // Calls it with the GIL taken (the caller holds it already to build `args`); an exception that escapes (the
  // Python side reports handler errors itself) is printed as unraisable, never thrown into the Manager.
  py::object call(const py::args& args) const {
    py::gil_scoped_acquire gil;
    try {
      return m_object(*args);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable(m_object);
      return py::none();
    }
  }

 private:
  py::object m_object;
};

std::shared_ptr<PyRef> hold(py::object object) { return std::make_shared<PyRef>(std::move(object)); }

struct Condition {
  lv::ConditionPtr ptr;
};

std::vector<lv::ConditionPtr> pointers(const std::vector<Condition>& conditions) {
  std::vector<lv::ConditionPtr> out;
  for (const Condition& c : conditions) out.push_back(c.ptr);
  return out;
}

py::object optional_snapshot(const std::optional<pressure::Snapshot>& s, const char* where) {
  if (!s) return py::none();
  return snapshot_tuple(where, *s, false);
}

// (time, system snapshot, own cgroup snapshot, (total, available), (usage, limit)); None
// where nothing could be read.
py::tuple reading_tuple(const lv::Reading& r) {
  py::object host = py::none(), local_memory = py::none();
  if (r.host) host = py::make_tuple(r.host->total, r.host->available);
  if (r.local_memory)
    local_memory = py::make_tuple(r.local_memory->usage, r.local_memory->limit
                                                             ? py::object(py::int_(*r.local_memory->limit))
                                                             : py::object(py::none()));
  return py::make_tuple(seconds(r.time.time_since_epoch()), optional_snapshot(r.system, "system"),
                        optional_snapshot(r.local, "self"), host, local_memory);
}

lv::Scope scope_or_raise(const std::string& scope) {
  if (scope == "local") return lv::Scope::local;
  if (scope == "system") return lv::Scope::system;
  raise_error(Error(Errc::invalid_argument, "scope must be 'local' or 'system', not '" + scope + "'"));
}

pressure::Average average_or_raise(const std::string& name) {
  for (pressure::Average a : pressure::k_averages)
    if (pressure::to_string(a) == name) return a;
  raise_error(Error(Errc::invalid_argument, "unknown average '" + name + "' (avg10, avg60 or avg300)"));
}

pressure::Line line_or_raise(const std::string& name) {
  std::optional<pressure::Line> line = pressure::line_from_string(name);
  if (!line) raise_error(Error(Errc::invalid_argument, "unknown line '" + name + "' (some or full)"));
  return *line;
}

std::chrono::nanoseconds nanoseconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
}

Condition custom(py::function predicate) {
  std::shared_ptr<PyRef> fn = hold(std::move(predicate));
  return {lv::custom([fn](const lv::Reading& r) {
    py::gil_scoped_acquire gil;
    py::object out = fn->call(py::make_tuple(reading_tuple(r)));
    return out.is_none() ? false : py::cast<bool>(out);
  })};
}

// Keeps a cleanup's collector alive while its object lives: the Python side drops it from the
// object's weakref callback, and the Manager then prunes the cleanup.
struct CleanupKeeper {
  std::shared_ptr<PyRef> collect;
  void release() { collect.reset(); }
};

class Manager {
 public:
  Manager(const std::vector<Condition>& levels, const std::vector<std::string>& needs, double interval,
          const std::vector<std::string>& wake_on, const std::string& wake_scope,
          std::optional<std::uint64_t> rss_budget, const std::optional<std::string>& proc_root,
          const std::optional<std::string>& cgroup_root, bool from_environment)
      : m_manager(pointers(levels)), m_reader_options(make_options(proc_root, cgroup_root)) {
    auto needed = [&needs](const char* what) {
      return std::find(needs.begin(), needs.end(), what) != needs.end();
    };
    m_sampler_options.system_psi = needed("system");
    m_sampler_options.local_psi = needed("local");
    m_sampler_options.host = needed("host");
    m_sampler_options.local_memory = needed("local_memory");
    m_sampler_options.rss_budget = rss_budget;
    m_sampler_options.reader = m_reader_options;
    m_sampler = std::make_unique<lv::Sampler>(m_sampler_options);
    m_driver_options.interval = nanoseconds(interval);
    m_driver_options.from_environment = from_environment;
    pressure::Target wake_target = scope_or_raise(wake_scope) == lv::Scope::local
                                       ? pressure::Target::self()
                                       : pressure::Target::system();
    for (const std::string& text : wake_on)
      m_driver_options.wake_on.emplace_back(wake_target, value_or_raise(pressure::parse_trigger_spec(text)));
  }

  // kind: 0 entered, 1 left, 2 remaining, 3 normal. The handler gets (level, from, to).
  lv::Registration on(int kind, int level, py::function handler, double min_interval) {
    std::shared_ptr<PyRef> fn = hold(std::move(handler));
    lv::Handler h = [fn](const lv::Transition& t) {
      py::gil_scoped_acquire gil;  // before building the arguments
      fn->call(py::make_tuple(t.level, t.from, t.to));
    };
    py::gil_scoped_release release;
    try {
      switch (kind) {
        case 0: return m_manager.on_entered(level, std::move(h));
        case 1: return m_manager.on_left(level, std::move(h));
        case 2: return m_manager.on_remaining(level, std::move(h), nanoseconds(min_interval));
        default: return m_manager.on_normal(std::move(h));
      }
    } catch (const std::out_of_range& e) {
      py::gil_scoped_acquire gil;
      raise_error(Error(Errc::invalid_argument, e.what()));
    }
  }

  CleanupKeeper cleanup(int level, py::function collect) {
    CleanupKeeper keeper{hold(std::move(collect))};
    std::shared_ptr<PyRef> strong = keeper.collect;
    py::gil_scoped_release release;
    try {
      m_manager.cleanup_on_entered<PyRef>(level, strong, [](PyRef& fn) {
        py::gil_scoped_acquire gil;
        fn.call(py::tuple());
      });
    } catch (const std::out_of_range& e) {
      py::gil_scoped_acquire gil;
      raise_error(Error(Errc::invalid_argument, e.what()));
    }
    return keeper;
  }

  // One tick now, on the caller's thread: sample, evaluate, call handlers. Returns the level.
  int check_now() {
    py::gil_scoped_release release;
    std::lock_guard lock(m_check_mutex);  // a Sampler's readers are not shared between threads:
    if (!m_check_sampler)
      m_check_sampler = std::make_unique<lv::Sampler>(m_sampler_options);  // the loop has its own
    return m_manager.check_now(m_check_sampler->read());
  }

  int level() const { return m_manager.level(); }
  int level_count() const { return m_manager.level_count(); }
  std::uint64_t ticks() const { return m_ticks_before + (m_driver ? m_driver->ticks() : 0); }

  // Arms the interval timer and the wake-up triggers; returns their notices.
  std::vector<std::string> start() {
    if (m_monitor) raise_error(Error(Errc::invalid_argument, "this Manager is already started"));
    pressure::Result<std::vector<std::string>> notices;
    {
      py::gil_scoped_release release;
      m_monitor = std::make_unique<pressure::Monitor>(m_reader_options);
      m_driver = std::make_unique<lv::Driver>(m_manager, *m_sampler, *m_monitor, m_driver_options);
      notices = m_driver->start();
      if (!notices) close_unlocked();
    }
    return value_or_raise(std::move(notices));
  }

  // The loop, on the calling (Python) thread with the GIL released, until stop().
  void run() {
    if (!m_monitor) raise_error(Error(Errc::invalid_argument, "start() this Manager before run()"));
    pressure::Result<void> ran;
    {
      py::gil_scoped_release release;
      ran = m_monitor->run();
    }
    if (!ran) raise_error(ran.error());
  }

  // From any thread: makes run() return.
  void stop() {
    if (m_monitor) m_monitor->stop();
  }

  // After run() has returned: disarms and frees the loop.
  void close() {
    py::gil_scoped_release release;
    close_unlocked();
  }

 private:
  void close_unlocked() {
    if (m_driver) {
      m_driver->stop();
      m_ticks_before += m_driver->ticks();
    }
    m_driver.reset();
    m_monitor.reset();
  }

  lv::Manager m_manager;
  pressure::ReaderOptions m_reader_options;
  lv::SamplerOptions m_sampler_options;
  std::unique_ptr<lv::Sampler> m_sampler;  // the loop's
  std::mutex m_check_mutex;
  std::unique_ptr<lv::Sampler> m_check_sampler;  // check_now's
  lv::DriverOptions m_driver_options;
  std::unique_ptr<pressure::Monitor> m_monitor;
  std::unique_ptr<lv::Driver> m_driver;
  std::uint64_t m_ticks_before = 0;  // of the loops before this one
};

void bind_conditions(py::module_& m) {
  py::class_<Condition>(m, "Condition");
  m.def("cond_custom", &custom, py::arg("predicate"));
  m.def("cond_all_of", [](const std::vector<Condition>& c) { return Condition{lv::all_of(pointers(c))}; });
  m.def("cond_any_of", [](const std::vector<Condition>& c) { return Condition{lv::any_of(pointers(c))}; });
  m.def("cond_negate", [](const Condition& c) { return Condition{lv::negate(c.ptr)}; });
  m.def("cond_hysteresis", [](const Condition& enter, const Condition& exit) {
    return Condition{lv::hysteresis(enter.ptr, exit.ptr)};
  });
  m.def("cond_min_dwell",
        [](const Condition& c, double dwell) { return Condition{lv::min_dwell(c.ptr, nanoseconds(dwell))}; });
  m.def("cond_host_available_below",
        [](std::uint64_t bytes) { return Condition{lv::host_available_below(bytes)}; });
  m.def("cond_host_available_below_percent",
        [](double percent) { return Condition{lv::host_available_below_percent(percent)}; });
  m.def("cond_local_usage_above_percent",
        [](double percent) { return Condition{lv::local_usage_above_percent(percent)}; });
  m.def("cond_local_available_below",
        [](std::uint64_t bytes) { return Condition{lv::local_available_below(bytes)}; });
  m.def("cond_psi_average_above", [](const std::string& resource, const std::string& line,
                                     const std::string& average, double percent, const std::string& scope) {
    return Condition{lv::psi_average_above(resource_or_raise(resource), line_or_raise(line),
                                           average_or_raise(average), percent, scope_or_raise(scope))};
  });
  m.def("cond_psi_share_above", [](const std::string& resource, const std::string& line, double percent,
                                   std::optional<double> window, const std::string& scope) {
    pressure::Resource r = resource_or_raise(resource);
    pressure::Line l = line_or_raise(line);
    lv::Scope s = scope_or_raise(scope);
    if (window) return Condition{lv::psi_share_above(r, l, percent / 100.0, nanoseconds(*window), s)};
    return Condition{lv::psi_share_above(r, l, percent / 100.0, s)};
  });
}

}  // namespace

void bind_levels(py::module_& m) {
  bind_conditions(m);
  py::class_<lv::Registration>(m, "Registration")
      .def("cancel", &lv::Registration::cancel)
      .def_property_readonly("active", &lv::Registration::active);
  py::class_<CleanupKeeper>(m, "CleanupKeeper").def("release", &CleanupKeeper::release);
  py::class_<Manager>(m, "Manager")
      .def(py::init<const std::vector<Condition>&, const std::vector<std::string>&, double,
                    const std::vector<std::string>&, const std::string&, std::optional<std::uint64_t>,
                    const std::optional<std::string>&, const std::optional<std::string>&, bool>(),
           py::arg("levels"), py::arg("needs"), py::arg("interval"), py::arg("wake_on"),
           py::arg("wake_scope"), py::arg("rss_budget") = py::none(), py::arg("proc_root") = py::none(),
           py::arg("cgroup_root") = py::none(), py::arg("from_environment") = true)
      .def("on", &Manager::on, py::arg("kind"), py::arg("level"), py::arg("handler"), py::arg("min_interval"))
      .def("cleanup", &Manager::cleanup, py::arg("level"), py::arg("collect"))
      .def("check_now", &Manager::check_now)
      .def_property_readonly("level", &Manager::level)
      .def_property_readonly("level_count", &Manager::level_count)
      .def_property_readonly("ticks", &Manager::ticks)
      .def("start", &Manager::start)
      .def("run", &Manager::run)
      .def("stop", &Manager::stop)
      .def("close", &Manager::close);
}

}  // namespace pressure_py
