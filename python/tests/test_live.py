"""The real kernel: values agree with the C++ CLI's JSON, a cgroup made by the test, watch
firing under real CPU pressure (more spinners than cores) in that cgroup, and a removed group.
With CI set these fail instead of skipping when they cannot run (not root, no PSI, no cgroup2)."""

from __future__ import annotations

import errno
import os
import time
from typing import Callable, Dict, Optional, Tuple

import pytest

import pressure
from conftest import RESOURCES, TestCgroup, cgroup2_mount, cli_json

pytestmark = pytest.mark.live
FIELDS = ("avg10", "avg60", "avg300")


def spinners(group: TestCgroup) -> None:
    for _ in range(max(4, 2 * (os.cpu_count() or 2))):
        assert group.spawn_spinner() > 0


def read_all(**target: object) -> Dict[str, Optional[pressure.spressure]]:
    out: Dict[str, Optional[pressure.spressure]] = {}
    for resource in RESOURCES:
        try:
            out[resource] = getattr(pressure, f"pressure_{resource}")(**target)
        except pressure.UnavailableError:
            out[resource] = None
    return out


def agree_with_cli(cli_args: Tuple[str, ...], **target: object) -> None:
    """before <= CLI <= after for every total; every CLI average is the one read before or
    after (the kernel updates them every 2 s). Retried if the machine was too slow."""
    for attempt in range(3):
        start = time.monotonic()
        before = read_all(**target)
        cli = cli_json(*cli_args)
        after = read_all(**target)
        if time.monotonic() - start < 1.0:
            break
    for resource in RESOURCES:
        if cli[resource] is None:
            assert before[resource] is None and after[resource] is None, resource
            assert resource in cli["unavailable"]
            with pytest.raises(pressure.UnavailableError) as caught:
                getattr(pressure, f"pressure_{resource}")(**target)
            assert caught.value.strerror == cli["unavailable"][resource]
            continue
        b, a = before[resource], after[resource]
        assert b is not None and a is not None
        for line in ("some", "full"):
            if cli[resource][line] is None:
                assert getattr(b, f"{line}_total") is None and getattr(a, f"{line}_total") is None
                continue
            total = cli[resource][line]["total_us"]
            assert getattr(b, f"{line}_total") <= total <= getattr(a, f"{line}_total"), (resource, line)
            for field in FIELDS:
                value = cli[resource][line][field]
                assert value in (getattr(b, f"{line}_{field}"), getattr(a, f"{line}_{field}")), (resource, line, field)


def test_system_values_agree_with_the_cli_json(live: None) -> None:
    agree_with_cli(())


def test_cgroup_values_agree_with_the_cli_json(test_cgroup: TestCgroup) -> None:
    spinners(test_cgroup)
    time.sleep(0.5)
    agree_with_cli(("--cgroup", test_cgroup.path), cgroup=test_cgroup.path)
    cpu = pressure.pressure_cpu(cgroup=test_cgroup.path)
    assert cpu.some_total is not None and cpu.some_total > 0  # its own spinners wait for CPU
    # The absolute path under the mount and pid= name the same group.
    by_dir = pressure.pressure_cpu(cgroup=test_cgroup.dir)
    by_pid = pressure.pressure_cpu(pid=test_cgroup.children[0].pid)
    after = pressure.pressure_cpu(cgroup=test_cgroup.path)
    assert cpu.some_total <= by_dir.some_total <= by_pid.some_total <= after.some_total


def test_a_missing_cgroup_is_not_found(live: None) -> None:
    path = f"/pressure-test-py-missing-{os.getpid()}"
    with pytest.raises(FileNotFoundError) as caught:
        pressure.pressure_memory(cgroup=path)
    assert isinstance(caught.value, pressure.NotFoundError)
    assert caught.value.errno == errno.ENOENT and caught.value.filename == f"{cgroup2_mount()}{path}"


def wait_for_event(spec: str, group: TestCgroup, mode: str) -> Tuple[pressure.PressureEvent, pressure.Watcher, int]:
    before = pressure.pressure_cpu(cgroup=group.path).some_total
    assert before is not None
    w = pressure.watch(spec, cgroup=group.path, mode=mode, timeout=40)
    spinners(group)
    event = next(w, None)
    assert event is not None, f"no event for {spec} ({w.armed}) within 40 s"
    return event, w, before


@pytest.mark.parametrize("mode", ["auto", "polling"])
def test_watch_fires_under_real_cpu_pressure(test_cgroup: TestCgroup, mode: str) -> None:
    event, w, before = wait_for_event("cpu some 20%/2s", test_cgroup, mode)
    after = pressure.pressure_cpu(cgroup=test_cgroup.path).some_total
    assert (event.resource, event.line, event.target) == ("cpu", "some", test_cgroup.path)
    assert event.stall_us == 400_000 and event.window_us == 2_000_000
    assert event.mode == ("polling" if mode == "polling" else w.armed[0][1])
    assert event.observed_stall_us > 0 and 0 < event.share <= 100.0
    assert after is not None and after - before >= event.stall_us  # the group really stalled that much
    w.close()


def test_a_removed_cgroup_ends_the_watch_with_gone(test_cgroup: TestCgroup) -> None:
    w = pressure.watch("cpu some 50%/2s", cgroup=test_cgroup.path, timeout=30)
    test_cgroup.remove()
    with pytest.raises(pressure.GoneError) as caught:
        next(w)
    assert test_cgroup.path in str(caught.value)
    assert w.closed
