"""The conditions of pressure.levels: pure functions of a Reading, built over the C++
``pressure::levels`` conditions (see :mod:`pressure.levels`)."""

from __future__ import annotations

import inspect
import logging
from typing import AbstractSet, Any, Callable, FrozenSet, NamedTuple, Optional, Sequence, Tuple, Union

from . import _native
from ._errors import InvalidArgumentError
from ._tools import RESOURCES, Snapshot, _name, _seconds, _snapshot

_EINVAL = 22
_log = logging.getLogger("pressure.levels")


class HostMemory(NamedTuple):
    total: int  #: MemTotal, bytes
    available: int  #: MemAvailable, bytes


class LocalMemory(NamedTuple):
    usage: int  #: bytes: the cgroup's memory.current (or the v1 usage), or RSS
    limit: Optional[int]  #: memory.max (or memory.high), the v1 limit, rss_budget; None: none


class Reading(NamedTuple):
    """What conditions look at, taken once per tick; None where it could not be read."""

    time: float  #: time.monotonic() seconds
    system: Optional[Snapshot]  #: PSI of the whole system
    local: Optional[Snapshot]  #: PSI of this process's cgroup
    host: Optional[HostMemory]
    local_memory: Optional[LocalMemory]


class Transition(NamedTuple):
    """What a handler is called with."""

    level: int  #: the level entered, left or remained in (0: normal)
    previous: int  #: the level before this tick
    current: int  #: the level after this tick


def _reading(raw: Tuple[Any, ...]) -> Reading:
    time, system, local, host, local_memory = raw
    return Reading(time, None if system is None else _snapshot(system), None if local is None else _snapshot(local),
                   None if host is None else HostMemory(*host),
                   None if local_memory is None else LocalMemory(*local_memory))


class Condition:
    """A condition on a :class:`Reading`; build them with this module's functions. ``a & b``,
    ``a | b`` and ``~a`` are :func:`all_of`, :func:`any_of` and :func:`negate`."""

    __slots__ = ("_native", "_needs", "_text")

    def __init__(self, native: _native.Condition, needs: AbstractSet[str], text: str) -> None:
        self._native = native
        self._needs = frozenset(needs)  # what the Manager's sampler must read for it: _SOURCES
        self._text = text

    def __and__(self, other: Condition) -> Condition:
        return all_of(self, other)

    def __or__(self, other: Condition) -> Condition:
        return any_of(self, other)

    def __invert__(self) -> Condition:
        return negate(self)

    def __repr__(self) -> str:
        return self._text


# What a Reading holds, read only when a condition looks at it ("local" and "system": PSI).
_SOURCES = ("system", "local", "host", "local_memory")


def _union(conditions: Sequence[Condition]) -> FrozenSet[str]:
    return frozenset().union(*(c._needs for c in conditions))


def _condition(value: object, what: str) -> Condition:
    if not isinstance(value, Condition):
        raise TypeError(f"{what} must be a pressure.levels condition (e.g. psi_average_above(...)), "
                        f"not {type(value).__name__}")
    return value


