"""The PEP 517 build backend of `pip install .` and `python3 -m build --wheel`: it drives the
project's own CMake build (the C++ core is linked into the extension) and writes the wheel with
the standard library alone.

Why not setuptools or meson-python: with build isolation (pip's default) pip would download
the backend from an index, and a machine without one could not install. This backend needs
nothing beyond Python itself, so `requires = []` and an offline `pip install .` works; what it
runs is CMake, a C++20 compiler and pybind11 from the system (Debian: cmake, g++,
pybind11-dev, python3-dev; scripts/deps.sh installs them).

config_settings (pip --config-settings KEY=VALUE, build -C KEY=VALUE):
  build-dir  the CMake build folder to use and keep (default: a temporary one)
  cmake-args extra CMake arguments, separated by spaces
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
# Every module, stub and marker of the package's source folder (python/CMakeLists.txt lays the
# same ones out beside the extension; a file it forgot fails the wheel instead of leaving it out).
PACKAGE_FILES = tuple(sorted(
    p.name for p in (ROOT / "python" / "pressure").iterdir()
    if p.suffix in (".py", ".pyi") or p.name == "py.typed"))


def project_version() -> str:
    """The one version number: project(... VERSION x.y.z ...) in CMakeLists.txt."""
    text = (ROOT / "CMakeLists.txt").read_text()
    m = re.search(r"project\(\s*pressure\s+VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)", text)
    if not m:
        raise RuntimeError(f"no project(pressure VERSION x.y.z) in {ROOT / 'CMakeLists.txt'}")
    return m.group(1)


def project_table() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def wheel_tag() -> str:
    """cp311-cp311-linux_x86_64: this interpreter and platform (a local build, not manylinux)."""
    interpreter = f"cp{sys.version_info.major}{sys.version_info.minor}"
    if sys.implementation.name != "cpython":
        raise RuntimeError(f"the extension is built for CPython, not {sys.implementation.name}")
    platform = re.sub(r"[^a-zA-Z0-9]", "_", sysconfig.get_platform())
    return f"{interpreter}-{interpreter}-{platform}"


def metadata_text(version: str) -> str:
    project = project_table()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {version}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    readme = ROOT / "python" / "README.md"
    if readme.exists():
        lines.append("Description-Content-Type: text/markdown")
        return "\n".join(lines) + "\n\n" + readme.read_text()
    return "\n".join(lines) + "\n"


def cmake_build(build_dir: Path, extra: List[str]) -> Path:
    """Configures and builds the extension and the package files; returns build/python/pressure."""
    cmake = shutil.which("cmake")
    if cmake is None:
        raise RuntimeError("pip install . needs cmake (Debian: apt install cmake g++ pybind11-dev python3-dev)")
    args = [cmake, "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
            "-DPRESSURE_TESTS=OFF", "-DPRESSURE_BENCH=OFF", "-DPRESSURE_MAN=OFF", "-DPRESSURE_PYTHON=ON",
            f"-DPYTHON_EXECUTABLE={sys.executable}"]
    if shutil.which("ninja"):
        args += ["-G", "Ninja"]
    if shutil.which("ccache") and not any(a.startswith("-DCMAKE_CXX_COMPILER_LAUNCHER") for a in extra):
        args.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    subprocess.run(args + extra, check=True, stdout=sys.stderr)
    jobs = str(os.cpu_count() or 1)
    subprocess.run([cmake, "--build", str(build_dir), "--target", "pressure_python", "--parallel", jobs],
                   check=True, stdout=sys.stderr)
    return build_dir / "python" / "pressure"


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(wheel_directory: str, package: Path, version: str) -> str:
    tag = wheel_tag()
    name = f"pressure-{version}-{tag}.whl"
    dist_info = f"pressure-{version}.dist-info"
    files: Dict[str, bytes] = {}
    for extension in sorted(package.glob("_native*.so")):
        files[f"pressure/{extension.name}"] = extension.read_bytes()
    if not files:
        raise RuntimeError(f"the build made no extension in {package}")
    for file in PACKAGE_FILES:
        files[f"pressure/{file}"] = (package / file).read_bytes()
    files[f"{dist_info}/METADATA"] = metadata_text(version).encode()
    files[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: pressure_build {version}\nRoot-Is-Purelib: false\nTag: {tag}\n").encode()
    files[f"{dist_info}/top_level.txt"] = b"pressure\n"
    record = [record_line(n, d) for n, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = Path(wheel_directory) / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for n, d in files.items():
            info = zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible
            info.external_attr = (0o755 if n.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, d)
    return name


# PEP 517 hooks.

def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[dict] = None) -> str:
    version = project_version()
    dist_info = Path(metadata_directory) / f"pressure-{version}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(metadata_text(version))
    return dist_info.name


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    settings = config_settings or {}
    extra = shlex.split(settings.get("cmake-args", ""))
    version = project_version()
    if settings.get("build-dir"):
        build_dir = Path(settings["build-dir"]).resolve()
        return write_wheel(wheel_directory, cmake_build(build_dir, extra), version)
    with tempfile.TemporaryDirectory(prefix="pressure-wheel-") as build_dir:
        return write_wheel(wheel_directory, cmake_build(Path(build_dir), extra), version)
