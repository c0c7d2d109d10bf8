"""NPZ files cross both ways between xr-nap and pynapple (the oracle), every kind,
with and without metadata."""

import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sorted_times

import xr_nap as nap
from xr_nap.io.npz import SPIKE_DATA

T = np.arange(0.0, 10.0, 0.5)
SUPPORT = np.array([[0.0, 3.0], [4.0, 9.5]])


# --------------------------------------------------------------------------- comparison
def same_support(ours, theirs):
    starts, ends = nap.time_support(ours).start.values, nap.time_support(ours).end.values
    np.testing.assert_array_equal(starts, theirs.time_support.start)
    np.testing.assert_array_equal(ends, theirs.time_support.end)


def same_metadata(ours: dict, frame, rows=None):
    """Every metadata column of ``ours`` (name -> values) is in pynapple's frame."""
    for key, values in ours.items():
        theirs = frame[key].to_numpy() if rows is None else frame.loc[rows, key].to_numpy()
        assert np.array_equal(np.asarray(values), theirs), key


def assert_matches(ours, theirs, pnap):
    kind = nap.nap_type(ours)
    assert type(theirs).__name__ == kind
    if kind == "IntervalSet":
        np.testing.assert_array_equal(ours.start.values, theirs.start)
        np.testing.assert_array_equal(ours.end.values, theirs.end)
        meta = {k: ours[k].values for k in ours.data_vars if k not in ("start", "end")}
        assert set(meta) == set(theirs.metadata_columns)
        same_metadata(meta, theirs.metadata)
        return
    same_support(ours, theirs)
    if kind == "TsGroup":
        assert list(ours.unit.values) == list(theirs.keys())
        offsets = np.concatenate([[0], np.cumsum(ours.row_size.values)])
        for i, key in enumerate(theirs.keys()):
            np.testing.assert_array_equal(
                ours.spike_time.values[offsets[i]:offsets[i + 1]], theirs[key].index.values
            )
        np.testing.assert_allclose(ours.rate.values, theirs.rate.values)
        meta = {k: ours[k].values for k in ours.data_vars
                if ours[k].dims == ("unit",) and k not in ("row_size", "rate")}
        assert set(meta) == set(theirs.metadata_columns) - {"rate"}
        same_metadata(meta, theirs.metadata, rows=list(theirs.keys()))
        return
    np.testing.assert_array_equal(ours.time.values, theirs.index.values)
    if kind != "Ts":
        np.testing.assert_array_equal(ours.values, theirs.values)
        assert ours.dtype == theirs.values.dtype
    if kind == "TsdFrame":
        assert list(ours.column.values) == list(theirs.columns)
        meta = {k: c.values for k, c in ours.coords.items()
                if c.dims == ("column",) and k != "column"}
        assert set(meta) == set(theirs.metadata_columns)
        same_metadata(meta, theirs.metadata)


