"""The one-shot tools of the pressure module (Linux): admission, snapshots and stall shares,
cgroup scans, the decay prediction and waiting until pressure has ended.

Every call that waits releases the GIL; the prediction's sample and wait_until_ended wake every
100 ms for signals, so Ctrl-C interrupts them.
"""

from __future__ import annotations

import math
import operator
import os
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _native
from ._errors import InvalidArgumentError

_Path = Union[str, "os.PathLike[str]"]
_Thresholds = Union[Mapping[str, float], str, None]
_EINVAL = 22
RESOURCES = ("cpu", "memory", "io", "irq")


class spressure(NamedTuple):  # re-exported by the package; defined here to avoid a cycle
    """One pressure file: averages in percent (float), totals in microseconds (int).

    ``some``: at least one task stalled; ``full``: all non-idle tasks stalled at once. A line
    the kernel does not print is None in all four of its fields.
    """

    some_avg10: Optional[float]
    some_avg60: Optional[float]
    some_avg300: Optional[float]
    some_total: Optional[int]
    full_avg10: Optional[float]
    full_avg60: Optional[float]
    full_avg300: Optional[float]
    full_total: Optional[int]


class Snapshot(NamedTuple):
    """Every resource of one target, read at once: :func:`snapshot`, :func:`scan_cgroups`."""

    target: str  #: "system", or the cgroup path relative to the mount ("/batch.slice")
    time: float  #: seconds since the epoch
    monotonic: float  #: time.monotonic() seconds, for windows between snapshots
    cpu: Optional[spressure]  #: None where the kernel does not provide the resource ...
    memory: Optional[spressure]
    io: Optional[spressure]
    irq: Optional[spressure]
    unavailable: Dict[str, str]  #: ... and here why: {"irq": "..."}


class Admission(NamedTuple):
    """What :func:`admit` answers: the same as ``pressure admit``."""

    admitted: bool
    reason: str  #: "admitted: memory full avg10=0.00%" or "refused: cpu some 2s=35.20% is not <20%"
    measured: Dict[str, Optional[float]]  #: condition as given -> measured percent (None: unknown)


class Prediction(NamedTuple):
    """When the kernel's averages will have decayed below thresholds, if no new stall comes:
    what ``pressure predict`` prints for one line. Seconds are None when ``never``."""

    estimate: Optional[float]  #: seconds, for the typical phase of the kernel's 2 s clock
    earliest: Optional[float]  #: seconds, the bounds over that unknown phase
    latest: Optional[float]
    never: bool  #: the stall still accruing keeps an average at or above its threshold
    below_now: bool  #: every listed average is below its threshold already
    stall_now: Optional[float]  #: percent of the sample stalled (None: the counter was reset)
    updates_min: int  #: kernel updates (every ~2 s) until below
    updates_max: int


def _path(value: Optional[_Path], name: str) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, not {type(value).__name__}")
    return os.fsdecode(value)


def _pid(pid: Optional[int]) -> Optional[int]:
    if pid is None:
        return None
    if isinstance(pid, bool) or not hasattr(type(pid), "__index__"):
        raise TypeError(f"pid must be an int, not {type(pid).__name__}")
    return operator.index(pid)


