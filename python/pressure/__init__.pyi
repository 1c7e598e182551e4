# Type stubs of the pressure module (Linux signatures; see the module docstring for macOS and
# platforms without pressure, where some of these functions are absent).
import enum
import os
import types
from typing import Callable, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _native
from ._errors import (
    Error as Error,
    GoneError as GoneError,
    InvalidArgumentError as InvalidArgumentError,
    MalformedError as MalformedError,
    NotFoundError as NotFoundError,
    PermissionDeniedError as PermissionDeniedError,
    UnavailableError as UnavailableError,
    UnsupportedError as UnsupportedError,
)

_Path = Union[str, os.PathLike[str]]
_Thresholds = Union[Mapping[str, float], str, None]

__version__: str
__all__ = [
    "PLATFORM", "spressure", "Snapshot", "Admission", "Prediction", "MemoryPressureLevel", "PressureEvent",
    "Watcher",
    "LINUX_WARN_SOME_AVG10", "LINUX_CRITICAL_FULL_AVG10",
    "Error", "UnsupportedError", "UnavailableError", "NotFoundError", "GoneError",
    "PermissionDeniedError", "MalformedError", "InvalidArgumentError", "cgroup_identity",
    "pressure_cpu", "pressure_memory", "pressure_io", "pressure_irq", "memory_pressure_level", "watch",
    "admit", "snapshot", "stall_share", "scan_cgroups", "time_until_below", "wait_until_ended",
]
PLATFORM: str
LINUX_WARN_SOME_AVG10: float
LINUX_CRITICAL_FULL_AVG10: float

class spressure(NamedTuple):
    some_avg10: Optional[float]
    some_avg60: Optional[float]
    some_avg300: Optional[float]
    some_total: Optional[int]
    full_avg10: Optional[float]
    full_avg60: Optional[float]
    full_avg300: Optional[float]
    full_total: Optional[int]

class Snapshot(NamedTuple):
    target: str
    time: float
    monotonic: float
    cpu: Optional[spressure]
    memory: Optional[spressure]
    io: Optional[spressure]
    irq: Optional[spressure]
    unavailable: Dict[str, str]

class Admission(NamedTuple):
    admitted: bool
    reason: str
    measured: Dict[str, Optional[float]]

class Prediction(NamedTuple):
    estimate: Optional[float]
    earliest: Optional[float]
    latest: Optional[float]
    never: bool
    below_now: bool
    stall_now: Optional[float]
    updates_min: int
    updates_max: int

class MemoryPressureLevel(enum.IntEnum):
    NORMAL = 1
    WARN = 2
    CRITICAL = 4

class PressureEvent(NamedTuple):
    spec: str
    resource: str
    line: str
    target: str
    time: float
    stall_us: int
    window_us: int
    observed_stall_us: Optional[int]
    observed_window_us: Optional[int]
    share: Optional[float]
    mode: str
    variable: Optional[str]

class Watcher:
    def __init__(self, native: _native.Watch, timeout: Optional[float]) -> None: ...
    @property
    def armed(self) -> List[Tuple[str, str, str]]: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __iter__(self) -> Watcher: ...
    def __next__(self) -> PressureEvent: ...
    def __enter__(self) -> Watcher: ...
    def __exit__(self, *exc: object) -> None: ...

def pressure_cpu(*, cgroup: Optional[_Path] = ..., pid: Optional[int] = ..., proc_root: Optional[_Path] = ...,
                 cgroup_root: Optional[_Path] = ...) -> spressure: ...
def pressure_memory(*, cgroup: Optional[_Path] = ..., pid: Optional[int] = ..., proc_root: Optional[_Path] = ...,
                    cgroup_root: Optional[_Path] = ...) -> spressure: ...
def pressure_io(*, cgroup: Optional[_Path] = ..., pid: Optional[int] = ..., proc_root: Optional[_Path] = ...,
                cgroup_root: Optional[_Path] = ...) -> spressure: ...
def pressure_irq(*, cgroup: Optional[_Path] = ..., pid: Optional[int] = ..., proc_root: Optional[_Path] = ...,
                 cgroup_root: Optional[_Path] = ...) -> spressure: ...
def memory_pressure_level(*, cgroup: Optional[_Path] = ..., pid: Optional[int] = ...,
                          proc_root: Optional[_Path] = ..., cgroup_root: Optional[_Path] = ...) -> MemoryPressureLevel: ...
def watch(spec: str, *specs: str, timeout: Optional[float] = ..., cgroup: Optional[_Path] = ...,
          pid: Optional[int] = ..., mode: str = ..., strict_window: bool = ..., proc_root: Optional[_Path] = ...,
          cgroup_root: Optional[_Path] = ..., from_environment: bool = ...) -> Watcher: ...
def snapshot(*, cgroup: Optional[_Path] = ..., pid: Optional[int] = ..., proc_root: Optional[_Path] = ...,
             cgroup_root: Optional[_Path] = ...) -> Snapshot: ...
def stall_share(before: Snapshot, after: Snapshot, resource: str, line: str) -> Optional[float]: ...
def scan_cgroups(under: _Path = ..., *, recursive: bool = ..., include_self: bool = ...,
                 proc_root: Optional[_Path] = ..., cgroup_root: Optional[_Path] = ...) -> List[Tuple[str, Snapshot]]: ...
def admit(condition: str, *conditions: str, cgroup: Optional[_Path] = ..., pid: Optional[int] = ...,
          proc_root: Optional[_Path] = ..., cgroup_root: Optional[_Path] = ...) -> Admission: ...
def time_until_below(resource: str = ..., line: str = ..., thresholds: _Thresholds = ..., *,
                     cgroup: Optional[_Path] = ..., pid: Optional[int] = ..., sample: float = ...,
                     proc_root: Optional[_Path] = ..., cgroup_root: Optional[_Path] = ...) -> Prediction: ...
def wait_until_ended(resource: str = ..., line: str = ..., thresholds: _Thresholds = ..., *,
                     quiet: float = ..., timeout: Optional[float] = ..., cgroup: Optional[_Path] = ...,
                     pid: Optional[int] = ..., proc_root: Optional[_Path] = ...,
                     cgroup_root: Optional[_Path] = ...) -> bool: ...
def cgroup_identity(path: _Path) -> Dict[str, Union[str, bool]]: ...
def _darwin_api(sysctl: Optional[Callable[[str], int]] = ...) -> types.SimpleNamespace: ...
def __getattr__(name: str) -> object: ...
