"""xr-nap: pynapple's neuroscience time-series toolkit on xarray objects.

Time series are :class:`xarray.DataArray` objects with a ``time`` coordinate in
seconds; spike groups and interval sets are :class:`xarray.Dataset` objects. Every
function here is also reachable through the ``.nap`` accessor.
"""

from importlib import import_module
from typing import Any

from xr_nap import accessors as _accessors  # noqa: F401  (registers .nap)
from xr_nap.core.intervals import (
    drop_long_intervals,
    drop_short_intervals,
    in_interval,
    intersect,
    interval_set,
    merge_close_intervals,
    set_diff,
    time_span,
    tot_length,
    union,
)
from xr_nap.core.restrict import get, restrict
from xr_nap.core.threshold import threshold
from xr_nap.core.time_index import TimeIndex
from xr_nap.core.time_series import (
    nap_type,
    select_units,
    set_time_index,
    time_support,
    to_seconds,
    ts,
    ts_group,
    tsd,
    tsd_frame,
    tsd_tensor,
)
from xr_nap.core.value_from import value_from
from xr_nap.errors import (
    FileFormatError,
    NPZFormatError,
    NWBFormatError,
    OutputSizeError,
    SkippedObjectWarning,
    StaleSupportWarning,
    TimeAxisError,
    UnsafeNPZError,
    XrNapError,
    XrNapWarning,
)
from xr_nap.process.binning import bin_average, count

__version__ = "0.1.0"

# Heavier parts (pynwb, h5py, pynapple) are imported on first use so that
# ``import xr_nap`` stays cheap.
_LAZY = {
    "to_pynapple": "xr_nap.core.convert",
    "from_pynapple": "xr_nap.core.convert",
    "to_dataframe": "xr_nap.core.convert",
    "load_file": "xr_nap.io.load",
    "write_objects": "xr_nap.io.netcdf",
    "NWBFile": "xr_nap.io.nwb",
    "save": "xr_nap.io.npz",
    "load_npz": "xr_nap.io.npz",
    "Folder": "xr_nap.io.folder",
    "open_dandi": "xr_nap.io.dandi",
    "dandi_url": "xr_nap.io.dandi",
    "tuning_curves": "xr_nap.process.tuning_curves",
    "bin_edges": "xr_nap.process.tuning_curves",
    "compute_tuning_curves": "xr_nap.process.tuning_curves",
    "compute_1d_tuning_curves": "xr_nap.process.tuning_curves",
    "compute_2d_tuning_curves": "xr_nap.process.tuning_curves",
    "compute_1d_tuning_curves_continuous": "xr_nap.process.tuning_curves",
    "compute_2d_tuning_curves_continuous": "xr_nap.process.tuning_curves",
    "compute_discrete_tuning_curves": "xr_nap.process.tuning_curves",
    "compute_mutual_information": "xr_nap.process.tuning_curves",
    "compute_1d_mutual_info": "xr_nap.process.tuning_curves",
    "compute_2d_mutual_info": "xr_nap.process.tuning_curves",
    "event_triggered_average": "xr_nap.process.trigger_average",
    "compute_event_trigger_average": "xr_nap.process.trigger_average",
    "compute_event_triggered_average": "xr_nap.process.trigger_average",
    "compute_spike_triggered_average": "xr_nap.process.trigger_average",
    "compute_response_per_epoch": "xr_nap.process.tuning_curves",
    "perievent": "xr_nap.process.perievent",
    "compute_perievent": "xr_nap.process.perievent",
    "compute_perievent_continuous": "xr_nap.process.perievent",
    "convolve": "xr_nap.process.smoothing",
    "smooth": "xr_nap.process.smoothing",
    "apply_bandpass_filter": "xr_nap.process.filtering",
    "apply_lowpass_filter": "xr_nap.process.filtering",
    "apply_highpass_filter": "xr_nap.process.filtering",
    "apply_bandstop_filter": "xr_nap.process.filtering",
    "bandpass_filter": "xr_nap.process.filtering",
    "lowpass_filter": "xr_nap.process.filtering",
    "highpass_filter": "xr_nap.process.filtering",
    "bandstop_filter": "xr_nap.process.filtering",
    "get_filter_frequency_response": "xr_nap.process.filtering",
    "filter_frequency_response": "xr_nap.process.filtering",
    "apply_hilbert_transform": "xr_nap.process.hilbert",
    "compute_hilbert_envelope": "xr_nap.process.hilbert",
    "compute_hilbert_phase": "xr_nap.process.hilbert",
    "hilbert_transform": "xr_nap.process.hilbert",
    "hilbert_envelope": "xr_nap.process.hilbert",
    "hilbert_phase": "xr_nap.process.hilbert",
    "detect_oscillatory_events": "xr_nap.process.hilbert",
    "oscillatory_events": "xr_nap.process.hilbert",
    "compute_fft": "xr_nap.process.spectrum",
    "compute_power_spectral_density": "xr_nap.process.spectrum",
    "compute_mean_power_spectral_density": "xr_nap.process.spectrum",
    "power_spectral_density": "xr_nap.process.spectrum",
    "mean_power_spectral_density": "xr_nap.process.spectrum",
    "generate_morlet_filterbank": "xr_nap.process.wavelets",
    "compute_wavelet_transform": "xr_nap.process.wavelets",
    "morlet_filterbank": "xr_nap.process.wavelets",
    "wavelet_transform": "xr_nap.process.wavelets",
    **{name: "xr_nap.process.correlograms" for name in (
        "compute_autocorrelogram", "compute_crosscorrelogram", "compute_eventcorrelogram",
        "compute_isi_distribution", "autocorrelogram", "crosscorrelogram",
        "eventcorrelogram", "isi_distribution",
    )},
    **{name: "xr_nap.process.decoding" for name in (
        "decode_bayes", "decode_template", "decode_1d", "decode_2d",
    )},
    **{name: "xr_nap.process.randomize" for name in (
        "shift_timestamps", "jitter_timestamps", "resample_timestamps",
        "shuffle_ts_intervals",
    )},
    **{name: "xr_nap.core.derived" for name in (
        "derivative", "interpolate", "decimate", "time_diff", "find_support",
    )},
    **{name: "xr_nap.core.groups" for name in (
        "to_tsd", "value_from_group", "merge_group", "merge",
    )},
    **{name: "xr_nap.process.tensors" for name in (
        "build_tensor", "warp_tensor", "to_trial_tensor", "trial_count",
    )},
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xr_nap' has no attribute {name!r}")


__all__ = [
    *_LAZY,
    "FileFormatError",
    "NPZFormatError",
    "NWBFormatError",
    "OutputSizeError",
    "SkippedObjectWarning",
    "StaleSupportWarning",
    "TimeAxisError",
    "UnsafeNPZError",
    "XrNapError",
    "XrNapWarning",
    "bin_average",
    "count",
    "drop_long_intervals",
    "drop_short_intervals",
    "get",
    "in_interval",
    "intersect",
    "interval_set",
    "merge_close_intervals",
    "nap_type",
    "restrict",
    "select_units",
    "set_diff",
    "set_time_index",
    "threshold",
    "time_span",
    "time_support",
    "TimeIndex",
    "to_seconds",
    "tot_length",
    "ts",
    "ts_group",
    "tsd",
    "tsd_frame",
    "tsd_tensor",
    "union",
    "value_from",
]

_accessors._copy_docstrings()
