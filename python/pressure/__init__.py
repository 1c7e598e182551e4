"""Resource pressure, psutil-style, over the pressure C++ library.

Linux (PSI, kernel 4.20+ with CONFIG_PSI=y)::

    >>> import pressure
    >>> pressure.pressure_memory()
    spressure(some_avg10=0.5, some_avg60=0.3, some_avg300=0.15, some_total=123456,
              full_avg10=0.1, full_avg60=0.05, full_avg300=0.02, full_total=45678)
    >>> pressure.pressure_cpu(cgroup="batch.slice")       # or pid=1234
    >>> for ev in pressure.watch("memory full 100ms/2s", timeout=10): ...

``pressure_cpu()``, ``pressure_memory()``, ``pressure_io()`` and ``pressure_irq()`` return an
:class:`spressure`: the kernel's averages over 10 s, 60 s and 300 s as float percentages
(its two-decimal values, 0-100) and ``total``, the cumulative stall in microseconds (int). A
line the kernel does not print is ``None``, never 0: cpu ``full`` before 5.13, irq ``some``
always. ``cgroup=`` takes a path relative to the cgroup2 mount (``"batch.slice"``, ``"/"``) or
an absolute path under it; ``pid=`` reads that process's cgroup. ``proc_root=`` and
``cgroup_root=`` read another tree (as the CLI's ``--proc-root`` / ``--cgroup-root``).

:func:`watch` arms kernel PSI triggers (falling back to polling ``total`` with the kernel's
rule where the kernel refuses one) and yields a :class:`PressureEvent` within the window in
which the stall happened. The GIL is released while it waits; Ctrl-C interrupts it.

:func:`memory_pressure_level` gives a :class:`MemoryPressureLevel`: on macOS the kernel's own
level (``kern.memorystatus_vm_pressure_level``); on Linux one derived from memory PSI:
CRITICAL when ``full_avg10 >= 10`` (every non-idle task stalled on memory at least 10 % of the
last 10 s: thrashing), WARN when ``some_avg10 >= 10``, else NORMAL.

macOS has no stall times, only that level: there ``pressure_memory()`` maps it as psutil's
proposal does (some_avg10 0 / 50 / 100 for NORMAL / WARN / CRITICAL, every other field None),
and ``pressure_cpu``, ``pressure_io``, ``pressure_irq`` and ``watch`` are absent. On other
platforms the kernel reports no resource pressure at all, so every reading function is absent
(psutil's convention: ``hasattr(pressure, "pressure_memory")`` is False, and the
AttributeError says why). :data:`PLATFORM` says which case this is.

Linux also has the toolkit of the CLI: :func:`admit` (``pressure admit``'s gate, an
:class:`Admission`), :func:`snapshot` and :func:`stall_share` (every resource at once; the stall
share between two snapshots), :func:`scan_cgroups`, :func:`time_until_below` (``pressure
predict``, a :class:`Prediction`) and :func:`wait_until_ended`; and :mod:`pressure.levels`,
severity levels with handlers for programs holding droppable memory (Satella-style).

Errors are :class:`Error` (an :class:`OSError` with ``errno`` and ``filename``) subclasses:
:class:`NotFoundError` (also a FileNotFoundError), :class:`PermissionDeniedError` (also a
PermissionError), :class:`InvalidArgumentError` (also a ValueError; a bad spec or path),
:class:`UnsupportedError`, :class:`UnavailableError`, :class:`GoneError`,
:class:`MalformedError`.
"""

from __future__ import annotations

import enum
import os
import threading as _threading
import time as _time
import types as _types
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple, Union

from . import _native
from . import _tools
from ._tools import Admission, Prediction, Snapshot, spressure
from ._errors import (
    Error,
    GoneError,
    InvalidArgumentError,
    MalformedError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    UnsupportedError,
)

#: The C++ library's version: one number, set in CMakeLists.txt's project(VERSION).
__version__: str = _native.version()

#: "linux" (PSI), "darwin" (a memory level only) or "unsupported" (no pressure at all).
PLATFORM: str = _native.platform()

_Path = Union[str, "os.PathLike[str]"]


class MemoryPressureLevel(enum.IntEnum):
    """The macOS dispatch levels (NOTE_MEMORYSTATUS_PRESSURE_*), also derived on Linux."""

    NORMAL = 1
    WARN = 2
    CRITICAL = 4


