"""User, system and elapsed time across runs, as mmtests reports them."""

from __future__ import annotations

import numpy as np

from numaexp.viz.style import colors, label_axes, new_figure, runs, table

TIME_METRICS = (("user_s", "user"), ("system_s", "system"), ("elapsed_s", "elapsed"))
"""Columns of the ``times`` frame and their panel titles."""


def plot_times(source, level: str = "total"):
    """User, system and elapsed seconds per run (grouped bars, one panel per metric).

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``times`` frame.
    level : {"total", "cgroup"}
        One group of bars for the whole run, or one per cgroup.

    Returns
    -------
    matplotlib.figure.Figure
        User and system seconds as bars, elapsed as a marker.

    Notes
    -----
    User and system seconds are summed over threads (CPU time); elapsed is
    the wall-clock time of the slowest thread, as mmtests' autonumabench reports.
    """
    if level not in ("total", "cgroup"):
        raise ValueError(f"level must be 'total' or 'cgroup' (got {level!r})")
    times = table(source, "times")
    times = times[times["level"] == level]
    labels = list(runs(source))
    palette = colors(labels)
    groups = list(dict.fromkeys(times["cgroup"])) if level == "cgroup" else [""]
    fig, axes = new_figure(1, len(TIME_METRICS), width=max(2.8, 0.7 * len(labels) * len(groups)),
                           height=3.4)
    x = np.arange(len(groups))
    width = 0.8 / len(labels)
    for ax, (metric, title) in zip(axes[0], TIME_METRICS, strict=True):
        for i, label in enumerate(labels):
            values = times[times["label"] == label].set_index("cgroup")[metric].reindex(groups)
            bars = ax.bar(x - 0.4 + (i + 0.5) * width, values.fillna(0).to_numpy(), width,
                          label=label, color=palette[label])
            ax.bar_label(bars, fmt="%.3g", fontsize="x-small")
        if level == "cgroup":
            ax.set_xticks(x, groups)
        else:
            ax.set_xticks([])
        ax.margins(y=0.15)
        ax.grid(False, axis="x")
        label_axes(ax, "cgroup" if level == "cgroup" else "",
                   "CPU seconds" if metric != "elapsed_s" else "seconds", title)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=len(labels), fontsize="small")
    fig.suptitle("User, system and elapsed time (mmtests style)")
    fig.set_label("times" if level == "total" else "times_per_cgroup")
    return fig
