"""open_dandi / dandi_url against a loopback server imitating the DANDI API."""

from __future__ import annotations

import shutil

import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.testing import FileServer, dandi_routes, write_nwb_zarr

pytest.importorskip("requests")

ASSET = "sub-1/sub-1_ses-1_ecephys.nwb"


@pytest.fixture(scope="module")
def archive(session_nwb, tmp_path_factory):
    root = tmp_path_factory.mktemp("dandi")
    shutil.copy(session_nwb, root / "blob.nwb")
    write_nwb_zarr(session_nwb, root / "store")  # DANDI's zarr URLs have no suffix
    with FileServer(root) as server:
        server.routes.update(dandi_routes(
            "000123", {ASSET: "blob.nwb", "sub-1/other.nwb": "blob.nwb"},
            zarr_assets={"sub-2/sub-2.nwb.zarr": server.url("store")}))
        yield server


def test_open_dandi_equals_the_local_file(archive, session_nwb):
    api = archive.url("api")
    url = nap.dandi_url(123, ASSET, api_url=api)
    assert url == f"{api}/assets/asset-0/download/"
    with nap.open_dandi("000123", ASSET, api_url=api) as remote, \
            nap.load_file(session_nwb) as local:
        assert remote.path == url
        assert list(remote) == list(local)
        xr.testing.assert_identical(remote["units"], local["units"])
        xr.testing.assert_identical(remote["multi"], local["multi"])
    with xr.open_dataset(url, engine="nwb", group="signal") as a, \
            xr.open_dataset(session_nwb, engine="nwb", group="signal") as b:
        xr.testing.assert_identical(a, b)


def test_open_dandi_zarr_asset(archive, session_nwb):
    pytest.importorskip("aiohttp")
    with nap.open_dandi("000123", "sub-2/sub-2.nwb.zarr", api_url=archive.url("api")) as z, \
            nap.load_file(session_nwb) as local:
        assert list(z) == list(local)
        xr.testing.assert_identical(z["units"], local["units"])
        xr.testing.assert_identical(z["ephys"], local["ephys"])


def test_dandi_errors(archive):
    api = archive.url("api")
    with pytest.raises(FileNotFoundError,
                       match=r"no asset 'sub-1/x.nwb' in dandiset 000123 .*"):
        nap.dandi_url("000123", "sub-1/x.nwb", api_url=api)
    with pytest.raises(FileNotFoundError, match=r"assets starting with it: \['sub-1/"):
        nap.dandi_url("000123", "sub-1/", api_url=api)
    with pytest.raises(FileNotFoundError, match="no dandiset 000124 .*'draft'"):
        nap.dandi_url("000124", ASSET, api_url=api)
    with pytest.raises(FileNotFoundError, match="no dandiset 000123 .*'0.1'"):
        nap.dandi_url("000123", ASSET, version="0.1", api_url=api)
    with pytest.raises(ValueError, match="a dandiset id is a number"):
        nap.dandi_url("abc", ASSET, api_url=api)
    with pytest.raises(ConnectionError, match="cannot reach the DANDI API"):
        nap.dandi_url("000123", ASSET, api_url="http://127.0.0.1:9/api")
