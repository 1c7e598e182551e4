"""Severity levels for programs that hold droppable memory, Satella-style, over the C++
``pressure::levels``::

    from pressure import levels

    m = levels.Manager([
        levels.any_of(levels.psi_average_above("memory", "some", "avg10", 10),
                      levels.host_available_below_percent(20)),          # level 1
        levels.host_available_below_percent(10),                         # level 2
    ], interval=1.0)

    @m.on_entered(1)
    def shed(t: levels.Transition) -> None:
        cache.clear()

    m.cleanup_on_entered(2, big_cache, lambda c: c.clear())   # weak: never keeps big_cache alive
    m.install_force_gc_collect(2)
    with m:                                                   # start() ... stop()
        serve()

The current level is the highest whose condition holds (lower ones need not); levels are
walked one at a time, so going from 0 to 2 calls level 1's then level 2's entered handlers,
and back to 0 calls 2's then 1's left handlers and then the normal ones.

Conditions look at a :class:`Reading` taken once per tick: PSI of the whole system and of the
process's own cgroup, the host's MemAvailable, and the process's memory against its cgroup
limit (or RSS against ``rss_budget``). What cannot be read makes a condition false, never
true. They compose with :func:`all_of`, :func:`any_of`, :func:`negate` (also ``&``, ``|``,
``~``), :func:`hysteresis` and :func:`min_dwell`.

The Manager ticks every ``interval`` seconds and at once when a ``wake_on`` PSI trigger fires,
on a background thread that waits with the GIL released and takes it only to call Python
(handlers, custom conditions, collectors). A handler that raises is reported (to ``on_error``,
or the ``pressure.levels`` logger) and stays registered. Registering and cancelling are safe
from any thread, also from inside a handler. There is no singleton: make as many as you like.
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading
import weakref
from typing import Any, Callable, List, Optional, Sequence, Tuple, TypeVar, overload

from . import _native
from ._conditions import (Condition, HostMemory, LocalMemory, Reading, Transition, _bytes, _condition,
                          _takes_one, all_of, any_of, custom, host_available_below, host_available_below_percent,
                          hysteresis, local_available_below, local_usage_above_percent, min_dwell, negate,
                          psi_average_above, psi_share_above)
from ._errors import InvalidArgumentError
from ._tools import _name, _Path, _path, _seconds

_EINVAL = 22
_log = logging.getLogger("pressure.levels")
_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


_KINDS = {"entered": 0, "left": 1, "remaining": 2, "normal": 3}
_running: "weakref.WeakSet[Manager]" = weakref.WeakSet()
_ticking = threading.local()  # the Managers this thread is in check_now() of


class Registration:
    """A registered handler; ``cancel()`` from any thread, also inside the handler."""

    __slots__ = ("_native", "handler")

    def __init__(self, native: _native.Registration, handler: Callable[[Transition], object]) -> None:
        self._native = native
        self.handler = handler

    def cancel(self) -> None:
        self._native.cancel()

    @property
    def active(self) -> bool:
        return self._native.active


class Manager:
    """Levels 1..N from ``levels`` (level i is ``levels[i-1]``), ticking every ``interval``
    seconds and at once on each ``wake_on`` PSI trigger ("memory some 100ms/2s", the kernel's,
    or polling where it refuses one), watched on the whole system or, with
    ``wake_scope="local"``, on this process's cgroup, once started.

    ``rss_budget`` (bytes) is the limit local conditions use when the process's cgroup has
    none. ``on_error(exc, transition)`` is told of handlers and collectors that raise (default:
    the ``pressure.levels`` logger). ``proc_root``/``cgroup_root`` read another tree (tests).

    Under a service manager that sets ``$MEMORY_PRESSURE_WATCH`` (systemd's
    ``MemoryPressureWatch=``; also ``$CPU_PRESSURE_WATCH``, ``$IO_PRESSURE_WATCH``), its watch
    replaces the ``wake_on`` triggers of that resource, and ``/dev/null`` drops them, so the
    unit's ``MemoryPressureThresholdSec=`` decides when the Manager wakes. A bad value raises
    InvalidArgumentError naming the variable at ``start()``. ``from_environment=False`` ignores
    the environment.
    """

    def __init__(self, levels: Sequence[Condition], *, interval: float = 1.0,
                 wake_on: Sequence[str] = ("memory some 100ms/2s",), wake_scope: str = "system",
                 rss_budget: Optional[int] = None,
                 on_error: Optional[Callable[[BaseException, Transition], None]] = None,
                 proc_root: Optional[_Path] = None, cgroup_root: Optional[_Path] = None,
                 from_environment: bool = True) -> None:
        if isinstance(levels, Condition) or not isinstance(levels, Sequence):
            raise TypeError(f"levels must be a list of conditions, one per level, not {type(levels).__name__}")
        if not levels:
            raise InvalidArgumentError(_EINVAL, "a Manager needs at least one level")
        conditions = [_condition(c, f"level {i + 1}") for i, c in enumerate(levels)]
        seconds = _seconds(interval, "interval", allow_zero=False)
        if isinstance(wake_on, str) or not all(isinstance(s, str) for s in wake_on):
            raise TypeError("wake_on must be a list of trigger specs such as ['memory some 100ms/2s']")
        if rss_budget is not None:
            _bytes(rss_budget, "rss_budget")
        if on_error is not None and not callable(on_error):
            raise TypeError(f"on_error must be callable, not {type(on_error).__name__}")
        self.levels: Tuple[Condition, ...] = tuple(conditions)
        self._on_error = on_error
        _name(wake_scope, "wake_scope", ("local", "system"))
        # The sampler reads only what some condition looks at (a custom one: everything).
        needs = sorted(frozenset().union(*(c._needs for c in conditions)))
        self._native = _native.Manager([c._native for c in conditions], needs, seconds, list(wake_on), wake_scope,
                                       rss_budget,
                                       _path(proc_root, "proc_root"), _path(cgroup_root, "cgroup_root"),
                                       bool(from_environment))
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<pressure.levels.Manager level {self.level} of {self.level_count}, {state}>"

    @property
    def level(self) -> int:
        """The current level, 0 (normal) to level_count."""
        return self._native.level

    @property
    def level_count(self) -> int:
        return self._native.level_count

    @property
    def ticks(self) -> int:
        """Ticks of the background thread, over every start()."""
        with self._lock:  # not while the thread closes its loop
            return self._native.ticks

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    # ---- handlers ------------------------------------------------------------------------------

    def _level(self, level: object, lowest: int) -> int:
        if isinstance(level, bool) or not isinstance(level, int):
            raise TypeError(f"level must be an int, not {type(level).__name__}")
        if not lowest <= level <= self.level_count:
            raise InvalidArgumentError(_EINVAL, f"no level {level}: this Manager has levels {lowest}.."
                                                f"{self.level_count}")
        return level

    def _register(self, kind: str, level: int, handler: Callable[..., object], interval: float) -> Registration:
        if not callable(handler):
            raise TypeError(f"a handler must be callable, not {type(handler).__name__}")
        with_transition = _takes_one(handler)
        on_error = self._on_error

        def call(level: int, previous: int, current: int) -> None:
            transition = Transition(level, previous, current)
            try:
                handler(transition) if with_transition else handler()
            except BaseException as exc:  # noqa: B902 - reported; the handler stays registered
                _report_handler(on_error, exc, transition, f"{kind} handler {handler!r}")

        return Registration(self._native.on(_KINDS[kind], level, call, interval), handler)

    @overload
    def on_entered(self, level: int, handler: None = ...) -> Callable[[_F], _F]: ...
    @overload
    def on_entered(self, level: int, handler: Callable[..., object]) -> Registration: ...

    def on_entered(self, level: int, handler: Optional[Callable[..., object]] = None) -> Any:
        """``handler(transition)`` (or ``handler()``) on entering ``level`` (1..N). Without a
        handler, a decorator: ``@m.on_entered(1)``."""
        n = self._level(level, 1)
        if handler is None:
            return self._decorator("entered", n, 0.0)
        return self._register("entered", n, handler, 0.0)

    @overload
    def on_left(self, level: int, handler: None = ...) -> Callable[[_F], _F]: ...
    @overload
    def on_left(self, level: int, handler: Callable[..., object]) -> Registration: ...

    def on_left(self, level: int, handler: Optional[Callable[..., object]] = None) -> Any:
        """On leaving ``level`` (1..N) downwards."""
        n = self._level(level, 1)
        if handler is None:
            return self._decorator("left", n, 0.0)
        return self._register("left", n, handler, 0.0)

    @overload
    def on_remaining(self, level: int, handler: None = ..., *,
                     call_no_more_often_than: float = ...) -> Callable[[_F], _F]: ...
    @overload
    def on_remaining(self, level: int, handler: Callable[..., object], *,
                     call_no_more_often_than: float = ...) -> Registration: ...

    def on_remaining(self, level: int, handler: Optional[Callable[..., object]] = None, *,
                     call_no_more_often_than: float = 0.0) -> Any:
        """On ticks that stay in ``level`` (0..N), no more often than every
        ``call_no_more_often_than`` seconds (the first call goes through)."""
        n = self._level(level, 0)
        interval = _seconds(call_no_more_often_than, "call_no_more_often_than")
        if handler is None:
            return self._decorator("remaining", n, interval)
        return self._register("remaining", n, handler, interval)

    @overload
    def on_normal(self, handler: None = ...) -> Callable[[_F], _F]: ...
    @overload
    def on_normal(self, handler: Callable[..., object]) -> Registration: ...

    def on_normal(self, handler: Optional[Callable[..., object]] = None) -> Any:
        """On coming back to level 0, after the left handlers."""
        if handler is None:
            return self._decorator("normal", 0, 0.0)
        return self._register("normal", 0, handler, 0.0)

    def _decorator(self, kind: str, level: int, interval: float) -> Callable[[_F], _F]:
        def register(fn: _F) -> _F:
            self._register(kind, level, fn, interval)
            return fn

        return register

    def cleanup_on_entered(self, level: int, obj: _T, collector: Callable[[_T], object]) -> None:
        """``collector(obj)`` on entering ``level``, after its entered handlers, for as long as
        ``obj`` lives: the Manager holds only a weak reference to it, so a collected object is
        never called (and ``collector`` must not refer to ``obj`` itself)."""
        n = self._level(level, 1)
        if not callable(collector):
            raise TypeError(f"collector must be callable, not {type(collector).__name__}")
        on_error = self._on_error
        box: List[_native.CleanupKeeper] = []
        try:
            ref = weakref.ref(obj, lambda _ref: box[0].release() if box else None)
        except TypeError:
            raise TypeError(f"cleanup_on_entered needs an object that takes weak references; "
                            f"{type(obj).__name__} does not (wrap it in a class)") from None

        def collect() -> None:
            target = ref()
            if target is None:
                return
            try:
                collector(target)
            except BaseException as exc:  # noqa: B902
                _report_handler(on_error, exc, Transition(n, n - 1, n), f"collector {collector!r}")

        box.append(self._native.cleanup(n, collect))

    def install_force_gc_collect(self, level: int = 1) -> Registration:
        """A full ``gc.collect()`` on entering ``level``."""
        return self.on_entered(self._level(level, 1), lambda _t: gc.collect())

    # ---- ticking -------------------------------------------------------------------------------

    def check_now(self) -> int:
        """One tick now on this thread: read, evaluate, call the handlers. Returns the level.
        Not from inside this Manager's own tick (a handler or condition): that would wait for
        itself, so it raises instead."""
        ticking = _ticking.__dict__.setdefault("managers", set())
        if id(self) in ticking or threading.current_thread() is self._thread:
            raise InvalidArgumentError(_EINVAL, "check_now() from inside this Manager's own tick (a handler or a "
                                                "condition) would wait for itself")
        ticking.add(id(self))
        try:
            return self._native.check_now()
        finally:
            ticking.discard(id(self))

    def start(self) -> List[str]:
        """Starts the background thread; returns the triggers' notices (e.g. a window rounded
        up to the unprivileged 2 s)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise InvalidArgumentError(_EINVAL, "this Manager is already running")
            notices = self._native.start()
            self._thread = threading.Thread(target=self._run, name="pressure.levels", daemon=True)
            _running.add(self)
            self._thread.start()
        return notices

    def _run(self) -> None:
        try:
            self._native.run()
        except BaseException as exc:  # noqa: B902
            _log.error("pressure.levels loop stopped", exc_info=exc)
        finally:
            with self._lock:
                self._native.close()

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stops the background thread and waits for it (not when called from a handler)."""
        with self._lock:
            thread = self._thread
            self._native.stop()
        _running.discard(self)
        if thread is not None and thread is not threading.current_thread():
            thread.join(None if timeout is None else _seconds(timeout, "timeout"))

    def __enter__(self) -> Manager:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _report_handler(on_error: Optional[Callable[[BaseException, Transition], None]], exc: BaseException,
                    transition: Transition, what: str) -> None:
    if on_error is not None:
        try:
            on_error(exc, transition)
            return
        except BaseException as again:  # noqa: B902
            _log.error("on_error %r raised", on_error, exc_info=again)
    _log.error("%s raised on %s", what, transition, exc_info=exc)


@atexit.register
def _stop_all() -> None:
    # A daemon thread taking the GIL while the interpreter finalises would be torn down inside
    # C++ frames; stop every loop first.
    for manager in list(_running):
        manager.stop(timeout=5.0)


__all__ = [
    "Manager", "Registration", "Condition", "Reading", "Transition", "HostMemory", "LocalMemory",
    "psi_average_above", "psi_share_above", "host_available_below", "host_available_below_percent",
    "local_usage_above_percent", "local_available_below", "custom", "all_of", "any_of", "negate",
    "hysteresis", "min_dwell",
]
