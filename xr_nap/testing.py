"""Assertions and small sample data for tests (xr-nap's and its users').

Examples
--------
>>> import xr_nap as nap
>>> from xr_nap.testing import assert_nap_equal, sample_session
>>> s = sample_session(duration=20.0, n_units=3, seed=1)
>>> sorted(s)
['epochs', 'lfp', 'position', 'units']
>>> assert_nap_equal(s["units"], nap.restrict(s["units"], nap.time_support(s["units"])))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.intervals import bounds, interval_set
from xr_nap.core.time_series import (
    nap_type,
    support_bounds,
    times,
    ts_group,
    tsd,
    tsd_frame,
)

__all__ = [
    "CountingArray",
    "FileServer",
    "assert_nap_equal",
    "assert_same_object",
    "assert_support_equal",
    "dandi_routes",
    "position_like",
    "sample_session",
    "write_large_nwb",
    "write_nwb_zarr",
    "write_sample_nwb",
]


class CountingArray:
    """An array-like that records every read, to prove what a computation loads.

    Wrap data in it, build a time series on it (``xr_nap.tsd(t, CountingArray(d))``
    stays lazy), run the computation, then look at ``reads`` (the keys asked for) or
    :meth:`rows_read`.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> data = CountingArray(np.arange(100.0))
    >>> x = nap.tsd(np.arange(100.0), data)
    >>> data.reads
    []
    >>> nap.get(x, 10, 14).values
    array([10., 11., 12., 13., 14.])
    >>> data.rows_read()
    [5]
    """

    def __init__(self, array: Any):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype
        self.reads: list[Any] = []

    def __getitem__(self, key: Any) -> np.ndarray:
        self.reads.append(key)
        return np.asarray(self.array[key])

    def rows_read(self) -> list[int]:
        """Number of time rows of each read."""
        rows = []
        for key in self.reads:
            first = key[0] if isinstance(key, tuple) else key
            rows.append(len(range(*first.indices(self.shape[0])))
                        if isinstance(first, slice) else int(np.size(first)))
        return rows


def assert_support_equal(a: Any, b: Any, atol: float = 0.0) -> None:
    """Assert two objects (or interval sets) have the same time support."""
    sa = support_bounds(a) if not _is_interval_like(a) else bounds(a)
    sb = support_bounds(b) if not _is_interval_like(b) else bounds(b)
    for name, x, y in (("starts", sa[0], sb[0]), ("ends", sa[1], sb[1])):
        if x.shape != y.shape or not np.allclose(x, y, rtol=0, atol=atol):
            raise AssertionError(f"time support {name} differ:\n{x}\n{y}")


def _is_interval_like(obj: Any) -> bool:
    return not isinstance(obj, (xr.DataArray, xr.Dataset)) or (
        isinstance(obj, xr.Dataset) and nap_type(obj) == "IntervalSet")


def assert_nap_equal(a: Any, b: Any, atol: float = 0.0, check_support: bool = True) -> None:
    """Assert two xr-nap objects hold the same times, values and time support.

    Works on every kind of the data model. Values are compared with ``atol``
    (NaN equals NaN); coordinates other than ``time`` must be identical.
    """
    ka, kb = nap_type(a), nap_type(b)
    if ka != kb:
        raise AssertionError(f"kinds differ: {ka} != {kb}")
    if ka == "IntervalSet":
        assert_support_equal(a, b, atol)
        xr.testing.assert_identical(a.drop_vars(["start", "end"]), b.drop_vars(["start", "end"]))
        return
    if ka == "TsGroup":
        np.testing.assert_array_equal(a["unit"].values, b["unit"].values)
        np.testing.assert_array_equal(a["row_size"].values, b["row_size"].values)
        np.testing.assert_allclose(a["spike_time"].values, b["spike_time"].values,
                                   rtol=0, atol=atol)
    else:
        np.testing.assert_allclose(times(a), times(b), rtol=0, atol=atol)
        if ka != "Ts":
            np.testing.assert_allclose(np.asarray(a.values, dtype=float),
                                       np.asarray(b.values, dtype=float),
                                       rtol=0, atol=atol, equal_nan=True)
        for name in set(a.coords) | set(b.coords):
            if name != "time":
                xr.testing.assert_equal(a[name], b[name])
    if check_support:
        assert_support_equal(a, b, atol)


def _same_values(a: Any, b: Any, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise AssertionError(f"{what}: shapes differ, {a.shape} != {b.shape}")
    if a.dtype == object or b.dtype == object:  # ragged cells: one array per row
        for i, (x, y) in enumerate(zip(a.reshape(-1), b.reshape(-1), strict=True)):
            if not np.array_equal(np.asarray(x), np.asarray(y)):
                raise AssertionError(f"{what}[{i}] differ: {x!r} != {y!r}")
        return
    if a.dtype.kind != b.dtype.kind:
        raise AssertionError(f"{what}: dtypes differ, {a.dtype} != {b.dtype}")
    if not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
        raise AssertionError(f"{what} differ:\n{a}\n{b}")


def _same_attrs(a: Any, b: Any, what: str) -> None:
    if set(a) != set(b):
        raise AssertionError(f"{what}: attributes differ: {sorted(set(a) ^ set(b))}")
    for key in a:
        _same_values(a[key], b[key], f"{what}.attrs[{key!r}]")


def assert_same_object(a: Any, b: Any, what: str = "object") -> None:
    """Assert ``b`` is ``a`` again, as after a trip through a file: same kind, name,
    dimensions, values (NaN equals NaN), coordinates, metadata variables, attributes
    and time support. Ragged columns (one array per row, such as NWB ``tags``) are
    compared row by row; arrays that differ only in how they are held (lazily, as
    dask, ``str`` of another width) are equal. A dict (a table of several ``Ts``)
    is compared key by key.

    Examples
    --------
    >>> import xr_nap as nap
    >>> g = nap.ts_group({1: [0.5, 1.5]}, metadata={"area": ["ca1"]})
    >>> assert_same_object(g, g.copy(deep=True))
    """
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or list(a) != list(b):
            raise AssertionError(f"{what}: {type(a).__name__} {list(a)} != "
                                 f"{type(b).__name__} {list(b)}")
        for key in a:
            assert_same_object(a[key], b[key], f"{what}/{key}")
        return
    if type(a) is not type(b):
        raise AssertionError(f"{what}: {type(a).__name__} != {type(b).__name__}")
    if isinstance(a, xr.DataArray) and a.name != b.name:
        raise AssertionError(f"{what}: names differ, {a.name!r} != {b.name!r}")
    _same_attrs(a.attrs, b.attrs, what)
    if dict(a.sizes) != dict(b.sizes):
        raise AssertionError(f"{what}: sizes differ, {dict(a.sizes)} != {dict(b.sizes)}")
    if set(a.coords) != set(b.coords):
        raise AssertionError(f"{what}: coordinates differ: "
                             f"{sorted(map(str, set(a.coords) ^ set(b.coords)))}")
    va = dict(a.variables) if isinstance(a, xr.Dataset) else {**a.coords, None: a}
    vb = dict(b.variables) if isinstance(b, xr.Dataset) else {**b.coords, None: b}
    if set(va) != set(vb):
        raise AssertionError(f"{what}: variables differ: "
                             f"{sorted(map(str, set(va) ^ set(vb)))}")
    for key, x in va.items():
        y = vb[key]
        name = what if key is None else f"{what}/{key}"
        if x.dims != y.dims:
            raise AssertionError(f"{name}: dims differ, {x.dims} != {y.dims}")
        _same_attrs(x.attrs, y.attrs, name)
        _same_values(x.values, y.values, name)
    try:
        kind = nap_type(a)
    except TypeError:  # an analysis result: no time support
        return
    if kind != "IntervalSet":
        assert_support_equal(a, b)


def sample_session(
    duration: float = 600.0,
    n_units: int = 10,
    lfp_rate: float = 250.0,
    position_rate: float = 100.0,
    seed: int = 0,
) -> dict[str, xr.DataArray | xr.Dataset]:
    """A small synthetic recording: position, an LFP-like signal, place cells, epochs.

    Units fire as Poisson processes whose rate follows a Gaussian place field on a
    1-D track and the phase of an 8 Hz theta rhythm that dominates the LFP, so tuning
    curves show place fields and spike-triggered LFP averages show theta. Everything is generated in
    memory from ``seed``; no download.

    Returns
    -------
    dict
        ``position`` (Tsd, cm), ``lfp`` (TsdFrame, 4 channels, mV), ``units``
        (TsGroup with ``location`` and ``peak_position`` metadata) and ``epochs``
        (interval set: wake / sleep halves, labelled).
    """
    rng = np.random.default_rng(seed)
    t_pos = np.arange(0.0, duration, 1.0 / position_rate)
    # a smooth back-and-forth run on a 100 cm track
    pos = 50.0 + 45.0 * np.sin(2 * np.pi * t_pos / 20.0 + 0.3 * np.sin(t_pos / 7.0))
    position = tsd(t_pos, pos, name="position", attrs={"units": "cm"})

    t_lfp = np.arange(0.0, duration, 1.0 / lfp_rate)
    theta = np.sin(2 * np.pi * 8.0 * t_lfp)
    lfp = theta[:, None] * np.array([1.0, 0.8, 0.6, 0.4]) + 0.2 * rng.standard_normal(
        (t_lfp.size, 4))
    lfp = tsd_frame(t_lfp, lfp, columns=[f"ch{i}" for i in range(4)], name="lfp",
                    metadata={"depth_um": [100, 200, 300, 400]})
    lfp.attrs["units"] = "mV"

    # place cells whose firing is also locked to the theta rhythm of the LFP
    centres = np.linspace(5.0, 95.0, n_units)
    dt = 1e-3
    t_fine = np.arange(0.0, duration, dt)
    pos_fine = np.interp(t_fine, t_pos, pos)
    theta_gain = 1.0 + 0.9 * np.cos(2 * np.pi * 8.0 * t_fine)
    units = {}
    for i, c in enumerate(centres):
        rate = (0.5 + 20.0 * np.exp(-0.5 * ((pos_fine - c) / 6.0) ** 2)) * theta_gain
        fired = rng.random(t_fine.size) < rate * dt
        units[i] = t_fine[fired] + rng.uniform(0, dt, int(fired.sum()))
    group = ts_group(units, time_support=(0.0, duration), metadata={
        "location": np.where(np.arange(n_units) % 2 == 0, "ca1", "ca3"),
        "peak_position": centres,
    })
    half = duration / 2
    epochs = interval_set([0.0, half], [half - 1.0, duration],
                          metadata={"label": ["wake", "sleep"]})
    return {"position": position, "lfp": lfp, "units": group, "epochs": epochs}


def write_sample_nwb(path: Any, duration: float = 600.0, n_units: int = 10,
                     seed: int = 0) -> Any:
    """Write :func:`sample_session` to an NWB file with pynwb; return the path.

    Layout: ``position`` as a SpatialSeries in ``processing/behavior/Position``
    (timestamps), ``lfp`` as a rate-based TimeSeries in ``acquisition`` stored as
    int16 with ``conversion`` (so it is scaled lazily on read), ``units`` with
    ``location`` and ``peak_position`` columns, and labelled ``epochs``.
    """
    import warnings
    from datetime import UTC, datetime
    from pathlib import Path

    import pynwb
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb.behavior import Position, SpatialSeries

    s = sample_session(duration=duration, n_units=n_units, seed=seed)
    nwb = pynwb.NWBFile(
        session_description="xr-nap sample session (synthetic place cells)",
        identifier=f"xr-nap-sample-{seed}",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    behavior = nwb.create_processing_module("behavior", "animal position")
    pos = s["position"]
    behavior.add(Position(spatial_series=SpatialSeries(
        name="position", data=pos.values, timestamps=pos.time.values, unit="cm",
        reference_frame="start of the track")))
    lfp = s["lfp"]
    conversion = 1e-3  # raw int16 counts of 1 uV, physical values in mV
    raw = np.round(lfp.values / conversion).astype(np.int16)
    rate = 1.0 / float(lfp.time[1] - lfp.time[0])
    nwb.add_acquisition(pynwb.TimeSeries(
        name="lfp", data=H5DataIO(raw, chunks=(min(raw.shape[0], 25_000), raw.shape[1])),
        unit="mV", conversion=conversion, rate=rate, starting_time=float(lfp.time[0])))
    units = s["units"]
    nwb.add_unit_column("location", "brain area")
    nwb.add_unit_column("peak_position", "place field centre (cm)")
    from xr_nap.core.time_series import unit_spike_times

    for (uid, spikes), loc, peak in zip(unit_spike_times(units), units.location.values,
                                        units.peak_position.values, strict=True):
        nwb.add_unit(id=int(uid), spike_times=spikes, location=str(loc),
                     peak_position=float(peak))
    nwb.add_epoch_column("label", "behavioural state")
    ep = s["epochs"]
    for start, end, label in zip(ep.start.values, ep.end.values, ep.label.values,
                                 strict=True):
        nwb.add_epoch(start_time=float(start), stop_time=float(end), label=str(label))
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return path


def position_like(i0: int, i1: int, rate: float) -> np.ndarray:
    """A smooth position-like signal in [5, 95] cm for samples ``i0..i1`` at ``rate`` Hz."""
    t = np.arange(i0, i1) / rate
    return 50.0 + 45.0 * np.sin(2 * np.pi * t / 20.0) * np.cos(t / 97.0)


def write_large_nwb(path: Any, n_samples: int, rate: float = 1000.0,
                    chunk_rows: int = 1 << 16, n_units: int = 5,
                    spikes_per_unit: int = 20_000, seed: int = 0,
                    dtype: Any = np.float64) -> Any:
    """Write an NWB file with one big rate-based series, never holding it in memory.

    ``acquisition/feature`` gets ``n_samples`` values (``dtype``) of :func:`position_like`
    (HDF5-chunked by ``chunk_rows``) and the file gets ``n_units`` random units. pynwb
    writes the layout around an empty dataset, then h5py fills it block by block, so a
    multi-GiB file needs only a few MiB of memory to make. For out-of-core tests and
    benchmarks.
    """
    import warnings
    from datetime import UTC, datetime
    from pathlib import Path

    import h5py
    import pynwb
    from hdmf.backends.hdf5 import H5DataIO

    rng = np.random.default_rng(seed)
    nwb = pynwb.NWBFile(session_description="xr-nap large sample", identifier="xr-nap-large",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    data = H5DataIO(data=None, shape=(n_samples,), dtype=np.dtype(dtype),
                    chunks=(min(chunk_rows, n_samples),))
    nwb.add_acquisition(pynwb.TimeSeries(name="feature", data=data, unit="cm", rate=rate,
                                         starting_time=0.0))
    for _ in range(n_units):
        nwb.add_unit(spike_times=np.sort(rng.uniform(0, n_samples / rate, spikes_per_unit)))
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    with h5py.File(path, "r+") as f:
        ds = f["acquisition/feature/data"]
        step = 1 << 22
        for a in range(0, n_samples, step):
            b = min(a + step, n_samples)
            ds[a:b] = position_like(a, b, rate)
    return path


_MEASURE = r"""
import json, sys, time
def _status(key):
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith(key)) / 1024
exec(sys.argv[1])
with open("/proc/self/clear_refs", "w") as f:  # the peak restarts from here
    f.write("5")