def _seconds(value: object, name: str, *, allow_zero: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not (0 <= seconds < math.inf) or (not allow_zero and seconds == 0):  # also refuses nan
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidArgumentError(_EINVAL, f"{name} must be a finite number of seconds {bound}, not {value!r}")
    return seconds


def _name(value: object, name: str, allowed: Tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str ({', '.join(allowed)}), not {type(value).__name__}")
    if value not in allowed:
        raise InvalidArgumentError(_EINVAL, f"unknown {name} {value!r} ({', '.join(allowed)})")
    return value


def _thresholds(thresholds: _Thresholds) -> Optional[str]:
    """{"avg10": 1.0} -> "avg10=1.0" for the C++ parser, which names what is wrong in it."""
    if thresholds is None or isinstance(thresholds, str):
        return thresholds
    if not isinstance(thresholds, Mapping):
        raise TypeError(f"thresholds must be a dict such as {{'avg10': 1.0}}, not {type(thresholds).__name__}")
    if not thresholds:
        raise InvalidArgumentError(_EINVAL, "thresholds is empty (e.g. {'avg10': 0.01, 'avg60': 0.03})")
    items = []
    for key, value in thresholds.items():
        _name(key, "average", ("avg10", "avg60", "avg300"))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"thresholds[{key!r}] must be a percentage, not {type(value).__name__}")
        if not 0 < value <= 100:  # also refuses nan
            raise InvalidArgumentError(_EINVAL, f"thresholds[{key!r}] must be > 0 and <= 100, not {value!r}")
        items.append(f"{key}={value!r}")
    return ",".join(items)


def _snapshot(raw: Tuple[Any, ...]) -> Snapshot:
    target, time, monotonic, cpu, memory, io, irq, unavailable = raw
    parts = [None if p is None else tuple.__new__(spressure, p) for p in (cpu, memory, io, irq)]
    return tuple.__new__(Snapshot, (target, time, monotonic, *parts, unavailable))


def snapshot(*, cgroup: Optional[_Path] = None, pid: Optional[int] = None, proc_root: Optional[_Path] = None,
             cgroup_root: Optional[_Path] = None) -> Snapshot:
    """Every resource of the system, a cgroup or a process's cgroup, read at once, with the
    time. A resource the kernel does not provide (irq before 6.1) is None and said in
    ``unavailable``; any other error raises."""
    return _snapshot(_native.snapshot(_path(cgroup, "cgroup"), _pid(pid), _path(proc_root, "proc_root"),
                                      _path(cgroup_root, "cgroup_root")))


def stall_share(before: Snapshot, after: Snapshot, resource: str, line: str) -> Optional[float]:
    """The percentage (0-100, like the averages) of the time between two snapshots of one
    target that ``line`` of ``resource`` was stalled, from the ``total`` counters: no 2 s steps,
    no averaging lag. None when the line is absent or the counter went back (the cgroup was
    made anew)."""
    for value, name in ((before, "before"), (after, "after")):
        if not isinstance(value, Snapshot):
            raise TypeError(f"{name} must be a pressure.Snapshot, not {type(value).__name__}")
    _name(resource, "resource", RESOURCES)
    _name(line, "line", ("some", "full"))
    if before.target != after.target:
        raise InvalidArgumentError(_EINVAL, f"the snapshots are of different targets: {before.target!r} "
                                            f"and {after.target!r}")
    elapsed_ns = round((after.monotonic - before.monotonic) * 1e9)
    if elapsed_ns <= 0:
        raise InvalidArgumentError(_EINVAL, "after was not taken after before "
                                            f"({after.monotonic:.6f} <= {before.monotonic:.6f})")
    b, a = getattr(before, resource), getattr(after, resource)
    total_before = None if b is None else getattr(b, f"{line}_total")
    total_after = None if a is None else getattr(a, f"{line}_total")
    if total_before is None or total_after is None:
        return None
    share = _native.share(total_before, total_after, elapsed_ns)
    return None if math.isnan(share) else share


def scan_cgroups(under: _Path = "/", *, recursive: bool = False, include_self: bool = False,
                 proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> List[Tuple[str, Snapshot]]:
    """``(path, snapshot)`` for every cgroup below ``under`` (children only, or the whole
    subtree with ``recursive``; ``under`` itself too with ``include_self``), paths relative to
    the cgroup2 mount ("/batch.slice/job1"). A group removed during the scan is left out; what
    cannot be read in a group (PSI switched off in it) is None, with the reason in
    ``unavailable``: one group never fails the scan."""
    under_text = _path(under, "under")
    assert under_text is not None
    return [(path, _snapshot(raw)) for path, raw in
            _native.scan(under_text, bool(recursive), bool(include_self), _path(proc_root, "proc_root"),
                         _path(cgroup_root, "cgroup_root"))]


def admit(condition: str, *conditions: str, cgroup: Optional[_Path] = None, pid: Optional[int] = None,
          proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> Admission:
    """"May I start more work here?": admitted when every condition holds, with the same
    syntax and the same answers as ``pressure admit``::

        pressure.admit("memory full avg10<10", "cpu some 2s<20%", cgroup="vms.slice")

    A condition is ``<resource> <some|full> <avg10|avg60|avg300|DURATION><op><percent>``, op
    one of ``< <= > >=``; a DURATION ("2s", "500ms") is the stall share over that long, so the
    call sleeps for the longest one (GIL released; Ctrl-C interrupts it). A bad condition raises
    InvalidArgumentError (a ValueError) naming the part at fault.
    """
    texts = (condition, *conditions)
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"a condition must be a str such as 'memory full avg10<10', not {type(text).__name__}")
    admitted, reason, measured = _native.admit(list(texts), _path(cgroup, "cgroup"), _pid(pid),
                                               _path(proc_root, "proc_root"), _path(cgroup_root, "cgroup_root"))
    values = {text: (None if math.isnan(value) else value) for text, value in zip(texts, measured)}
    return Admission(admitted, reason, values)


def time_until_below(resource: str = "memory", line: str = "full", thresholds: _Thresholds = None, *,
                     cgroup: Optional[_Path] = None, pid: Optional[int] = None, sample: float = 1.0,
                     proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None) -> Prediction:
    """When ``line`` of ``resource``'s averages will all be below ``thresholds`` ({"avg10":
    1.0, "avg60": 5.0}, each strictly below; default avg10 < 0.01 and avg60 < 0.03), if no new
    stall comes: ``pressure predict``. Watches ``total`` for ``sample`` seconds first (GIL
    released) for stall still accruing, which may keep an average up for ever (``never``)."""
    _name(resource, "resource", RESOURCES)
    _name(line, "line", ("some", "full"))
    text = _thresholds(thresholds)
    seconds = _seconds(sample, "sample", allow_zero=False)
    raw = _native.predict(resource, line, text, seconds, _path(cgroup, "cgroup"), _pid(pid),
                          _path(proc_root, "proc_root"), _path(cgroup_root, "cgroup_root"))
    return tuple.__new__(Prediction, raw)


def wait_until_ended(resource: str = "memory", line: str = "full", thresholds: _Thresholds = None, *,
                     quiet: float = 10.0, timeout: Optional[float] = None, cgroup: Optional[_Path] = None,
                     pid: Optional[int] = None, proc_root: Optional[_Path] = None,
                     cgroup_root: Optional[_Path] = None) -> bool:
    """Sleeps until pressure has ended: ``total`` has not moved for ``quiet`` seconds and
    every average is below its threshold (default avg10 < 0.01 and avg60 < 0.03). True then,
    False if ``timeout`` seconds pass first. It looks only when the kernel's decay says it can
    be true (a look or two if no new stall comes), with the GIL released; Ctrl-C interrupts it.
    The case it is for: give memory back to a VM once the squeeze is over."""
    _name(resource, "resource", RESOURCES)
    _name(line, "line", ("some", "full"))
    text = _thresholds(thresholds)
    quiet_s = _seconds(quiet, "quiet")
    timeout_s = None if timeout is None else _seconds(timeout, "timeout")
    return bool(_native.wait_ended(resource, line, text, quiet_s, timeout_s, _path(cgroup, "cgroup"), _pid(pid),
                                   _path(proc_root, "proc_root"), _path(cgroup_root, "cgroup_root")))
