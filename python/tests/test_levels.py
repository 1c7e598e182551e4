"""pressure.levels without privileges: levels walked one at a time with handlers in order,
remaining handlers rate-limited, weak cleanups, errors reported and handlers kept, conditions
over a fake /proc, the background thread, and registering/cancelling from other threads while
it ticks."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest

import pressure
from conftest import stall_line, write_proc
from pressure import levels


class Switch:
    """Levels driven by the test: level i holds while value >= i."""

    def __init__(self) -> None:
        self.value = 0

    def level(self, n: int) -> levels.Condition:
        return levels.custom(lambda r: self.value >= n)


def manager(switch: Switch, count: int = 3, **kw: Any) -> levels.Manager:
    return levels.Manager([switch.level(i + 1) for i in range(count)], wake_on=(), **kw)


def test_levels_are_walked_one_at_a_time_with_handlers_in_order() -> None:
    s = Switch()
    m = manager(s)
    calls: List[Tuple[str, int, int, int]] = []
    for n in (1, 2, 3):
        m.on_entered(n, lambda t, n=n: calls.append(("entered", *t)))
        m.on_left(n, lambda t: calls.append(("left", *t)))
    m.on_normal(lambda t: calls.append(("normal", *t)))
    assert m.check_now() == 0 and calls == []
    s.value = 2
    assert m.check_now() == 2 and m.level == 2
    assert calls == [("entered", 1, 0, 2), ("entered", 2, 0, 2)]
    calls.clear()
    s.value = 0
    assert m.check_now() == 0
    assert calls == [("left", 2, 2, 0), ("left", 1, 2, 0), ("normal", 0, 2, 0)]


def test_remaining_handlers_are_called_no_more_often_than_asked() -> None:
    s = Switch()
    m = manager(s)
    every: List[int] = []
    limited: List[int] = []
    m.on_remaining(1, lambda t: every.append(t.level))
    m.on_remaining(1, lambda t: limited.append(t.level), call_no_more_often_than=0.3)
    s.value = 1
    m.check_now()  # entered, not remaining
    for _ in range(5):
        m.check_now()
    assert every == [1] * 5 and limited == [1]
    time.sleep(0.35)
    m.check_now()
    assert limited == [1, 1]


def test_decorators_and_handlers_without_arguments_satella_style() -> None:
    s = Switch()
    m = manager(s, count=1)
    seen: List[str] = []

    @m.on_entered(1)
    def shed() -> None:
        seen.append("shed")

    @m.on_normal()
    def back(t: levels.Transition) -> None:
        seen.append(f"normal from {t.previous}")

    assert callable(shed) and shed.__name__ == "shed"
    s.value = 1
    m.check_now()
    s.value = 0
    m.check_now()
    assert seen == ["shed", "normal from 1"]


def test_cancelled_handlers_are_not_called_and_cancel_works_inside_a_handler() -> None:
    s = Switch()
    m = manager(s, count=1)
    calls: List[str] = []
    r = m.on_remaining(0, lambda t: calls.append("r"))
    once: List[levels.Registration] = []
    once.append(m.on_remaining(0, lambda t: (calls.append("once"), once[0].cancel())))
    m.check_now()
    r.cancel()
    assert not r.active and not once[0].active
    m.check_now()
    assert calls == ["r", "once"]


class Cache:
    def __init__(self) -> None:
        self.items = list(range(1000))


def test_cleanup_holds_a_weak_reference_and_skips_collected_objects() -> None:
    s = Switch()
    m = manager(s, count=1)
    collected: List[int] = []
    kept, dropped = Cache(), Cache()
    m.cleanup_on_entered(1, kept, lambda c: (collected.append(len(c.items)), c.items.clear()))
    m.cleanup_on_entered(1, dropped, lambda c: collected.append(-1))
    del dropped
    gc.collect()
    order: List[str] = []
    m.on_entered(1, lambda t: order.append(f"handler saw {len(kept.items)}"))
    s.value = 1
    m.check_now()
    assert collected == [1000] and kept.items == [] and order == ["handler saw 1000"]  # handlers first
    with pytest.raises(TypeError, match="weak references"):
        m.cleanup_on_entered(1, {"a": 1}, lambda c: None)


def test_cleanup_never_keeps_its_object_alive() -> None:
    m = manager(Switch(), count=1)
    obj = Cache()
    m.cleanup_on_entered(1, obj, lambda c: None)
    import weakref

    ref = weakref.ref(obj)
    del obj
    gc.collect()
    assert ref() is None


def test_force_gc_collect_on_a_level() -> None:
    s = Switch()
    m = manager(s, count=2)
    m.install_force_gc_collect(2)
    runs: List[int] = []
    gc.callbacks.append(lambda phase, info: runs.append(info["generation"]) if phase == "start" else None)
    try:
        s.value = 1
        m.check_now()
        gc_at_1 = list(runs)
        s.value = 2
        m.check_now()
    finally:
        gc.callbacks.pop()
    assert 2 not in gc_at_1 and 2 in runs  # a full collection, on level 2 only


def test_a_raising_handler_is_reported_and_stays_registered() -> None:
    s = Switch()
    reported: List[Tuple[str, levels.Transition]] = []
    m = manager(s, count=1, on_error=lambda exc, t: reported.append((str(exc), t)))
    after: List[int] = []

    def bad(t: levels.Transition) -> None:
        raise RuntimeError("boom")

    m.on_entered(1, bad)
    m.on_entered(1, lambda t: after.append(t.level))
    for value in (1, 0, 1):
        s.value = value
        m.check_now()
    assert reported == [("boom", levels.Transition(1, 0, 1))] * 2 and after == [1, 1]


def test_without_on_error_the_logging_module_is_told(caplog: pytest.LogCaptureFixture) -> None:
    s = Switch()
    m = manager(s, count=1)
    m.on_entered(1, lambda: 1 / 0)
    bad_condition = levels.custom(lambda r: 1 / 0)  # type: ignore[arg-type, return-value]
    m2 = levels.Manager([bad_condition], wake_on=())
    s.value = 1
    with caplog.at_level(logging.ERROR, logger="pressure.levels"):
        m.check_now()
        assert m2.check_now() == 0  # a raising condition is false
    messages = [r.getMessage() for r in caplog.records]
    assert any("entered handler" in msg for msg in messages) and any("custom condition" in msg for msg in messages)
    assert all(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def test_conditions_compose_hysteresis_and_dwell() -> None:
    s = Switch()
    high, low = s.level(2), levels.negate(s.level(1))
    h = levels.Manager([levels.hysteresis(high, low)], wake_on=())
    steps = []
    for value in (1, 2, 1, 0, 1):
        s.value = value
        steps.append(h.check_now())
    assert steps == [0, 1, 1, 0, 0]
    both = levels.Manager([s.level(1) & ~s.level(2), s.level(2) | s.level(3)], wake_on=())
    s.value = 1
    assert both.check_now() == 1
    s.value = 2
    assert both.check_now() == 2
    dwell = levels.Manager([levels.min_dwell(s.level(1), 0.3)], wake_on=())
    s.value = 1
    assert dwell.check_now() == 1
    s.value = 0
    assert dwell.check_now() == 1
    time.sleep(0.35)
    assert dwell.check_now() == 0
    assert "hysteresis(custom(" in repr(levels.hysteresis(high, low))


def test_builtin_conditions_read_a_fake_proc(tmp_path: Path) -> None:
    proc = write_proc(tmp_path, memory=stall_line("some", "25.00", "10.00", "2.00", 100)
                      + stall_line("full", "5.00", "1.00", "0.00", 50))
    (proc / "meminfo").write_text("MemTotal:       1000000 kB\nMemFree:   10000 kB\nMemAvailable:     150000 kB\n")
    m = levels.Manager([
        levels.psi_average_above("memory", "some", "avg10", 20, scope="system"),
        levels.host_available_below_percent(20),
        levels.host_available_below(100_000 * 1024),
    ], wake_on=(), proc_root=proc)
    readings: List[levels.Reading] = []
    spy = levels.Manager([levels.custom(lambda r: readings.append(r) is None and False)], wake_on=(), proc_root=proc)
    assert m.check_now() == 2
    spy.check_now()
    r = readings[0]
    assert r.host == levels.HostMemory(1_000_000 * 1024, 150_000 * 1024)
    assert r.system is not None and r.system.memory is not None and r.system.memory.some_avg10 == 25.0


def test_the_background_thread_ticks_and_stops(tmp_path: Path) -> None:
    s = Switch()
    m = manager(s, count=1, interval=0.05)
    entered = threading.Event()
    threads: List[str] = []
    m.on_entered(1, lambda t: (threads.append(threading.current_thread().name), entered.set()))
    with m:
        assert m.running
        s.value = 1
        assert entered.wait(5)
    assert not m.running and m.level == 1 and threads == ["pressure.levels"]
    ticks = m.ticks
    time.sleep(0.2)
    assert m.ticks == ticks > 0
    m.start()  # again after a stop
    time.sleep(0.2)
    m.stop()
    assert m.ticks > ticks


def test_registering_and_cancelling_from_other_threads_while_it_ticks() -> None:
    s = Switch()
    m = manager(s, count=2, interval=0.01)
    calls = [0]
    lock = threading.Lock()

    def handler(t: levels.Transition) -> None:
        with lock:
            calls[0] += 1

    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            regs = [m.on_entered(1, handler), m.on_left(2, handler), m.on_remaining(0, handler)]
            for r in regs:
                r.cancel()

    def flip() -> None:
        while not stop.is_set():
            s.value = (s.value + 1) % 3
            time.sleep(0.003)

    workers = [threading.Thread(target=churn) for _ in range(3)] + [threading.Thread(target=flip)]
    kept = m.on_entered(2, handler)
    with m:
        for w in workers:
            w.start()
        time.sleep(1.0)
        stop.set()
        for w in workers:
            w.join()
    assert m.ticks > 10 and calls[0] > 0 and kept.active


def test_check_now_inside_its_own_tick_raises_instead_of_waiting_for_itself() -> None:
    s = Switch()
    errors: List[BaseException] = []
    m = manager(s, count=1, interval=0.02, on_error=lambda exc, t: errors.append(exc))
    m.on_entered(1, lambda t: m.check_now())
    s.value = 1
    m.check_now()
    assert len(errors) == 1 and "would wait for itself" in str(errors[0])
    s.value = 0
    m.check_now()
    s.value = 1
    with m:
        deadline = time.monotonic() + 5
        while len(errors) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(errors) == 2 and "would wait for itself" in str(errors[1])


def test_a_handler_may_stop_its_manager() -> None:
    s = Switch()
    m = manager(s, count=1, interval=0.02)
    m.on_entered(1, lambda t: m.stop())
    m.start()
    s.value = 1
    deadline = time.monotonic() + 5
    while m.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not m.running


def test_hostile_input_is_refused_naming_what_is_wrong() -> None:
    s = Switch()
    m = manager(s, count=2)
    with pytest.raises(pressure.InvalidArgumentError, match="no level 3: this Manager has levels 1..2"):
        m.on_entered(3, lambda t: None)
    with pytest.raises(pressure.InvalidArgumentError, match="no level 0"):
        m.cleanup_on_entered(0, Cache(), lambda c: None)
    with pytest.raises(TypeError, match="level must be an int"):
        m.on_left("1", lambda t: None)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="a handler must be callable"):
        m.on_entered(1, "shed")  # type: ignore[call-overload]
    with pytest.raises(pressure.InvalidArgumentError, match="call_no_more_often_than must be a finite"):
        m.on_remaining(1, lambda t: None, call_no_more_often_than=float("nan"))
    with pytest.raises(pressure.InvalidArgumentError, match="interval must be a finite number of seconds > 0"):
        levels.Manager([s.level(1)], interval=0)
    with pytest.raises(TypeError, match="level 2 must be a pressure.levels condition"):
        levels.Manager([s.level(1), "memory some avg10>10"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="levels must be a list"):
        levels.Manager(s.level(1))  # type: ignore[arg-type]
    with pytest.raises(pressure.InvalidArgumentError, match="at least one level"):
        levels.Manager([])
    with pytest.raises(pressure.InvalidArgumentError, match="needs STALL/WINDOW"):
        levels.Manager([s.level(1)], wake_on=["memory some 100ms"])
    with pytest.raises(pressure.InvalidArgumentError, match="unknown resource 'ram'"):
        levels.psi_average_above("ram", "some", "avg10", 10)
    with pytest.raises(pressure.InvalidArgumentError, match="unknown average 'avg5'"):
        levels.psi_average_above("memory", "some", "avg5", 10)
    with pytest.raises(pressure.InvalidArgumentError, match="percent must be a percentage from 0 to 100"):
        levels.psi_share_above("memory", "some", float("nan"))
    with pytest.raises(pressure.InvalidArgumentError, match="unknown scope 'host'"):
        levels.psi_share_above("memory", "some", 10, scope="host")
    with pytest.raises(pressure.InvalidArgumentError, match="bytes must be >= 0"):
        levels.host_available_below(-1)
    with pytest.raises(TypeError, match="all_of's arguments must be"):
        levels.all_of(s.level(1), True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="predicate must be callable"):
        levels.custom(3)  # type: ignore[arg-type]
    with pytest.raises(pressure.InvalidArgumentError, match="already running"):
        with m:
            m.start()


def test_the_example_cache_starts_and_stops_cleanly(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[2] / "examples" / "shedding_cache.py"
    env = dict(os.environ, PYTHONPATH=str(Path(pressure.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, str(example), "--mib", "4", "--seconds", "0.5"], capture_output=True,
                         text=True, timeout=30, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout.splitlines()[0])
    assert first["event"] == "ready" and first["cache_mib"] == 4
