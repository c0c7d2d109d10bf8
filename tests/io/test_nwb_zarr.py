"""NWB-zarr stores (hdmf-zarr's zarr-2 layout): same keys, values, supports and metadata
as the HDF5 file they were written from, read as lazily, and clear errors on stores
that are not NWB."""

from __future__ import annotations

import json
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.errors import FileFormatError, NWBFormatError
from xr_nap.io.nwb_zarr import reference_strings
from xr_nap.testing import write_nwb_zarr

pytest.importorskip("zarr", minversion="3")
from nwb_compare import assert_engine_identical, assert_files_equal  # noqa: E402

# The decompressed chunk of ``units/electrode_group`` (three references to one
# ElectrodeGroup) in a store written by hdmf-zarr 0.13: a pickled object array of
# ``hdmf_zarr.utils.ZarrReference`` (unpickling it would need hdmf_zarr, and would run
# whatever a file puts in a pickle).
HDMF_ZARR_REFERENCES = bytes.fromhex(
    "800595d0010000000000008c166e756d70792e5f636f72652e6d756c74696172726179948c0c5f7265636f6e"
    "7374727563749493948c056e756d7079948c076e6461727261799493944b0085944301629487945294284b01"
    "4b03859468038c0564747970659493948c024f3894898887945294284b038c017c944e4e4e4affffffff4aff"
    "ffffff4b3f749462895d94288c0f68646d665f7a6172722e7574696c73948c0d5a6172725265666572656e63"
    "65949394298194288c06736f75726365948c012e948c0470617468948c232f67656e6572616c2f6578747261"
    "63656c6c756c61725f65706879732f7368616e6b30948c096f626a6563745f6964948c243631653438666538"
    "2d363363622d346362622d393837392d613239363232643063663036948c10736f757263655f6f626a656374"
    "5f6964948c2464623338333935642d333132642d346162362d616665642d3130346265656630303138389475"
    "6815298194286817681868198c232f67656e6572616c2f657874726163656c6c756c61725f65706879732f73"
    "68616e6b3094681b681c681d681e756815298194286817681868198c232f67656e6572616c2f657874726163"
    "656c6c756c61725f65706879732f7368616e6b3094681b681c681d681e75657494622e")


@pytest.fixture(scope="module")
def session_zarr(session_nwb, tmp_path_factory) -> Path:
    return write_nwb_zarr(session_nwb, tmp_path_factory.mktemp("zarr") / "session.nwb.zarr",
                          chunk_rows=64)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("consolidated", [True, False])
def test_store_equals_its_hdf5_original(session_nwb, tmp_path, consolidated, zarr_format):
    store = write_nwb_zarr(session_nwb, tmp_path / "s.nwb.zarr", consolidated, chunk_rows=64,
                           zarr_format=zarr_format)
    with nap.load_file(session_nwb) as h5, nap.load_file(store) as z:
        assert_files_equal(h5, z)
        assert z.path == store


def test_open_dataset_and_datatree_on_a_store(session_nwb, session_zarr):
    assert_engine_identical(session_nwb, session_zarr, ("units", "multi", "signal",
                                                         "Position/pos", "epochs", "trials",
                                                         "notes"))
    with xr.open_dataset(session_zarr, group="signal", mask_and_scale=False) as raw:
        assert raw["signal"].dtype == np.int16  # the engine was guessed from the suffix


def test_store_is_read_lazily_and_chunked(session_nwb, session_zarr):
    with nap.load_file(session_zarr) as z:
        multi = z["multi"]
        assert not multi.variable._in_memory
        window = multi.sel(time=slice(2.0, 3.0))
        with nap.load_file(session_nwb) as h5:
            xr.testing.assert_identical(window.load(), h5["multi"].sel(time=slice(2.0, 3.0)))
    with nap.load_file(session_zarr, chunks={}) as z:
        assert z["multi"].chunks[0] == (64,) * 6 + (16,)  # the store's chunks
        np.testing.assert_allclose(z["multi"].sum().compute(), z["multi"].values.sum())


def test_store_through_an_fsspec_mapper_and_pickled(session_nwb, session_zarr):
    fsspec = pytest.importorskip("fsspec")
    with nap.load_file(fsspec.get_mapper(str(session_zarr))) as z, \
            nap.load_file(session_nwb) as h5:
        assert_files_equal(h5, z)
    with xr.open_dataset(session_zarr, engine="nwb", group="ephys") as ds:
        again = pickle.loads(pickle.dumps(ds))
        xr.testing.assert_identical(again.load(), ds.load())