# --------------------------------------------------------------------------- cases
def pynapple_objects(pnap):
    """(name, pynapple object) for every kind, with and without metadata."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = pnap.IntervalSet(SUPPORT[:, 0], SUPPORT[:, 1])
        units = {0: pnap.Ts(T), 3: pnap.Ts(T[::3]), 7: pnap.Ts(np.array([]))}
        return [
            ("ts", pnap.Ts(T, time_support=ep)),
            ("tsd", pnap.Tsd(T, np.arange(T.size), time_support=ep)),
            ("tsd_float32", pnap.Tsd(T, np.arange(T.size, dtype=np.float32))),
            ("tsdframe", pnap.TsdFrame(T, np.ones((T.size, 2)), columns=["a", "b"])),
            ("tsdframe_meta", pnap.TsdFrame(
                T, np.arange(3 * T.size).reshape(-1, 3), columns=[4, 5, 6], time_support=ep,
                metadata={"area": ["ca1", "ca3", "pfc"], "depth": [1.5, 2.0, 2.5],
                          "good": [True, False, True]})),
            ("tsdtensor", pnap.TsdTensor(T, np.arange(T.size * 6.0).reshape(-1, 2, 3),
                                         time_support=ep)),
            ("tsgroup", pnap.TsGroup(units, time_support=ep)),
            ("tsgroup_meta", pnap.TsGroup(
                units, metadata={"group": [0, 1, 1], "location": ["a", "bb", "ccc"],
                                 "depth": [0.5, 1.0, 2.0]})),
            ("tsgroup_tsd", pnap.TsGroup({1: pnap.Tsd(T, T * 2), 2: pnap.Tsd(T[:4], -T[:4])})),
            ("intervalset", ep),
            ("intervalset_meta", pnap.IntervalSet(
                [0, 10, 20], [5, 15, 25], metadata={"label": ["x", "y", "z"], "n": [1, 2, 3]})),
        ]


def xrnap_objects():
    ep = nap.interval_set(SUPPORT[:, 0], SUPPORT[:, 1])
    units = {0: T, 3: T[::3], 7: []}
    return [
        ("ts", nap.ts(T, time_support=ep)),
        ("tsd", nap.tsd(T, np.arange(T.size), time_support=ep)),
        ("tsdframe", nap.tsd_frame(T, np.ones((T.size, 2)), columns=["a", "b"])),
        ("tsdframe_meta", nap.tsd_frame(
            T, np.arange(3 * T.size).reshape(-1, 3), columns=[4, 5, 6], time_support=ep,
            metadata={"area": ["ca1", "ca3", "pfc"], "depth": [1.5, 2.0, 2.5],
                      "good": [True, False, True]})),
        ("tsdtensor", nap.tsd_tensor(T, np.arange(T.size * 6.0).reshape(-1, 2, 3),
                                     time_support=ep)),
        ("tsgroup", nap.ts_group(units, time_support=ep)),
        ("tsgroup_meta", nap.ts_group(
            units, metadata={"group": [0, 1, 1], "location": ["a", "bb", "ccc"],
                             "depth": [0.5, 1.0, 2.0]})),
        # names pynapple reserves for its own members go to the pickled _metadata dict
        ("tsgroup_reserved", nap.ts_group(units, metadata={"d": [1, 2, 3], "keys": [0, 0, 1]})),
        ("intervalset", ep),
        ("intervalset_meta", nap.interval_set(
            [0, 10, 20], [5, 15, 25], metadata={"label": ["x", "y", "z"], "n": [1, 2, 3]})),
    ]


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("index", range(11))
def test_pynapple_writes_xrnap_reads(pnap, tmp_path, index):
    name, obj = pynapple_objects(pnap)[index]
    obj.save(tmp_path / name)
    ours = nap.load_npz(tmp_path / f"{name}.npz")
    assert_matches(ours, obj, pnap)
    if name == "tsgroup_tsd":  # per-spike values survive too
        np.testing.assert_array_equal(ours[SPIKE_DATA].values,
                                      np.concatenate([T * 2, -T[:4]]))


@pytest.mark.parametrize("index", range(10))
def test_xrnap_writes_pynapple_reads(pnap, tmp_path, index):
    name, obj = xrnap_objects()[index]
    path = nap.save(obj, tmp_path / name)
    theirs = pnap.load_file(str(path))
    assert_matches(obj, theirs, pnap)
    # and back: xr-nap reads its own file into an identical object
    back = nap.load_npz(path)
    if nap.nap_type(obj) == "TsdFrame":
        np.testing.assert_array_equal(back.values, obj.values)
        assert nap.nap_type(back) == "TsdFrame" and "nap_type" not in back.attrs
        assert set(back.coords) == set(obj.coords)
    else:
        import xarray as xr

        xr.testing.assert_identical(back, obj)


def test_tsgroup_metadata_needs_no_pickle(tmp_path):
    """Plain metadata columns are separate members, readable with allow_pickle=False
    (pynapple keeps them in a pickle, so ``np.load(f)["my_label"]`` fails there)."""
    g = nap.ts_group({0: [0.0, 1.0], 1: [0.5]}, metadata={"my_label": ["a", "b"]})
    path = nap.save(g, tmp_path / "group")
    with np.load(path, allow_pickle=False) as f:
        assert f["my_label"].tolist() == ["a", "b"]
        assert "_metadata" not in f.files


def test_tsdframe_object_metadata_from_pynapple(pnap, tmp_path):
    """Mixed-type metadata is pickled as an object array of builtins: read safely."""
    frame = pnap.TsdFrame(T, np.ones((T.size, 2)), columns=["a", "b"],
                          metadata={"mixed": np.array([1, "two"], dtype=object)})
    frame.save(tmp_path / "f")
    ours = nap.load_npz(tmp_path / "f.npz")
    assert ours.mixed.values.tolist() == [1, "two"]


def test_old_layout_without_type(pnap, tmp_path):
    """Files from before pynapple wrote ``type`` are recognised from their members."""
    np.savez(tmp_path / "tsd.npz", t=T, d=T * 2, start=[0.0], end=[9.5])
    np.savez(tmp_path / "frame.npz", t=T, d=np.ones((T.size, 2)), start=[0.0], end=[9.5],
             columns=np.array(["x", "y"]))
    np.savez(tmp_path / "tensor.npz", t=T, d=np.ones((T.size, 2, 2)), start=[0.0], end=[9.5])
    np.savez(tmp_path / "ts.npz", t=T, start=[0.0], end=[9.5])
    np.savez(tmp_path / "ep.npz", start=[0.0, 5.0], end=[1.0, 6.0])
    # TsGroup without 'keys', with one member per metadata column (pynapple < 0.7)
    np.savez(tmp_path / "group.npz", t=np.array([0.0, 0.5, 1.0, 2.0]), index=[1, 0, 1, 1],
             start=[0.0], end=[2.0], area=np.array(["ca1", "pfc"]), type=["TsGroup"])
    for name in ("tsd", "frame", "tensor", "ts", "ep", "group"):
        path = tmp_path / f"{name}.npz"
        assert_matches(nap.load_npz(path), pnap.load_file(str(path)), pnap)


def test_dataframe_dict_metadata(pnap, tmp_path):
    """Metadata saved as ``DataFrame.to_dict()`` ({column: {label: value}}) by older
    pynapple versions, aligned on unit ids."""
    meta = np.empty((), dtype=object)
    meta[()] = {"area": {2: "a", 5: "b"}, "depth": {2: 1.0, 5: np.float64(3.0)}}
    np.savez(tmp_path / "g.npz", t=np.array([0.0, 1.0, 2.0]), index=[2, 5, 2], keys=[2, 5],
             start=[0.0], end=[2.0], type=["TsGroup"], _metadata=meta)
    ours = nap.load_npz(tmp_path / "g.npz")
    assert_matches(ours, pnap.load_file(str(tmp_path / "g.npz")), pnap)
    # Labels in another order: xr-nap aligns them; pynapple 0.11 raises
    # "Metadata index does not match" (it compares the dict's order with its own).
    meta[()] = {"area": {5: "b", 2: "a"}}
    np.savez(tmp_path / "g.npz", t=np.array([0.0, 1.0, 2.0]), index=[2, 5, 2], keys=[2, 5],
             start=[0.0], end=[2.0], type=["TsGroup"], _metadata=meta)
    assert nap.load_npz(tmp_path / "g.npz").area.values.tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="index does not match"):
        pnap.load_file(str(tmp_path / "g.npz"))


def test_tsgroup_drops_spikes_outside_support_like_pynapple(pnap, tmp_path):
    np.savez(tmp_path / "g.npz", t=np.array([0.0, 1.0, 5.0, 6.0]), index=[0, 1, 0, 1],
             keys=[0, 1], start=[0.5], end=[5.5], type=["TsGroup"])
    path = tmp_path / "g.npz"
    ours = nap.load_npz(path)
    assert ours.spike_time.values.tolist() == [5.0, 1.0]
    assert_matches(ours, pnap.load_file(str(path)), pnap)


@settings(max_examples=50, deadline=None)
@given(st.lists(sorted_times(max_size=30), min_size=1, max_size=5),
       st.lists(st.integers(-5, 5), min_size=5, max_size=5))
def test_tsgroup_roundtrip_property(pnap, trains, labels):
    import tempfile
    from pathlib import Path

    import xarray as xr

    if not any(x.size for x in trains):
        trains[0] = np.array([1.0])
    spikes = np.concatenate(trains)
    span = None if spikes.max() > spikes.min() else (0.0, 100.0)  # else no support
    g = nap.ts_group(dict(enumerate(trains)), time_support=span,
                     metadata={"label": labels[:len(trains)]})
    with tempfile.TemporaryDirectory() as tmp:
        path = nap.save(g, Path(tmp) / "g")
        xr.testing.assert_identical(nap.load_npz(path), g)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = pnap.load_file(str(path))
        assert_matches(g, theirs, pnap)


@settings(max_examples=50, deadline=None)
@given(sorted_times(min_size=1, max_size=40, unique=True),
       st.sampled_from([np.float64, np.int32, np.float32, np.bool_]))
def test_tsd_roundtrip_property(pnap, t, dtype):
    import tempfile
    from pathlib import Path

    import xarray as xr

    x = nap.tsd(t, (np.arange(t.size) % 3).astype(dtype))
    with tempfile.TemporaryDirectory() as tmp:
        path = nap.save(x, Path(tmp) / "x")
        xr.testing.assert_identical(nap.load_npz(path), x)
        if t.size > 1:  # see test_single_sample_series_keeps_its_sample
            assert_matches(x, pnap.load_file(str(path)), pnap)
        with zipfile.ZipFile(path) as zf:  # pynapple's layout, member for member
            assert sorted(zf.namelist()) == ["d.npy", "end.npy", "start.npy", "t.npy",
                                             "type.npy"]


def test_single_sample_series_keeps_its_sample(pnap, tmp_path):
    """pynapple gives a one-sample Tsd an empty support, saves that, and loads the file
    back empty (a pynapple bug). xr-nap keeps the sample, from either writer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pnap.Tsd(t=np.array([2.0]), d=np.array([7.0])).save(tmp_path / "one")
        assert len(pnap.load_file(str(tmp_path / "one.npz"))) == 0
        ours = nap.load_npz(tmp_path / "one.npz")
    assert ours.values.tolist() == [7.0] and ours.time.values.tolist() == [2.0]


