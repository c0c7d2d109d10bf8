"""The ``.nap`` accessors: thin, stateless, every method delegates to a public function.

``obj.nap.restrict(ep)`` is exactly ``xr_nap.restrict(obj, ep)``; each method has the
function's signature (without its first argument) and docstring. A DataArray's
accessor offers what applies to a time series; a Dataset's what applies to a TsGroup,
an interval set or a Dataset of time series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr


def _function(name: str) -> Callable[..., Any]:
    # imported on first use: the heavier modules (pynwb, pynapple) stay unloaded
    return getattr(import_module("xr_nap"), name)


class _Accessor:
    __slots__ = ("_obj",)

    def __init__(self, obj: xr.DataArray | xr.Dataset):
        self._obj = obj

    @property
    def time_support(self) -> xr.Dataset:
        return _function("time_support")(self._obj)

    def nap_type(self) -> str:
        return _function("nap_type")(self._obj)

    def restrict(self, ep: Any) -> Any:
        return _function("restrict")(self._obj, ep)

    def count(self, bin_size: float | None = None, ep: Any = None, dtype: Any = None
              ) -> xr.DataArray:
        return _function("count")(self._obj, bin_size, ep, dtype)

    def tuning_curves(self, features: xr.DataArray, bins: int | Sequence[Any] = 10,
                      range: Sequence[Any] | None = None,  # noqa: A002  (pynapple's name)
                      epochs: Any = None, fs: float | None = None,
                      feature_names: Sequence[str] | None = None,
                      return_pandas: bool = False, return_counts: bool = False
                      ) -> xr.DataArray | pd.DataFrame:
        return _function("tuning_curves")(self._obj, features, bins, range, epochs, fs,
                                          feature_names, return_pandas, return_counts)

    def event_triggered_average(self, feature: xr.DataArray, bin_size: float,
                                window: float | tuple[float, float] = 0, ep: Any = None,
                                time_unit: str = "s") -> xr.DataArray:
        return _function("event_triggered_average")(self._obj, feature, bin_size, window,
                                                    ep, time_unit)

    def perievent(self, events: Any, window: float | tuple[float, float],
                  time_unit: str = "s", epochs: Any = None) -> Any:
        return _function("perievent")(self._obj, events, window, time_unit, epochs)

    def save(self, path: str | Path) -> Path:
        return _function("save")(self._obj, path)

    def to_pynapple(self) -> Any:
        return _function("to_pynapple")(self._obj)

    def to_dataframe(self, metadata: bool = False) -> pd.DataFrame:
        return _function("to_dataframe")(self._obj, metadata)

    # trials, intervals between events, surrogates (series and TsGroups alike)
    def build_tensor(self, epochs: Any, bin_size: float | None = None,
                     align: str = "start", padding_value: float = np.nan,
                     time_unit: str = "s") -> xr.DataArray:
        return _function("build_tensor")(self._obj, epochs, bin_size, align, padding_value,
                                         time_unit)

    def warp_tensor(self, epochs: Any, num_bins: int) -> xr.DataArray:
        return _function("warp_tensor")(self._obj, epochs, num_bins)

    def trial_count(self, ep: Any, bin_size: float, align: str = "start",
                    padding_value: float = np.nan, time_unit: str = "s") -> xr.DataArray:
        return _function("trial_count")(self._obj, ep, bin_size, align, padding_value,
                                        time_unit)

    def isi_distribution(self, bins: Any = 10, log_scale: bool = False,
                         epochs: Any = None) -> xr.DataArray:
        return _function("isi_distribution")(self._obj, bins, log_scale, epochs)

    def time_diff(self, align: str = "center", epochs: Any = None) -> Any:
        return _function("time_diff")(self._obj, align, epochs)

    def shift_timestamps(self, min_shift: float = 0.0, max_shift: float | None = None,
                         mode: str = "drop", *, rng: Any = None) -> Any:
        return _function("shift_timestamps")(self._obj, min_shift, max_shift, mode, rng=rng)

    def jitter_timestamps(self, max_jitter: float | None = None, keep_tsupport: bool = False,
                          *, rng: Any = None) -> Any:
        return _function("jitter_timestamps")(self._obj, max_jitter, keep_tsupport, rng=rng)

    def resample_timestamps(self, *, rng: Any = None) -> Any:
        return _function("resample_timestamps")(self._obj, rng=rng)

    def shuffle_ts_intervals(self, *, rng: Any = None) -> Any:
        return _function("shuffle_ts_intervals")(self._obj, rng=rng)

    def __repr__(self) -> str:
        names = sorted(n for n in dir(type(self)) if not n.startswith("_"))
        return f"<.nap accessor: {', '.join(names)}>"


@xr.register_dataarray_accessor("nap")
class NapDataArrayAccessor(_Accessor):
    """pynapple operations on a time series (``da.nap.restrict(ep)``, ...)."""

    __slots__ = ()

    def get(self, start: float, end: float | None = None) -> xr.DataArray:
        return _function("get")(self._obj, start, end)

    def bin_average(self, bin_size: float, ep: Any = None) -> xr.DataArray:
        return _function("bin_average")(self._obj, bin_size, ep)

    def value_from(self, data: xr.DataArray, ep: Any = None,
                   mode: Literal["closest", "before", "after"] = "closest") -> xr.DataArray:
        return _function("value_from")(self._obj, data, ep, mode)

    def threshold(self, thr: float,
                  method: Literal["above", "below", "aboveequal", "belowequal"] = "above"
                  ) -> xr.DataArray:
        return _function("threshold")(self._obj, thr, method)


    def set_time_index(self, time_support: Any = None) -> xr.DataArray:
        return _function("set_time_index")(self._obj, time_support)

    # signals
    def smooth(self, std: float, windowsize: float | None = None, time_units: str = "s",
               size_factor: int = 100, norm: bool = True) -> xr.DataArray:
        return _function("smooth")(self._obj, std, windowsize, time_units, size_factor, norm)

    def convolve(self, array: Any, ep: Any = None, trim: str = "both") -> xr.DataArray:
        return _function("convolve")(self._obj, array, ep, trim)

    def bandpass_filter(self, cutoff: tuple[float, float], fs: float | None = None,
                        mode: str = "butter", order: int = 4,
                        transition_bandwidth: float = 0.02) -> xr.DataArray:
        return _function("bandpass_filter")(self._obj, cutoff, fs, mode, order,
                                            transition_bandwidth)

    def bandstop_filter(self, cutoff: tuple[float, float], fs: float | None = None,
                        mode: str = "butter", order: int = 4,
                        transition_bandwidth: float = 0.02) -> xr.DataArray:
        return _function("bandstop_filter")(self._obj, cutoff, fs, mode, order,
                                            transition_bandwidth)

    def lowpass_filter(self, cutoff: float, fs: float | None = None, mode: str = "butter",
                       order: int = 4, transition_bandwidth: float = 0.02) -> xr.DataArray:
        return _function("lowpass_filter")(self._obj, cutoff, fs, mode, order,
                                           transition_bandwidth)

    def highpass_filter(self, cutoff: float, fs: float | None = None, mode: str = "butter",
                        order: int = 4, transition_bandwidth: float = 0.02) -> xr.DataArray:
        return _function("highpass_filter")(self._obj, cutoff, fs, mode, order,
                                            transition_bandwidth)

    def hilbert_transform(self, *, per_epoch: bool = False) -> xr.DataArray:
        return _function("hilbert_transform")(self._obj, per_epoch=per_epoch)

    def hilbert_envelope(self, *, per_epoch: bool = False) -> xr.DataArray:
        return _function("hilbert_envelope")(self._obj, per_epoch=per_epoch)

    def hilbert_phase(self, *, per_epoch: bool = False) -> xr.DataArray:
        return _function("hilbert_phase")(self._obj, per_epoch=per_epoch)

    def oscillatory_events(self, epochs: Any, frequency_band: tuple[float, float],
                           threshold_band: tuple[float, float],
                           duration_band: tuple[float, float], min_interval: float,
                           fs: float | None = None, sliding_window_size: int = 51
                           ) -> xr.Dataset:
        return _function("oscillatory_events")(self._obj, epochs, frequency_band,
                                               threshold_band, duration_band, min_interval,
                                               fs, sliding_window_size)

    def power_spectral_density(self, fs: float | None = None, ep: Any = None,
                               full_range: bool = False, n: int | None = None
                               ) -> xr.DataArray:
        return _function("power_spectral_density")(self._obj, fs, ep, full_range, n)

    def mean_power_spectral_density(self, interval_size: float, fs: float | None = None,
                                    overlap: float = 0.25, ep: Any = None,
                                    full_range: bool = False, time_unit: str = "s"
                                    ) -> xr.DataArray:
        return _function("mean_power_spectral_density")(self._obj, interval_size, fs,
                                                        overlap, ep, full_range, time_unit)

    def wavelet_transform(self, freqs: Any, fs: float | None = None,
                          gaussian_width: float = 1.5, window_length: float = 1.0,
                          precision: int = 16, norm: str | None = "l1") -> xr.DataArray:
        return _function("wavelet_transform")(self._obj, freqs, fs, gaussian_width,
                                              window_length, precision, norm)

    # derived series
    def derivative(self, ep: Any = None) -> xr.DataArray:
        return _function("derivative")(self._obj, ep)

    def interpolate(self, ts: xr.DataArray, ep: Any = None, left: float | None = None,
                    right: float | None = None) -> xr.DataArray:
        return _function("interpolate")(self._obj, ts, ep, left, right)

    def decimate(self, down: int, order: int = 8, filter_type: str = "iir", ep: Any = None
                 ) -> xr.DataArray:
        return _function("decimate")(self._obj, down, order, filter_type, ep)

    def find_support(self, min_gap: float, time_units: str = "s") -> xr.Dataset:
        return _function("find_support")(self._obj, min_gap, time_units)

    def to_trial_tensor(self, ep: Any, align: str = "start", padding_value: float = np.nan
                        ) -> xr.DataArray:
        return _function("to_trial_tensor")(self._obj, ep, align, padding_value)


@xr.register_dataset_accessor("nap")
class NapDatasetAccessor(_Accessor):
    """pynapple operations on a TsGroup, an interval set or a Dataset of time series."""

    __slots__ = ()

    def get(self, start: float, end: float | None = None) -> xr.Dataset:
        return _function("get")(self._obj, start, end)

    def bin_average(self, bin_size: float, ep: Any = None) -> xr.DataArray:
        return _function("bin_average")(self._obj, bin_size, ep)

    def set_time_index(self, time_support: Any = None) -> xr.Dataset:
        return _function("set_time_index")(self._obj, time_support)

    def select_units(self, units: Any) -> xr.Dataset | xr.DataArray:
        return _function("select_units")(self._obj, units)

    def value_from(self, data: xr.DataArray, ep: Any = None,
                   mode: Literal["closest", "before", "after"] = "closest") -> Any:
        return _function("value_from")(self._obj, data, ep, mode)

    def to_tsd(self, *args: Any) -> xr.DataArray:
        return _function("to_tsd")(self._obj, *args)

    def merge(self, *groups: xr.Dataset, reset_index: bool = False,
              reset_time_support: bool = False, ignore_metadata: bool = False
              ) -> xr.Dataset:
        return _function("merge")(self._obj, *groups, reset_index=reset_index,
                                  reset_time_support=reset_time_support,
                                  ignore_metadata=ignore_metadata)

    # correlograms
    def autocorrelogram(self, binsize: float, windowsize: float, ep: Any = None,
                        norm: bool = True, time_units: str = "s") -> xr.DataArray:
        return _function("autocorrelogram")(self._obj, binsize, windowsize, ep, norm,
                                            time_units)

    def crosscorrelogram(self, binsize: float, windowsize: float, ep: Any = None,
                         norm: bool = True, time_units: str = "s", reverse: bool = False
                         ) -> xr.DataArray:
        return _function("crosscorrelogram")(self._obj, binsize, windowsize, ep, norm,
                                             time_units, reverse)

    def eventcorrelogram(self, event: xr.DataArray, binsize: float, windowsize: float,
                         ep: Any = None, norm: bool = True, time_units: str = "s"
                         ) -> xr.DataArray:
        return _function("eventcorrelogram")(self._obj, event, binsize, windowsize, ep,
                                             norm, time_units)

    # interval sets
    def union(self, b: Any) -> xr.Dataset:
        return _function("union")(self._obj, b)

    def intersect(self, b: Any) -> xr.Dataset:
        return _function("intersect")(self._obj, b)

    def set_diff(self, b: Any) -> xr.Dataset:
        return _function("set_diff")(self._obj, b)

    def merge_close_intervals(self, threshold: float) -> xr.Dataset:
        return _function("merge_close_intervals")(self._obj, threshold)

    def drop_short_intervals(self, threshold: float) -> xr.Dataset:
        return _function("drop_short_intervals")(self._obj, threshold)

    def drop_long_intervals(self, threshold: float) -> xr.Dataset:
        return _function("drop_long_intervals")(self._obj, threshold)

    def tot_length(self) -> float:
        return _function("tot_length")(self._obj)

    def in_interval(self, t: Any) -> Any:
        return _function("in_interval")(self._obj, t)

    def time_span(self) -> xr.Dataset:
        return _function("time_span")(self._obj)


def _copy_docstrings() -> None:
    """Each method shows its function's documentation (``help(da.nap.restrict)``)."""
    import xr_nap

    for cls in (_Accessor, NapDataArrayAccessor, NapDatasetAccessor):
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            doc = getattr(xr_nap, name).__doc__
            if isinstance(member, property):
                member.fget.__doc__ = doc
                setattr(cls, name, property(member.fget, doc=doc))
            else:
                member.__doc__ = doc
