"""The one-shot tools over fixture trees and pressure files written by the test: snapshot,
stall_share, scan_cgroups and admit, the same answers as
the CLI, and hostile input refused with an exception naming what is wrong."""

from __future__ import annotations

import json
import subprocess
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
