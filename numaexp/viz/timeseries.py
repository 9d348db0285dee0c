"""Plots over simulated time: vmstat counters, locality and scan periods."""

from __future__ import annotations

import numpy as np

from numaexp.viz.marks import finish, identical_labels, mark_times
from numaexp.viz.style import (
    TIME_LABEL,
    empty_message,
    figure_legend,
    grid_shape,
    hide_unused,
    label_axes,
    line_style,
    new_figure,
    require_columns,
    run_styles,
    runs,
    table,
)

COUNTER_UNITS = {
    "numa_pte_updates": "PTEs",
    "numa_huge_pte_updates": "PMDs",
    "numa_hint_faults": "faults",
    "numa_hint_faults_local": "faults",
    "numa_pages_migrated": "pages",
    "pgmigrate_success": "pages",
    "pgmigrate_fail": "pages",
    "numa_task_migrated": "task moves",
    "numa_task_swapped": "tasks swapped",
    "thp_migration_success": "THPs",
    "thp_migration_fail": "THPs",
    "pgpromote_success": "pages",
    "pgpromote_candidate": "pages",
    "pgdemote_kswapd": "pages",
    "pgdemote_direct": "pages",
    "pgfault_first_touch": "faults",
    "alloc_fallback": "pages",
    "alloc_failed": "faults",
}
"""Unit of each ``/proc/vmstat`` counter, for axis labels (``count`` if not listed)."""

DEFAULT_COUNTERS = ("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated",
                    "numa_task_migrated")


def counter_rate(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-second rate of a cumulative counter between samples.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Sample times, s (increasing).
    values : ndarray, shape (n,)
        Cumulative counter at each sample.

    Returns
    -------
    ndarray, shape (n,)
        Rate over the interval ending at each sample, per s; NaN for the
        first sample.
    """
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), np.nan)
    if len(values) > 1:
        dt = np.diff(times)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[1:] = np.where(dt > 0, np.diff(values) / dt, np.nan)
    return out


def plot_counters(source, counters=DEFAULT_COUNTERS, *, rate: bool = False):
    """``/proc/vmstat`` counters over time, one panel per counter, one line per run.

    Each run has its own colour and line style (so identical runs, drawn on
    top of each other, still show both and are named so in the legend); the
    legend sits beside the panels; run-time actions and phase changes are
    marked on the time axes.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        Runs to show (e.g. one per mode or variant).
    counters : sequence of str
        Columns of the ``timeseries`` frame.
    rate : bool
        Plot the rate per second between samples instead of the cumulative count.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per counter, one line per run.
    """
    counters = list(counters)
    ts = table(source, "timeseries")
    require_columns(ts, counters, "timeseries")
    labels = list(dict.fromkeys(ts["label"]))
    styles = run_styles(labels)
    names = identical_labels(source)
    nrows, ncols = grid_shape(len(counters), 2)
    fig, axes = new_figure(nrows, ncols, width=4.6, height=3.0, sharex=True, legend=True)
    for i, (ax, counter) in enumerate(zip(axes.flat, counters, strict=False)):
        mark_times(ax, source, text=i == 0)
        for label in labels:
            part = ts[ts["label"] == label]
            y = counter_rate(part["time_s"], part[counter]) if rate else part[counter]
            ax.plot(part["time_s"], y, label=names[label], **styles[label])
        unit = COUNTER_UNITS.get(counter, "count")
        label_axes(ax, TIME_LABEL if i >= len(counters) - ncols else "",
                   f"{unit} per s" if rate else f"{unit} (cumulative)", counter)
    hide_unused(axes, len(counters))
    figure_legend(fig, *axes.flat[0].get_legend_handles_labels(), title="run")
    title = "NUMA balancing counters (/proc/vmstat)" + (", rate" if rate else "")
    return finish(fig, source, title, "counter_rates" if rate else "counters")


def plot_locality(source):
    """Share of each running thread's accesses that hit its current node, over time.

    One panel per run (small multiples, shared axes): the mean over running
    threads, with a band from the least to the most local thread; the
    baseline (first) run's mean is drawn faintly in every other panel.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; the ``locality`` of their ``task_timeseries`` (live threads).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per run.
    """
    tts = table(source, "task_timeseries")
    tts = tts[tts["alive"].astype(bool)]
    labels = list(runs(source))
    styles = run_styles(labels)
    names = identical_labels(source)
    nrows, ncols = grid_shape(len(labels))
    fig, axes = new_figure(nrows, ncols, width=3.6, height=2.6, sharex=True, sharey=True)
    stats = {label: tts[tts["label"] == label].groupby("time_s")["locality"].agg(
        ["mean", "min", "max"]) for label in labels}
    first = labels[0]
    for k, (ax, label) in enumerate(zip(axes.flat, labels, strict=False)):
        mark_times(ax, source, text=k == 0)
        st = stats[label]
        if st.empty:
            empty_message(ax, "no running thread sampled")
            continue
        color = styles[label]["color"]
        if label != first and not stats[first].empty:
            ax.plot(stats[first].index, 100 * stats[first]["mean"], color="#999",
                    linewidth=1.0, linestyle="--", label=f"{first} (mean)")
        ax.fill_between(st.index, 100 * st["min"], 100 * st["max"], color=color, alpha=0.25,
                        linewidth=0)
        ax.plot(st.index, 100 * st["mean"], color=color, label=f"{label} (mean)")
        ax.set_ylim(0, 105)
        label_axes(ax, TIME_LABEL if k >= len(labels) - ncols else "",
                   "local accesses (%)" if k % ncols == 0 else "", names[label])
    hide_unused(axes, len(labels))
    return finish(fig, source, "Locality of running threads: mean, band from the least to the "
                  f"most local thread (dashed: {first})", "locality")


def plot_scan_period(source):
    """Scan period of each running task over time (``p->numa_scan_period``).

    One panel per run (small multiples), one line per task, coloured by process.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; ``numa_scan_period_ms`` of their ``task_timeseries``.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per run, one line per task.
    """
    tts = table(source, "task_timeseries")
    labels = list(runs(source))
    names = identical_labels(source)
    nrows, ncols = grid_shape(len(labels))
    fig, axes = new_figure(nrows, ncols, width=3.8, height=2.6, sharex=True, sharey=True,
                           legend=True)
    processes = list(dict.fromkeys(tts["process"]))
    for k, (ax, label) in enumerate(zip(axes.flat, labels, strict=False)):
        mark_times(ax, source, text=k == 0)
        part = tts[tts["label"] == label]
        for i, process in enumerate(processes):
            style = line_style(i)
            rows = part[part["process"] == process]
            times = rows.pivot_table(index="time_s", columns="pid", values="numa_scan_period_ms",
                                     aggfunc="first")
            alive = rows.pivot_table(index="time_s", columns="pid", values="alive",
                                     aggfunc="first").astype(bool)
            period = times.where(alive).astype(float)
            if period.empty:
                continue
            lines = ax.step(period.index, period.to_numpy(), where="post", alpha=0.7,
                            linewidth=1.0, **style)
            lines[0].set_label(process)
        ax.set_yscale("log")
        label_axes(ax, TIME_LABEL if k >= len(labels) - ncols else "",
                   "scan period (ms)" if k % ncols == 0 else "", names[label])
    hide_unused(axes, len(labels))
    figure_legend(fig, *axes.flat[0].get_legend_handles_labels(), title="process")
    return finish(fig, source, "Scan period per task (numa_scan_period)", "scan_period")