_before, _t0 = _status("VmRSS"), time.perf_counter()
exec(sys.argv[2])
print(json.dumps({"secs": time.perf_counter() - _t0,
                  "growth_mib": _status("VmHWM") - _before}))
"""


def measure_in_subprocess(setup: str, run: str, timeout: float = 600.0) -> dict:
    """Wall time and peak memory growth of ``run``, in a fresh Python process.

    ``setup`` runs first (imports, opening files) and is not counted. Returns
    ``{"secs": ..., "growth_mib": ...}`` (peak resident memory during ``run`` minus
    the resident memory before it), or ``{"error": message}`` if the child failed or
    ran past ``timeout`` seconds. Linux only (it reads ``/proc/self/status``).

    Examples
    --------
    >>> r = measure_in_subprocess("import numpy as np", "x = np.ones(2**24)")  # 128 MiB
    >>> 100 < r["growth_mib"] < 200
    True
    """
    import json
    import subprocess
    import sys

    try:
        proc = subprocess.run([sys.executable, "-c", _MEASURE, setup, run],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode:
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        return {"error": lines[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])
class FileServer:
    """A threaded HTTP server on 127.0.0.1 serving the files of a directory, for tests
    and examples of remote reading that need no network.

    Parameters
    ----------
    root : str or path-like
        Directory whose files are served (``/name`` -> ``root/name``; nothing outside).
    delay : float, default 0
        Seconds added before each answer (a network round trip, e.g. 0.02).
    ranges : bool, default True
        Answer ``Range`` requests with 206 and the bytes asked for; ``False`` imitates a
        server that always sends whole files.
    routes : dict, optional
        Extra paths answered with JSON: ``{"/api/x/": func}`` where ``func(query)``
        (``query``: the decoded query parameters, one value each) returns a
        JSON-serialisable object, or ``("redirect", url)`` for a 302 redirect, or None
        for 404.

    Attributes
    ----------
    requests, bytes_sent : int
        Requests answered and body bytes sent since start (or :meth:`reset_counts`).

    Examples
    --------
    >>> import tempfile, pathlib, urllib.request
    >>> from xr_nap.testing import FileServer
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / "a.bin").write_bytes(b"0123456789")
    ...     with FileServer(tmp) as server:
    ...         req = urllib.request.Request(server.url("a.bin"), headers={"Range": "bytes=2-4"})
    ...         with urllib.request.urlopen(req) as response:
    ...             print(response.status, response.read(), server.requests)
    206 b'234' 1
    """

    def __init__(self, root: Any, *, delay: float = 0.0, ranges: bool = True,
                 routes: dict[str, Any] | None = None):
        import http.server
        import threading
        from pathlib import Path

        self.root = Path(root).resolve()
        self.delay, self.ranges, self.routes = delay, ranges, dict(routes or {})
        self.requests = 0
        self.bytes_sent = 0
        self._count_lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers
            # headers and body go out in two writes: without this, Nagle's algorithm
            # and delayed ACKs hold the body back tens of milliseconds per answer
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                server._answer(self, body=False)

            def do_GET(self) -> None:
                server._answer(self, body=True)

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                import sys

                if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hung up
                    super().handle_error(request, client_address)

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, name: str = "") -> str:
        """The URL of ``name`` (a path relative to ``root``)."""
        return f"{self.base_url}/{str(name).lstrip('/')}"

    def reset_counts(self) -> None:
        with self._count_lock:
            self.requests = self.bytes_sent = 0

    def _send(self, handler: Any, status: int, headers: dict[str, str], data: bytes,
              body: bool) -> None:
        handler.send_response(status)
        for key, value in {"Content-Length": str(len(data)), **headers}.items():
            handler.send_header(key, value)
        handler.end_headers()
        if body and data:
            handler.wfile.write(data)
        with self._count_lock:
            self.bytes_sent += len(data) if body else 0

    def _answer(self, handler: Any, body: bool) -> None:
        import json
        import time
        import urllib.parse

        with self._count_lock:
            self.requests += 1
        if self.delay:
            time.sleep(self.delay)
        parsed = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(parsed.path)
        if path in self.routes:
            query = dict(urllib.parse.parse_qsl(parsed.query))
            answer = self.routes[path](query)
            if answer is None:
                return self._send(handler, 404, {}, b"not found", body)
            if isinstance(answer, tuple) and answer[:1] == ("redirect",):
                return self._send(handler, 302, {"Location": answer[1]}, b"", body)
            return self._send(handler, 200, {"Content-Type": "application/json"},
                              json.dumps(answer).encode(), body)
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_file() or not target.is_relative_to(self.root):
            return self._send(handler, 404, {}, b"not found", body)
        size = target.stat().st_size
        wanted = handler.headers.get("Range", "")
        if not (self.ranges and wanted.startswith("bytes=")):
            accept = {"Accept-Ranges": "bytes" if self.ranges else "none"}
            if not body:  # HEAD: the size, without reading the file
                return self._send(handler, 200, {**accept, "Content-Length": str(size)},
                                  b"", body)
            return self._send(handler, 200, accept, target.read_bytes(), body)
        first, _, last = wanted[len("bytes="):].split(",")[0].strip().partition("-")
        if first:
            start, stop = int(first), min(int(last) + 1 if last else size, size)
        else:  # a suffix: the last n bytes
            start, stop = max(size - int(last), 0), size
        if start >= size or stop <= start:
            return self._send(handler, 416, {"Content-Range": f"bytes */{size}"}, b"", body)
        with open(target, "rb") as fh:
            fh.seek(start)
            data = fh.read(stop - start)
        self._send(handler, 206, {"Content-Range": f"bytes {start}-{stop - 1}/{size}",
                                  "Accept-Ranges": "bytes"}, data, body)

    def close(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> FileServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def dandi_routes(dandiset_id: str, assets: dict[str, str], version: str = "draft",
                 zarr_assets: dict[str, str] | None = None) -> dict[str, Any]:
    """:class:`FileServer` routes imitating the DANDI API calls of
    :func:`xr_nap.open_dandi`, for tests and examples that run offline.

    Parameters
    ----------
    dandiset_id : str
        Six digits, e.g. ``"000123"``.
    assets : dict
        Asset path in the dandiset -> the served file's name (its download endpoint
        redirects there, as DANDI's does to its storage).
    version : str
        The version the routes answer for.
    zarr_assets : dict, optional
        Asset path -> the URL of an NWB-zarr store (given as its ``contentUrl``).

    Examples
    --------
    >>> from xr_nap.testing import dandi_routes
    >>> for route in sorted(dandi_routes("000123", {"sub-1/a.nwb": "a.nwb"})):
    ...     print(route)
    /api/assets/asset-0/
    /api/assets/asset-0/download/
    /api/dandisets/000123/versions/draft/assets/
    """
    listed = []
    routes: dict[str, Any] = {}
    for i, (path, target) in enumerate({**assets, **(zarr_assets or {})}.items()):
        asset_id = f"asset-{i}"
        is_zarr = path in (zarr_assets or {})
        listed.append({"asset_id": asset_id, "path": path, "size": 0,
                       "zarr": f"zarr-{i}" if is_zarr else None,
                       "blob": None if is_zarr else f"blob-{i}"})
        routes[f"/api/assets/{asset_id}/download/"] = (
            lambda q, t=target: ("redirect", "/" + t.lstrip("/")))
        routes[f"/api/assets/{asset_id}/"] = lambda q, t=target: {"contentUrl": [t]}

    def listing(query: dict) -> dict:
        found = [a for a in listed if a["path"].startswith(query.get("path", ""))]
        return {"count": len(found), "next": None, "previous": None, "results": found}

    routes[f"/api/dandisets/{dandiset_id}/versions/{version}/assets/"] = listing
    return routes


def write_nwb_zarr(h5_path: Any, out: Any, consolidated: bool = True,
                   chunk_rows: int | None = None, zarr_format: int = 2) -> Any:
    """Write the HDF5 NWB file ``h5_path`` as an NWB-zarr store (directory ``out``) in
    hdmf-zarr's layout for zarr format 2 (hdmf-zarr < 0.14) or 3 (hdmf-zarr >= 0.14),
    without hdmf-zarr (see :mod:`xr_nap.io.nwb_zarr_writer`); ``consolidated`` writes
    consolidated metadata. Returns the store's path."""
    from xr_nap.io.nwb_zarr_writer import write_nwb_zarr as write

    return write(h5_path, out, consolidated, chunk_rows, zarr_format)
