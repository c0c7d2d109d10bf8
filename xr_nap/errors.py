"""The exceptions and warnings xr-nap raises on bad input, and a warning helper.

Every error that bad input can cause is one of these classes (or a plain ``KeyError``
for a missing key, ``TypeError`` for a wrong kind of object), and its message names
what is wrong and where: the file, the object inside it (NWB path, NPZ member) and,
for arrays, the first offending position.

=======================  =====================================================
class                    raised for
=======================  =====================================================
``XrNapError``           base class of everything below
``TimeAxisError``        a time coordinate xr-nap cannot use as seconds:
                         missing, datetime64/timedelta64, unsorted, not finite
``FileFormatError``      a file that cannot be read as what it claims to be
``NPZFormatError``       ... an NPZ file (damaged, truncated, not pynapple's layout)
``UnsafeNPZError``       ... an NPZ member that would need a general unpickler or
                         could make file bytes into object pointers
``NWBFormatError``       ... an NWB file or one of its objects
``OutputSizeError``      an operation whose output would be too large to build
                         (e.g. a bin size of 1 ns over an hour), refused up front
=======================  =====================================================

All of them derive from ``ValueError`` (except :class:`OutputSizeError`, a
``MemoryError``), so code written against earlier versions that caught
``ValueError`` keeps working.

Warnings are :class:`XrNapWarning` (or a subclass) and point at the first line outside
xr-nap, xarray, pandas, numpy and dask: the user's own line.
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from pathlib import Path

__all__ = [
    "XrNapError",
    "TimeAxisError",
    "FileFormatError",
    "NPZFormatError",
    "UnsafeNPZError",
    "NWBFormatError",
    "OutputSizeError",
    "XrNapWarning",
    "SkippedObjectWarning",
    "StaleSupportWarning",
    "warn",
    "check_output_size",
]


class XrNapError(ValueError):
    """Base class of the errors xr-nap raises on bad input."""


class TimeAxisError(XrNapError):
    """A time coordinate that cannot be used as sorted, finite seconds."""


class FileFormatError(XrNapError):
    """A file, or an object inside it, that cannot be read."""


class NPZFormatError(FileFormatError):
    """An NPZ file that is damaged or not in pynapple's layout."""


class UnsafeNPZError(NPZFormatError):
    """An NPZ member that xr-nap refuses to rebuild (it could run code or crash)."""


class NWBFormatError(FileFormatError):
    """An NWB file, or one of its objects, that cannot be read."""


class OutputSizeError(XrNapError, MemoryError):
    """An operation whose result would be too large to build; refused before any work."""


class XrNapWarning(UserWarning):
    """Base class of xr-nap's warnings."""


class SkippedObjectWarning(XrNapWarning):
    """An object of a file that cannot be read was skipped (the others were read)."""


class StaleSupportWarning(XrNapWarning):
    """An encoded ``time_support`` attribute no longer fits its time coordinate."""


# Frames in these packages are library internals; a warning points past them.
_INTERNAL = tuple(
    str(Path(mod.__file__).parent) + os.sep
    for mod in (sys.modules[__name__.split(".")[0]],)
)
_LIBRARIES = ("xarray", "pandas", "numpy", "dask", "h5py", "pynwb", "hdmf", "zarr")


def _is_internal(filename: str) -> bool:
    if filename.startswith(_INTERNAL):
        return True
    parts = Path(filename).parts
    return any(lib in parts for lib in _LIBRARIES) and "site-packages" in parts


def stack_level() -> int:
    """The ``stacklevel`` that makes a warning point at the user's line.

    Counts the frames from the caller of this function up to the first frame outside
    xr-nap and the array libraries it calls (xarray's ``find_stack_level`` idea).
    """
    frame = inspect.currentframe()
    level = 0
    try:
        frame = frame.f_back if frame is not None else None  # skip stack_level itself
        while frame is not None and _is_internal(frame.f_code.co_filename):
            frame = frame.f_back
            level += 1
    finally:
        del frame
    return max(level, 1)


def warn(message: str, category: type[Warning] = XrNapWarning) -> None:
    """``warnings.warn`` at the user's line (see :func:`stack_level`)."""
    # +1: this function's own frame is internal and counted by stack_level already
    warnings.warn(message, category, stacklevel=stack_level() + 1)


def _memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return float(2**40)


def check_output_size(n_values: float, itemsize: int, what: str, hint: str) -> None:
    """Refuse, before any work, an output of ``n_values`` items of ``itemsize`` bytes
    that could not fit in this machine's memory (:class:`OutputSizeError`)."""
    need = float(n_values) * itemsize
    limit = _memory_bytes()
    if not need <= limit:  # also catches inf and NaN
        raise OutputSizeError(f"{what} would need {need / 2**30:.3g} GiB, more than this "
                              f"machine's {limit / 2**30:.3g} GiB of memory; {hint}")
