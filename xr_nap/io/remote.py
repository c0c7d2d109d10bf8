"""Remote NWB files: byte sources for URLs, kept as strings so lazy arrays can reopen them.

As in xarray's h5netcdf backend, a URL stays a string and the file manager reopens it
from ``(opener, url, options)``, so lazy arrays pickle and run on a ``dask.distributed``
cluster. ``http(s)://`` URLs are read by :class:`HTTPRangeFile`: HTTP range requests
through ``requests``, a block cache and read-ahead that grows on sequential reads. HDF5
reads its metadata in many small scattered pieces; what costs on a remote file is the
number of round trips, so whole blocks are fetched and kept. Other URLs (``s3://``,
``gs://``, ``blockcache::https://``, ...) go through fsspec with ``storage_options``.

``storage_options`` for ``http(s)://`` URLs (all optional):

==================  =================================================================
key                 meaning
==================  =================================================================
``block_size``      smallest byte range one request asks for (default 1 MiB)
``max_block_size``  largest read-ahead on sequential reads (default 16 MiB)
``cache_size``      bytes of blocks kept in memory per open file (default 256 MiB;
                    the least recently used are dropped first)
``headers``         extra HTTP headers (e.g. an ``Authorization`` token)
``timeout``         seconds to wait for the server (default 30)
==================  =================================================================
"""

from __future__ import annotations

import atexit
import io
import os
import re
import threading
import weakref
from collections import OrderedDict
from typing import Any

import h5py

from xr_nap.errors import NWBFormatError

__all__ = ["HTTPRangeFile", "H5FileObject", "is_url", "open_h5_url", "missing_dependency",
           "REMOTE_EXTRA"]

REMOTE_EXTRA = 'pip install "xr-nap[remote]"'
HTTP_OPTIONS = ("block_size", "max_block_size", "cache_size", "headers", "timeout")


def is_url(source: Any) -> bool:
    """True for a string of the form ``protocol://...`` or ``protocol::...``.

    Examples
    --------
    >>> is_url("https://example.org/a.nwb"), is_url("s3://bucket/a.nwb"), is_url("a.nwb")
    (True, True, False)
    """
    # the same test as xarray's backends (``is_remote_uri`` is not public xarray API)
    return isinstance(source, str) and re.match(r"[a-zA-Z][a-zA-Z0-9]*(://|::)", source) is not None


def is_http(url: str) -> bool:
    return url.split("://", 1)[0].lower() in ("http", "https")


def missing_dependency(what: str, url: str, err: ImportError) -> ImportError:
    """An ImportError that says which package reading ``url`` needs and how to get it."""
    return ImportError(f"reading {url} needs {what} ({err.name} is not installed); "
                       f"install it with: {REMOTE_EXTRA}")


def _requests(url: str) -> Any:
    try:
        import requests
    except ImportError as err:
        raise missing_dependency("the requests package", url, err) from None
    return requests


