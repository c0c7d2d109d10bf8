"""Differential tests: xr-nap's NWB reader against ``pynapple.load_file`` on the same files.

Documented differences (xr-nap on purpose): values are physical (conversion/offset
applied), boolean unit columns are kept, unsorted timestamps stay aligned with their data,
objects pynapple cannot build are skipped (not listed), objects sharing a container path
all get keys.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xr_nap as nap
from xr_nap.core.time_series import support_bounds, times, unit_spike_times


def _pynapple_file(pnap, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pnap.load_file(str(path))


def _check_support(ours, theirs):
    starts, ends = support_bounds(ours)
    np.testing.assert_array_equal(starts, theirs.time_support.start)
    np.testing.assert_array_equal(ends, theirs.time_support.end)


def _check_metadata(ours_values, theirs_values, name):
    a, b = np.asarray(ours_values), np.asarray(theirs_values)
    if b.dtype.kind in "fiu":
        np.testing.assert_array_equal(a, b, err_msg=name)
    else:
        assert [str(x) for x in a] == [str(x) for x in b], name


def assert_same_as_pynapple(ours, theirs, pnap, conversion=1.0, offset=0.0):
    kind = type(theirs).__name__
    assert nap.nap_type(ours) == kind
    if kind == "TsGroup":
        assert list(ours.unit.values) == list(theirs.keys())
        for uid, spikes in unit_spike_times(ours):
            np.testing.assert_array_equal(spikes, theirs[uid].t)
        np.testing.assert_allclose(ours.rate.values, theirs.rate.values, rtol=1e-12)
        for col in theirs.metadata_columns:
            _check_metadata(ours[col].values, theirs[col].values, col)
        _check_support(ours, theirs)
    elif kind == "IntervalSet":
        np.testing.assert_array_equal(ours.start.values, theirs.start)
        np.testing.assert_array_equal(ours.end.values, theirs.end)
        for col in theirs.metadata_columns:
            ours_col, theirs_col = ours[col].values, theirs[col].values
            if ours_col.dtype == object and len(ours_col) and isinstance(ours_col[0], np.ndarray):
                assert [list(x) for x in ours_col] == [list(x) for x in theirs_col], col
            else:
                _check_metadata(ours_col, theirs_col, col)
    else:
        np.testing.assert_array_equal(times(ours), theirs.t)
        if kind != "Ts":
            expected = np.asarray(theirs.values) * conversion + offset
            np.testing.assert_array_equal(ours.values, expected)
        if kind == "TsdFrame":
            assert [str(c) for c in ours.column.values] == [str(c) for c in theirs.columns]
        _check_support(ours, theirs)


def test_generated_session_matches_pynapple(pnap, session_nwb):
    theirs = _pynapple_file(pnap, session_nwb)
    ours = nap.load_file(session_nwb)
    assert sorted(ours) == sorted(theirs.keys())
    types = dict(theirs._view)
    for key in ours:
        assert ours.type_of(key) == types[key]
        assert ours.key_to_id[key] == theirs.key_to_id[key]
        scale = {"signal": (0.25, -1.0)}.get(key, (1.0, 0.0))
        assert_same_as_pynapple(ours[key], theirs[key], pnap, *scale)
    ours.close()


def test_extra_metadata_kept(pnap, session_nwb):
    """pynapple drops boolean unit columns; xr-nap keeps them."""
    theirs = _pynapple_file(pnap, session_nwb)["units"]
    with nap.load_file(session_nwb) as ours:
        units = ours["units"]
        assert "is_good" not in theirs.metadata_columns
        assert units.is_good.values.tolist() == [False, True, True]  # ids 3, 7, 12
        assert units.quality.values.tolist() == ["mua", "good", "good"]


def test_raw_values_equal_pynapple(pnap, session_nwb):
    """With ``mask_and_scale=False`` the values are pynapple's raw values and dtype."""
    import xarray as xr

    theirs = _pynapple_file(pnap, session_nwb)["signal"]
    with xr.open_dataset(session_nwb, engine="nwb", group="signal",
                         mask_and_scale=False) as ds:
        assert ds.signal.dtype == np.int16
        np.testing.assert_array_equal(ds.signal.values, theirs.values)
        assert ds.signal.attrs["scale_factor"] == 0.25
    with xr.open_dataset(session_nwb, engine="nwb", group="signal") as ds:
        assert ds.signal.encoding["dtype"] == np.int16


