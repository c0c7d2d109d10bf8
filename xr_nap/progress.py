"""Progress reporting on request (never by default in library calls)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


@contextlib.contextmanager
def progress(label: str = "", stream=None) -> Iterator[None]:
    """Show progress of the dask computations run inside the block.

    Uses dask's own progress bar when dask is installed (it reports every task of
    a chunked computation); always prints the label and the elapsed time.

    Examples
    --------
    >>> from xr_nap.progress import progress
    >>> with progress("nothing to do", stream=sys.stdout):
    ...     pass  # doctest: +ELLIPSIS
    nothing to do ...
    """
    stream = stream or sys.stderr
    if label:
        print(label + " ...", file=stream, flush=True)
    t0 = time.perf_counter()
    try:
        from dask.diagnostics import ProgressBar
    except ImportError:  # pragma: no cover - dask is optional
        bar = contextlib.nullcontext()
    else:
        bar = ProgressBar(out=stream, minimum=1.0)
    with bar:
        yield
    print(f"done in {time.perf_counter() - t0:.1f} s", file=stream, flush=True)
