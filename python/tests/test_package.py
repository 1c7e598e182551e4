"""The package itself: what exists on which platform, the type stubs, and `cmake --install`
into a temporary prefix."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import pressure
from conftest import BUILD_DIR, CLI

PACKAGE = Path(pressure.__file__).parent
READING_FUNCTIONS = ("pressure_cpu", "pressure_memory", "pressure_io", "pressure_irq", "memory_pressure_level", "watch")


def public_names() -> set:
    """The module's own public names (not the modules and typing helpers it imports)."""
    import __future__
    import types
    import typing

    return {name for name in dir(pressure) if not name.startswith("_")
            and not isinstance(getattr(pressure, name), (types.ModuleType, __future__._Feature))
            and getattr(typing, name, None) is not getattr(pressure, name)}


def stub_names(path: Path) -> set:
    names = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname for a in node.names if a.asname)
    return names


def test_linux_has_every_function_and_all_lists_them() -> None:
    assert pressure.PLATFORM == "linux"
    for name in READING_FUNCTIONS:
        assert callable(getattr(pressure, name)) and name in pressure.__all__
    assert set(pressure.__all__) <= public_names()
    with pytest.raises(AttributeError):
        pressure.no_such_function  # noqa: B018


def test_stubs_parse_and_list_every_public_name() -> None:
    stub = PACKAGE / "__init__.pyi"
    assert (PACKAGE / "py.typed").exists() and (PACKAGE / "_native.pyi").exists()
    missing = public_names() - stub_names(stub)
    assert not missing, f"{stub} lacks {sorted(missing)}"
    native_missing = {n for n in dir(pressure._native) if not n.startswith("_")} - stub_names(PACKAGE / "_native.pyi")
    assert not native_missing, f"_native.pyi lacks {sorted(native_missing)}"


def have_mypy() -> bool:
    return subprocess.run([sys.executable, "-c", "import mypy.stubtest"], capture_output=True).returncode == 0


