"""The summary of a sweep: figures (drawn with :mod:`numaexp.viz.sweeps`) and a table.

Which plots a sweep gets: for each parameter that takes more than one value,
its metrics against it (mean over seeds with a 95 % confidence band), one
line per value of the other parameters; with exactly two parameters, a
heatmap too; when modes 0 and 1 run at several thread counts (and nothing
else varies), NUMA balancing's overhead against the thread count
(``overhead_scaling``). Only points with status ``ok`` are drawn.
"""

from __future__ import annotations

import re

import pandas as pd

from numaexp.viz.sweeps import format_value, plot_sweep, plot_sweep_heatmap


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def _wide_positive(values: pd.Series) -> bool:
    """Numbers all > 0 spanning at least a factor of 10 (drawn on a log axis)."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    low, high = values.min(), values.max()
    return bool(low > 0 and high / low >= 10)


def summary_figures(frame: pd.DataFrame, parameters, metrics) -> dict:
    """Figures summarising a sweep frame.

    Parameters
    ----------
    frame : DataFrame
        A sweep frame (see :func:`numaexp.sweep.sweep`).
    parameters : sequence of str
        Parameter columns (``SweepSpec.parameters``).
    metrics : sequence of str
        Metric columns, one panel each.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``sweep_<parameter>`` per parameter with more than one value, and
        ``heatmap`` for two such parameters. Empty if no point succeeded.
    """
    ok = frame[frame["status"] == "ok"]
    if ok.empty:
        return {}
    varying = [p for p in parameters if ok[p].nunique() > 1]
    missing = [m for m in metrics if m not in ok.columns]
    if missing:
        raise ValueError(f"sweep frame has no column {missing[0]!r} (columns: "
                         f"{', '.join(map(str, frame.columns))})")
    figures = {}
    for x in varying:
        others = [p for p in varying if p != x]
        data, hue = ok, None
        if len(others) == 1:
            hue = others[0]
        elif others:
            hue = ", ".join(others)
            data = ok.assign(**{hue: [", ".join(f"{p}={format_value(v)}" for p, v in zip(
                others, row, strict=True)) for row in ok[others].itertuples(index=False)]})
        figures[f"sweep_{_slug(x)}"] = plot_sweep(data, x, list(metrics), hue=hue,
                                                  logx=_wide_positive(ok[x]))
    if len(varying) == 2:
        figures["heatmap"] = plot_sweep_heatmap(ok, varying[0], varying[1], list(metrics))
    overhead = _overhead_scaling(ok)
    if overhead is not None:
        figures["overhead_scaling"] = overhead
    return figures


def _overhead_scaling(ok: pd.DataFrame):
    """:func:`~numaexp.viz.costs.plot_overhead_scaling` when the sweep runs modes 0 and 1 at
    several thread counts and nothing else varies; else None."""
    from numaexp.viz.costs import plot_overhead_scaling, thread_column

    if "mode" not in ok.columns or not {0, 1} <= set(ok["mode"]):
        return None
    try:
        threads, column = thread_column(ok, "threads")
    except ValueError:
        return None
    try:
        return plot_overhead_scaling(ok) if threads[column].nunique() > 1 else None
    except ValueError:  # another parameter varies too: the loss has no single pairing
        return None


def mean_table(frame: pd.DataFrame, parameters, metrics) -> pd.DataFrame:
    """Mean of each metric over repeats per parameter combination, with the run count.

    Parameters
    ----------
    frame : DataFrame
        A sweep frame.
    parameters, metrics : sequence of str
        Grouping columns and averaged columns.
    """
    ok = frame[frame["status"] == "ok"]
    if not parameters:
        return ok[list(metrics)].mean().to_frame().T.assign(runs=len(ok))
    grouped = ok.groupby(list(parameters), sort=True)
    table = grouped[list(metrics)].mean()
    table["runs"] = grouped.size()
    return table.reset_index()
