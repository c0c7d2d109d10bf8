"""NWB columns of references reach xr-nap as readable values: the ``timeseries``
column of TimeIntervals (an NWB TimeSeriesReference: idx_start, count, series), as in
the Allen Institute's stimulus presentation tables, and the electrode table's
``group`` column on an ElectricalSeries' channels. pynapple keeps the first as
pynwb objects inside its metadata; the same numbers and series names are compared."""

from __future__ import annotations

import numpy as np
import pytest
from test_files import allen_like

import xr_nap as nap


@pytest.fixture(scope="module")
def allen(tmp_path_factory):
    return allen_like(tmp_path_factory.mktemp("refs") / "allen.nwb")


def test_timeseries_reference_columns(allen):
    with nap.load_file(allen) as data:
        shown = data["scenes_presentations"]
        assert shown.timeseries.values.tolist() == ["stim"] * 5  # the key of the series
        assert shown.timeseries_idx_start.values.tolist() == [0, 10, 20, 30, 40]
        assert shown.timeseries_count.values.tolist() == [5] * 5
        assert shown.frame.values.tolist() == list(range(5))
        # the referenced samples are the ones inside each presentation
        stim = data[shown.timeseries.values[1]]
        rows = slice(int(shown.timeseries_idx_start[1]),
                     int(shown.timeseries_idx_start[1] + shown.timeseries_count[1]))
        assert stim.time.values[rows].tolist() == pytest.approx([1.0, 1.1, 1.2, 1.3, 1.4])
        # several references in a row: one array per row, like tags
        epochs = data["epochs"]
        assert [c.tolist() for c in epochs.timeseries.values] == [["stim", "ephys"], ["stim"]]
        assert [c.tolist() for c in epochs.timeseries_count.values] == [[20, 2000], [10]]


def test_timeseries_reference_columns_match_pynapple(allen, pnap):
    with nap.load_file(allen) as data:
        theirs = pnap.load_file(str(allen))
        for key in ("scenes_presentations", "epochs"):
            refs = theirs[key].metadata["timeseries"]
            ours = data[key]
            for i, row in enumerate(refs):
                names = [r.timeseries.name for r in row]
                starts = [int(r.idx_start) for r in row]
                counts = [int(r.count) for r in row]
                assert np.atleast_1d(ours.timeseries.values[i]).tolist() == names
                assert np.atleast_1d(ours.timeseries_idx_start.values[i]).tolist() == starts
                assert np.atleast_1d(ours.timeseries_count.values[i]).tolist() == counts


def test_electrode_metadata_on_channels(allen, pnap):
    with nap.load_file(allen) as data:
        ephys = data["ephys"]
        assert ephys.column.values.tolist() == [0, 1, 3]
        assert ephys.location.values.tolist() == ["CA1", "CA3", "CA3"]
        assert ephys.group_name.values.tolist() == ["shank0", "shank1", "shank1"]
        assert ephys.group.values.tolist() == ["/general/extracellular_ephys/shank0",
                                               "/general/extracellular_ephys/shank1",
                                               "/general/extracellular_ephys/shank1"]
        assert ephys.x.values.tolist() == [0.0, 1.0, 3.0]
        theirs = pnap.load_file(str(allen))["ephys"].metadata
        for col in theirs.columns:
            assert ephys[col].values.tolist() == theirs[col].tolist(), col


def test_dangling_references_leave_the_column_out(allen, tmp_path):
    import shutil

    import h5py

    src = shutil.copy(allen, tmp_path / "dangling.nwb")
    with h5py.File(src, "a") as f:
        del f["stimulus/presentation/stim"]
    with nap.load_file(src) as data, pytest.warns(nap.XrNapWarning, match="references"):
        shown = data["scenes_presentations"]
    assert "timeseries" not in shown and shown.frame.size == 5