class PressureEvent(NamedTuple):
    """One trigger event of :func:`watch`."""

    spec: str  #: the spec as armed, e.g. "cpu some 400ms/2s" (a window may be rounded up)
    resource: str  #: "cpu", "memory", "io" or "irq"
    line: str  #: "some" or "full"
    target: str  #: "system" or the cgroup path ("/batch.slice")
    time: float  #: seconds since the epoch
    stall_us: int  #: the spec's stall ...
    window_us: int  #: ... within this window
    observed_stall_us: Optional[int]  #: the stall `total` showed over observed_window_us
    observed_window_us: Optional[int]  #: polling: the last window; kernel: since the previous event
    share: Optional[float]  #: observed stall in percent of observed_window_us
    mode: str  #: "kernel", "polling", or "relayed" (the service manager's socket or FIFO)
    #: a watch from the environment: its variable ("MEMORY_PRESSURE_WATCH"); such a watch
    #: measures nothing, so the observed fields are None. None for a spec's watch.
    variable: Optional[str]


#: Linux-derived memory_pressure_level(): thresholds on memory PSI avg10, in percent.
LINUX_WARN_SOME_AVG10 = 10.0
LINUX_CRITICAL_FULL_AVG10 = 10.0

_new = tuple.__new__
_read = _native.read


# One check of path and pid arguments for the whole package (wrong types get a sentence).
_fspath = _tools._path
_pid = _tools._pid


def _timeout(timeout: Optional[float]) -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if not 0 <= timeout < float("inf"):  # also refuses nan
        raise InvalidArgumentError(22, f"timeout must be a finite number of seconds >= 0, not {timeout}")
    return float(timeout)


def _linux_level(memory: spressure) -> MemoryPressureLevel:
    if memory.full_avg10 is not None and memory.full_avg10 >= LINUX_CRITICAL_FULL_AVG10:
        return MemoryPressureLevel.CRITICAL
    if memory.some_avg10 is not None and memory.some_avg10 >= LINUX_WARN_SOME_AVG10:
        return MemoryPressureLevel.WARN
    return MemoryPressureLevel.NORMAL


