#!/usr/bin/env python3
"""pressure.levels and pressure.admit against the hand-written Python they replace, in one run.

    PYTHONPATH=build/python /usr/bin/python3 python/bench/levels_bench.py [--calls N] [--repeat R]
                                                                         [--latency-ticks T]

Peers (medians of R interleaved repeats of N calls; ratios against the hand-written loop):
  tick-levels   Manager.check_now(): the C++ Sampler and Manager, two levels over memory PSI
                (system avg10) and MemAvailable, handlers on entering and leaving
  tick-python   a Python polling loop deciding the same: reads /proc/pressure/memory and
                /proc/meminfo, parses them, compares, tracks the level, calls handlers
  admit         pressure.admit("memory full avg10<10")
  admit-seed    the seed's approach: /proc/pressure/memory read and parsed in Python, full avg10
                compared (psutil proposal's snippet, the Linux half of its 80 lines)
Latency: tick -> Python code on the background thread (interval 20 ms): from the Reading's
time (taken by the C++ Sampler) to a custom condition running with the GIL (the hand-over a
handler takes too), while the main thread is
idle and while it spins in Python (then the handler waits for the GIL's 5 ms switch interval).
Trigger: a Manager woken only by a system-wide PSI trigger ("cpu some 100ms/2s", interval 1 h)
beside pressure.watch() on the same spec; from each event's time as the library reports it to
Python running on the Manager's thread for the tick it woke. With root, spinners in a cgroup of
the bench's own make the pressure (killed and removed after); without, the machine's load must.
Never fails on times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import timeit
from pathlib import Path
from typing import Callable, Dict, List

import pressure
from pressure import levels

WARN_AVG10, WARN_AVAILABLE = 10.0, 20.0  # level 1: memory some avg10 > 10 or < 20 % available
CRITICAL_AVG10 = 40.0  # level 2: memory full avg10 > 40


def manager() -> levels.Manager:
    m = levels.Manager([
        levels.psi_average_above("memory", "some", "avg10", WARN_AVG10, scope="system")
        | levels.host_available_below_percent(WARN_AVAILABLE),
        levels.psi_average_above("memory", "full", "avg10", CRITICAL_AVG10, scope="system"),
    ], wake_on=())
    m.on_entered(1, lambda t: None)
    m.on_left(1, lambda t: None)
    return m


class HandWritten:
    """What a program without the module writes: the same two levels, polled."""

    def __init__(self) -> None:
        self.level = 0
        self.entered: Dict[int, List[Callable[[int], None]]] = {1: [lambda n: None], 2: []}
        self.left: Dict[int, List[Callable[[int], None]]] = {1: [lambda n: None], 2: []}

    def psi(self) -> Dict[str, float]:
        out = {}
        for line in Path("/proc/pressure/memory").read_text().splitlines():
            name, *tokens = line.split()
            for token in tokens:
                key, _, value = token.partition("=")
                if key == "avg10":
                    out[name] = float(value)
        return out

    def available_percent(self) -> float:
        fields = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                fields[key] = int(rest.split()[0])
        return 100.0 * fields["MemAvailable"] / fields["MemTotal"]

    def tick(self) -> int:
        psi = self.psi()
        target = 0
        if psi.get("some", 0.0) > WARN_AVG10 or self.available_percent() < WARN_AVAILABLE:
            target = 1
        if psi.get("full", 0.0) > CRITICAL_AVG10:
            target = 2
        while self.level < target:
            self.level += 1
            for fn in self.entered[self.level]:
                fn(self.level)
        while self.level > target:
            for fn in self.left[self.level]:
                fn(self.level)
            self.level -= 1
        return self.level


def seed_admit() -> bool:
    content = Path("/proc/pressure/memory").read_text()
    pressure_pct = 0.0
    for line in content.splitlines():
        if line.startswith("full "):
            for token in line.split():
                if token.startswith("avg10="):
                    pressure_pct = float(token[6:])
    return pressure_pct < 10


def latency(ticks: int, busy: bool) -> List[float]:
    """Milliseconds from each Reading's time to its handler running."""
    out: List[float] = []
    done = threading.Event()

    def condition(r: levels.Reading) -> bool:
        out.append((time.monotonic() - r.time) * 1000.0)
        if len(out) >= ticks:
            done.set()
        return False

    m = levels.Manager([levels.custom(condition)], interval=0.02, wake_on=())
    with m:
        deadline = time.monotonic() + ticks * 0.2 + 10
        while not done.is_set() and time.monotonic() < deadline:
            if busy:
                sum(range(10000))  # pure Python, holding the GIL between switch intervals
            else:
                done.wait(0.05)
    return out


