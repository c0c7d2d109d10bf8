"""NWB files read over HTTP from a loopback server (127.0.0.1, started by the tests):
URLs, file objects and fsspec URLs give the same objects as the local file, lazy
arrays pickle into other processes, remote reads stay few, and bad sources give clear
errors naming the URL."""

from __future__ import annotations

import io
import pickle
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.errors import NWBFormatError
from xr_nap.io.remote import HTTPRangeFile
from xr_nap.testing import FileServer

pytest.importorskip("requests")
from nwb_compare import assert_engine_identical, assert_files_equal  # noqa: E402


@pytest.fixture(scope="module")
def served(session_nwb, tmp_path_factory):
    """A directory served over HTTP: the session, a truncated copy, a plain HDF5 file."""
    import h5py

    root = tmp_path_factory.mktemp("served")
    shutil.copy(session_nwb, root / "session.nwb")
    data = session_nwb.read_bytes()
    (root / "truncated.nwb").write_bytes(data[: len(data) // 2])
    with h5py.File(root / "plain.h5", "w") as f:
        f["x"] = np.arange(3)
    with FileServer(root) as server:
        yield server


def test_url_equals_local_file(served, session_nwb):
    with nap.load_file(served.url("session.nwb")) as remote, \
            nap.load_file(session_nwb) as local:
        assert remote.path == served.url("session.nwb") and remote.name == "session"
        assert_files_equal(remote, local)


def test_open_dataset_and_datatree_on_a_url(served, session_nwb):
    url = served.url("session.nwb")
    assert_engine_identical(url, session_nwb, ("units", "signal", "ephys", "epochs", "notes"))


def test_file_objects(served, session_nwb):
    fsspec = pytest.importorskip("fsspec")
    remfile = pytest.importorskip("remfile")
    url = served.url("session.nwb")
    with nap.load_file(session_nwb) as local:
        for source in (HTTPRangeFile(url), remfile.File(url), fsspec.open(url, "rb").open(),
                       open(session_nwb, "rb"), io.BytesIO(session_nwb.read_bytes())):
            with nap.load_file(source) as remote:
                assert_files_equal(remote, local)
            with xr.open_dataset(source, engine="nwb", group="multi") as ds, \
                    xr.open_dataset(session_nwb, engine="nwb", group="multi") as expected:
                xr.testing.assert_identical(ds, expected)
            source.close()
    closed = io.BytesIO(b"")
    closed.close()
    with pytest.raises(ValueError, match="closed"):
        nap.load_file(closed)
    with pytest.raises(NWBFormatError, match="BytesIO file object as an HDF5"):
        nap.load_file(io.BytesIO(b"not hdf5 at all"))


def test_fsspec_urls_and_storage_options(served, session_nwb):
    fsspec = pytest.importorskip("fsspec")
    with nap.load_file(session_nwb) as local:
        with nap.load_file(f"file://{session_nwb}") as via_fsspec:
            assert_files_equal(via_fsspec, local)
        with nap.load_file("blockcache::" + served.url("session.nwb"),
                           storage_options={"blockcache": {"block_size": 1 << 16}}) as chained:
            assert_files_equal(chained, local)
    assert fsspec is not None
    # a smaller block moves fewer bytes at open
    moved = {}
    for block in (1 << 14, 1 << 20):
        served.reset_counts()
        with nap.load_file(served.url("session.nwb"), storage_options={"block_size": block}):
            moved[block] = served.bytes_sent
    assert moved[1 << 14] < moved[1 << 20]
    with pytest.raises(ValueError, match=r"storage_options \['client_kwargs'\] are not "):
        nap.load_file(served.url("session.nwb"), storage_options={"client_kwargs": {}})
    with pytest.raises(ValueError, match="block_size must be a positive number"):
        nap.load_file(served.url("session.nwb"), storage_options={"block_size": 0})
    with pytest.raises(ValueError, match="storage_options apply to URLs only"):
        nap.load_file(open(session_nwb, "rb"), storage_options={"block_size": 1})


def test_remote_reads_stay_few(big_rate_nwb):
    """Open reads metadata only; a 10 s window reads only the chunks it needs."""
    with FileServer(big_rate_nwb.parent) as server:  # 8 MB of data in 40 kB chunks
        data = nap.load_file(server.url("big.nwb"), storage_options={"block_size": 1 << 16})
        assert server.requests <= 2 and server.bytes_sent <= 1 << 17
        server.reset_counts()
        window = data["lfp"].sel(time=slice(1000.0, 1010.0)).values
        assert window.size == 10_001
        assert server.requests <= 4 and server.bytes_sent <= 1 << 18
        data.close()


def test_remote_array_pickled_into_a_fresh_process(served, session_nwb, tmp_path):
    with xr.open_dataset(served.url("session.nwb"), engine="nwb", group="multi") as ds:
        dumped = tmp_path / "lazy.pickle"
        dumped.write_bytes(pickle.dumps(ds["multi"]))
        assert not ds["multi"].variable._in_memory
    code = ("import pickle, sys; da = pickle.loads(open(sys.argv[1], 'rb').read()); "
            "print(repr(float(da.sel(time=slice(2.0, 5.0)).sum())))")
    out = subprocess.run([sys.executable, "-c", code, str(dumped)], capture_output=True,
                         text=True, timeout=120, check=True)
    with nap.load_file(session_nwb) as local:
        expected = float(local["multi"].sel(time=slice(2.0, 5.0)).sum())
    assert float(out.stdout) == expected


@pytest.mark.slow
def test_remote_chunks_on_a_distributed_cluster(served, session_nwb):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster), \
            nap.load_file(served.url("session.nwb"), chunks={}) as remote, \
            nap.load_file(session_nwb) as local:
        lazy = remote["multi"]
        assert len(lazy.chunks[0]) == 4  # the HDF5 chunks: four tasks in the worker
        xr.testing.assert_allclose(lazy.mean("time").compute(),
                                   local["multi"].mean("time"), rtol=1e-12)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_remote_sources(served, tmp_path):
    missing = served.url("missing.nwb")
    with pytest.raises(FileNotFoundError, match=f"no such remote file: {missing}: HTTP 404"):
        nap.load_file(missing)
    unreachable = f"http://127.0.0.1:{_free_port()}/session.nwb"
    with pytest.raises(ConnectionError, match=f"cannot reach {unreachable}"):
        nap.load_file(unreachable)
    truncated = served.url("truncated.nwb")
    with pytest.raises(NWBFormatError, match=f"cannot read {truncated} as an HDF5"):
        nap.load_file(truncated)
    plain = served.url("plain.h5")
    with pytest.raises(NWBFormatError, match=f"{plain} is an HDF5 file without the NWB"):
        xr.open_dataset(plain, engine="nwb")
    (tmp_path / "a.nwb").write_bytes(b"x" * 1000)
    with FileServer(tmp_path, ranges=False) as no_ranges:
        url = no_ranges.url("a.nwb")
        with pytest.raises(OSError, match=f"{url}: the server does not answer byte-range"):
            nap.load_file(url)
    with pytest.raises(ValueError, match="not an http"):
        HTTPRangeFile("ftp://127.0.0.1/a.nwb")


def test_missing_optional_dependencies_say_what_to_install(served, monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", None)
    with pytest.raises(ImportError, match=r'pip install "xr-nap\[remote\]"'):
        nap.load_file(served.url("session.nwb"))
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ImportError, match=r"s3://bucket/a.nwb needs fsspec .*xr-nap\[remote\]"):
        nap.load_file("s3://bucket/a.nwb")


def test_real_files_served_equal_local(shared_dir):
    folder = shared_dir / "data" / "nwb"
    files = [folder / "phy_A8604-211122.nwb", *sorted((folder / "backcompat").glob("*.nwb"))]
    with FileServer(folder) as server, warnings.catch_warnings():
        warnings.simplefilter("ignore", nap.SkippedObjectWarning)
        for path in files:
            name = path.relative_to(folder).as_posix()
            try:
                local = nap.load_file(path)
            except NWBFormatError as err:  # NWB 1.x: the same refusal, naming the URL
                with pytest.raises(NWBFormatError, match="only NWB 2.x") as remote_err:
                    nap.load_file(server.url(name))
                assert str(err).replace(str(path), "") == \
                    str(remote_err.value).replace(server.url(name), "")
                continue
            with local, nap.load_file(server.url(name)) as remote:
                assert_files_equal(remote, local)
            with open(path, "rb") as fh, nap.load_file(fh) as from_object, \
                    nap.load_file(path) as again:
                assert_files_equal(from_object, again)
            for key in local:
                with xr.open_dataset(server.url(name), engine="nwb", group=key) as a, \
                        xr.open_dataset(path, engine="nwb", group=key) as b:
                    xr.testing.assert_identical(a, b)


def test_file_server_answers(tmp_path):
    """The loopback server itself: ranges, suffix ranges, 416, HEAD, JSON routes."""
    requests = pytest.importorskip("requests")
    (tmp_path / "a.bin").write_bytes(bytes(range(10)))
    routes = {"/api/x/": lambda q: {"q": q}, "/api/go/": lambda q: ("redirect", "/a.bin"),
              "/api/none/": lambda q: None}
    with FileServer(tmp_path, routes=routes) as server:
        get = requests.get
        assert get(server.url("a.bin"), headers={"Range": "bytes=-3"}).content == bytes([7, 8, 9])
        assert get(server.url("a.bin"), headers={"Range": "bytes=8-"}).content == bytes([8, 9])
        assert get(server.url("a.bin"), headers={"Range": "bytes=20-"}).status_code == 416
        assert requests.head(server.url("a.bin")).headers["Content-Length"] == "10"
        assert get(server.url("../etc/passwd")).status_code == 404
        assert get(server.url("api/x/"), params={"path": "a/b"}).json() == {"q": {"path": "a/b"}}
        assert get(server.url("api/go/")).content == bytes(range(10))
        assert get(server.url("api/none/")).status_code == 404
        assert server.requests == 9
    assert Path(tmp_path / "a.bin").exists()


def test_range_reader_matches_the_bytes(tmp_path):
    """Random reads through small blocks, read-ahead and a cache smaller than one read
    give the file's bytes; a file changed on the server is noticed."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    (tmp_path / "a.bin").write_bytes(data)
    with FileServer(tmp_path) as server:
        f = HTTPRangeFile(server.url("a.bin"), block_size=1000, max_block_size=4000,
                          cache_size=2000)
        assert f.size == len(data) and f.seek(0, 2) == len(data)
        for start in [*rng.integers(0, len(data), 200), 0, 49_999, 10_000, 11_000, 12_000]:
            n = int(rng.integers(1, 9000))
            f.seek(int(start))
            assert f.read(n) == data[start:start + n]
        f.seek(49_990)
        buffer = bytearray(20)
        assert f.readinto(buffer) == 10 and bytes(buffer[:10]) == data[-10:]
        assert f.read() == b""
        copy = pickle.loads(pickle.dumps(f))  # the URL and options, not the cache
        assert copy.options == f.options and copy.read(5) == data[:5]
        (tmp_path / "a.bin").write_bytes(data[:30_000])
        f.seek(40_000)
        with pytest.raises(OSError, match="changed on the server"):
            f.read(10)
        f.close()
        (tmp_path / "empty.bin").write_bytes(b"")
        with HTTPRangeFile(server.url("empty.bin")) as empty:
            assert empty.size == 0 and empty.read() == b""


def test_caller_h5py_files_pickle_by_path(served, session_nwb, tmp_path):
    """An h5py.File of the caller's stays open and owned by them; its lazy arrays pickle
    (reopened by path), except for a file h5py reads through a Python file object."""
    import h5py

    remfile = pytest.importorskip("remfile")
    with h5py.File(session_nwb, "r") as f:
        with nap.load_file(f) as data:
            lazy = data["multi"]
            again = pickle.loads(pickle.dumps(lazy))
            xr.testing.assert_identical(again.load(), lazy.load())
        assert f.id.valid  # not closed by xr-nap
    with h5py.File(remfile.File(served.url("session.nwb")), "r") as f, \
            nap.load_file(f) as data, nap.load_file(session_nwb) as local:
        assert data.path.startswith("h5py.File(<remfile")
        assert_files_equal(data, local)
        with pytest.raises(TypeError, match="give the file object or its URL to xr-nap"):
            pickle.dumps(data["multi"])
