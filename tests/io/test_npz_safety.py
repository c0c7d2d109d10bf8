"""Reading NPZ never runs code from the file, and bad files get errors naming the problem."""

import io
import os
import pickle
import zipfile
import zlib

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


# --------------------------------------------------------------------------- forged pickles
def test_forged_dtypes_are_refused_before_any_array_is_built():
    """pickle's BUILD can give numpy.dtype an object field without the object flag;
    such a pickle is refused (the fuzz test opens the same files in a subprocess)."""
    from hostile.npz_corpus import forged_object_field, forged_object_flagless

    from xr_nap.io import safe_pickle

    for payload in (forged_object_field(), forged_object_flagless()):
        with pytest.raises(UnsafeNPZError, match="dtype"):
            safe_pickle.load(payload)


def test_pickle_blowups_are_refused():
    from xr_nap.io import safe_pickle

    nested = [1]
    for _ in range(14):
        nested = [nested, nested]  # 2**14 leaves from a few hundred bytes
    with pytest.raises(UnsafeNPZError, match="expands to more"):
        safe_pickle.load(pickle.dumps(nested, protocol=3))
    with pytest.raises(UnsafeNPZError, match="memo index"):
        safe_pickle.load(b"\x80\x03N\x72\xf0\xff\xff\x7f.")
    loop = []
    loop.append(loop)
    with pytest.raises(UnsafeNPZError, match="refers to itself"):
        safe_pickle.load(pickle.dumps(loop, protocol=3))
    zero_stride = pickle.dumps(np.empty(10**12, dtype=np.dtype([])), protocol=3)
    with pytest.raises(UnsafeNPZError, match="dtype"):
        safe_pickle.load(zero_stride)


def test_rebuilt_pickles_equal_numpys():
    """What pynapple's pickles hold comes back identical, dtype and all."""
    from xr_nap.io import safe_pickle

    value = {"label": np.array(["a", "bb"]), "depth": np.array([1.5, 2.0], ">f8"),
             "pos": np.arange(4).reshape(2, 2, order="F"), "ok": np.array([True, False]),
             "when": np.array(["2020-01-01", "NaT"], "M8[ms]"), "n": np.int32(3),
             "mixed": np.array([None, "x", 1.5], dtype=object), "nested": {0: [b"raw"]}}
    for protocol in (3, 4):
        back = safe_pickle.load(pickle.dumps(_object_array(value), protocol=protocol))[()]
        assert back.keys() == value.keys()
        for key, expected in value.items():
            if isinstance(expected, np.ndarray):
                assert back[key].dtype == expected.dtype
                np.testing.assert_array_equal(back[key], expected)
            else:
                assert back[key] == expected


