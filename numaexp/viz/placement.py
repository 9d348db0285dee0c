"""Task placement timeline: the node each task runs on, with NUMA moves and swaps."""

from __future__ import annotations

import numpy as np

from numaexp.viz.marks import finish, identical_labels, mark_times
from numaexp.viz.style import (
    OKABE_ITO,
    TIME_LABEL,
    figure_legend,
    grid_shape,
    hide_unused,
    label_axes,
    new_figure,
    runs,
    table,
)

MAX_HEIGHT_IN = 10.0
"""Largest height of the whole figure, inches (panels shrink as runs are added)."""

MARKERS = {
    "sched_move_numa": {"marker": ">", "color": "black", "label": "move (sched_move_numa)"},
    "sched_swap_numa": {"marker": "X", "color": "white", "edgecolor": "black",
                        "label": "swap (sched_swap_numa)"},
}
"""Marker of each task-placement trace event."""

MAX_TICK_LABELS = 40
"""Label every task on the y axis up to this many tasks, else every n-th."""


def segments(times: np.ndarray, nodes: np.ndarray, alive: np.ndarray) -> list[tuple]:
    """Runs of constant node in one task's samples.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Sample times, s (increasing).
    nodes : ndarray, shape (n,)
        Node the task ran on at each sample.
    alive : ndarray of bool, shape (n,)
        Whether the task existed at each sample.

    Returns
    -------
    list of (start_s, length_s, node)
        Each sample's node holds until the next sample; samples of a dead
        task end the current run.
    """
    out = []
    start = None
    for i in range(len(times)):
        if start is not None and (not alive[i] or nodes[i] != nodes[start]):
            out.append((times[start], times[i] - times[start], int(nodes[start])))
            start = None
        if alive[i] and start is None:
            start = i
    if start is not None and len(times) - 1 > start:
        out.append((times[start], times[-1] - times[start], int(nodes[start])))
    return out


def plot_placement(source):
    """Node of each task over time, one panel per run, with move and swap markers.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``task_timeseries`` and ``events`` frame.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per run, a line per task.

    Notes
    -----
    The node is sampled at the run's sample interval; the markers come from
    the ``events`` frame at their exact times (a swap shows on the task that
    ``task_numa_migrate`` ran for and on its ``partner``, as both are counted
    in ``numa_task_swapped``).
    """
    from matplotlib.patches import Patch

    tts = table(source, "task_timeseries")
    events = table(source, "events")
    labels = list(runs(source))
    tasks = tts.drop_duplicates("pid")[["pid", "process", "thread"]].reset_index(drop=True)
    row_of = {pid: i for i, pid in enumerate(tasks["pid"])}
    row_of_name = {f"{p}/{t}": i for i, (p, t) in enumerate(zip(tasks["process"], tasks["thread"],
                                                                strict=True))}
    nodes = sorted(int(n) for n in tts["current_node"].dropna().unique())  # NA: not yet alive
    names = identical_labels(source)
    nrows, ncols = grid_shape(len(labels), 1 if len(labels) <= 2 else 3)
    panel_height = min(1.2 + 0.16 * len(tasks), MAX_HEIGHT_IN / nrows, 8.0)
    fig, axes = new_figure(nrows, ncols, width=8.0 if ncols == 1 else 4.2,
                           height=max(1.6, panel_height), sharex=True, sharey=True,
                           legend=True)
    for k, (ax, label) in enumerate(zip(axes.flat, labels, strict=False)):
        mark_times(ax, source, text=k == 0)
        part = tts[tts["label"] == label]
        for pid, task in part.groupby("pid", sort=False):
            runs_ = segments(task["time_s"].to_numpy(), task["current_node"].to_numpy(),
                             task["alive"].to_numpy())
            for node in nodes:
                bars = [(start, length) for start, length, n in runs_ if n == node]
                if bars:
                    ax.broken_barh(bars, (row_of[pid] - 0.4, 0.8),
                                   facecolors=OKABE_ITO[node % len(OKABE_ITO)])
        ev = events[events["label"] == label]
        for name, style in MARKERS.items():
            hits = ev[ev["event"] == name]
            times, rows = hits["time_s"], hits["pid"].map(row_of)
            if name == "sched_swap_numa":  # the partner is swapped too
                times = np.concatenate([times, hits["time_s"]])
                rows = np.concatenate([rows, hits["partner"].map(row_of_name)])
            if len(hits):
                ax.scatter(times, rows, s=36, zorder=3, linewidths=0.8, **style)
        rows_shown = max(4, int(panel_height / 0.12))
        step = max(1, -(-len(tasks) // min(MAX_TICK_LABELS, rows_shown)))
        ticks = np.arange(0, len(tasks), step)
        ax.set_yticks(ticks, [f"{tasks['process'][i]}/{tasks['thread'][i]}" for i in ticks],
                      fontsize="xx-small" if ncols > 1 else "x-small")
        ax.set_ylim(len(tasks) - 0.5, -0.5)
        ax.grid(False, axis="y")
        label_axes(ax, TIME_LABEL if k >= len(labels) - ncols else "",
                   "task" if k % ncols == 0 else "", names[label])
    hide_unused(axes, len(labels))
    handles = [Patch(color=OKABE_ITO[n % len(OKABE_ITO)], label=f"N{n}") for n in nodes]
    handles += [axes[0, 0].scatter([], [], **style) for style in MARKERS.values()]
    figure_legend(fig, handles, [h.get_label() for h in handles], title="node / event")
    return finish(fig, source, "Task placement (node per task) with NUMA moves and swaps",
                  "placement")