def squeeze(seconds: float) -> Callable[[], None]:
    """CPU pressure for the trigger trial: spinners this process starts in a cgroup of its own
    (root and a writable cgroup2 only; else the machine's own load has to do). Returns the
    cleanup, which kills only those spinners and removes only that group."""
    mount = next((line.split(" - ")[0].split()[4] for line in open("/proc/self/mountinfo")
                  if line.partition(" - ")[2].split()[:1] == ["cgroup2"]), None)
    if os.geteuid() != 0 or mount is None:
        return lambda: None
    group = os.path.join(mount, f"pressure-bench-py-{os.getpid()}")
    os.mkdir(group)

    def join() -> None:
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write("0")

    import subprocess

    spinners = [subprocess.Popen([sys.executable, "-c", f"import time\nend = time.time() + {seconds + 5}\n"
                                  "while time.time() < end: pass"], preexec_fn=join)
                for _ in range(2 * (os.cpu_count() or 2))]

    def cleanup() -> None:
        for p in spinners:
            p.kill()
        for p in spinners:
            p.wait()
        for _ in range(250):
            try:
                os.rmdir(group)
                return
            except OSError:
                time.sleep(0.02)

    return cleanup


def trigger_latency(seconds: float, spec: str) -> List[float]:
    """Milliseconds from a PSI trigger event, as pressure.watch() sees it (the library's event
    time), to Python running on the Manager's thread for the tick that event woke (interval 1 h:
    only triggers wake it). Both watch the same system-wide spec."""
    events: List[float] = []
    ticks: List[float] = []
    m = levels.Manager([levels.custom(lambda: ticks.append(time.time()) is None and False)], interval=3600.0,
                       wake_on=[spec], wake_scope="system")
    cleanup = squeeze(seconds)
    try:
        with m:
            for ev in pressure.watch(spec, timeout=seconds):
                events.append(ev.time)
    finally:
        cleanup()
    out = []
    for t in ticks:
        before = [e for e in events if e <= t]
        if before and t - before[-1] < 0.5:
            out.append((t - before[-1]) * 1000.0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="pressure.levels and admit against hand-written Python")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--latency-ticks", type=int, default=100)
    parser.add_argument("--trigger-seconds", type=float, default=20.0, help="0: no trigger trial")
    args = parser.parse_args()
    if min(args.calls, args.repeat, args.latency_ticks) <= 0:
        parser.error("--calls, --repeat and --latency-ticks must be positive")
    if not os.access("/proc/pressure/memory", os.R_OK):
        print("levels_bench: no /proc/pressure/memory (PSI off); nothing to measure", file=sys.stderr)
        return 1

    m, hand = manager(), HandWritten()
    assert m.check_now() == hand.tick(), "the two loops decide differently"
    assert pressure.admit("memory full avg10<10").admitted == seed_admit()
    peers: Dict[str, Callable[[], object]] = {
        "tick-levels": m.check_now,
        "tick-python": hand.tick,
        "admit": lambda: pressure.admit("memory full avg10<10"),
        "admit-seed": seed_admit,
    }
    times: Dict[str, List[float]] = {name: [] for name in peers}
    for _ in range(args.repeat):
        for name, fn in peers.items():
            times[name].append(timeit.timeit(fn, number=args.calls))
    us = {name: statistics.median(t) / args.calls * 1e6 for name, t in times.items()}

    print(f"python {sys.version.split()[0]}, {args.calls} calls x {args.repeat} repeats, median us per call")
    for name, value in us.items():
        print(f"  {name:<12} {value:8.1f} us")
    print(f"ratio tick-python/tick-levels={us['tick-python'] / us['tick-levels']:.2f} "
          f"admit/admit-seed={us['admit'] / us['admit-seed']:.2f}")
    for busy in (False, True):
        ms = sorted(latency(args.latency_ticks, busy))
        if not ms:
            print("latency: no ticks measured")
            continue
        p50, p99 = ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(f"tick->handler latency, main thread {'spinning' if busy else 'idle'}: "
              f"p50={p50:.3f} ms p99={p99:.3f} ms max={ms[-1]:.3f} ms ({len(ms)} ticks)")
    if args.trigger_seconds > 0:
        spec = "cpu some 100ms/2s"  # a multiple of 2 s: armed without CAP_SYS_RESOURCE too
        ms = sorted(trigger_latency(args.trigger_seconds, spec))
        if not ms:
            print(f"trigger->handler latency: no '{spec}' events in {args.trigger_seconds} s (no CPU pressure?)")
        else:
            p50, p99 = ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            print(f"trigger->handler latency ({spec}, system): p50={p50:.3f} ms p99={p99:.3f} ms "
                  f"max={ms[-1]:.3f} ms ({len(ms)} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