class HTTPRangeFile(io.RawIOBase):
    """A read-only, seekable binary file over HTTP range requests.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL. Redirects are followed once, on the first
        request, and the final URL is used from then on.
    block_size, max_block_size, cache_size, headers, timeout
        See the module docstring.

    Raises
    ------
    FileNotFoundError
        If the server answers 404/410.
    PermissionError
        If it answers 401/403.
    ConnectionError
        If it cannot be reached.
    OSError
        For any other failure, including a server that ignores byte ranges (it would
        send the whole file for every read).

    Notes
    -----
    Pickling keeps the URL and the options, not the cached bytes: the copy reads
    again from the server. ``requests`` counts the bytes and requests of one file in
    :attr:`requests_made` and :attr:`bytes_read`.
    """

    def __init__(self, url: str, *, block_size: int = 1 << 20,
                 max_block_size: int = 16 << 20, cache_size: int = 256 << 20,
                 headers: dict[str, str] | None = None, timeout: float = 30.0):
        super().__init__()
        if not is_http(url):
            raise ValueError(f"not an http(s) URL: {url!r}")
        for name, value in (("block_size", block_size), ("max_block_size", max_block_size),
                            ("cache_size", cache_size)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive number of bytes, got {value!r}")
        self.url = url
        self.options = {"block_size": block_size, "max_block_size": max(max_block_size,
                                                                        block_size),
                        "cache_size": cache_size, "headers": dict(headers or {}),
                        "timeout": timeout}
        self._lock = threading.Lock()
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        self._ahead = 1  # blocks fetched on the next miss (grows on sequential reads)
        self._next = -1  # the block after the last one fetched
        self._session = _requests(url).Session()
        self._target = url
        self.requests_made = 0
        self.bytes_read = 0
        self.size = self._first_request()

    # ----------------------------------------------------------------- HTTP
    def _get(self, start: int, stop: int) -> Any:
        """The streamed response to a GET of bytes ``[start, stop)``."""
        requests = _requests(self.url)
        headers = {**self.options["headers"], "Range": f"bytes={start}-{stop - 1}",
                   "Accept-Encoding": "identity"}
        try:
            response = self._session.get(self._target, headers=headers, stream=True,
                                         timeout=self.options["timeout"])
        except requests.ConnectionError as err:
            raise ConnectionError(f"cannot reach {self.url}: {err}") from err
        except requests.RequestException as err:
            raise OSError(f"cannot read {self.url}: {err}") from err
        self.requests_made += 1
        status = response.status_code
        if status in (200, 206):
            return response
        response.close()
        message = f"{self.url}: HTTP {status} {response.reason}"
        if status in (404, 410):
            raise FileNotFoundError(f"no such remote file: {message}")
        if status in (401, 403):
            raise PermissionError(f"access refused: {message} (give credentials with "
                                  "storage_options={'headers': {...}})")
        if status == 416:
            if start == 0:
                return None  # an empty file
            raise OSError(f"{self.url}: the file changed on the server (it has no bytes "
                          f"from {start} on any more)")
        raise OSError(f"cannot read {message}")

    def _first_request(self) -> int:
        """Fetch the first block; return the file size (from ``Content-Range``)."""
        block = self.options["block_size"]
        response = self._get(0, block)
        if response is None:
            return 0
        with response:
            if response.status_code == 200:  # the server ignored the range
                raise OSError(
                    f"{self.url}: the server does not answer byte-range requests (it "
                    "sent the whole file); xr-nap reads remote files by ranges and will "
                    "not download all of it: download it and open the local copy")
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            if not total.isdigit():
                raise OSError(f"{self.url}: the server gave no file size (Content-Range "
                              f"{response.headers.get('Content-Range')!r})")
            self._target = response.url  # after redirects
            data = self._content(response, min(block, int(total)), 0)
        self._store(0, data)
        self._next = 1
        return int(total)

    def _content(self, response: Any, expected: int, start: int) -> bytes:
        requests = _requests(self.url)
        try:
            data = response.content
        except requests.RequestException as err:
            raise OSError(f"{self.url}: the connection broke while reading bytes "
                          f"{start}-{start + expected - 1}: {err}") from err
        self.bytes_read += len(data)
        if len(data) != expected:
            raise OSError(f"{self.url}: asked for bytes {start}-{start + expected - 1}, "
                          f"got {len(data)} bytes (the file may have changed on the server)")
        return data

    # ----------------------------------------------------------------- cache
    def _store(self, first: int, data: bytes) -> None:
        block = self.options["block_size"]
        for i in range(0, max(len(data), 1), block):
            self._blocks[first + i // block] = data[i:i + block]
        while len(self._blocks) * block > self.options["cache_size"] and len(self._blocks) > 1:
            self._blocks.popitem(last=False)

    def _fetch(self, first: int, last: int) -> dict[int, bytes]:
        """Fetch blocks ``first..last`` (and read-ahead) in one request; return them
        (the cache may be too small to keep them all)."""
        block = self.options["block_size"]
        limit = self.options["max_block_size"] // block
        if first == self._next:  # sequential: read further ahead each time
            self._ahead = min(self._ahead * 2, limit)
        else:
            self._ahead = 1
        n_blocks = (self.size + block - 1) // block
        stop = min(max(last + 1, first + self._ahead), n_blocks)
        # never refetch a block already held: stop the read-ahead at the first one
        stop = next((i for i in range(last + 1, stop) if i in self._blocks), stop)
        start_byte, stop_byte = first * block, min(stop * block, self.size)
        response = self._get(start_byte, stop_byte)
        if response is None:
            raise OSError(f"{self.url}: the file changed on the server (it is now empty)")
        with response:
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            if response.status_code != 206 or total != str(self.size):
                raise OSError(f"{self.url}: the file changed on the server, or the server "
                              f"stopped answering byte ranges (HTTP {response.status_code}, "
                              f"Content-Range {response.headers.get('Content-Range')!r}, "
                              f"expected a total of {self.size} bytes)")
            data = self._content(response, stop_byte - start_byte, start_byte)
        self._next = stop
        got = {first + i // block: data[i:i + block] for i in range(0, len(data), block)}
        self._store(first, data)
        return got

    def _read_at(self, pos: int, n: int) -> bytes:
        block = self.options["block_size"]
        first, last = pos // block, (pos + n - 1) // block
        parts: dict[int, bytes] = {}
        i = first
        while i <= last:
            held = self._blocks.get(i)
            if held is not None:
                self._blocks.move_to_end(i)
                parts[i] = held
                i += 1
                continue
            run_end = i  # a run of missing blocks: one request
            while run_end < last and run_end + 1 not in self._blocks:
                run_end += 1
            got = self._fetch(i, run_end)
            parts.update((k, v) for k, v in got.items() if k <= last)
            i = run_end + 1
        joined = b"".join(parts[k] for k in range(first, last + 1))
        offset = pos - first * block
        return joined[offset:offset + n]

    # ----------------------------------------------------------------- file API
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._lock:
            n = max(0, min(len(view), self.size - self._pos))
            if n:
                view[:n] = self._read_at(self._pos, n)
                self._pos += n
        return n

    def read(self, size: int = -1) -> bytes:
        with self._lock:
            n = self.size - self._pos if size is None or size < 0 else size
            n = max(0, min(n, self.size - self._pos))
            data = self._read_at(self._pos, n) if n else b""
            self._pos += n
        return data

    def close(self) -> None:
        if not self.closed:
            self._session.close()
            self._blocks.clear()
        super().close()

    def __getstate__(self) -> dict:
        return {"url": self.url, "options": self.options}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["url"], **state["options"])

    def __repr__(self) -> str:
        return f"HTTPRangeFile({self.url!r})"


def _fsspec_file(url: str, storage_options: dict[str, Any]) -> Any:
    try:
        import fsspec
    except ImportError as err:
        raise missing_dependency("fsspec", url, err) from None
    options = dict(storage_options)
    open_kwargs = {k: options.pop(k) for k in ("block_size", "cache_type") if k in options}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as err:  # s3fs, gcsfs, aiohttp...: the protocol's own package
        raise ImportError(f"reading {url} through fsspec needs another package: {err}"
                          ) from None
    try:
        return fs.open(path, mode="rb", **open_kwargs)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"no such remote file: {url}") from err


def open_byte_source(url: str, storage_options: dict[str, Any] | None = None) -> Any:
    """A seekable binary file object reading ``url`` (see the module docstring)."""
    options = dict(storage_options or {})
    if not is_http(url):
        return _fsspec_file(url, options)
    unknown = sorted(set(options) - set(HTTP_OPTIONS))
    if unknown:
        raise ValueError(f"storage_options {unknown} are not options of xr-nap's HTTP reader "
                         f"(it takes {list(HTTP_OPTIONS)}); to read {url} with fsspec's "
                         "instead, give the URL as 'blockcache::' + url")
    return HTTPRangeFile(url, **options)


class H5FileObject(h5py.File):
    """An ``h5py.File`` read through a Python file object.

    It closes the file object too if it owns it (a byte source opened for a URL).
    Files still open when the interpreter exits are closed before its teardown: HDF5
    closing a file then would call into a half-finalized file object (a crash).
    """

    def __init__(self, source: Any, owns_source: bool):
        self._source, self._owns_source = source, owns_source
        super().__init__(source, "r")
        _OPEN_FILE_OBJECTS.add(self)

    def close(self) -> None:
        super().close()
        if self._owns_source:
            self._source.close()


_OPEN_FILE_OBJECTS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_file_objects() -> None:
    for f in list(_OPEN_FILE_OBJECTS):
        try:
            f.close()
        except Exception:  # noqa: BLE001 (at exit, a file that fails to close is moot)
            pass


def open_h5_url(url: str, mode: str = "r",
                storage_options: dict[str, Any] | None = None) -> H5FileObject:
    """``h5py.File`` over a URL: the opener the file manager of a remote NWB file
    (re)opens it with (read-only: ``mode`` must be ``"r"``).

    Raises
    ------
    NWBFormatError
        If the bytes at ``url`` are not an HDF5 file (or a truncated one).
    """
    if mode != "r":
        raise ValueError(f"remote NWB files are read-only (mode {mode!r})")
    source = open_byte_source(url, storage_options)
    try:
        return H5FileObject(source, owns_source=True)
    except OSError as err:
        source.close()
        raise NWBFormatError(f"cannot read {url} as an HDF5 (NWB) file: {err}") from err
    except BaseException:
        source.close()
        raise
