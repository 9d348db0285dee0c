"""Sweep plots from a tidy frame: one row per (parameter values, seed) with metric columns.

Lines show the mean over seeds with a 95 % confidence band of the mean
(Student's t); heatmaps show the mean over seeds for two parameters.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from numaexp.viz.style import (
    figure_legend,
    grid_shape,
    hide_unused,
    label_axes,
    line_style,
    new_figure,
    require_columns,
)
from numaexp.viz.timeseries import COUNTER_UNITS

METRIC_LABELS = {
    "elapsed_s": "elapsed (s)",
    "user_s": "user CPU (s)",
    "system_s": "system CPU (s)",
    "throughput_per_s": "throughput (touches/s)",
    "hint_local_pct": "local hint faults (%)",
    "local_access_pct": "local accesses (%)",
}
"""Axis label of each summary metric; vmstat counters get their unit."""

_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)
"""Student's t 97.5 % quantiles for 1..10 degrees of freedom."""


def metric_label(metric: str) -> str:
    """Axis label with unit of a summary metric or counter."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    return f"{metric} ({COUNTER_UNITS.get(metric, 'count')})"


def format_value(value) -> str:
    """A parameter value as a short label (``1000``, ``0.25``, ``True``)."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        return f"{value:g}"
    return str(value)


def _value_ticks(ax, values: pd.Series, most: int = 12) -> None:
    """Tick the x axis at the swept values themselves when there are few of them."""
    from matplotlib.ticker import NullLocator

    ticks = np.sort(values.unique())
    if len(ticks) <= most and np.issubdtype(ticks.dtype, np.number):
        ax.set_xticks(ticks, [format_value(v) for v in ticks])
        ax.xaxis.set_minor_locator(NullLocator())


def t975(df: int) -> float:
    """97.5 % quantile of Student's t with ``df`` degrees of freedom (>= 1).

    Exact to three decimals: tabulated up to 10, a Cornish-Fisher expansion
    around the normal quantile above.
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1 (got {df})")
    if df <= len(_T975):
        return _T975[df - 1]
    z = NormalDist().inv_cdf(0.975)
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def summarize_sweep(frame: pd.DataFrame, by, metric: str) -> pd.DataFrame:
    """Mean of ``metric`` over seeds per parameter point, with a 95 % confidence interval.

    Parameters
    ----------
    frame : DataFrame
        One row per run.
    by : str or list of str
        Parameter columns that define a point.
    metric : str
        Column to summarize.

    Returns
    -------
    DataFrame
        ``by`` columns, then ``mean``, ``ci_low``, ``ci_high`` (NaN with one
        run) and ``n`` (runs), sorted by ``by``.
    """
    by = [by] if isinstance(by, str) else list(by)
    require_columns(frame, [*by, metric], "sweep frame")
    stats = frame.groupby(by)[metric].agg(["mean", "std", "count"]).reset_index()
    half = np.array([t975(int(n) - 1) if n > 1 else np.nan for n in stats["count"]]) \
        * stats["std"].to_numpy() / np.sqrt(stats["count"].to_numpy())
    return pd.DataFrame({**{b: stats[b] for b in by}, "mean": stats["mean"],
                         "ci_low": stats["mean"] - half, "ci_high": stats["mean"] + half,
                         "n": stats["count"]}).sort_values(by, ignore_index=True)


def is_categorical(frame: pd.DataFrame, column: str) -> bool:
    """A swept column whose values are names or codes, not quantities: text, booleans, or a
    parameter-table entry with a fixed set of values (``kernel.numa_balancing``)."""
    from numaexp.model.params import PARAMS

    values = frame[column]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return True
    return any(p.path == column and (p.choices or p.kind == "bool" or p.record == "mode")
               for p in PARAMS)


def metric_bounds(metric: str) -> tuple[float, float]:
    """The range a metric can take: percentages 0..100, everything else 0 upwards."""
    return (0.0, 100.0) if metric.endswith("_pct") else (0.0, np.inf)


def paired_differences(frame: pd.DataFrame, x: str, metric: str, baseline,
                       by=("repeat",)) -> pd.DataFrame:
    """``metric`` minus its value at ``x == baseline`` with the same seed index (``repeat``,
    or ``seed`` when there is no ``repeat`` column) and the same other columns of ``by``.

    With common random numbers (the default) the two runs of a pair share their seed, so
    the difference is the parameter's effect alone.

    Returns
    -------
    DataFrame
        ``frame`` without the baseline rows, ``metric`` replaced by the difference.
    """
    keys = [c for c in by if c in frame] or ["seed"]
    require_columns(frame, [x, metric, *keys], "sweep frame")
    base = frame[frame[x] == baseline].set_index(keys)[metric]
    if base.empty:
        raise ValueError(f"no row with {x} = {baseline!r} to pair with")
    rest = frame[frame[x] != baseline].copy()
    index = pd.MultiIndex.from_frame(rest[keys]) if len(keys) > 1 else rest[keys[0]]
    rest[metric] = rest[metric].to_numpy(dtype=float) - base.reindex(index).to_numpy(dtype=float)
    return rest


def plot_sweep(frame: pd.DataFrame, x: str, metrics, hue: str | None = None, *,
               logx: bool = False, baseline=None):
    """Metric(s) against a parameter: mean over seeds with a 95 % confidence band.

    A categorical parameter (mode, variant, a name: :func:`is_categorical`)
    is drawn as points with error bars at evenly spaced positions, not as a
    line through values that have no order. Bands are clipped to what the
    metric can take (no negative throughput, no locality above 100 %). One
    legend for the whole figure, beside the panels.

    Parameters
    ----------
    frame : DataFrame
        Tidy sweep frame: one row per run with the parameter columns, a seed
        column (and ``repeat``, the seed index) and the metric columns.
    x : str
        Parameter on the x axis (e.g. ``"kernel.scan_period_min_ms"``).
    metrics : str or sequence of str
        One panel per metric.
    hue : str, optional
        Second parameter: one line (or set of points) per value.
    logx : bool
        Logarithmic x axis (numeric parameters).
    baseline : optional
        A value of ``x``: plot each metric minus its value at ``baseline`` for
        the same seed index (paired differences, :func:`paired_differences`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    by = [x] if hue is None else [hue, x]
    categorical = is_categorical(frame, x)
    order = sorted(frame[x].unique(), key=lambda v: (str(type(v)), v)) if categorical else None
    nrows, ncols = grid_shape(len(metrics), 2)
    fig, axes = new_figure(nrows, ncols, width=4.6, height=3.2, sharex=True,
                           legend=hue is not None)
    for k, (ax, metric) in enumerate(zip(axes.flat, metrics, strict=False)):
        data = frame if baseline is None else paired_differences(
            frame, x, metric, baseline, by=("repeat", *([hue] if hue else [])))
        stats = summarize_sweep(data, by, metric)
        if baseline is None:
            low, high = metric_bounds(metric)
            stats["ci_low"] = stats["ci_low"].clip(low, high)
            stats["ci_high"] = stats["ci_high"].clip(low, high)
        groups = [(None, stats)] if hue is None else list(stats.groupby(hue, sort=True))
        for i, (value, part) in enumerate(groups):
            style = line_style(i)
            name = None if hue is None else format_value(value)
            if categorical:
                where = np.array([order.index(v) for v in part[x]], dtype=float)
                where += (i - (len(groups) - 1) / 2) * 0.8 / max(1, len(groups))
                err = np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
                ax.errorbar(where, part["mean"], yerr=np.clip(np.nan_to_num(err), 0, None), fmt="o",
                            color=style["color"], capsize=3, label=name)
            else:
                ax.plot(part[x], part["mean"], marker="o", markersize=4, label=name, **style)
                ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=style["color"],
                                alpha=0.2, linewidth=0)
        if categorical:
            ax.set_xticks(range(len(order)), [format_value(v) for v in order])
        else:
            if logx:
                ax.set_xscale("log")
            _value_ticks(ax, stats[x])
        if baseline is not None:
            ax.axhline(0, color="black", linewidth=0.8)
        ylabel = metric_label(metric) + (f" minus {x} = {format_value(baseline)}"
                                         if baseline is not None else "")
        label_axes(ax, x if k >= len(metrics) - ncols else "", ylabel, metric)
    hide_unused(axes, len(metrics))
    if hue is not None:
        figure_legend(fig, *axes.flat[0].get_legend_handles_labels(), title=hue)
    seeds = int(frame.groupby(by).size().max()) if len(frame) else 0
    fig.suptitle(f"Sweep over {x}: mean of {seeds} seed(s)"
                 + (", 95 % confidence band" if seeds > 1 else "")
                 + (f"; paired differences from {x} = {format_value(baseline)}"
                    if baseline is not None else ""))
    fig.set_label("sweep")
    return fig


