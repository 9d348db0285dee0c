"""Plots over simulated time: vmstat counters, locality and scan periods."""

from __future__ import annotations

import numpy as np

from numaexp.viz.style import (
    TIME_LABEL,
    colors,
    hide_unused,
    label_axes,
    legend_if_any,
    line_style,
    new_figure,
    require_columns,
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
    palette = colors(labels)
    ncols = min(2, len(counters))
    nrows = -(-len(counters) // ncols)
    fig, axes = new_figure(nrows, ncols, width=5.0, height=3.2, sharex=True)
    for i, (ax, counter) in enumerate(zip(axes.flat, counters, strict=False)):
        for label in labels:
            part = ts[ts["label"] == label]
            y = counter_rate(part["time_s"], part[counter]) if rate else part[counter]
            ax.plot(part["time_s"], y, label=label, color=palette[label])
        unit = COUNTER_UNITS.get(counter, "count")
        label_axes(ax, TIME_LABEL if i >= len(counters) - ncols else "",
                   f"{unit} per s" if rate else f"{unit} (cumulative)", counter)
    hide_unused(axes, len(counters))
    axes.flat[0].legend(title="run")
    fig.suptitle("NUMA balancing counters (/proc/vmstat)" + (", rate" if rate else ""))
    fig.set_label("counter_rates" if rate else "counters")
    return fig


def plot_locality(source):
    """Share of each running thread's accesses that hit its current node, over time.

    One line per run: the mean over running threads, with a band from the
    least to the most local thread.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; the ``locality`` of their ``task_timeseries`` (live threads).

    Returns
    -------
    matplotlib.figure.Figure
        One line per run with its band.
    """
    tts = table(source, "task_timeseries")
    tts = tts[tts["alive"]]
    labels = list(runs(source))
    palette = colors(labels)
    fig, axes = new_figure(1, 1, width=6.4, height=3.6)
    ax = axes[0, 0]
    for label in labels:
        stats = tts[tts["label"] == label].groupby("time_s")["locality"].agg(["mean", "min",
                                                                             "max"])
        ax.plot(stats.index, 100 * stats["mean"], label=f"{label} (mean)", color=palette[label])
        ax.fill_between(stats.index, 100 * stats["min"], 100 * stats["max"],
                        color=palette[label], alpha=0.15, linewidth=0)
    ax.set_ylim(0, 105)
    label_axes(ax, TIME_LABEL, "accesses to the thread's node (%)",
               "Locality of running threads (band: least to most local thread)")
    ax.legend(title="run")
    fig.set_label("locality")
    return fig


def plot_scan_period(source):
    """Scan period of each running task over time (``p->numa_scan_period``).

    One panel per run, one line per task, coloured by process.

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
    fig, axes = new_figure(len(labels), 1, width=7.0, height=2.8, sharex=True, sharey=True)
    processes = list(dict.fromkeys(tts["process"]))
    for k, (ax, label) in enumerate(zip(axes[:, 0], labels, strict=True)):
        part = tts[tts["label"] == label]
        for i, process in enumerate(processes):
            style = line_style(i)
            for j, (_pid, task) in enumerate(part[part["process"] == process].groupby("pid")):
                period = task["numa_scan_period_ms"].where(task["alive"]).astype(float)
                ax.step(task["time_s"], period, where="post", alpha=0.7, linewidth=1.0,
                        label=process if j == 0 else None, **style)
        ax.set_yscale("log")
        label_axes(ax, TIME_LABEL if k == len(labels) - 1 else "", "scan period (ms)", label)
        legend_if_any(ax, "process", fontsize="small")
    fig.suptitle("Scan period per task (numa_scan_period)")
    fig.set_label("scan_period")
    return fig

