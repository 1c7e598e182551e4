"""Shared fixtures: the fixture trees, pressure files written by a test, and for live tests a
cgroup2 group of the test's own (pressure-test-py-PID-N) with spinners it started."""

from __future__ import annotations

import ctypes
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

FIXTURES = Path(os.environ.get("PRESSURE_FIXTURES", Path(__file__).resolve().parents[2] / "tests" / "fixtures"))
BUILD_DIR = Path(os.environ.get("PRESSURE_BUILD_DIR", Path(__file__).resolve().parents[2] / "build")).resolve()
CLI = Path(os.environ.get("PRESSURE_CLI", BUILD_DIR / "src" / "cli" / "pressure")).resolve()
RESOURCES = ("cpu", "memory", "io", "irq")
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "live: needs the real kernel, root and cgroup2 (ctest label system)")


def stall_line(line: str, avg10: str, avg60: str, avg300: str, total: int) -> str:
    return f"{line} avg10={avg10} avg60={avg60} avg300={avg300} total={total}\n"


def write_proc(root: Path, **files: str) -> Path:
    """A /proc tree with pressure/<resource> files holding the given text."""
    (root / "pressure").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / "pressure" / name).write_text(text)
    return root


def parse_pressure_file(path: Path) -> dict:
    """{'some': (avg10, avg60, avg300, total), ...} of a fixture, to compare with."""
    out = {}
    for text in path.read_text().splitlines():
        name, *fields = text.split()
        if name not in ("some", "full"):
            continue  # the library ignores lines it does not know, as the kernel may add some
        values = dict(f.split("=") for f in fields)
        out[name] = (float(values["avg10"]), float(values["avg60"]), float(values["avg300"]), int(values["total"]))
    return out


def cgroup2_mount() -> Optional[str]:
    """The first cgroup2 mount point in /proc/self/mountinfo."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            before, _, after = line.partition(" - ")
            if after.split()[:1] == ["cgroup2"]:
                return before.split()[4]
    return None


def live_problem() -> Optional[str]:
    if os.geteuid() != 0:
        return "needs root to create cgroups"
    if not os.access("/proc/pressure/cpu", os.R_OK):
        return "no /proc/pressure/cpu: this kernel has PSI off"
    mount = cgroup2_mount()
    if mount is None:
        return "no cgroup2 mount found in /proc/self/mountinfo"
    if not os.access(os.path.join(mount, "cgroup.procs"), os.W_OK):
        return f"cannot write {mount}/cgroup.procs"
    return None


@pytest.fixture
def live() -> None:
    """Mirror of PRESSURE_REQUIRE_LIVE(): fail in CI, skip elsewhere, saying why."""
    problem = live_problem()
    if problem is not None:
        if os.environ.get("CI") is not None:
            pytest.fail(f"system test cannot run: {problem}")
        pytest.skip(f"system test cannot run: {problem}")


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


class TestCgroup:
    """A cgroup2 group made for one test. Only processes it started are signalled, by pid."""

    __test__ = False

    def __init__(self, purpose: str) -> None:
        mount = cgroup2_mount()
        assert mount is not None
        self.path = f"/pressure-test-py-{purpose}-{os.getpid()}-{next(_counter)}"
        self.dir = mount + self.path
        os.mkdir(self.dir, 0o755)
        self.children: List[subprocess.Popen] = []

    def _join(self) -> None:  # in the child, before exec
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # never outlive the test
        with open(os.path.join(self.dir, "cgroup.procs"), "w") as f:
            f.write("0")

    def spawn_spinner(self) -> int:
        child = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=self._join,
                                 stdin=subprocess.DEVNULL)
        self.children.append(child)
        return child.pid

    def procs(self) -> List[int]:
        with open(os.path.join(self.dir, "cgroup.procs")) as f:
            return [int(p) for p in f.read().split()]

    def kill_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
        for child in self.children:
            child.wait()
        self.children.clear()

    def remove(self) -> None:
        self.kill_all()
        # A killed task leaves the group a moment after it is reaped; retry briefly.
        for _ in range(250):
            try:
                os.rmdir(self.dir)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
        os.rmdir(self.dir)


@pytest.fixture
def test_cgroup(live: None, request: pytest.FixtureRequest) -> Iterator[TestCgroup]:
    group = TestCgroup(re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-"))
    try:
        yield group
    finally:
        group.remove()


def cli_json(*args: str) -> dict:
    import json

    out = subprocess.run([str(CLI), "show", "--json", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)
