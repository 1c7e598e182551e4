"""Readings from fixture trees and trees the tests write: units, None for absent lines, the
error mapping, the Linux-derived and macOS levels. No privileges needed."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import pressure
from conftest import FIXTURES, parse_pressure_file, stall_line, write_proc

FIELDS = ("avg10", "avg60", "avg300", "total")


def expect_equal(reading: pressure.spressure, path: Path) -> None:
    lines = parse_pressure_file(path)
    for line in ("some", "full"):
        got = tuple(getattr(reading, f"{line}_{field}") for field in FIELDS)
        if line in lines:
            assert got == lines[line], f"{line} of {path}"
            assert all(isinstance(v, float) for v in got[:3]) and isinstance(got[3], int)
        else:
            assert got == (None, None, None, None), f"{path} has no {line} line: must be None, never 0"


@pytest.mark.parametrize("tree", ["kernel-4.20", "kernel-5.13", "kernel-6.1-irq", "future-kernel", "maximal"])
@pytest.mark.parametrize("resource", ["cpu", "memory", "io", "irq"])
def test_values_and_units_match_the_file(tree: str, resource: str) -> None:
    path = FIXTURES / tree / "pressure" / resource
    function = getattr(pressure, f"pressure_{resource}")
    if not path.exists():
        with pytest.raises(pressure.UnavailableError) as caught:
            function(proc_root=FIXTURES / tree)
        assert caught.value.errno == errno.ENOENT and caught.value.filename == str(path)
        return
    expect_equal(function(proc_root=FIXTURES / tree), path)


def test_kernel_4_20_has_no_cpu_full_and_irq_has_no_some() -> None:
    cpu = pressure.pressure_cpu(proc_root=FIXTURES / "kernel-4.20")
    assert cpu.some_avg10 is not None and cpu.full_avg10 is None and cpu.full_total is None
    irq = pressure.pressure_irq(proc_root=FIXTURES / "kernel-6.1-irq")
    assert irq.some_total is None and irq.full_total is not None


def test_spressure_is_a_psutil_style_named_tuple() -> None:
    reading = pressure.pressure_memory(proc_root=FIXTURES / "kernel-4.20")
    assert isinstance(reading, tuple) and type(reading) is pressure.spressure
    assert pressure.spressure._fields == ("some_avg10", "some_avg60", "some_avg300", "some_total",
                                          "full_avg10", "full_avg60", "full_avg300", "full_total")
    assert reading._asdict()["full_avg10"] == reading.full_avg10
    assert repr(reading).startswith("spressure(some_avg10=")


def test_maximal_total_is_an_exact_unsigned_64_bit_int() -> None:
    cpu = pressure.pressure_cpu(proc_root=FIXTURES / "maximal")
    assert cpu.some_total == 2**64 - 1 and cpu.some_avg10 == 100.0


def test_cgroup_and_pid_in_a_fixture_tree(tmp_path: Path) -> None:
    tree = FIXTURES / "cgroup-tree"
    expect_equal(pressure.pressure_memory(cgroup="batch.slice", cgroup_root=tree), tree / "batch.slice" / "memory.pressure")
    expect_equal(pressure.pressure_io(cgroup="/", cgroup_root=tree), tree / "io.pressure")
    # pid= reads the process's 0:: line; a tree of the test's own makes the values distinct.
    proc = tmp_path / "proc"
    (proc / "777").mkdir(parents=True)
    (proc / "777" / "cgroup").write_text("4:memory:/a\n0::/a/b\n")
    group = tmp_path / "cg" / "a" / "b"
    group.mkdir(parents=True)
    (group / "cpu.pressure").write_text(stall_line("some", "1.25", "2.50", "3.75", 987654321))
    reading = pressure.pressure_cpu(pid=777, proc_root=proc, cgroup_root=tmp_path / "cg")
    assert reading.some_total == 987654321 and reading.some_avg60 == 2.5 and reading.full_avg10 is None


def test_missing_cgroup_is_file_not_found_with_errno_and_path() -> None:
    tree = FIXTURES / "cgroup-tree"
    with pytest.raises(pressure.NotFoundError) as caught:
        pressure.pressure_memory(cgroup="no-such.slice", cgroup_root=tree)
    e = caught.value
    assert isinstance(e, FileNotFoundError) and isinstance(e, pressure.Error) and isinstance(e, OSError)
    assert e.errno == errno.ENOENT
    assert e.filename == str(tree / "no-such.slice")
    assert "no-such.slice" in e.strerror


def test_missing_process_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(pressure.NotFoundError) as caught:
        pressure.pressure_cpu(pid=4321, proc_root=tmp_path, cgroup_root=tmp_path)
    assert caught.value.errno == errno.ENOENT and caught.value.filename == f"{tmp_path}/4321/cgroup"


def test_malformed_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(pressure.MalformedError) as caught:
        pressure.pressure_memory(proc_root=FIXTURES / "malformed")
    e = caught.value
    assert e.filename == str(FIXTURES / "malformed" / "pressure" / "memory")
    assert e.errno == errno.EINVAL and "line 2" in e.strerror and "0.1x" in e.strerror
    # The other files of the same tree still read.
    expect_equal(pressure.pressure_cpu(proc_root=FIXTURES / "malformed"), FIXTURES / "malformed" / "pressure" / "cpu")


def test_psi_off_for_a_cgroup_is_unavailable() -> None:
    with pytest.raises(pressure.UnavailableError) as caught:
        pressure.pressure_cpu(cgroup="psi-off.slice", cgroup_root=FIXTURES / "cgroup-tree")
    assert "cgroup.pressure" in caught.value.strerror


def test_no_psi_at_all_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(pressure.UnsupportedError) as caught:  # no <proc>/pressure: PSI is off
        pressure.pressure_memory(proc_root=tmp_path)
    assert caught.value.filename == f"{tmp_path}/pressure" and "psi=1" in caught.value.strerror


@pytest.mark.parametrize("kwargs, message", [
    ({"cgroup": "a", "pid": 1}, "not both"),
    ({"pid": -3}, "positive"),
    ({"cgroup": "../escape"}, ".."),
])
def test_bad_arguments_are_value_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(pressure.InvalidArgumentError) as caught:
        pressure.pressure_cpu(cgroup_root=FIXTURES / "cgroup-tree", **kwargs)
    assert isinstance(caught.value, ValueError) and caught.value.errno == errno.EINVAL
    assert message in str(caught.value)


def test_linux_level_thresholds(tmp_path: Path) -> None:
    def level(some10: str, full10: "str | None") -> pressure.MemoryPressureLevel:
        text = stall_line("some", some10, "0.00", "0.00", 1)
        if full10 is not None:
            text += stall_line("full", full10, "0.00", "0.00", 1)
        root = write_proc(tmp_path / f"{some10}-{full10}", memory=text)
        return pressure.memory_pressure_level(proc_root=root)

    N, W, C = pressure.MemoryPressureLevel.NORMAL, pressure.MemoryPressureLevel.WARN, pressure.MemoryPressureLevel.CRITICAL
    assert level("0.00", "0.00") is N
    assert level("9.99", "9.99") is N
    assert level("10.00", "9.99") is W
    assert level("99.99", "9.99") is W
    assert level("10.00", "10.00") is C
    assert level("15.00", None) is W  # no full line: some alone decides
    assert pressure.memory_pressure_level(proc_root=FIXTURES / "kernel-4.20") is W  # some 29.97, full 8.76
    assert pressure.memory_pressure_level(cgroup="batch.slice", cgroup_root=FIXTURES / "cgroup-tree") in (N, W, C)


def test_macos_mapping_through_the_injected_sysctl() -> None:
    asked = []

    def sysctl(value: int):
        def read(name: str) -> int:
            asked.append(name)
            return value
        return read

    expected = {1: (pressure.MemoryPressureLevel.NORMAL, 0.0), 2: (pressure.MemoryPressureLevel.WARN, 50.0),
                4: (pressure.MemoryPressureLevel.CRITICAL, 100.0)}
    for value, (level, avg10) in expected.items():
        api = pressure._darwin_api(sysctl(value))
        assert api.memory_pressure_level() is level and int(level) == value
        reading = api.pressure_memory()
        assert type(reading) is pressure.spressure
        assert reading.some_avg10 == avg10
        assert reading[1:] == (None,) * 7  # every other field None, never 0
    assert set(asked) == {"kern.memorystatus_vm_pressure_level"}


@pytest.mark.parametrize("value", [0, 3, 5, -1])
def test_macos_values_outside_the_dispatch_levels_are_malformed(value: int) -> None:
    with pytest.raises(pressure.MalformedError) as caught:
        pressure._darwin_api(lambda name: value).memory_pressure_level()
    assert str(value) in caught.value.strerror


def test_macos_sysctl_failures_map_like_darwin_cpp() -> None:
    def missing(name: str) -> int:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    def denied(name: str) -> int:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    with pytest.raises(pressure.UnsupportedError) as caught:
        pressure._darwin_api(missing).pressure_memory()
    assert caught.value.errno == errno.ENOENT and caught.value.filename == "kern.memorystatus_vm_pressure_level"
    with pytest.raises(pressure.Error) as caught:
        pressure._darwin_api(denied).memory_pressure_level()
    assert caught.value.errno == errno.EPERM
    with pytest.raises(pressure.UnsupportedError):
        pressure._darwin_api(lambda name: 1).pressure_memory(cgroup="a")
    with pytest.raises(ZeroDivisionError):  # the hook's own bug is not disguised
        pressure._darwin_api(lambda name: 1 // 0).memory_pressure_level()


def test_the_real_platform_level_on_linux_says_why() -> None:
    assert pressure.PLATFORM == "linux"
    with pytest.raises(pressure.UnsupportedError) as caught:
        pressure._native.memory_level()
    assert "PSI" in caught.value.strerror


@pytest.mark.parametrize("kwargs, error, message", [
    ({"pid": True}, TypeError, "pid must be an int, not bool"),
    ({"pid": "1"}, TypeError, "pid must be an int, not str"),
    ({"pid": 1.5}, TypeError, "pid must be an int, not float"),
    ({"cgroup": 5}, TypeError, "cgroup must be a str or os.PathLike, not int"),
    ({"proc_root": ["/proc"]}, TypeError, "proc_root must be a str or os.PathLike, not list"),
])
def test_wrong_types_are_named_not_pybind11_signatures(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error) as caught:
        pressure.pressure_cpu(**kwargs)
    assert message in str(caught.value) and "incompatible function arguments" not in str(caught.value)


def test_bytes_paths_are_paths() -> None:
    expect_equal(pressure.pressure_cpu(proc_root=os.fsencode(FIXTURES / "kernel-5.13")),
                 FIXTURES / "kernel-5.13" / "pressure" / "cpu")
