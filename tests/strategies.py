"""Hypothesis strategies shared by the tests: times and interval bounds on a ms grid.

Times on a millisecond grid keep every value exactly representable at pynapple's 1e-9
precision, so differences found are semantic, not rounding noise.
"""

import numpy as np
from hypothesis import strategies as st

grid = st.integers(min_value=0, max_value=20_000).map(lambda k: k / 1000.0)


@st.composite
def sorted_times(draw, min_size=0, max_size=60, unique=True):
    values = draw(st.lists(grid, min_size=min_size, max_size=max_size, unique=unique))
    return np.sort(np.array(values, dtype=np.float64))


@st.composite
def raw_intervals(draw, max_size=8, allow_empty=False):
    """Unsorted, possibly overlapping or touching (start, end) pairs with end > start."""
    n = draw(st.integers(0, max_size))
    starts = np.array([draw(grid) for _ in range(n)], dtype=np.float64)
    lengths = np.array(
        [draw(st.integers(0 if allow_empty else 1, 5000)) / 1000.0 for _ in range(n)]
    )
    return starts, starts + lengths


@st.composite
def interval_bounds(draw, max_size=8):
    """Canonical (sorted, disjoint, non-touching) bounds."""
    cuts = np.sort(np.array(draw(st.lists(grid, min_size=0, max_size=2 * max_size,
                                          unique=True)), dtype=np.float64))
    if cuts.size % 2:
        cuts = cuts[:-1]
    return cuts[0::2].copy(), cuts[1::2].copy()