def test_pynwb_file_read_from_a_store_is_refused_clearly(session_zarr):
    class NWBFile:  # what pynwb gives for a store it did not read from HDF5
        objects: dict = {}
        read_io = None
        container_source = str(session_zarr)
        session_id = "s"

    with pytest.raises(ValueError, match="not read from an HDF5 file or NWB-zarr"):
        nap.load_file(NWBFile())


def test_real_files_equal_their_stores(shared_dir, tmp_path):
    files = [shared_dir / "data" / "nwb" / "phy_A8604-211122.nwb",
             *sorted((shared_dir / "data" / "nwb" / "backcompat").glob("2.*.nwb"))]
    for path in files:
        for zarr_format in (2, 3):
            store = write_nwb_zarr(path, tmp_path / f"{path.stem}.{zarr_format}.nwb.zarr",
                                   zarr_format=zarr_format)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", nap.SkippedObjectWarning)
                with nap.load_file(path) as h5, nap.load_file(store) as z:
                    assert_files_equal(h5, z)


def test_pickled_references_are_decoded_without_unpickling():
    paths = reference_strings(HDMF_ZARR_REFERENCES, 3, "store:units/electrode_group")
    assert paths.tolist() == ["/general/extracellular_ephys/shank0"] * 3
    with pytest.raises(NWBFormatError, match="2 object references found, expected 3"):
        reference_strings(pickle.dumps([{"path": "/a"}, {"path": "/b"}]), 3, "x")

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled')",))

    # a pickle that would run code is only read for strings
    with pytest.raises(NWBFormatError, match="0 object references"):
        reference_strings(pickle.dumps([Boom()]), 1, "x")
    with pytest.raises(NWBFormatError, match="damaged object references"):
        reference_strings(HDMF_ZARR_REFERENCES[:40], 3, "x")


def test_stores_that_are_not_nwb(tmp_path, session_zarr):
    import zarr

    plain = zarr.open_group(str(tmp_path / "plain.zarr"), mode="w", zarr_format=2)
    plain.create_array("x", shape=(3,), dtype="f8")
    # load_file also reads xarray's own zarr stores: a store that is neither says so
    neither = r"is neither an NWB-zarr store .* nor a zarr store xarray can read"
    with pytest.raises(FileFormatError, match=r"plain\.zarr " + neither):
        nap.load_file(tmp_path / "plain.zarr")
    with pytest.raises(NWBFormatError, match=r"plain\.zarr is a zarr store without the NWB"):
        nap.NWBFile(tmp_path / "plain.zarr")
    zarr.open_group(str(tmp_path / "v3.zarr"), mode="w", zarr_format=3)
    with pytest.raises(NWBFormatError, match=r"v3\.zarr is a zarr store without the NWB"):
        nap.NWBFile(tmp_path / "v3.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(FileFormatError, match=r"empty\.zarr " + neither):
        nap.load_file(tmp_path / "empty.zarr")
    with pytest.raises(NWBFormatError, match=r"empty\.zarr is not a zarr store \(it has "):
        nap.NWBFile(tmp_path / "empty.zarr")
    with pytest.raises(FileNotFoundError, match="missing.nwb.zarr"):
        nap.load_file(tmp_path / "missing.nwb.zarr")
    broken = shutil.copytree(session_zarr, tmp_path / "broken.nwb.zarr")
    (broken / ".zmetadata").write_text("{not json")
    with pytest.raises(NWBFormatError, match=r"broken\.nwb\.zarr: \.zmetadata is not JSON"):
        nap.load_file(broken)
    meta = json.loads((session_zarr / ".zmetadata").read_text())
    shutil.rmtree(broken / "units" / "spike_times")  # data gone, metadata still listed
    (broken / ".zmetadata").write_text(json.dumps(meta))
    with nap.load_file(broken) as z, pytest.raises(NWBFormatError, match="spike_times"):
        z["units"]


def test_stores_over_http(session_nwb, tmp_path):
    """Remote stores (both layouts, consolidated metadata) through fsspec's HTTP."""
    pytest.importorskip("aiohttp")
    from xr_nap.testing import FileServer

    for zarr_format in (2, 3):
        write_nwb_zarr(session_nwb, tmp_path / f"s{zarr_format}.nwb.zarr",
                       zarr_format=zarr_format)
    with FileServer(tmp_path) as server, nap.load_file(session_nwb) as h5:
        for zarr_format in (2, 3):
            with nap.load_file(server.url(f"s{zarr_format}.nwb.zarr")) as z:
                assert z.path == server.url(f"s{zarr_format}.nwb.zarr")
                assert_files_equal(h5, z)