@pytest.mark.skipif(not have_mypy() and os.environ.get("CI") is None, reason="mypy (Debian python3-mypy) is not installed")
def test_stubs_match_the_module_and_type_check_a_program(tmp_path: Path) -> None:
    # From the build tree mypy is pointed at the package; an installed copy (pip install ., the
    # Debian package) it finds in the interpreter's site-packages, where MYPYPATH may not point.
    installed = PACKAGE.parent.name in ("site-packages", "dist-packages")
    env = dict(os.environ) if installed else dict(os.environ, MYPYPATH=str(PACKAGE.parent),
                                                  PYTHONPATH=str(PACKAGE.parent))
    stubtest = subprocess.run([sys.executable, "-m", "mypy.stubtest", "pressure", "--allowlist",
                               str(Path(__file__).with_name("stubtest-allowlist.txt"))],
                              capture_output=True, text=True, env=env, cwd=tmp_path)
    assert stubtest.returncode == 0, stubtest.stdout + stubtest.stderr
    program = tmp_path / "use.py"
    program.write_text(
        "import pressure\n"
        "m: pressure.spressure = pressure.pressure_memory(cgroup='batch.slice')\n"
        "if m.full_avg10 is not None and m.full_avg10 > 10.0:\n"
        "    print(m.full_total)\n"
        "level: pressure.MemoryPressureLevel = pressure.memory_pressure_level()\n"
        "for ev in pressure.watch('memory full 100ms/2s', timeout=10):\n"
        "    if ev.share is not None:  # None: the service manager's watch measures nothing\n"
        "        share: float = ev.share\n"
        "try:\n"
        "    pressure.pressure_cpu(pid=1)\n"
        "except pressure.NotFoundError as e:\n"
        "    print(e.errno, e.filename)\n")
    levels_program = tmp_path / "use_levels.py"
    levels_program.write_text(
        "import pressure\n"
        "from pressure import levels\n"
        "a: pressure.Admission = pressure.admit('memory full avg10<10', cgroup='vms.slice')\n"
        "share = pressure.stall_share(pressure.snapshot(), pressure.snapshot(), 'memory', 'full')\n"
        "p: pressure.Prediction = pressure.time_until_below('memory', 'full', {'avg10': 1.0})\n"
        "ended: bool = pressure.wait_until_ended(timeout=1.0)\n"
        "m = levels.Manager([levels.psi_share_above('memory', 'some', 10) | levels.host_available_below(1 << 30)])\n"
        "@m.on_entered(1)\n"
        "def shed(t: levels.Transition) -> None:\n"
        "    print(t.level)\n"
        "r: levels.Registration = m.on_remaining(0, lambda: None, call_no_more_often_than=30)\n"
        "class Cache:\n"
        "    def clear(self) -> None: ...\n"
        "m.cleanup_on_entered(1, Cache(), Cache.clear)\n")
    example = Path(__file__).resolve().parents[2] / "examples" / "shedding_cache.py"
    bad = tmp_path / "bad.py"
    bad.write_text("import pressure\nx: float = pressure.pressure_memory().some_avg10 + 1.0\n")
    args = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache")]
    ok = subprocess.run(args + [str(program), str(levels_program), str(example)], capture_output=True, text=True,
                        env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = subprocess.run(args + [str(bad)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert wrong.returncode != 0 and "None" in wrong.stdout, wrong.stdout


def fake_package(tmp_path: Path, platform: str) -> Path:
    """The package's Python files over a stand-in _native that reports `platform`."""
    target = tmp_path / platform / "pressure"
    target.mkdir(parents=True)
    for name in ("__init__.py", "_errors.py", "_tools.py"):
        shutil.copy(PACKAGE / name, target / name)
    (target / "_native.py").write_text(
        f"def platform(): return {platform!r}\n"
        "def version(): return '0.0.0'\n"
        "def psi_missing_reason(): return 'resource pressure is only reported on Linux (PSI) and macOS'\n"
        "def memory_level(sysctl=None): return 'warn'\n"
        "class Watch: pass\n"
        "def read(*args): raise AssertionError('no reads on this platform')\n")
    return target.parent


@pytest.mark.parametrize("platform, present", [
    ("unsupported", set()),
    ("darwin", {"pressure_memory", "memory_pressure_level"}),
])
def test_functions_are_absent_where_there_is_no_pressure(tmp_path: Path, platform: str, present: set) -> None:
    code = (
        "import pressure, json\n"
        f"names = {list(READING_FUNCTIONS)!r}\n"
        "have = [n for n in names if hasattr(pressure, n)]\n"
        "try:\n"
        "    pressure.pressure_cpu\n"
        "    why = ''\n"
        "except AttributeError as e:\n"
        "    why = str(e)\n"
        "m = pressure.pressure_memory() if hasattr(pressure, 'pressure_memory') else None\n"
        "print(json.dumps([have, sorted(pressure.__all__), why, m]))\n")
    env = dict(os.environ, PYTHONPATH=str(fake_package(tmp_path, platform)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=tmp_path)
    import json

    have, exported, why, memory = json.loads(out.stdout)
    assert set(have) == present and present <= set(exported)
    assert not (set(READING_FUNCTIONS) - present) & set(exported)
    assert "pressure_cpu" in why and "only reported on Linux" in why
    if platform == "darwin":
        assert memory == [50.0, None, None, None, None, None, None, None]


def test_cmake_install_puts_the_package_in_site_packages(tmp_path: Path) -> None:
    cmake = os.environ.get("CMAKE_COMMAND", "cmake")
    rel = os.environ.get("PRESSURE_PYTHON_INSTALL_DIR")
    if rel is None:
        pytest.skip("run through ctest (PRESSURE_PYTHON_INSTALL_DIR comes from the build)")
    # The default prefix's site-packages is the interpreter's own.
    expected_rel = os.path.relpath(sysconfig.get_path("platlib"), sysconfig.get_path("data"))
    assert rel == expected_rel
    assert os.path.join(sysconfig.get_path("data"), rel) in sys.path or sysconfig.get_path("platlib") in sys.path
    prefix = tmp_path / "prefix"
    subprocess.run([cmake, "--install", str(BUILD_DIR), "--prefix", str(prefix), "--component", "python"],
                   check=True, capture_output=True)
    site = prefix / rel
    installed = {p.name for p in (site / "pressure").iterdir()}
    assert {"__init__.py", "__init__.pyi", "_errors.py", "_native.pyi", "py.typed"} <= installed
    assert any(n.startswith("_native.") and n.endswith(".so") for n in installed)
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run([sys.executable, "-c", "import pressure, sys; print(pressure.__file__);"
                          "print(pressure.pressure_cpu(proc_root=sys.argv[1]).some_total)",
                          str(Path(os.environ['PRESSURE_FIXTURES']) / "kernel-4.20")],
                         capture_output=True, text=True, env=env, check=True, cwd=tmp_path)
    file, total = out.stdout.split()
    assert file == str(site / "pressure" / "__init__.py") and total == "123456"


def test_version_is_the_one_of_the_command() -> None:
    """One version number: the module's __version__ is the library's, as `pressure --version` says."""
    assert isinstance(pressure.__version__, str) and pressure.__version__.count(".") == 2
    out = subprocess.run([str(CLI), "--version"], check=True, capture_output=True, text=True).stdout
    assert out == f"pressure {pressure.__version__}\n"