def _percent(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a percentage (a number 0-100), not {type(value).__name__}")
    if not 0 <= value <= 100:  # also refuses nan
        raise InvalidArgumentError(_EINVAL, f"{name} must be a percentage from 0 to 100, not {value!r}")
    return float(value)


def _bytes(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of bytes, not {type(value).__name__}")
    if value < 0:
        raise InvalidArgumentError(_EINVAL, f"{name} must be >= 0 bytes, not {value}")
    return value


def _takes_one(fn: Callable[..., object]) -> bool:
    """Whether to call ``fn(arg)`` or ``fn()`` (Satella's handlers and conditions take nothing)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: give it the transition
        return True
    try:
        signature.bind(None)
        return True
    except TypeError:
        return False


def psi_average_above(resource: str, line: str, average: str, percent: float, *, scope: str = "local") -> Condition:
    """The kernel's ``average`` ("avg10", "avg60", "avg300") strictly above ``percent``, of
    this process's cgroup (``scope="local"``) or the whole system (``scope="system"``)."""
    _name(resource, "resource", RESOURCES)
    _name(line, "line", ("some", "full"))
    _name(average, "average", ("avg10", "avg60", "avg300"))
    _name(scope, "scope", ("local", "system"))
    p = _percent(percent, "percent")
    return Condition(_native.cond_psi_average_above(resource, line, average, p, scope), {scope},
                     f"psi_average_above({resource!r}, {line!r}, {average!r}, {p!r}, scope={scope!r})")


def psi_share_above(resource: str, line: str, percent: float, *, window: Optional[float] = None,
                    scope: str = "local") -> Condition:
    """The stall share above ``percent`` (0-100) from ``total``: between the previous tick and
    this one, or over the last ``window`` seconds (over what there is while the history is
    shorter). No averaging lag, unlike :func:`psi_average_above`."""
    _name(resource, "resource", RESOURCES)
    _name(line, "line", ("some", "full"))
    _name(scope, "scope", ("local", "system"))
    p = _percent(percent, "percent")
    w = None if window is None else _seconds(window, "window", allow_zero=False)
    text = f"psi_share_above({resource!r}, {line!r}, {p!r}" + ("" if w is None else f", window={w!r}")
    return Condition(_native.cond_psi_share_above(resource, line, p, w, scope), {scope}, text + f", scope={scope!r})")


def host_available_below(bytes: int) -> Condition:
    """The host's MemAvailable below ``bytes``."""
    return Condition(_native.cond_host_available_below(_bytes(bytes, "bytes")), {"host"},
                     f"host_available_below({bytes})")


def host_available_below_percent(percent: float) -> Condition:
    """The host's MemAvailable below ``percent`` of MemTotal."""
    p = _percent(percent, "percent")
    return Condition(_native.cond_host_available_below_percent(p), {"host"}, f"host_available_below_percent({p!r})")


def local_usage_above_percent(percent: float) -> Condition:
    """This process's memory at or above ``percent`` of its limit (its cgroup's, or
    ``rss_budget``); false without a limit."""
    p = _percent(percent, "percent")
    return Condition(_native.cond_local_usage_above_percent(p), {"local_memory"}, f"local_usage_above_percent({p!r})")


def local_available_below(bytes: int) -> Condition:
    """This process's limit minus its usage below ``bytes``; false without a limit."""
    return Condition(_native.cond_local_available_below(_bytes(bytes, "bytes")), {"local_memory"},
                     f"local_available_below({bytes})")


def custom(predicate: Union[Callable[[Reading], bool], Callable[[], bool]], *,
           on_error: Optional[Callable[[BaseException], None]] = None) -> Condition:
    """``predicate(reading)`` (or ``predicate()``, as Satella's CustomCondition) on every tick,
    with the GIL held; an exception makes it false and is reported to ``on_error`` (default:
    the ``pressure.levels`` logger)."""
    if not callable(predicate):
        raise TypeError(f"predicate must be callable, not {type(predicate).__name__}")
    with_reading = _takes_one(predicate)

    def call(raw: Tuple[Any, ...]) -> bool:
        try:
            return bool(predicate(_reading(raw)) if with_reading else predicate())  # type: ignore[call-arg]
        except BaseException as exc:  # noqa: B902 - reported, never into the C++ tick
            _report(on_error, exc, f"custom condition {predicate!r} raised")
            return False

    return Condition(_native.cond_custom(call), set(_SOURCES), f"custom({predicate!r})")


def all_of(*conditions: Condition) -> Condition:
    """True when every condition holds (stops at the first false one)."""
    parts = [_condition(c, "all_of's arguments") for c in conditions]
    if not parts:
        raise InvalidArgumentError(_EINVAL, "all_of needs at least one condition")
    return Condition(_native.cond_all_of([c._native for c in parts]), _union(parts), f"all_of({', '.join(map(repr, parts))})")


def any_of(*conditions: Condition) -> Condition:
    """True when one condition holds (stops at the first true one)."""
    parts = [_condition(c, "any_of's arguments") for c in conditions]
    if not parts:
        raise InvalidArgumentError(_EINVAL, "any_of needs at least one condition")
    return Condition(_native.cond_any_of([c._native for c in parts]), _union(parts), f"any_of({', '.join(map(repr, parts))})")


def negate(condition: Condition) -> Condition:
    c = _condition(condition, "negate's argument")
    return Condition(_native.cond_negate(c._native), c._needs, f"negate({c!r})")


def hysteresis(enter: Condition, exit: Condition) -> Condition:
    """True once ``enter`` holds, and stays true until ``exit`` holds."""
    a, b = _condition(enter, "enter"), _condition(exit, "exit")
    return Condition(_native.cond_hysteresis(a._native, b._native), _union([a, b]), f"hysteresis({a!r}, {b!r})")


def min_dwell(condition: Condition, seconds: float) -> Condition:
    """Once true, stays true for at least ``seconds``."""
    c = _condition(condition, "condition")
    s = _seconds(seconds, "seconds")
    return Condition(_native.cond_min_dwell(c._native, s), c._needs, f"min_dwell({c!r}, {s!r})")


def _report(on_error: Optional[Callable[[BaseException], None]], exc: BaseException, what: str) -> None:
    if on_error is not None:
        try:
            on_error(exc)
            return
        except BaseException as again:  # noqa: B902
            _log.error("on_error %r raised while reporting: %s", on_error, what, exc_info=again)
    _log.error("%s", what, exc_info=exc)


for _type in (HostMemory, LocalMemory, Reading, Transition, Condition):
    _type.__module__ = "pressure.levels"  # where users find them
