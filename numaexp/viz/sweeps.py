"""Sweep plots from a tidy frame: one row per (parameter values, seed) with metric columns.

Lines show the mean over seeds with a 95 % confidence band of the mean
(Student's t); heatmaps show the mean over seeds for two parameters.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from numaexp.viz.style import hide_unused, label_axes, line_style, new_figure, require_columns
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


def plot_sweep(frame: pd.DataFrame, x: str, metrics, hue: str | None = None, *,
               logx: bool = False):
    """Metric(s) against a parameter: mean over seeds with a 95 % confidence band.

    Parameters
    ----------
    frame : DataFrame
        Tidy sweep frame: one row per run with the parameter columns, a seed
        column and the metric columns.
    x : str
        Parameter on the x axis (e.g. ``"kernel.scan_period_min_ms"``).
    metrics : str or sequence of str
        One panel per metric.
    hue : str, optional
        Second parameter: one line per value.
    logx : bool
        Logarithmic x axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    by = [x] if hue is None else [hue, x]
    ncols = min(2, len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig, axes = new_figure(nrows, ncols, width=5.2, height=3.4, sharex=True)
    for k, (ax, metric) in enumerate(zip(axes.flat, metrics, strict=False)):
        stats = summarize_sweep(frame, by, metric)
        groups = [(None, stats)] if hue is None else list(stats.groupby(hue, sort=True))
        for i, (value, part) in enumerate(groups):
            style = line_style(i)
            ax.plot(part[x], part["mean"], marker="o", markersize=4,
                    label=None if hue is None else format_value(value), **style)
            ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=style["color"],
                            alpha=0.2, linewidth=0)
        if logx:
            ax.set_xscale("log")
        _value_ticks(ax, stats[x])
        label_axes(ax, x if k >= len(metrics) - ncols else "", metric_label(metric), metric)
        if hue is not None:
            ax.legend(title=hue, fontsize="small")
    hide_unused(axes, len(metrics))
    seeds = int(frame.groupby(by).size().max()) if len(frame) else 0
    fig.suptitle(f"Sweep over {x}: mean of {seeds} seed(s)"
                 + (", 95 % confidence band" if seeds > 1 else ""))
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
