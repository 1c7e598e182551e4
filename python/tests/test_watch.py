"""watch() over pressure files the test writes (a tree of plain files: the Monitor polls
`total` with the kernel's rule): events, the timeout, closing on break and on collection,
Ctrl-C while waiting, and errors at the call. No privileges needed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

import pressure
from conftest import BUILD_DIR, stall_line, write_proc


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class GrowingTotal:
    """Rewrites <proc>/pressure/cpu every 50 ms with `total` growing `rate` of the time."""

    def __init__(self, root: Path, rate: float) -> None:
        self.path = root / "pressure" / "cpu"
        self.rate = rate
        self.total = 1000
        self.stop = threading.Event()
        self.write()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def write(self) -> None:
        text = stall_line("some", "0.00", "0.00", "0.00", self.total) + stall_line("full", "0.00", "0.00", "0.00", 0)
        with open(self.path, "r+" if self.path.exists() else "w") as f:
            f.write(text)
            f.truncate()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.total += int(50_000 * self.rate)
            self.write()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


@pytest.fixture
def growing(tmp_path: Path) -> Iterator[GrowingTotal]:
    write_proc(tmp_path)
    g = GrowingTotal(tmp_path, 0.5)
    try:
        yield g
    finally:
        g.close()


def test_events_from_a_polled_file(growing: GrowingTotal, tmp_path: Path) -> None:
    w = pressure.watch("cpu some 20%/1s", proc_root=tmp_path, timeout=15)
    assert [(spec, mode) for spec, mode, _ in w.armed] == [("cpu some 200ms/1s", "polling")]
    event = next(w)
    assert type(event) is pressure.PressureEvent
    assert (event.resource, event.line, event.target, event.mode) == ("cpu", "some", "system", "polling")
    assert event.stall_us == 200_000 and event.window_us == 1_000_000
    assert event.observed_stall_us >= event.stall_us
    assert 0 < event.observed_window_us <= 1_100_000
    assert event.share == pytest.approx(100.0 * event.observed_stall_us / event.observed_window_us, rel=1e-4)
    assert abs(event.time - time.time()) < 5
    w.close()
    assert w.closed
    with pytest.raises(StopIteration):
        next(w)


def test_timeout_ends_the_iteration_without_events(tmp_path: Path) -> None:
    write_proc(tmp_path, memory=stall_line("some", "0.00", "0.00", "0.00", 5))
    start = time.monotonic()
    events = list(pressure.watch("memory some 100ms/1s", proc_root=tmp_path, timeout=0.6))
    elapsed = time.monotonic() - start
    assert events == [] and 0.6 <= elapsed < 3


def test_break_and_collection_close_the_monitor(growing: GrowingTotal, tmp_path: Path) -> None:
    before = open_fds()
    w = pressure.watch("cpu some 20%/1s", proc_root=tmp_path, timeout=15)
    assert open_fds() > before  # epoll, timers, the pressure file
    del w
    assert open_fds() == before  # collected: every descriptor closed
    for event in pressure.watch("cpu some 20%/1s", proc_root=tmp_path, timeout=15):
        assert event.resource == "cpu"
        break
    assert open_fds() == before  # the loop's iterator was dropped on break
    with pressure.watch("cpu some 20%/1s", proc_root=tmp_path, timeout=15) as w:
        next(w)
    assert w.closed and open_fds() == before


def test_errors_come_at_the_call_not_at_the_first_iteration(tmp_path: Path) -> None:
    write_proc(tmp_path, cpu=stall_line("some", "0.00", "0.00", "0.00", 5))
    for bad in ("cpu sometimes 1s/2s", "cpu some 3s/2s", "irq some 1s/2s", "cpu some 1s/20s", ""):
        with pytest.raises(pressure.InvalidArgumentError) as caught:
            pressure.watch(bad, proc_root=tmp_path)
        assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError):
        pressure.watch("cpu some 1s/2s", proc_root=tmp_path, mode="sometimes")
    with pytest.raises(ValueError):
        pressure.watch("cpu some 1s/2s", proc_root=tmp_path, timeout=-1)
    with pytest.raises(pressure.InvalidArgumentError) as caught:
        pressure.watch("cpu some 100ms/1s", proc_root=tmp_path, mode="polling", strict_window=True, cgroup="/", pid=1)
    with pytest.raises(pressure.NotFoundError):
        pressure.watch("cpu some 100ms/2s", cgroup="nowhere", cgroup_root=tmp_path)
    # A resource this tree does not have.
    with pytest.raises(pressure.UnavailableError):
        pressure.watch("memory some 100ms/2s", proc_root=tmp_path)


def test_ctrl_c_interrupts_a_waiting_watch(tmp_path: Path) -> None:
    write_proc(tmp_path, memory=stall_line("some", "0.00", "0.00", "0.00", 5))
    code = (
        "import sys, pressure\n"
        "w = pressure.watch('memory some 1s/10s', proc_root=sys.argv[1])\n"
        "print('armed', flush=True)\n"
        "try:\n"
        "    for ev in w: print('event', ev, flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', w.closed, flush=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(BUILD_DIR / "python"))
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env,
                             cwd=tmp_path)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "armed"
        time.sleep(0.3)  # inside next(), the GIL released
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=10)
        assert time.monotonic() - sent < 2
        assert out.strip() == "interrupted True"
        assert child.returncode == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_other_threads_run_while_watch_waits(tmp_path: Path) -> None:
    write_proc(tmp_path, memory=stall_line("some", "0.00", "0.00", "0.00", 5))
    ticks = []
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        list(pressure.watch("memory some 1s/10s", proc_root=tmp_path, timeout=1.0))
    finally:
        stop.set()
        thread.join()
    assert len(ticks) > 100  # the GIL was free for about a second


def test_close_from_another_thread_ends_a_waiting_iteration(tmp_path: Path) -> None:
    write_proc(tmp_path, memory=stall_line("some", "0.00", "0.00", "0.00", 5))
    before = open_fds()
    w = pressure.watch("memory some 1s/10s", proc_root=tmp_path, timeout=30)
    timer = threading.Timer(0.3, w.close)
    timer.start()
    start = time.monotonic()
    try:
        assert list(w) == []
    finally:
        timer.join()
    assert time.monotonic() - start < 2 and w.closed
    assert open_fds() == before
    results = []
    w2 = pressure.watch("memory some 1s/10s", proc_root=tmp_path, timeout=1.0)
    t = threading.Thread(target=lambda: results.append(list(w2)))
    started = time.monotonic()
    t.start()
    time.sleep(0.2)
    with pytest.raises(pressure.InvalidArgumentError) as caught:  # one waiter at a time
        next(w2)
    assert "another thread" in str(caught.value)
    assert not w2.closed  # the refusal leaves the first thread's watch alone ...
    t.join()
    assert results == [[]] and time.monotonic() - started >= 0.9  # ... which runs to its own timeout


def test_absurd_timeouts_and_wrong_types_are_refused_at_the_call(tmp_path: Path) -> None:
    write_proc(tmp_path, cpu=stall_line("some", "0.00", "0.00", "0.00", 5))
    for timeout in (float("nan"), float("inf"), -1):
        with pytest.raises(pressure.InvalidArgumentError) as caught:
            pressure.watch("cpu some 1s/2s", proc_root=tmp_path, timeout=timeout)
        assert "finite number of seconds" in str(caught.value)
    for kwargs, message in (({"timeout": "10"}, "timeout must be a number of seconds, not str"),
                            ({"timeout": True}, "not bool"),
                            ({"pid": True}, "pid must be an int, not bool"),
                            ({"mode": 1}, "mode must be")):
        with pytest.raises(TypeError) as type_error:
            pressure.watch("cpu some 1s/2s", proc_root=tmp_path, **kwargs)
        assert message in str(type_error.value)
    with pytest.raises(TypeError) as spec_error:
        pressure.watch(b"cpu some 1s/2s", proc_root=tmp_path)  # type: ignore[arg-type]
    assert "a spec must be a str" in str(spec_error.value)