class Watcher:
    """The iterator :func:`watch` returns. Iterating yields :class:`PressureEvent`; it ends
    at the timeout, and raises GoneError when a watched cgroup is removed. close() (also on
    leaving a ``with`` block, or when the object is collected) disarms every trigger."""

    def __init__(self, native: _native.Watch, timeout: Optional[float]) -> None:
        self._native = native
        self._deadline = None if timeout is None else _time.monotonic() + timeout
        self._iterating = _threading.Lock()

    @property
    def armed(self) -> List[Tuple[str, str, str]]:
        """(spec as armed, "kernel" or "polling", notice) for every spec."""
        return self._native.armed()

    @property
    def closed(self) -> bool:
        return self._native.closed

    def close(self) -> None:
        self._native.close()

    def __iter__(self) -> "Watcher":
        return self

    def __next__(self) -> PressureEvent:
        # One iterator, one consumer: a second thread would take the first one's events (and end
        # its loop as if the timeout had come). Refused loudly instead.
        if not self._iterating.acquire(blocking=False):
            raise InvalidArgumentError(
                22, "this Watcher is being iterated in another thread; give each thread its own watch()")
        try:
            return self._next()
        finally:
            self._iterating.release()

    def _next(self) -> PressureEvent:
        if self._native.closed:
            raise StopIteration
        remaining = None
        if self._deadline is not None:
            remaining = max(0.0, self._deadline - _time.monotonic())
        try:
            event = self._native.next(remaining)
        except BaseException:
            self._native.close()
            raise
        if event is None:
            self._native.close()
            raise StopIteration
        return _new(PressureEvent, event)

    def __enter__(self) -> "Watcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _darwin_api(sysctl: Optional[Callable[[str], int]] = None) -> _types.SimpleNamespace:
    """The macOS functions, reading the level through ``sysctl(name) -> int`` if given (for
    tests: the same C++ mapping as on a Mac, fed by Python)."""

    def memory_pressure_level() -> MemoryPressureLevel:
        """The kernel's level: kern.memorystatus_vm_pressure_level."""
        return MemoryPressureLevel[_native.memory_level(sysctl).upper()]

    def pressure_memory(*, cgroup: Optional[_Path] = None, pid: Optional[int] = None,
                        proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> spressure:
        """The level as psutil's proposal maps it: some_avg10 0 / 50 / 100, the rest None."""
        if cgroup is not None or pid is not None or proc_root is not None or cgroup_root is not None:
            raise UnsupportedError(95, "macOS reports memory pressure only for the whole system")
        level = memory_pressure_level()
        avg10 = {MemoryPressureLevel.NORMAL: 0.0, MemoryPressureLevel.WARN: 50.0,
                 MemoryPressureLevel.CRITICAL: 100.0}[level]
        return spressure(avg10, None, None, None, None, None, None, None)

    return _types.SimpleNamespace(pressure_memory=pressure_memory, memory_pressure_level=memory_pressure_level)


def cgroup_identity(path: _Path) -> Dict[str, Union[str, bool]]:
    """What a cgroup path names, as ``pressure show --json`` gives it under "identity"::

        pressure.cgroup_identity("/system.slice/docker-3f2a...scope")
        # {'kind': 'container', 'name': 'docker 3f2a9c1e8b7d', 'unit': 'docker-3f2a...scope',
        #  'runtime': 'docker', 'container_id': '3f2a...'}

    ``kind`` (root, unit, pod, container, other) and ``name`` (short, for a column) always;
    unit, user, session, runtime, container_id, pod_uid, qos_class where the path says them;
    ``conmon: True`` for podman's and CRI-O's monitor next to a container. A pure function of
    the path (relative to the cgroup2 mount, as :func:`scan_cgroups` gives it): nothing is read.
    """
    text = _fspath(path, "path")
    assert text is not None
    fields, conmon = _native.identify(text)
    out: Dict[str, Union[str, bool]] = dict(fields)
    if conmon:
        out["conmon"] = True
    return out


for _type in (spressure, Snapshot, Admission, Prediction):
    _type.__module__ = __name__

__all__ = [
    "PLATFORM", "spressure", "Snapshot", "Admission", "Prediction", "MemoryPressureLevel", "PressureEvent",
    "Watcher",
    "LINUX_WARN_SOME_AVG10", "LINUX_CRITICAL_FULL_AVG10",
    "Error", "UnsupportedError", "UnavailableError", "NotFoundError", "GoneError",
    "PermissionDeniedError", "MalformedError", "InvalidArgumentError", "cgroup_identity",
]

if PLATFORM == "linux":

    def pressure_cpu(*, cgroup: Optional[_Path] = None, pid: Optional[int] = None,
                     proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> spressure:
        """CPU pressure: /proc/pressure/cpu, or the cgroup's cpu.pressure. ``full`` is None
        before kernel 5.13 (and all zero for the whole system after it)."""
        if cgroup is None and proc_root is None and cgroup_root is None:
            return _new(spressure, _read("cpu", None, _pid(pid), None, None))
        return _new(spressure, _read("cpu", _fspath(cgroup, "cgroup"), _pid(pid), _fspath(proc_root, "proc_root"),
                                     _fspath(cgroup_root, "cgroup_root")))

    def pressure_memory(*, cgroup: Optional[_Path] = None, pid: Optional[int] = None,
                        proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> spressure:
        """Memory pressure: /proc/pressure/memory, or the cgroup's memory.pressure."""
        if cgroup is None and proc_root is None and cgroup_root is None:
            return _new(spressure, _read("memory", None, _pid(pid), None, None))
        return _new(spressure, _read("memory", _fspath(cgroup, "cgroup"), _pid(pid), _fspath(proc_root, "proc_root"),
                                     _fspath(cgroup_root, "cgroup_root")))

    def pressure_io(*, cgroup: Optional[_Path] = None, pid: Optional[int] = None,
                    proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> spressure:
        """I/O pressure: /proc/pressure/io, or the cgroup's io.pressure."""
        if cgroup is None and proc_root is None and cgroup_root is None:
            return _new(spressure, _read("io", None, _pid(pid), None, None))
        return _new(spressure, _read("io", _fspath(cgroup, "cgroup"), _pid(pid), _fspath(proc_root, "proc_root"),
                                     _fspath(cgroup_root, "cgroup_root")))

    def pressure_irq(*, cgroup: Optional[_Path] = None, pid: Optional[int] = None,
                     proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> spressure:
        """IRQ pressure (kernel 6.1+ with CONFIG_IRQ_TIME_ACCOUNTING; UnavailableError
        without): only ``full``, ``some`` is always None."""
        return _new(spressure, _read("irq", _fspath(cgroup, "cgroup"), _pid(pid), _fspath(proc_root, "proc_root"),
                                     _fspath(cgroup_root, "cgroup_root")))

    def memory_pressure_level(*, cgroup: Optional[_Path] = None, pid: Optional[int] = None,
                              proc_root: Optional[_Path] = None,
                              cgroup_root: Optional[_Path] = None) -> MemoryPressureLevel:
        """Linux-derived level from memory PSI: CRITICAL when full_avg10 >= 10, WARN when
        some_avg10 >= 10, else NORMAL (see LINUX_*_AVG10)."""
        return _linux_level(pressure_memory(cgroup=cgroup, pid=pid, proc_root=proc_root, cgroup_root=cgroup_root))

    def watch(spec: str, *specs: str, timeout: Optional[float] = None, cgroup: Optional[_Path] = None,
              pid: Optional[int] = None, mode: str = "auto", strict_window: bool = False,
              proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None,
              from_environment: bool = True) -> Watcher:
        """Watch for stalls: ``for ev in watch("memory full 100ms/2s", timeout=10): ...``.

        A spec is "<resource> <some|full> <stall>/<window>" (stall in us, ms, s or % of the
        window; 500ms <= window <= 10s). Without CAP_SYS_RESOURCE the kernel takes only windows
        that are multiples of 2 s; others are rounded up with the same share (``Watcher.armed``
        says so) unless ``strict_window`` refuses them. ``mode`` is "auto", "kernel" or
        "polling". Iteration ends after ``timeout`` seconds; a bad spec raises
        InvalidArgumentError (a ValueError) here, at the call.

        Under a service manager that sets ``$MEMORY_PRESSURE_WATCH`` (systemd's
        ``MemoryPressureWatch=``; likewise ``$CPU_PRESSURE_WATCH``, ``$IO_PRESSURE_WATCH``), the
        watch it names (a pressure file with the trigger of ``$..._PRESSURE_WRITE``, a socket or
        a FIFO) replaces the specs of that resource and ``/dev/null`` drops them; the specs stay
        the default where the variable is unset. Such events have ``variable`` set and the
        observed fields None. ``from_environment=False`` ignores the environment.
        """
        timeout = _timeout(timeout)
        for text in (spec, *specs):
            if not isinstance(text, str):
                raise TypeError(f"a spec must be a str such as 'memory full 100ms/2s', not {type(text).__name__}")
        if not isinstance(mode, str):
            raise TypeError(f"mode must be 'auto', 'kernel' or 'polling', not {type(mode).__name__}")
        native = _native.Watch([spec, *specs], _fspath(cgroup, "cgroup"), _pid(pid), mode, bool(strict_window),
                               _fspath(proc_root, "proc_root"), _fspath(cgroup_root, "cgroup_root"),
                               bool(from_environment))
        return Watcher(native, timeout)

    from ._tools import admit, scan_cgroups, snapshot, stall_share, time_until_below, wait_until_ended

    __all__ += ["pressure_cpu", "pressure_memory", "pressure_io", "pressure_irq", "memory_pressure_level",
                "watch", "admit", "snapshot", "stall_share", "scan_cgroups", "time_until_below",
                "wait_until_ended"]

elif PLATFORM == "darwin":
    _darwin = _darwin_api()
    pressure_memory = _darwin.pressure_memory
    memory_pressure_level = _darwin.memory_pressure_level
    __all__ += ["pressure_memory", "memory_pressure_level"]

_ABSENT = ("pressure_cpu", "pressure_memory", "pressure_io", "pressure_irq", "memory_pressure_level", "watch",
           "admit", "snapshot", "stall_share", "scan_cgroups", "time_until_below", "wait_until_ended")


def __getattr__(name: str) -> object:
    # Only reached for names the module does not have: say why a reading function is absent.
    if name in _ABSENT:
        raise AttributeError(f"module 'pressure' has no attribute '{name}' on this platform: "
                             f"{_native.psi_missing_reason()}")
    raise AttributeError(f"module 'pressure' has no attribute '{name}'")
