"""One-call figures for tuning curves and trigger averages (matplotlib via xarray)."""

from __future__ import annotations

from typing import Any

import xarray as xr

__all__ = ["plot_tuning_curves", "plot_trigger_average"]


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(6, 4)).gca()
    return ax


def _label(da: xr.DataArray, default: str) -> str:
    """``long name (units)``: the axis label of a value with its units."""
    name = da.attrs.get("long_name", default)
    units = da.attrs.get("units")
    return f"{name} ({units})" if units else str(name)


def plot_tuning_curves(tc: xr.DataArray, ax: Any = None, **kwargs: Any) -> Any:
    """Plot tuning curves: one line per unit (1-D) or one panel per unit (2-D).

    Parameters
    ----------
    tc : DataArray
        Output of :func:`xr_nap.tuning_curves`, dims ``("unit", feature...)``.
    ax : matplotlib Axes, optional
        For 1-D curves; a new figure is made if omitted.
    **kwargs
        Passed to :meth:`xarray.DataArray.plot.line` / ``.plot.pcolormesh``.

    Returns
    -------
    The matplotlib artist(s) xarray returns.
    """
    features = [d for d in tc.dims if d != "unit"]
    if len(features) == 1:
        ax = _axes(ax)
        out = tc.plot.line(x=features[0], hue="unit", ax=ax, add_legend=tc.sizes["unit"] <= 12,
                           **kwargs)
        ax.set_xlabel(_label(tc[features[0]], str(features[0])))
        ax.set_ylabel(_label(tc, "rate"))
        ax.set_title("tuning curves")
        return out
    if len(features) == 2:
        return tc.plot.pcolormesh(x=features[0], y=features[1], col="unit",
                                  col_wrap=min(4, tc.sizes["unit"]), **kwargs)
    raise ValueError(f"can plot 1-D or 2-D tuning curves, got features {features}")


def plot_trigger_average(eta: xr.DataArray, ax: Any = None, **kwargs: Any) -> Any:
    """Plot an event/spike-triggered average: one line per unit against the lag.

    Extra dimensions (channels, ...) are averaged for the plot.
    """
    extra = [d for d in eta.dims if d not in ("time", "unit")]
    data = eta.mean(extra) if extra else eta
    ax = _axes(ax)
    out = data.plot.line(x="time", hue="unit" if "unit" in data.dims else None, ax=ax,
                         add_legend="unit" in data.dims and data.sizes["unit"] <= 12,
                         **kwargs)
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
    units = eta.attrs.get("units")
    ax.set_ylabel(f"{eta.name or 'feature'} ({units})" if units else str(eta.name or ""))
    ax.set_xlabel("lag (s)")
    ax.set_title("event-triggered average")
    return out
