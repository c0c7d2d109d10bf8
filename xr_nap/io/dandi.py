"""Open NWB assets of the DANDI archive by dandiset id and asset path.

Two calls of DANDI's REST API, with plain HTTP (``requests``; the ``dandi`` client is
not needed): the version's asset list filtered by path gives the asset id, and the
asset's download endpoint (which redirects to the bytes) is the URL read by ranges. An
NWB-zarr asset is read from its ``contentUrl`` (the store's location) instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xr_nap.io.remote import missing_dependency

__all__ = ["DANDI_API", "dandi_url", "open_dandi"]

DANDI_API = "https://api.dandiarchive.org/api"
MAX_PAGES = 50  # of 100 assets each: an asset path matches a few at most


def _dandiset(dandiset_id: str | int) -> str:
    text = str(dandiset_id).strip()
    if not text.isdigit() or len(text) > 6:
        raise ValueError(f"a dandiset id is a number of up to 6 digits, e.g. '000123'; got "
                         f"{dandiset_id!r}")
    return text.zfill(6)


def _get_json(requests: Any, url: str, params: dict | None, timeout: float) -> Any:
    try:
        response = requests.get(url, params=params, timeout=timeout)
    except requests.ConnectionError as err:
        raise ConnectionError(f"cannot reach the DANDI API at {url}: {err}") from err
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise OSError(f"the DANDI API answered HTTP {response.status_code} "
                      f"{response.reason} for {response.url}")
    try:
        return response.json()
    except ValueError as err:
        raise OSError(f"the DANDI API sent something that is not JSON for {response.url}"
                      ) from err


def _resolve(dandiset_id: str | int, path: str, version: str, api_url: str,
             timeout: float) -> tuple[str, bool]:
    """``(url, is_zarr)`` of an asset."""
    try:
        import requests
    except ImportError as err:
        raise missing_dependency("the requests package", api_url, err) from None
    api = api_url.rstrip("/")
    dandiset = _dandiset(dandiset_id)
    url: str | None = f"{api}/dandisets/{dandiset}/versions/{version}/assets/"
    params: dict | None = {"path": path, "page_size": 100}
    seen: list[str] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        page = _get_json(requests, url, params, timeout)
        if page is None:
            raise FileNotFoundError(f"no dandiset {dandiset} (version {version!r}) at {api}")
        for asset in page.get("results", []):
            if asset.get("path") == path:
                if asset.get("zarr"):
                    return _zarr_url(requests, api, asset, timeout), True
                return f"{api}/assets/{asset['asset_id']}/download/", False
            seen.append(str(asset.get("path")))
        url, params = page.get("next"), None  # "next" carries the query itself
    close = f"; assets starting with it: {seen[:10]}" if seen else ""
    raise FileNotFoundError(f"no asset {path!r} in dandiset {dandiset} (version "
                            f"{version!r}) at {api}{close}")


def _zarr_url(requests: Any, api: str, asset: Mapping, timeout: float) -> str:
    meta = _get_json(requests, f"{api}/assets/{asset['asset_id']}/", None, timeout) or {}
    urls = [u for u in meta.get("contentUrl", []) if not str(u).startswith(api)]
    if not urls:
        raise OSError(f"the DANDI asset {asset.get('path')!r} gives no location for its "
                      "zarr store (contentUrl)")
    return str(urls[0])


def dandi_url(dandiset_id: str | int, path: str, version: str = "draft", *,
              api_url: str = DANDI_API, timeout: float = 30.0) -> str:
    """The URL of asset ``path`` of a dandiset, for ``xr.open_dataset`` or
    :func:`xr_nap.load_file`.

    Parameters
    ----------
    dandiset_id : str or int
        E.g. ``"000582"`` (or ``582``).
    path : str
        The asset's path in the dandiset, e.g. ``"sub-1/sub-1_ses-1_ecephys.nwb"``.
    version : str, default "draft"
        ``"draft"`` or a published version such as ``"0.230601.1200"``.
    api_url : str
        The DANDI API (another instance, or a local imitation in tests).
    timeout : float
        Seconds to wait for the API.

    Raises
    ------
    FileNotFoundError
        If there is no such dandiset, version or asset (the message lists assets whose
        path starts with ``path``).
    ConnectionError, OSError
        If the API cannot be reached or answers with an error.

    Examples
    --------
    Offline, against a local imitation of the API (``api_url``; the default is DANDI's):

    >>> import tempfile
    >>> import xr_nap as nap
    >>> from xr_nap.testing import FileServer, dandi_routes
    >>> routes = dandi_routes("000123", {"sub-1/sub-1_ses-1.nwb": "s.nwb"})
    >>> with FileServer(tempfile.mkdtemp(), routes=routes) as server:
    ...     url = nap.dandi_url("000123", "sub-1/sub-1_ses-1.nwb", api_url=server.url("api"))
    >>> url.endswith("/api/assets/asset-0/download/")
    True
    """
    return _resolve(dandiset_id, path, version, api_url, timeout)[0]


def open_dandi(dandiset_id: str | int, path: str, version: str = "draft", *,
               api_url: str = DANDI_API, lazy_loading: bool = True,
               chunks: Mapping[str, Any] | int | str | None = None,
               storage_options: dict[str, Any] | None = None,
               timeout: float = 30.0) -> Any:
    """Open an NWB asset of the DANDI archive, streaming it (see :func:`dandi_url`).

    Parameters
    ----------
    dandiset_id, path, version, api_url, timeout
        As for :func:`dandi_url`.
    lazy_loading, chunks
        As for :func:`xr_nap.load_file`.
    storage_options : dict, optional
        Options of the byte source (block and cache sizes; see the remote-reading page
        of the docs).

    Returns
    -------
    xr_nap.NWBFile
        Its ``path`` is the asset's URL.

    Examples
    --------
    Offline, against a local imitation of the API (``api_url``; the default is DANDI's):

    >>> import tempfile
    >>> import xr_nap as nap
    >>> from xr_nap.testing import FileServer, dandi_routes, write_sample_nwb
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_sample_nwb(f"{folder}/s.nwb", duration=20.0, n_units=2)
    >>> routes = dandi_routes("000123", {"sub-1/sub-1_ses-1.nwb": "s.nwb"})
    >>> with FileServer(folder, routes=routes) as server:
    ...     with nap.open_dandi("000123", "sub-1/sub-1_ses-1.nwb",
    ...                         api_url=server.url("api")) as data:
    ...         print(sorted(data))
    ['epochs', 'lfp', 'position', 'units']
    """
    from xr_nap.io.nwb import NWBFile

    url, is_zarr = _resolve(dandiset_id, path, version, api_url, timeout)
    source: Any = url
    if is_zarr:
        try:
            import fsspec
        except ImportError as err:
            raise missing_dependency("fsspec (and aiohttp)", url, err) from None
        source = fsspec.get_mapper(url.rstrip("/"), **(storage_options or {}))
        storage_options = None
    return NWBFile(source, lazy_loading=lazy_loading, chunks=chunks,
                   storage_options=storage_options)
