"""Random evenly sampled signals over several epochs, in xr-nap and in pynapple.

Epoch bounds fall between samples or on them, never on an empty stretch, so that every
epoch holds samples (the cases with empty or tiny epochs are tested on their own).
"""

import numpy as np
from hypothesis import strategies as st

import xr_nap as nap


@st.composite
def signals(draw, min_epoch=20, max_samples=600, max_cols=3):
    """``(t, d, starts, ends)``: a regular grid at fs, data of 1 or more columns and
    1 to 3 epochs of at least ``min_epoch`` samples separated by gaps."""
    fs = draw(st.sampled_from([100.0, 250.0, 1000.0]))
    n = draw(st.integers(3 * min_epoch, max_samples))
    ncol = draw(st.integers(0, max_cols))  # 0: a 1-D Tsd
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs + draw(st.sampled_from([0.0, 3.5]))
    d = rng.standard_normal(n if ncol == 0 else (n, ncol))
    n_ep = draw(st.integers(1, 3))
    cuts = np.sort(rng.choice(np.arange(1, n - 1), size=2 * n_ep - 2, replace=False))
    bounds = np.concatenate([[0], cuts, [n - 1]])
    lo, hi = bounds[0::2], bounds[1::2]
    if np.any(hi - lo < min_epoch) or np.any(lo[1:] - hi[:-1] < 2):
        lo, hi = np.array([0]), np.array([n - 1])
    # an epoch bound on a sample, or half-way to the next one
    shift = draw(st.sampled_from([0.0, 0.5])) / fs
    return t, d, t[lo] - shift * (lo > 0), t[hi] + shift * (hi < n - 1)


def both(pnap, t, d, starts, ends, **kwargs):
    """The same series in xr-nap and pynapple."""
    ep = pnap.IntervalSet(starts, ends)
    if np.ndim(d) == 1:
        return nap.tsd(t, d, time_support=(starts, ends), **kwargs), pnap.Tsd(
            t, d, time_support=ep)
    if np.ndim(d) == 2:
        return nap.tsd_frame(t, d, time_support=(starts, ends)), pnap.TsdFrame(
            t, d, time_support=ep)
    return nap.tsd_tensor(t, d, time_support=(starts, ends)), pnap.TsdTensor(
        t, d, time_support=ep)


def assert_same(ours, ref, rtol=1e-9, atol=1e-12):
    """Values (and times, for time series) of ours equal pynapple's."""
    values = np.asarray(ref.values if hasattr(ref, "values") else ref)
    scale = max(float(np.nanmax(np.abs(values))), 1.0) if values.size else 1.0
    np.testing.assert_allclose(np.asarray(ours.values).reshape(values.shape), values,
                               rtol=rtol, atol=atol * scale, equal_nan=True)
    if hasattr(ref, "t"):
        np.testing.assert_array_equal(ours.time.values, ref.t)
        np.testing.assert_allclose(nap.time_support(ours).start.values, ref.time_support.start)
        np.testing.assert_allclose(nap.time_support(ours).end.values, ref.time_support.end)
