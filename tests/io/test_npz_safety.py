"""Reading NPZ never runs code from the file, and bad files get errors naming the problem."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import xr_nap as nap
from xr_nap.io.npz import NPZFormatError, SafeUnpickler, UnsafeNPZError


class _Touch:
    """Unpickling this with a general unpickler creates ``path`` (a visible side effect)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class _System:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


class _Eval:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (eval, (f"open({self.path!r}, 'w')",))


def _object_array(value):
    holder = np.empty((), dtype=object)
    holder[()] = value
    return holder


def _write_group(path, **members):
    np.savez(path, t=np.array([0.0, 1.0]), index=np.array([0, 0]), keys=np.array([0]),
             start=np.array([0.0]), end=np.array([1.0]), type=np.array(["TsGroup"]),
             **members)


@pytest.mark.parametrize("payload", [_Touch, _System, _Eval])
def test_malicious_metadata_is_refused_and_runs_nothing(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    _write_group(path, _metadata=_object_array({"area": payload(marker)}))
    # The payload is live: a general unpickler (pynapple's np.load(allow_pickle=True))
    # would run it. Prove it on a second marker so the first stays untouched.
    if payload is not _System:  # never run a shell command, even in a test
        live = tmp_path / "live"
        pickle.loads(pickle.dumps(payload(live)))
        assert live.exists()
    with pytest.raises(UnsafeNPZError, match="refusing to unpickle"):
        nap.load_npz(path)
    assert not marker.exists()


def test_malicious_object_data_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    d = np.empty(2, dtype=object)
    d[:] = [_Touch(marker), 1]
    np.savez(tmp_path / "x.npz", t=np.array([0.0, 1.0]), d=d, start=[0.0], end=[1.0],
             type=np.array(["Tsd"]))
    # data must be numeric: the member is refused before its pickle is even read
    with pytest.raises(NPZFormatError, match=r"\['d'\] holds Python objects"):
        nap.load_npz(tmp_path / "x.npz")
    assert not marker.exists()


def test_folder_listing_does_not_unpickle(tmp_path):
    marker = tmp_path / "pwned"
    _write_group(tmp_path / "evil.npz", _metadata=_object_array({"a": _Touch(marker)}))
    folder = nap.Folder(tmp_path)
    assert "evil.npz | TsGroup" in repr(folder)
    with pytest.raises(UnsafeNPZError):
        folder["evil"]
    assert not marker.exists()


def test_safe_unpickler_accepts_plain_data_only():
    plain = {"a": np.arange(3), "b": np.array(["x", "yy"]), "c": np.float32(1.5),
             "d": [1, "two", None, 3.0, b"raw", (True,)], "e": np.array([1, "s"], object)}
    back = SafeUnpickler(io.BytesIO(pickle.dumps(plain))).load()
    assert back.keys() == plain.keys()
    np.testing.assert_array_equal(back["b"], plain["b"])
    assert back["d"] == plain["d"] and back["c"] == plain["c"]
    for bad in (print, np.load, zipfile.ZipFile, {1, 2}.__class__, slice(1)):
        with pytest.raises(UnsafeNPZError):
            SafeUnpickler(io.BytesIO(pickle.dumps(bad))).load()


# --------------------------------------------------------------------------- bad files
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        nap.load_npz(tmp_path / "nope.npz")


def test_not_a_zip(tmp_path):
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(NPZFormatError, match="not an NPZ"):
        nap.load_npz(tmp_path / "x.npz")


def test_not_a_pynapple_file(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.arange(3), b=np.arange(2))
    with pytest.raises(NPZFormatError, match=r"not a pynapple NPZ file.*\['a', 'b'\]"):
        nap.load_npz(tmp_path / "x.npz")


def test_type_without_its_members(tmp_path):
    np.savez(tmp_path / "x.npz", t=np.arange(3.0), start=[0.0], end=[2.0],
             type=np.array(["Tsd"]))
    with pytest.raises(NPZFormatError, match=r"holds a Tsd but lacks member\(s\) \['d'\]"):
        nap.load_npz(tmp_path / "x.npz")


@pytest.mark.parametrize(
    "members, message",
    [
        (dict(t=np.arange(3.0), d=np.arange(4), start=[0.0], end=[2.0], type=["Tsd"]),
         "'t' has 3 times but 'd' has shape"),
        (dict(t=np.arange(3.0), d=np.arange(3), start=[0.0, 1.0], end=[2.0], type=["Tsd"]),
         "2 starts but 1 ends"),
        (dict(t=np.arange(3.0), index=[0, 1], start=[0.0], end=[2.0], type=["TsGroup"]),
         "3 spike times but 2 unit indices"),
        (dict(t=np.arange(3.0), d=np.ones((3, 2)), columns=["a"], start=[0.0], end=[2.0],
              type=["TsdFrame"]), "1 column names for 2 data columns"),
        (dict(t=np.arange(3.0), d=np.ones(3), start=[0.0], end=[2.0], type=["TsdFrame"],
              columns=["a"]), "a TsdFrame needs 2-D 'd'"),
        (dict(t=np.ones((3, 2)), d=np.ones(3), start=[0.0], end=[2.0], type=["Tsd"]),
         r"\['t'\] must be 1-D"),
        (dict(t=np.array(["a", "b"]), start=[0.0], end=[2.0], type=["Ts"]),
         r"\['t'\] must be numeric"),
        (dict(t=np.arange(2.0), d=np.array(["x", 1], dtype=object), start=[0.0], end=[2.0],
              type=["Tsd"]), "holds Python objects"),
        (dict(t=np.arange(2.0), index=[0.5, 1.0], start=[0.0], end=[2.0], type=["TsGroup"]),
         "non-integer unit ids"),
    ],
)
def test_inconsistent_files(tmp_path, members, message):
    np.savez(tmp_path / "x.npz", **members)
    with pytest.raises(NPZFormatError, match=message):
        nap.load_npz(tmp_path / "x.npz")


def test_unsorted_times_are_named(tmp_path):
    np.savez(tmp_path / "x.npz", t=np.array([0.0, 2.0, 1.0]), d=np.arange(3), start=[0.0],
             end=[2.0], type=["Tsd"])
    with pytest.raises(ValueError, match="sorted"):
        nap.load_npz(tmp_path / "x.npz")


def test_header_announcing_more_data_than_stored(tmp_path):
    """A member whose header claims a huge array is refused before allocating it."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(tmp_path / "x.npz", "w") as zf:
        zf.writestr("t.npy", header.getvalue() + b"\0" * 16)
        for key in ("start", "end"):
            buf = io.BytesIO()
            np.save(buf, np.array([0.0]))
            zf.writestr(f"{key}.npy", buf.getvalue())
    with pytest.raises(NPZFormatError, match=r"\['t'\]: the header announces"):
        nap.load_npz(tmp_path / "x.npz")


def test_unreadable_pickle(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": ()})
    with zipfile.ZipFile(tmp_path / "x.npz", "w") as zf:
        zf.writestr("_metadata.npy", header.getvalue() + b"\x80\x04garbage")
        for key in ("start", "end"):
            buf = io.BytesIO()
            np.save(buf, np.array([0.0]))
            zf.writestr(f"{key}.npy", buf.getvalue())
    with pytest.raises(NPZFormatError, match=r"\['_metadata'\]: unreadable pickle"):
        nap.load_npz(tmp_path / "x.npz")


@pytest.mark.parametrize("t, index", [
    ([0.5, np.nan, 2.0], [0, 1, 2]),  # grouped by unit, a one-spike unit at NaN
    ([0.5, np.nan, 2.0], [0, 0, 0]),  # one unit, NaN inside its train
    ([0.5, 1.0, np.inf], [1, 0, 1]),  # time-sorted as pynapple writes
    ([np.nan, 1.0, 0.5], [1, 0, 1]),  # any other order
])
def test_non_finite_spike_times_are_refused(tmp_path, t, index):
    np.savez(tmp_path / "g.npz", t=np.array(t), index=np.array(index), keys=np.arange(3),
             start=np.array([0.0]), end=np.array([10.0]), type=np.array(["TsGroup"]))
    with pytest.raises(NPZFormatError, match=r"\['t'\] holds non-finite"):
        nap.load_npz(tmp_path / "g.npz")
