"""The one-shot tools over fixture trees and pressure files written by the test: snapshot,
stall_share, scan_cgroups, admit, time_until_below and wait_until_ended, the same answers as
the CLI, and hostile input refused with an exception naming what is wrong."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import pressure
from conftest import CLI, FIXTURES, stall_line, write_proc

K513 = FIXTURES / "kernel-5.13"
TREE = FIXTURES / "cgroup-tree"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True)


def busy_proc(root: Path, avg10: str = "40.00", total: int = 9_000_000) -> Path:
    line = stall_line("some", avg10, "20.00", "5.00", total) + stall_line("full", avg10, "20.00", "5.00", total)
    return write_proc(root, cpu=line, memory=line, io=line)


# ---- snapshot and stall_share ------------------------------------------------------------------

def test_snapshot_has_every_resource_with_its_time_and_says_what_is_missing() -> None:
    before = time.time()
    s = pressure.snapshot(proc_root=K513)
    assert isinstance(s, pressure.Snapshot) and s.target == "system"
    assert before - 1 <= s.time <= time.time() + 1
    assert abs(s.monotonic - time.monotonic()) < 5
    assert s.memory == pressure.pressure_memory(proc_root=K513)
    assert s.cpu == pressure.pressure_cpu(proc_root=K513)
    assert s.irq is None and "irq" in s.unavailable and "irq" in s.unavailable["irq"]


def test_snapshot_of_a_cgroup_names_it() -> None:
    s = pressure.snapshot(cgroup="batch.slice/job-1.scope", cgroup_root=TREE)
    assert s.target == "/batch.slice/job-1.scope"
    assert s.cpu is not None and s.cpu.full_total == 1_000_000


def test_stall_share_is_the_percentage_of_the_time_between_snapshots(tmp_path: Path) -> None:
    write_proc(tmp_path, memory=stall_line("some", "0.00", "0.00", "0.00", 1_000_000)
               + stall_line("full", "0.00", "0.00", "0.00", 500_000))
    before = pressure.snapshot(proc_root=tmp_path)
    write_proc(tmp_path, memory=stall_line("some", "0.00", "0.00", "0.00", 1_250_000)
               + stall_line("full", "0.00", "0.00", "0.00", 500_000))
    after = pressure.snapshot(proc_root=tmp_path)._replace(monotonic=before.monotonic + 1.0)
    assert pressure.stall_share(before, after, "memory", "some") == pytest.approx(25.0)
    assert pressure.stall_share(before, after, "memory", "full") == 0.0
    # Absent line, absent resource, counter gone back: unknown, never a number.
    assert pressure.stall_share(before, after, "cpu", "some") is None
    assert pressure.stall_share(after, after._replace(monotonic=after.monotonic + 1,
                                                      memory=before.memory), "memory", "some") is None


def test_stall_share_refuses_what_makes_no_sense() -> None:
    s = pressure.snapshot(proc_root=K513)
    later = s._replace(monotonic=s.monotonic + 1)
    with pytest.raises(TypeError, match="before must be a pressure.Snapshot"):
        pressure.stall_share(tuple(s), later, "memory", "some")  # type: ignore[arg-type]
    with pytest.raises(pressure.InvalidArgumentError, match="unknown resource 'disk'"):
        pressure.stall_share(s, later, "disk", "some")
    with pytest.raises(pressure.InvalidArgumentError, match="unknown line 'half'"):
        pressure.stall_share(s, later, "memory", "half")
    with pytest.raises(pressure.InvalidArgumentError, match="not taken after"):
        pressure.stall_share(later, s, "memory", "some")
    with pytest.raises(pressure.InvalidArgumentError, match="different targets"):
        pressure.stall_share(s, later._replace(target="/a"), "memory", "some")


# ---- scan_cgroups -------------------------------------------------------------------------------

def test_scan_cgroups_children_and_subtree_one_unreadable_group_never_failing_the_scan() -> None:
    children = dict(pressure.scan_cgroups("/", cgroup_root=TREE))
    assert set(children) == {"/batch.slice", "/system.slice", "/psi-off.slice"}
    off = children["/psi-off.slice"]
    assert off.cpu is None and off.memory is None and set(off.unavailable) == {"cpu", "memory", "io", "irq"}
    tree = pressure.scan_cgroups("/batch.slice", recursive=True, include_self=True, cgroup_root=TREE)
    assert [p for p, _ in tree] == ["/batch.slice", "/batch.slice/job-1.scope"]
    job = tree[1][1]
    assert job.target == "/batch.slice/job-1.scope" and job.cpu is not None and job.cpu.full_total == 1_000_000
    with pytest.raises(pressure.NotFoundError):
        pressure.scan_cgroups("/nope", cgroup_root=TREE)
    with pytest.raises(TypeError, match="under must be a str"):
        pressure.scan_cgroups(3, cgroup_root=TREE)  # type: ignore[arg-type]


# ---- admit --------------------------------------------------------------------------------------

def test_admit_answers_as_the_cli_does(tmp_path: Path) -> None:
    busy = busy_proc(tmp_path)
    for root, conditions in ((K513, ("memory full avg10<10", "cpu some avg60<=1")),
                             (busy, ("memory full avg10<10", "cpu some avg60<=1")),
                             (busy, ("io some avg300>1",))):
        a = pressure.admit(*conditions, proc_root=root)
        assert isinstance(a, pressure.Admission)
        out = cli("--proc-root", str(root), "admit", "--json", *conditions)
        expected = json.loads(out.stdout)
        assert (a.admitted, a.reason, a.measured) == (expected["admitted"], expected["reason"], expected["measured"])
        assert out.returncode == (0 if a.admitted else 1)
    refused = pressure.admit("memory full avg10<10", proc_root=busy)
    assert not refused.admitted and refused.reason == "refused: memory full avg10=40.00% is not <10%"


def test_admit_a_window_sleeps_for_it_and_measures_the_share(tmp_path: Path) -> None:
    busy_proc(tmp_path)
    start = time.monotonic()
    a = pressure.admit("memory some 300ms<20%", proc_root=tmp_path)
    assert time.monotonic() - start >= 0.29
    assert a.admitted and a.measured == {"memory some 300ms<20%": 0.0}  # the files did not move


def test_ctrl_c_interrupts_an_admission_window(tmp_path: Path) -> None:
    busy_proc(tmp_path)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        pressure.admit("memory some 30s<20%", proc_root=tmp_path)
    assert time.monotonic() - start < 1.5


def test_admit_refuses_bad_conditions_naming_the_part() -> None:
    with pytest.raises(pressure.InvalidArgumentError) as e:
        pressure.admit("memory full avg11<10", proc_root=K513)
    assert "avg11" in str(e.value)
    with pytest.raises(ValueError, match="disk"):
        pressure.admit("disk full avg10<10", proc_root=K513)
    with pytest.raises(TypeError, match="a condition must be a str"):
        pressure.admit(10)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pressure.admit()  # type: ignore[call-arg]
    with pytest.raises(pressure.InvalidArgumentError, match="either cgroup= or pid="):
        pressure.admit("memory full avg10<10", cgroup="a", pid=1)


# ---- time_until_below and wait_until_ended ------------------------------------------------------

def test_time_until_below_is_what_pressure_predict_prints(tmp_path: Path) -> None:
    busy_proc(tmp_path)
    p = pressure.time_until_below("memory", "some", {"avg10": 1.0, "avg60": 5.0}, proc_root=tmp_path, sample=0.05)
    assert isinstance(p, pressure.Prediction)
    out = cli("--proc-root", str(tmp_path), "predict", "--json", "--below", "avg10=1.0,avg60=5.0",
              "--sample", "0.05")
    expected = json.loads(out.stdout)["memory"]["some"]
    assert not p.never and not p.below_now and p.stall_now == 0.0
    assert p.estimate is not None and p.earliest is not None and p.latest is not None
    assert round(p.estimate, 1) == expected["seconds"]
    assert (round(p.earliest, 1), round(p.latest, 1)) == (expected["seconds_min"], expected["seconds_max"])
    assert (p.updates_min, p.updates_max) == (expected["updates_min"], expected["updates_max"])
    assert p.earliest <= p.estimate <= p.latest
    below = pressure.time_until_below("memory", "some", "avg10=50", proc_root=tmp_path, sample=0.01)
    assert below.below_now and below.estimate == 0.0


def test_time_until_below_says_never_while_stall_keeps_accruing(tmp_path: Path) -> None:
    busy_proc(tmp_path, total=1_000_000)

    def grow() -> None:  # 50 % of the sample stalled
        time.sleep(0.1)
        busy_proc(tmp_path, total=1_000_000 + 100_000)

    t = threading.Thread(target=grow)
    t.start()
    p = pressure.time_until_below("memory", "some", {"avg10": 1.0}, proc_root=tmp_path, sample=0.2)
    t.join()
    assert p.never and p.estimate is None and p.stall_now is not None and p.stall_now > 10


def test_wait_until_ended_returns_at_once_when_over_and_false_at_the_timeout(tmp_path: Path) -> None:
    quiet = write_proc(tmp_path / "quiet", memory=stall_line("some", "0.00", "0.00", "0.00", 5)
                       + stall_line("full", "0.00", "0.00", "0.00", 5))
    start = time.monotonic()
    assert pressure.wait_until_ended(quiet=0, proc_root=quiet) is True
    assert time.monotonic() - start < 0.5
    busy = busy_proc(tmp_path / "busy")
    start = time.monotonic()
    assert pressure.wait_until_ended("memory", "some", timeout=0.3, proc_root=busy) is False
    assert 0.29 <= time.monotonic() - start < 2


def test_ctrl_c_interrupts_wait_until_ended(tmp_path: Path) -> None:
    busy = busy_proc(tmp_path)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        pressure.wait_until_ended("memory", "full", proc_root=busy)
    assert time.monotonic() - start < 1.5


def test_waits_refuse_nan_negative_and_mistyped_times(tmp_path: Path) -> None:
    for bad in (math.nan, -1.0, math.inf):
        with pytest.raises(pressure.InvalidArgumentError, match="timeout must be a finite number"):
            pressure.wait_until_ended(timeout=bad, proc_root=K513)
        with pytest.raises(pressure.InvalidArgumentError, match="quiet must be"):
            pressure.wait_until_ended(quiet=bad, proc_root=K513)
        with pytest.raises(pressure.InvalidArgumentError, match="sample must be"):
            pressure.time_until_below(sample=bad, proc_root=K513)
    with pytest.raises(pressure.InvalidArgumentError, match="sample must be .* > 0"):
        pressure.time_until_below(sample=0, proc_root=K513)
    with pytest.raises(TypeError, match="timeout must be a number of seconds, not str"):
        pressure.wait_until_ended(timeout="1", proc_root=K513)  # type: ignore[arg-type]
    with pytest.raises(pressure.InvalidArgumentError, match="unknown resource 'ram'"):
        pressure.wait_until_ended("ram", proc_root=K513)


def test_thresholds_refused_with_what_is_wrong() -> None:
    with pytest.raises(pressure.InvalidArgumentError, match="unknown average 'avg5'"):
        pressure.time_until_below(thresholds={"avg5": 1.0}, proc_root=K513)
    with pytest.raises(pressure.InvalidArgumentError, match=r"thresholds\['avg10'\] must be > 0"):
        pressure.time_until_below(thresholds={"avg10": math.nan}, proc_root=K513)
    with pytest.raises(pressure.InvalidArgumentError, match=r"thresholds\['avg10'\] must be > 0"):
        pressure.time_until_below(thresholds={"avg10": -1}, proc_root=K513)
    with pytest.raises(pressure.InvalidArgumentError, match="at most two decimals"):
        pressure.time_until_below(thresholds={"avg10": 0.001}, proc_root=K513)
    with pytest.raises(pressure.InvalidArgumentError, match="is empty"):
        pressure.time_until_below(thresholds={}, proc_root=K513)
    with pytest.raises(pressure.InvalidArgumentError, match="not NAME=VALUE"):
        pressure.time_until_below(thresholds="avg10", proc_root=K513)
    with pytest.raises(TypeError, match="thresholds must be a dict"):
        pressure.time_until_below(thresholds=[1.0], proc_root=K513)  # type: ignore[arg-type]
