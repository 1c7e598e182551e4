"""The exceptions of the pressure module, and how the C++ library's errors map onto them.

Every error is a :class:`pressure.Error`, an :class:`OSError` with ``errno``, ``strerror``
(the library's sentence naming what is wrong and where) and ``filename`` (the file or cgroup
at fault, when there is one). Where Python has a builtin for the case, the exception also
derives from it, so ``except FileNotFoundError`` / ``except PermissionError`` /
``except ValueError`` work as psutil users expect.
"""

from __future__ import annotations

import errno as _errno
from typing import Optional


class Error(OSError):
    """Base class of every error the pressure module raises.

    ``code`` is the library's error code ("unsupported", "not_found", ...).
    """

    code = "system"


class UnsupportedError(Error):
    """No pressure information here at all: PSI is off (boot with psi=1 or build the kernel
    with CONFIG_PSI=y), switched off for the cgroup, or the platform has none."""

    code = "unsupported"


class UnavailableError(Error):
    """This resource is not provided (e.g. /proc/pressure/irq before 6.1); others may be."""

    code = "unavailable"


class NotFoundError(Error, FileNotFoundError):
    """The cgroup or process asked for does not exist (errno ENOENT, filename the path)."""

    code = "not_found"


class GoneError(Error):
    """The cgroup was removed while it was being read or watched."""

    code = "gone"


class PermissionDeniedError(Error, PermissionError):
    """The kernel refused access (EACCES / EPERM)."""

    code = "permission"


class MalformedError(Error):
    """A kernel file did not parse; ``filename`` names it."""

    code = "malformed"


class InvalidArgumentError(Error, ValueError):
    """A bad value from the caller: a trigger spec, a cgroup path, a pid."""

    code = "invalid_argument"


_CLASSES = {cls.code: cls for cls in (Error, UnsupportedError, UnavailableError, NotFoundError, GoneError,
                                      PermissionDeniedError, MalformedError, InvalidArgumentError)}
# The errno an error carries when the library had none (e.g. a parse error).
_DEFAULT_ERRNO = {
    "unsupported": _errno.EOPNOTSUPP,
    "unavailable": _errno.EOPNOTSUPP,
    "not_found": _errno.ENOENT,
    "gone": _errno.ENODEV,
    "permission": _errno.EACCES,
    "malformed": _errno.EINVAL,
    "invalid_argument": _errno.EINVAL,
    "system": _errno.EIO,
}


def from_native(code: str, sys_errno: int, message: str, path: str) -> Error:
    """The exception for one pressure::Error (called by the C++ extension)."""
    cls = _CLASSES.get(code, Error)
    number = sys_errno or _DEFAULT_ERRNO.get(code, _errno.EIO)
    filename: Optional[str] = path or None
    if filename is None:
        return cls(number, message)
    return cls(number, message, filename)