def test_unsorted_timestamps_pynapple_misaligns(pnap, unsorted_nwb):
    """pynapple sorts the timestamps but not the data; xr-nap sorts both together."""
    theirs = _pynapple_file(pnap, unsorted_nwb)["shuffled"]
    np.testing.assert_array_equal(theirs.t, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(theirs.values, [30.0, 10.0, 20.0])  # wrong times
    with pytest.warns(UserWarning, match="not sorted"):
        ours = nap.load_file(unsorted_nwb)["shuffled"]
    np.testing.assert_array_equal(times(ours), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ours.values, [10.0, 20.0, 30.0])


def test_same_container_path_pynapple_loses_one(pnap, same_path_nwb):
    theirs = _pynapple_file(pnap, same_path_nwb)
    assert list(theirs.keys()) == ["x"]
    ours = nap.load_file(same_path_nwb)
    assert sorted(ours) == ["acquisition/x", "presentation/x"]
    assert ours["acquisition/x"].size == 5 and ours["presentation/x"].size == 7


def test_real_recording_matches_pynapple(pnap, shared_dir):
    path = shared_dir / "data" / "nwb" / "phy_A8604-211122.nwb"
    theirs = _pynapple_file(pnap, path)
    with nap.load_file(path) as ours:
        assert sorted(ours) == sorted(theirs.keys()) == ["epochs", "units"]
        assert ours.name == theirs.name
        for key in ours:
            assert_same_as_pynapple(ours[key], theirs[key], pnap)
        assert ours["units"].row_size.values.tolist() == [11020, 4690, 5644]


def test_backcompat_files_match_pynapple(pnap, shared_dir):
    """Every object xr-nap reads equals pynapple's; pynapple's extra keys are the
    objects it cannot build either (it returns the raw pynwb object)."""
    for path in sorted((shared_dir / "data" / "nwb" / "backcompat").glob("*.nwb")):
        theirs = _pynapple_file(pnap, path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = nap.load_file(path)
        assert set(ours) <= set(theirs.keys()), path.name
        for key in theirs.keys():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = theirs[key]
            if key in ours:
                assert_same_as_pynapple(ours[key], value, pnap)
            else:
                assert not hasattr(value, "nap_class"), (path.name, key)
        ours.close()


def test_several_times_columns_match_pynapple(pnap, multi_times_nwb):
    theirs = _pynapple_file(pnap, multi_times_nwb)["licks"]
    with nap.load_file(multi_times_nwb) as data:
        ours = data["licks"]
        assert set(ours) == set(theirs)
        for col, value in theirs.items():
            assert_same_as_pynapple(ours[col], value, pnap)


def test_unsorted_spikes_sorted_per_unit(tmp_path):
    from conftest import new_nwbfile, write

    nwb = new_nwbfile()
    nwb.add_unit(id=5, spike_times=[0.3, 0.1, 0.2])
    nwb.add_unit(id=2, spike_times=[0.05, 0.4])
    path = write(nwb, tmp_path / "unsorted_units.nwb")
    with pytest.warns(UserWarning, match="unit 5 .*not sorted"):
        units = nap.load_file(path)["units"]
    assert units.unit.values.tolist() == [2, 5]
    assert units.spike_time.values.tolist() == [0.05, 0.4, 0.1, 0.2, 0.3]
    assert units.row_size.values.tolist() == [2, 3]


def test_unit_string_columns_exact(tmp_path):
    """The fixed-width string read falls back for values it would cut or mis-decode."""
    from conftest import new_nwbfile, write

    values = {"short": ["a", "", "bc"], "accents": ["CA1", "été", "x"],
              "long": ["y" * 64, "z" * 100, "w"]}
    nwb = new_nwbfile()
    for name in values:
        nwb.add_unit_column(name, name)
    for i in range(3):
        nwb.add_unit(spike_times=[0.1 * (i + 1)], **{k: v[i] for k, v in values.items()})
    units = nap.load_file(write(nwb, tmp_path / "strings.nwb"))["units"]
    for name, expected in values.items():
        assert units[name].values.tolist() == expected, name
        assert units[name].dtype.kind == "U"
