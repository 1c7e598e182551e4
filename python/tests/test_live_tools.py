"""The toolkit against the real kernel, in cgroups the tests make: admission refused under real
CPU load and admitted when idle (as `pressure admit` answers), scan_cgroups seeing the groups
made, the prediction met by wait_until_ended after a real squeeze, and pressure.levels entered
and left in a process of the group, handlers in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from typing import List

import pytest

import pressure
from conftest import CLI, TestCgroup
from test_live import spinners

pytestmark = pytest.mark.live
WINDOW = "cpu some 1s<50%"


def cli_admit(group: TestCgroup) -> int:
    return subprocess.run([str(CLI), "admit", "--cgroup", group.path, WINDOW], capture_output=True).returncode


def test_admission_is_refused_under_real_cpu_load_and_admitted_when_idle(test_cgroup: TestCgroup) -> None:
    idle = pressure.admit(WINDOW, "cpu some avg10<=100", cgroup=test_cgroup.path)
    assert idle.admitted and idle.measured[WINDOW] == 0.0, idle
    assert cli_admit(test_cgroup) == 0
    spinners(test_cgroup)
    time.sleep(0.3)
    busy = pressure.admit(WINDOW, cgroup=test_cgroup.path)
    assert not busy.admitted and busy.reason.startswith("refused: cpu some 1s=")
    measured = busy.measured[WINDOW]
    assert measured is not None and measured >= 50
    assert cli_admit(test_cgroup) == 1


def test_scan_cgroups_sees_the_groups_the_test_made(test_cgroup: TestCgroup) -> None:
    made = [os.path.join(test_cgroup.dir, "a"), os.path.join(test_cgroup.dir, "a", "b"),
            os.path.join(test_cgroup.dir, "c")]
    try:
        for d in made:
            os.mkdir(d)
        children = [p for p, _ in pressure.scan_cgroups(test_cgroup.path)]
        assert sorted(children) == [test_cgroup.path + "/a", test_cgroup.path + "/c"]
        tree = dict(pressure.scan_cgroups(test_cgroup.path, recursive=True, include_self=True))
        assert set(tree) == {test_cgroup.path, test_cgroup.path + "/a", test_cgroup.path + "/a/b",
                             test_cgroup.path + "/c"}
        snap = tree[test_cgroup.path + "/a/b"]
        assert snap.target == test_cgroup.path + "/a/b" and snap.cpu is not None and snap.cpu.some_total == 0
        everything = [p for p, _ in pressure.scan_cgroups("/", recursive=True)]
        assert test_cgroup.path + "/a/b" in everything
    finally:
        for d in reversed(made):
            if os.path.isdir(d):
                os.rmdir(d)


def test_wait_until_ended_meets_the_prediction_after_a_real_squeeze(test_cgroup: TestCgroup) -> None:
    spinners(test_cgroup)
    deadline = time.monotonic() + 40
    while (pressure.pressure_cpu(cgroup=test_cgroup.path).some_avg10 or 0) < 60:
        assert time.monotonic() < deadline, "cpu some avg10 of the group never reached 60 %"
        time.sleep(0.5)
    test_cgroup.kill_all()
    before = pressure.snapshot(cgroup=test_cgroup.path)
    prediction = pressure.time_until_below("cpu", "some", {"avg10": 30}, cgroup=test_cgroup.path, sample=0.3)
    assert not prediction.never and prediction.stall_now == 0.0
    assert prediction.earliest is not None and prediction.latest is not None
    start = time.monotonic()
    assert pressure.wait_until_ended("cpu", "some", {"avg10": 30}, quiet=1.0, timeout=60, cgroup=test_cgroup.path)
    took = time.monotonic() - start
    assert prediction.earliest - 1.0 <= took <= prediction.latest + 1.0 + 3.0, (prediction, took)
    after = pressure.snapshot(cgroup=test_cgroup.path)
    assert after.cpu is not None and after.cpu.some_avg10 is not None and after.cpu.some_avg10 < 30
    share = pressure.stall_share(before, after, "cpu", "some")
    assert share is not None and share < 5


LEVELS_CHILD = textwrap.dedent("""
    import json, sys, threading
    from pressure import levels
    out = sys.stdout
    lock = threading.Lock()
    def say(*what):
        with lock:
            out.write(json.dumps(what) + "\\n"); out.flush()
    m = levels.Manager([levels.psi_share_above("cpu", "some", 50),
                        levels.psi_share_above("cpu", "some", 50, window=2.0)], interval=0.25)
    for n in (1, 2):
        m.on_entered(n, lambda t: say("entered", *t))
        m.on_left(n, lambda t: say("left", *t))
    m.on_normal(lambda t: say("normal", *t))
    class Cache: pass
    kept, dropped = Cache(), Cache()
    m.cleanup_on_entered(1, kept, lambda c: say("cleanup", "kept"))
    m.cleanup_on_entered(1, dropped, lambda c: say("cleanup", "dropped"))
    del dropped
    import gc; gc.collect()
    with m:
        say("ready")
        sys.stdin.readline()
""")


def test_levels_entered_and_left_under_a_real_squeeze(test_cgroup: TestCgroup) -> None:
    env = dict(os.environ)
    child = subprocess.Popen([sys.executable, "-c", LEVELS_CHILD], preexec_fn=test_cgroup._join, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    test_cgroup.children.append(child)
    assert child.stdout is not None and child.stdin is not None
    lines: List[list] = []

    def read_until(*wanted: str) -> None:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, f"the child ended early after {lines}"
            lines.append(json.loads(line))
            if tuple(lines[-1][:2]) == wanted or tuple(lines[-1][:1]) == wanted:
                return
        pytest.fail(f"no {wanted} within 40 s: {lines}")

    read_until("ready")
    spinners(test_cgroup)
    read_until("entered", 2)
    for spinner in test_cgroup.children[1:]:
        spinner.kill()
        spinner.wait()
    read_until("normal")
    events = [tuple(e) for e in lines[1:]]
    assert events[:3] == [("entered", 1, 0, 1), ("cleanup", "kept"), ("entered", 2, 1, 2)] \
        or events[:3] == [("entered", 1, 0, 2), ("cleanup", "kept"), ("entered", 2, 0, 2)], events
    assert ("cleanup", "dropped") not in events
    downs = [e for e in events if e[0] in ("left", "normal")]
    assert [e[:2] for e in downs[-3:]] == [("left", 2), ("left", 1), ("normal", 0)], events
    child.stdin.write("\n")
    child.stdin.flush()
    assert child.wait(10) == 0
