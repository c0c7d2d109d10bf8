"""The grouping kernels behind reading a TsGroup from pynapple's flat spike list."""

import numpy as np
import pytest

from xr_nap.core.ragged import grouped_counts, regroup, unit_destinations, unit_positions
from xr_nap.errors import TimeAxisError


@pytest.mark.parametrize("n_units", [1, 3, 300, 70_000])
def test_unit_destinations_is_a_stable_counting_sort(n_units):
    pos = np.random.default_rng(n_units).integers(0, n_units, 1000)
    dest, counts = unit_destinations(pos, n_units, chunk=64)
    order = np.empty_like(dest)
    order[dest] = np.arange(pos.size)
    np.testing.assert_array_equal(order, np.argsort(pos, kind="stable"))
    np.testing.assert_array_equal(counts, np.bincount(pos, minlength=n_units))


@pytest.mark.parametrize("keys", [
    np.arange(5), np.arange(3, 8), np.array([0, 2, 9, 40]), np.array([-3, 10**12]),
    np.array([2**63 - 1], dtype=np.int64), np.array([0.0, 2.5, 7.0]),
])
def test_unit_positions_match_a_search(keys):
    rng = np.random.default_rng(0)
    index = np.concatenate([rng.choice(keys, 200), keys[:1] - 1, keys[-1:] + 1]).astype(
        keys.dtype) if keys.dtype.kind == "f" or keys[-1] < 2**63 - 1 else rng.choice(keys, 50)
    pos, all_known = unit_positions(keys, index)
    expected = np.searchsorted(keys, index)
    found = (expected < keys.size) & (keys[np.minimum(expected, keys.size - 1)] == index)
    np.testing.assert_array_equal(pos, np.where(found, expected, keys.size))
    assert all_known == bool(found.all())


def _reference(t, index, keys, starts, ends):
    """Per unit: the spike times inside the support, sorted (pynapple's result)."""
    inside = np.zeros(t.size, bool)
    for s, e in zip(starts, ends, strict=True):
        inside |= (t >= s) & (t <= e)
    return [np.sort(t[(index == k) & inside]) for k in keys]


@pytest.mark.parametrize("chunk", [None, 64])  # one sort, or chunk by chunk
@pytest.mark.parametrize("order", ["time", "unit", "random"])
def test_regroup_matches_a_per_unit_filter(order, chunk, monkeypatch):
    from xr_nap.core import ragged

    if chunk:
        monkeypatch.setattr(ragged, "CHUNK", chunk)
    rng = np.random.default_rng(1)
    keys = np.array([1, 4, 5, 9])
    t = rng.uniform(0, 100, 5000)
    index = rng.choice(np.append(keys, 7), t.size)  # unit 7 is not listed: dropped
    if order == "time":
        sort = np.argsort(t)
    elif order == "unit":
        sort = np.lexsort((t, index))
    else:
        sort = rng.permutation(t.size)
    t, index = t[sort], index[sort]
    starts, ends = np.array([5.0, 50.0]), np.array([40.0, 90.0])
    data = t * 10
    spikes, counts, moved = regroup(t, index, keys, starts, ends, data)
    expected = _reference(t, index, keys, starts, ends)
    np.testing.assert_array_equal(counts, [e.size for e in expected])
    np.testing.assert_array_equal(spikes, np.concatenate(expected))
    np.testing.assert_array_equal(moved, spikes * 10)


def test_grouped_counts_accepts_only_the_grouped_layout():
    t, index, keys = np.array([0.5, 2.0, 1.0]), np.array([1, 1, 3]), np.array([1, 3])
    one = (np.array([0.0]), np.array([5.0]))
    np.testing.assert_array_equal(grouped_counts(t, index, keys, *one), [2, 1])
    assert grouped_counts(t[::-1], index[::-1], keys, *one) is None  # not grouped
    assert grouped_counts(t, index, keys, np.array([0.0]), np.array([1.5])) is None
    assert grouped_counts(np.array([0.5, np.nan, 1.0]), index, keys, *one) is None


def test_regroup_refuses_non_finite_times():
    with pytest.raises(TimeAxisError, match="finite"):
        regroup(np.array([0.0, np.inf]), np.array([0, 0]), np.array([0]),
                np.array([0.0]), np.array([1.0]))