# --------------------------------------------------------------------------- damage
def _flip(path, member, offset_in_data=5):
    """Flip one byte of ``member``'s data in place."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member + ".npy")
    data = bytearray(path.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28],
                                         "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size - offset_in_data
    data[at] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("mmap", [False, True])
def test_a_flipped_bit_is_detected(tmp_path, mmap):
    path = nap.save(nap.tsd(np.arange(100.0), np.arange(100.0)), tmp_path / "x")
    _flip(path, "d")
    with pytest.raises(NPZFormatError, match=r"x.npz\['d'\]: CRC-32 mismatch"):
        nap.load_npz(path, mmap=mmap)
    # numpy agrees the file is damaged
    with np.load(path) as f, pytest.raises(zipfile.BadZipFile):
        f["d"]


def test_a_flipped_bit_in_a_compressed_member_is_detected(tmp_path):
    path = tmp_path / "x.npz"
    np.savez_compressed(path, t=np.arange(1000.0), d=np.arange(1000.0), start=[0.0],
                        end=[999.0], type=np.array(["Tsd"]))
    _flip(path, "d", offset_in_data=40)
    with pytest.raises(NPZFormatError, match=r"x.npz\['d'\]: damaged member"):
        nap.load_npz(path)


def test_mmap_checks_each_member_once_per_file_version(tmp_path, monkeypatch):
    from xr_nap.io import safe_npz

    path = nap.save(nap.tsd(np.arange(1000.0), np.arange(1000.0)), tmp_path / "x")
    checked = []
    real = safe_npz.zlib.crc32

    class Counting:
        @staticmethod
        def crc32(data, value=0):
            if len(data) >= 8000:
                checked.append(len(data))
            return real(data, value)

    monkeypatch.setattr(safe_npz, "zlib", Counting)
    nap.load_npz(path, mmap=True)
    assert checked == [8000, 8000]  # t and d, each checked once
    nap.load_npz(path, mmap=True)
    assert len(checked) == 2  # the same file again: not read again
    nap.save(nap.tsd(np.arange(1000.0), np.arange(1000.0) + 1), path)
    nap.load_npz(path, mmap=True)
    assert len(checked) == 4  # a new version of the file is checked


def _stored_tsd_members():
    return {k: v for k, v in dict(t=np.arange(3.0), d=np.arange(3.0), start=np.array([0.0]),
                                  end=np.array([2.0]), type=np.array(["Tsd"])).items()}


def test_zip_structure_problems_name_file_and_member(tmp_path):
    import warnings

    path = tmp_path / "dup.npz"
    with zipfile.ZipFile(path, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate too
        for key, value in _stored_tsd_members().items():
            buf = io.BytesIO()
            np.save(buf, value)
            zf.writestr(key + ".npy", buf.getvalue())
        zf.writestr("d.npy", buf.getvalue())
    with pytest.raises(NPZFormatError, match=r"dup.npz\['d.npy'\]: the member name appears"):
        nap.load_npz(path)
    from hostile.npz_corpus import _patch_method

    good = tmp_path / "good.npz"
    np.savez(good, **_stored_tsd_members())
    for flags, method, message in ((1, None, "encrypted"), (None, 99, "compression method 99")):
        bad = tmp_path / f"bad{method}.npz"
        bad.write_bytes(_patch_method(good.read_bytes(), b"d.npy", method=method, flags=flags))
        with pytest.raises(NPZFormatError, match=rf"\['d.npy'\]: .*{message}"):
            nap.load_npz(bad)


def test_zip_bombs_are_refused_before_allocating(tmp_path):
    from hostile.npz_corpus import _raw_zip

    entries = [(k + ".npy", buf, 0, zlib.crc32(buf), len(buf), -1)
               for k, buf in ((k, _npy_bytes(v)) for k, v in _stored_tsd_members().items())
               if k != "d"]
    # deflate cannot expand 4 KiB to 2 GiB: the claim is a lie
    lie = _raw_zip(tmp_path / "lie.npz", [*entries, ("d.npy", bytes(4096), 8, 0, 1 << 31, -1)])
    with pytest.raises(NPZFormatError, match=r"\['d.npy'\]: .*more than 1032 times"):
        nap.load_npz(lie)
    # 800 times is possible (long runs of zeros), but not 4 GiB from a 5 MB file
    bomb = _raw_zip(tmp_path / "bomb.npz",
                    [*entries, ("d.npy", bytes(5 << 20), 8, 0, 2**32 - 1, -1)])
    with pytest.raises(NPZFormatError, match=r"bomb.npz: .*zip bomb"):
        nap.load_npz(bomb)


def _npy_bytes(value):
    buf = io.BytesIO()
    np.save(buf, value)
    return buf.getvalue()


def test_paths_that_are_not_files(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    os.symlink("loop.npz", tmp_path / "loop.npz")
    os.mkfifo(tmp_path / "fifo.npz")
    for name, message in (("dir.npz", "is a directory"), ("loop.npz", "cannot open"),
                          ("fifo.npz", "is a FIFO")):
        for load in (nap.load_npz, nap.load_file):
            with pytest.raises(NPZFormatError, match=rf"{name}.*{message}"):
                load(tmp_path / name)
