"""Task placement timeline: the node each task runs on, with NUMA moves and swaps."""

from __future__ import annotations

import numpy as np

from numaexp.viz.style import OKABE_ITO, TIME_LABEL, label_axes, new_figure, runs, table

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
    nodes = sorted(int(n) for n in tts["current_node"].unique())
    panel_height = min(8.0, 1.2 + 0.16 * len(tasks))
    fig, axes = new_figure(len(labels), 1, width=8.0, height=panel_height, sharex=True)
    for k, (ax, label) in enumerate(zip(axes[:, 0], labels, strict=True)):
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
        step = max(1, -(-len(tasks) // MAX_TICK_LABELS))
        ticks = np.arange(0, len(tasks), step)
        ax.set_yticks(ticks, [f"{tasks['process'][i]}/{tasks['thread'][i]}" for i in ticks],
                      fontsize="x-small")
        ax.set_ylim(len(tasks) - 0.5, -0.5)
        ax.grid(False, axis="y")
        label_axes(ax, TIME_LABEL if k == len(labels) - 1 else "", "task", label)
    handles = [Patch(color=OKABE_ITO[n % len(OKABE_ITO)], label=f"N{n}") for n in nodes]
    handles += [axes[0, 0].scatter([], [], **style) for style in MARKERS.values()]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small")
    fig.suptitle("Task placement (node per task) with NUMA moves and swaps")
    fig.set_label("placement")
    return fig