def plot_sweep_heatmap(frame: pd.DataFrame, x: str, y: str, metrics):
    """Mean over seeds of metric(s) on a grid of two parameters.

    Parameters
    ----------
    frame : DataFrame
        Tidy sweep frame (see :func:`plot_sweep`).
    x, y : str
        Parameters on the columns and rows of the grid.
    metrics : str or sequence of str
        One panel per metric; cells not run yet are blank.

    Returns
    -------
    matplotlib.figure.Figure
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    require_columns(frame, [x, y, *metrics], "sweep frame")
    xs = np.sort(frame[x].unique())
    ys = np.sort(frame[y].unique())
    fig, axes = new_figure(1, len(metrics), width=max(4.0, 0.8 * len(xs) + 2.0),
                           height=max(3.0, 0.5 * len(ys) + 1.6))
    for ax, metric in zip(axes[0], metrics, strict=True):
        stats = summarize_sweep(frame, [y, x], metric)
        grid = stats.pivot(index=y, columns=x, values="mean").reindex(index=ys, columns=xs)
        values = grid.to_numpy(dtype=float)
        image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto",
                          origin="lower")
        fig.colorbar(image, ax=ax, label=metric_label(metric))
        middle = np.nanmean(values) if np.isfinite(values).any() else 0.0
        for (r, c), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(c, r, f"{value:.3g}", ha="center", va="center", fontsize="x-small",
                        color="white" if value < middle else "black")
        ax.set_xticks(range(len(xs)), [format_value(v) for v in xs])
        ax.set_yticks(range(len(ys)), [format_value(v) for v in ys])
        ax.grid(False)
        label_axes(ax, x, y, metric)
    fig.suptitle("Sweep: mean over seeds")
    fig.set_label("sweep_heatmap")
    return fig
