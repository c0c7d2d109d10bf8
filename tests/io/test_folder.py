"""``Folder``: lazy walk of nested folders, like pynapple's ``Folder``."""

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.io import folder as folder_module

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
NWB = SHARED / "data" / "nwb" / "phy_A8604-211122.nwb"


@pytest.fixture
def tree(tmp_path):
    """root/{a.npz, session 1/{spikes.npz, epochs.npz, nested/x.npz}, .hidden/, notes.txt}"""
    (tmp_path / "session 1" / "nested").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "notes.txt").write_text("not data")
    nap.save(nap.tsd([0.0, 1.0], [1.0, 2.0]), tmp_path / "a")
    nap.save(nap.ts_group({0: [0.5], 2: [1.0, 2.0]}), tmp_path / "session 1" / "spikes")
    nap.save(nap.interval_set([0], [5]), tmp_path / "session 1" / "epochs")
    nap.save(nap.ts([1.0]), tmp_path / "session 1" / "nested" / "x")
    return tmp_path


def test_listing_opens_no_file(tree, monkeypatch):
    opened = []
    monkeypatch.setattr(folder_module, "load_npz", lambda p: opened.append(p))
    monkeypatch.setattr(folder_module, "_npz_kind", lambda p: opened.append(p))
    f = nap.Folder(tree)
    assert list(f) == ["session1", "a"]  # sub-folders first, whitespace removed
    assert list(f["session1"]) == ["nested", "epochs", "spikes"]
    assert f.subfolders == {"session1": tree / "session 1"}
    assert f.files == {"a": tree / "a.npz"}
    assert opened == []


def test_item_and_attribute_access(tree):
    f = nap.Folder(tree)
    xr.testing.assert_identical(f["a"], nap.tsd([0.0, 1.0], [1.0, 2.0]))
    assert f.a is f["a"]  # loaded once, cached
    assert f.session1.spikes.row_size.values.tolist() == [1, 2]
    assert nap.nap_type(f["session1"]["nested"]["x"]) == "Ts"
    assert "session1" in dir(f)
    with pytest.raises(KeyError, match="'nope' is not in folder"):
        _ = f["nope"]
    with pytest.raises(AttributeError, match="nope"):
        _ = f.nope


def test_tree_repr(tree):
    text = repr(nap.Folder(tree))
    assert text.splitlines() == [
        f"📂 {tree.name}",
        "├── 📂 session 1",
        "│   ├── 📂 nested",
        "│   │   └── x.npz | Ts",
        "│   ├── epochs.npz | IntervalSet",
        "│   └── spikes.npz | TsGroup",
        "└── a.npz | Tsd",
    ]
    assert nap.Folder(tree).tree(depth=1).splitlines()[1:] == ["├── 📂 session 1",
                                                              "└── a.npz | Tsd"]


def test_save_and_load(tree):
    f = nap.Folder(tree)
    g = nap.ts_group({1: [0.1, 0.2]}, metadata={"area": ["ca1"]})
    f.save("new", g, description="my units")
    assert f.new is g
    xr.testing.assert_identical(nap.Folder(tree)["new"], g)
    meta = json.loads((tree / "new.json").read_text())
    assert meta["info"] == "my units" and f.metadata("new") == meta and f.info("a") == {}
    f2 = nap.Folder(tree)
    f2.load()
    assert set(f2._cache) == {"a", "new"}
    with pytest.raises(ValueError, match="invalid file name"):
        f.save("../escape", g)


def test_pynapple_folder_reads_xrnap_saves(pnap, tree):
    nap.Folder(tree).save("units", nap.ts_group({0: [1.0, 2.0]}))
    theirs = pnap.load_folder(str(tree))
    np.testing.assert_array_equal(theirs["units"][0].index.values, [1.0, 2.0])


def test_not_a_directory(tmp_path):
    with pytest.raises(NotADirectoryError):
        nap.Folder(tmp_path / "nope")


def test_nwb_file_opens_lazily(tmp_path):
    nwb = pytest.importorskip("xr_nap.io.nwb")
    if not hasattr(nwb, "NWBFile"):
        pytest.skip("xr_nap.io.nwb has no NWBFile yet")
    if not NWB.is_file():
        pytest.skip("../shared/data/nwb is not present")
    (tmp_path / "rec.nwb").symlink_to(NWB.resolve())
    with nap.Folder(tmp_path) as f:
        assert "rec.nwb | NWB file" in repr(f)
        assert f._cache == {}
        data = f.rec
        assert isinstance(data, nwb.NWBFile)
        assert "units" in data


def test_symlink_loops_print_in_finite_time(tree):
    (tree / "session 1" / "nested" / "up").symlink_to(tree)  # a loop back to the root
    (tree / "self").symlink_to(".")
    (tree / "dangling.npz").symlink_to("nowhere.npz")
    (tree / "loop.npz").symlink_to("loop.npz")
    lines = repr(nap.Folder(tree)).splitlines()
    assert "│   │   ├── 📂 up (link to a folder shown already: not followed)" in lines
    assert any("📂 self (link to a folder shown already" in line for line in lines)
    assert not any("dangling" in line or "loop.npz" in line for line in lines)
    # a user can still walk into the link, one level at a time
    assert "x" in nap.Folder(tree)["session1"]["nested"]["up"]["session1"]["nested"]


def test_many_links_to_one_folder_are_walked_once(tmp_path):
    level = tmp_path
    for i in range(30):  # 2**30 paths through 30 folders
        nxt = tmp_path / f"level{i}"
        nxt.mkdir()
        (level / "left").symlink_to(nxt)
        (level / "right").symlink_to(nxt)
        level = nxt
    nap.save(nap.ts([1.0]), level / "leaf")
    text = nap.Folder(tmp_path).tree()
    assert text.count("leaf.npz | Ts") == 1 and len(text.splitlines()) < 200


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/b", ".hidden", "", "x\0y"])
def test_names_stay_inside_the_folder(tree, name):
    (tree.parent / "x.json").write_text('{"secret": 1}')
    f = nap.Folder(tree)
    with pytest.raises(ValueError, match="invalid file name"):
        f.metadata(name)
    with pytest.raises(ValueError, match="invalid file name"):
        f.save(name, nap.ts([1.0]))


def test_a_sidecar_linking_outside_is_not_read(tree, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.json"
    outside.write_text('{"secret": 1}')
    (tree / "a.json").symlink_to(outside)
    with pytest.raises(ValueError, match="leads outside the folder"):
        nap.Folder(tree).metadata("a")


@pytest.mark.parametrize("content, message", [("[1, 2]", "holds a list"),
                                               ("{not json", "not a readable JSON")])
def test_bad_sidecars_are_named(tree, content, message):
    from xr_nap.errors import FileFormatError

    (tree / "a.json").write_text(content)
    with pytest.raises(FileFormatError, match=rf"a.json .*{message}|a.json {message}"):
        nap.Folder(tree).metadata("a")


def test_damaged_files_are_listed_as_such(tree):
    (tree / "broken.npz").write_bytes(b"PK\x03\x04 not really")
    assert "broken.npz | not a pynapple file" in repr(nap.Folder(tree))
