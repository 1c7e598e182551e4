"""The service manager's pressure watch ($MEMORY_PRESSURE_WATCH and $MEMORY_PRESSURE_WRITE set as
systemd sets them) in watch() and levels.Manager: a Unix socket this test serves, /dev/null,
unset, bad values, and the from_environment=False opt-out. No privileges needed: the default
specs are polled over a tree of plain files."""

from __future__ import annotations

import base64
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest

import pressure
from pressure import levels
from conftest import stall_line, write_proc

TRIGGER = b"some 200000 2000000\0"  # what MemoryPressureWatch=auto writes


class Manager:
    """The service manager's end: a listening AF_UNIX stream socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.listener.settimeout(5)
        self.peer: socket.socket | None = None

    def accept_and_read(self) -> bytes:
        self.peer, _ = self.listener.accept()
        self.peer.settimeout(2)
        got = b""
        while len(got) < len(TRIGGER):
            chunk = self.peer.recv(256)
            if not chunk:
                break
            got += chunk
        return got

    def pending(self) -> bool:
        self.listener.setblocking(False)
        try:
            self.listener.accept()[0].close()
            return True
        except BlockingIOError:
            return False
        finally:
            self.listener.settimeout(5)

    def signal(self) -> None:
        assert self.peer is not None
        self.peer.sendall(b"!")

    def close(self) -> None:
        if self.peer:
            self.peer.close()
        self.listener.close()


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    quiet = stall_line("some", "0.00", "0.00", "0.00", 1000) + stall_line("full", "0.00", "0.00", "0.00", 0)
    return write_proc(root, memory=quiet, cpu=quiet)


@pytest.fixture
def manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Manager]:
    m = Manager(tmp_path / "memory.sock")
    monkeypatch.setenv("MEMORY_PRESSURE_WATCH", str(m.path))
    monkeypatch.setenv("MEMORY_PRESSURE_WRITE", base64.b64encode(TRIGGER).decode())
    for name in ("CPU_PRESSURE_WATCH", "IO_PRESSURE_WATCH"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield m
    finally:
        m.close()


def test_watch_follows_the_service_managers_socket(manager: Manager, proc: Path) -> None:
    w = pressure.watch("memory some 100ms/2s", "cpu some 10%/2s", proc_root=proc, timeout=10)
    assert sorted((spec, mode) for spec, mode, _ in w.armed) == [
        ("cpu some 200ms/2s", "polling"), ("memory some 200ms/2s", "relayed")]
    assert manager.accept_and_read() == TRIGGER
    manager.signal()
    event = next(w)
    assert (event.resource, event.target, event.mode, event.variable) == (
        "memory", str(manager.path), "relayed", "MEMORY_PRESSURE_WATCH")
    assert event.spec == "memory some 200ms/2s" and event.stall_us == 200_000 and event.window_us == 2_000_000
    assert event.observed_stall_us is None and event.share is None  # nothing measured: absent, not 0
    w.close()


def test_from_environment_false_ignores_it(manager: Manager, proc: Path) -> None:
    w = pressure.watch("memory some 100ms/2s", proc_root=proc, timeout=1, from_environment=False)
    assert [(spec, mode) for spec, mode, _ in w.armed] == [("memory some 100ms/2s", "polling")]
    assert not manager.pending()
    w.close()


def test_dev_null_drops_the_resource_and_unset_keeps_the_default(
        monkeypatch: pytest.MonkeyPatch, proc: Path) -> None:
    monkeypatch.setenv("MEMORY_PRESSURE_WATCH", "/dev/null")
    monkeypatch.delenv("CPU_PRESSURE_WATCH", raising=False)
    monkeypatch.delenv("IO_PRESSURE_WATCH", raising=False)
    w = pressure.watch("memory some 100ms/2s", "cpu some 10%/2s", proc_root=proc, timeout=1)
    assert [spec for spec, _, _ in w.armed] == ["cpu some 200ms/2s"]
    w.close()
    with pytest.raises(pressure.InvalidArgumentError, match="nothing to watch"):
        pressure.watch("memory some 100ms/2s", proc_root=proc)


@pytest.mark.parametrize("watch,write,says", [
    ("memory.pressure", None, r"\$MEMORY_PRESSURE_WATCH='memory.pressure': not an absolute path"),
    ("/run/../etc/x", None, r"not normalised \('\.\.'\)"),
    ("/run/x.sock", "c29tZQ", r"\$MEMORY_PRESSURE_WRITE='c29tZQ': not base64"),
])
def test_bad_values_raise_naming_the_variable(monkeypatch: pytest.MonkeyPatch, proc: Path, watch: str,
                                              write: str | None, says: str) -> None:
    monkeypatch.setenv("MEMORY_PRESSURE_WATCH", watch)
    if write is None:
        monkeypatch.delenv("MEMORY_PRESSURE_WRITE", raising=False)
    else:
        monkeypatch.setenv("MEMORY_PRESSURE_WRITE", write)
    with pytest.raises(pressure.InvalidArgumentError, match=says):
        pressure.watch("memory some 100ms/2s", proc_root=proc)
    m = levels.Manager([levels.custom(lambda r: False)], wake_on=("memory some 100ms/2s",), proc_root=proc)
    with pytest.raises(pressure.InvalidArgumentError, match=says):
        m.start()
    m.stop()


def test_levels_wake_on_the_service_managers_signal(manager: Manager, proc: Path) -> None:
    m = levels.Manager([levels.custom(lambda r: False)], interval=3600, wake_on=("memory some 100ms/2s",),
                       proc_root=proc)
    m.start()
    try:
        assert manager.accept_and_read() == TRIGGER
        ticks = m.ticks
        manager.signal()
        deadline = time.monotonic() + 5
        while m.ticks == ticks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert m.ticks > ticks, "the service manager's signal did not tick the levels"
    finally:
        m.stop()


def test_levels_opt_out_keeps_wake_on(manager: Manager, proc: Path) -> None:
    m = levels.Manager([levels.custom(lambda r: False)], interval=3600, wake_on=("memory some 100ms/2s",),
                       proc_root=proc, from_environment=False)
    m.start()
    try:
        time.sleep(0.2)
        assert not manager.pending()
    finally:
        m.stop()