@pytest.mark.parametrize("layout", ["shuffled", "grouped_unsorted"])
def test_tsgroup_any_spike_order(pnap, tmp_path, layout):
    """pynapple's loader accepts spikes in any order; so does xr-nap's."""
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 10, 60))
    index = rng.integers(0, 4, 60) * 2
    if layout == "shuffled":
        perm = rng.permutation(60)
    else:  # grouped by unit, but times reversed inside each unit
        perm = np.lexsort((-t, index))
    np.savez(tmp_path / "g.npz", t=t[perm], index=index[perm], keys=[0, 2, 4, 6, 8],
             start=[1.0], end=[9.0], type=["TsGroup"])
    ours = nap.load_npz(tmp_path / "g.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pnap.load_file(str(tmp_path / "g.npz"))
    assert_matches(ours, theirs, pnap)


@pytest.mark.parametrize("support", [([0.5], [5.5]), ([0.0, 4.0], [2.0, 9.0])])
def test_tsgroup_grouped_file_with_drops(pnap, tmp_path, support):
    """Grouped by unit (xr-nap's layout) but with spikes outside the support and of an
    unlisted unit: dropped as pynapple drops them."""
    np.savez(tmp_path / "g.npz", t=np.array([0.0, 1.0, 5.0, 1.5, 6.0, 3.0]),
             index=[0, 0, 0, 1, 1, 9], keys=[0, 1], start=support[0], end=support[1],
             type=["TsGroup"])
    path = tmp_path / "g.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_matches(nap.load_npz(path), pnap.load_file(str(path)), pnap)


def test_metadata_of_several_dimensions_cross_both_ways(pnap, tmp_path):
    """pynapple stores a column with several values per row (e.g. x, y) in _metadata
    and reads it back; xr-nap reads it as a variable with a second dimension and writes
    it back so that pynapple finds the same array (it used to crash or drop it)."""
    xy = np.arange(6.0).reshape(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = {
            "ep": pnap.IntervalSet([0, 10, 20], [5, 15, 25], metadata={"xy": xy}),
            "group": pnap.TsGroup({0: pnap.Ts(T), 3: pnap.Ts(T[::2]), 7: pnap.Ts(T[1::3])},
                                  metadata={"xy": xy}),
        }
    for name, obj in theirs.items():
        obj.save(tmp_path / name)
        ours = nap.load_npz(tmp_path / f"{name}.npz")
        assert ours["xy"].dims[1] == "xy_dim_1"
        np.testing.assert_array_equal(ours["xy"].values, xy)
        path = nap.save(ours, tmp_path / f"{name}_back")
        np.testing.assert_array_equal(pnap.load_file(str(path)).metadata["xy"].tolist(), xy)
        import xarray as xr

        xr.testing.assert_identical(nap.load_npz(path), ours)


def test_several_dimensions_follow_the_sorted_intervals(tmp_path):
    """Intervals stored out of order are sorted; their 2-D metadata rows follow."""
    meta = np.empty((), dtype=object)
    meta[()] = {"xy": np.array([[20, 21], [0, 1]]), "label": np.array(["late", "early"])}
    np.savez(tmp_path / "ep.npz", start=[20.0, 0.0], end=[25.0, 5.0], type=["IntervalSet"],
             _metadata=meta)
    with pytest.warns(UserWarning, match="not sorted"):
        ep = nap.load_npz(tmp_path / "ep.npz")
    assert ep.label.values.tolist() == ["early", "late"]
    assert ep.xy.values.tolist() == [[0, 1], [20, 21]]
