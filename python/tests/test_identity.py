"""cgroup_identity: the names a cgroup path says, the same answers as the C++ fixture table
(tests/fixtures/cgroup-names/shapes.jsonl) and as ``pressure show --json``'s "identity"."""

from __future__ import annotations

import json
import subprocess
from pathlib import PurePosixPath

import pytest

import pressure
from conftest import CLI, FIXTURES

SHAPES = [json.loads(line) for line in (FIXTURES / "cgroup-names" / "shapes.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("shape", SHAPES, ids=[s["path"][-60:] for s in SHAPES])
def test_every_shape_of_the_fixture_table(shape: dict) -> None:
    expected = {k: v for k, v in shape.items() if k != "path"}
    assert pressure.cgroup_identity(shape["path"]) == expected


def test_a_path_object_and_the_cli_agree() -> None:
    docker = "/system.slice/docker-" + "ab" * 32 + ".scope"
    got = pressure.cgroup_identity(PurePosixPath(docker))
    assert got["kind"] == "container" and got["runtime"] == "docker" and got["container_id"] == "ab" * 32
    with pytest.raises(TypeError, match="path must be a str"):
        pressure.cgroup_identity(42)  # type: ignore[arg-type]


def test_show_json_carries_the_identity_of_a_fixture_group() -> None:
    out = subprocess.run([str(CLI), "--proc-root", str(FIXTURES / "kernel-6.1-irq"), "--cgroup-root",
                          str(FIXTURES / "cgroup-tree"), "show", "--cgroup", "batch.slice/job-1.scope", "--json"],
                         capture_output=True, text=True, check=True).stdout
    line = json.loads(out)
    assert line["identity"] == pressure.cgroup_identity("/batch.slice/job-1.scope")
    assert line["identity"] == {"kind": "unit", "name": "job-1.scope", "unit": "job-1.scope"}
