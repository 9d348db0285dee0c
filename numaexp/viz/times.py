"""User, system and elapsed time across runs, as mmtests reports them."""

from __future__ import annotations

import numpy as np

from numaexp.viz.marks import finish, identical_labels
from numaexp.viz.style import colors, label_axes, new_figure, runs, table

TIME_METRICS = (("user_s", "user"), ("system_s", "system"), ("elapsed_s", "elapsed"))
"""Columns of the ``times`` frame and their panel titles."""


def plot_times(source, level: str = "total"):
    """User, system and elapsed seconds (and throughput) per run, as horizontal bars.

    One panel per metric, one bar per run named on the left, so the figure
    grows by a fixed height per run. Runs stopped after a fixed duration all
    last that long: their elapsed panel is replaced by throughput.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``times`` frame.
    level : {"total", "cgroup"}
        One row of panels for the whole run, or one per cgroup.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    User and system seconds are summed over threads (CPU time); elapsed is
    the wall-clock time of the slowest thread, as mmtests' autonumabench reports.
    """
    if level not in ("total", "cgroup"):
        raise ValueError(f"level must be 'total' or 'cgroup' (got {level!r})")
    results = runs(source)
    times = table(source, "times")
    times = times[times["level"] == level]
    labels = list(results)
    names = identical_labels(source)
    palette = colors(labels)
    groups = list(dict.fromkeys(times["cgroup"])) if level == "cgroup" else [""]
    duration = all(r.scenario is not None and r.scenario.stop.kind == "duration"
                   for r in results.values())
    metrics = TIME_METRICS[:2] + ((("throughput_per_s", "throughput"),) if duration
                                  else TIME_METRICS[2:])
    fig, axes = new_figure(len(groups), len(metrics), width=3.0,
                           height=0.8 + 0.24 * len(labels), sharey=True)
    y = np.arange(len(labels))
    for r, group in enumerate(groups):
        part = times[times["cgroup"] == group] if level == "cgroup" else times
        for c, (metric, title) in enumerate(metrics):
            ax = axes[r, c]
            values = [float(part.loc[part["label"] == label, metric].sum()) for label in labels]
            bars = ax.barh(y, values, color=[palette[label] for label in labels], height=0.7)
            ax.bar_label(bars, fmt="%.3g", fontsize="xx-small", padding=2)
            ax.set_yticks(y, [names[label] for label in labels], fontsize="x-small")
            if r == 0 and c == 0:
                ax.invert_yaxis()
            ax.margins(x=0.2)
            ax.grid(False, axis="y")
            unit = {"elapsed_s": "seconds", "throughput_per_s": "accesses/s"}.get(
                metric, "CPU seconds")
            label_axes(ax, unit if r == len(groups) - 1 else "",
                       group if c == 0 and level == "cgroup" else "",
                       title if r == 0 else "")
    title = ("User, system and elapsed time (mmtests style)"
             + ("; duration runs: throughput instead of elapsed" if duration else ""))
    return finish(fig, source, title, "times" if level == "total" else "times_per_cgroup",
                  marks=False)
