"""Task moves over time by reason: the load balancer against NUMA balancing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from numaexp.readout import FORK_REASON
from numaexp.viz.style import OKABE_ITO, TIME_LABEL, label_axes, new_figure, runs, table

REASONS = (FORK_REASON, "wakeup", "load_balance", "newidle", "active_balance", "numa_move",
           "numa_swap", "affinity")
"""Reasons in plotting order: placement, then the scheduler's balancers, then NUMA balancing
(``fork`` counts a new thread placed on another CPU than its creator's as a move)."""


def task_moves(events: pd.DataFrame, *, background: bool = False) -> pd.DataFrame:
    """One row per task move: ``time_s``, ``task``, ``reason``, ``level``, CPUs.

    Parameters
    ----------
    events : DataFrame
        An ``events`` frame (with a ``label`` column if it holds several runs).
    background : bool
        Keep the moves of background tasks (``[kernel]/...``, ``[background]/...``).

    Returns
    -------
    DataFrame
        The ``sched_migrate_task`` rows and the ``sched_wakeup_new`` rows (whose
        ``reason`` is ``fork`` in the events frame itself) that placed a thread
        away from its creator's CPU.
    """
    moved = events[events["event"] == "sched_migrate_task"]
    forks = events[(events["event"] == "sched_wakeup_new") & (events["src_cpu"] >= 0)
                   & (events["src_cpu"] != events["dst_cpu"])].assign(reason=FORK_REASON)
    out = pd.concat([moved, forks]).sort_values("time_s", kind="stable")
    if not background:
        out = out[~out["task"].astype(str).str.startswith("[")]
    return out.reset_index(drop=True)


def plot_task_moves(source, bin_s: float | None = None, *, background: bool = False):
    """Task moves per time bin, stacked by reason, one panel per run.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``events`` frame.
    bin_s : float, optional
        Width of a bin, seconds (default: the longest run over 40 bins).
    background : bool
        Count the background tasks' moves too.

    Returns
    -------
    matplotlib.figure.Figure
        Moves per bin; the legend gives each reason's total.

    Notes
    -----
    ``load_balance``, ``newidle`` and ``active_balance`` are the scheduler's
    load balancer (periodic, on going idle, pushing a running task);
    ``numa_move`` and ``numa_swap`` are NUMA balancing's
    ``migrate_task_to`` and ``migrate_swap`` (each swap moves two tasks).
    A run with none of these says so in its panel.
    """
    events = table(source, "events")
    labels = list(runs(source))
    moves = task_moves(events, background=background)
    end = float(events["time_s"].max()) if len(events) else 1.0
    width = bin_s if bin_s else max(end, 1e-3) / 40
    edges = np.arange(0.0, end + width, width)
    colors = {r: OKABE_ITO[i % len(OKABE_ITO)] for i, r in enumerate(REASONS)}
    fig, axes = new_figure(len(labels), 1, width=8.0, height=2.6, sharex=True)
    for k, (ax, label) in enumerate(zip(axes[:, 0], labels, strict=True)):
        part = moves[moves["label"] == label] if "label" in moves else moves
        bottom = np.zeros(max(len(edges) - 1, 1))
        for reason in REASONS:
            times = part.loc[part["reason"] == reason, "time_s"].to_numpy()
            if not len(times):
                continue
            counts, _ = np.histogram(times, bins=edges)
            ax.bar(edges[:-1], counts, width=width, bottom=bottom[:len(counts)], align="edge",
                   color=colors[reason], label=f"{reason} ({len(times)})")
            bottom[:len(counts)] += counts
        if not len(part):
            ax.text(0.5, 0.5, "no task moved", transform=ax.transAxes, ha="center",
                    va="center", color="gray")
        else:
            ax.legend(fontsize="x-small", ncols=2, loc="upper right")
        label_axes(ax, TIME_LABEL if k == len(labels) - 1 else "", f"moves / {width:g} s",
                   label)
    fig.suptitle("Task moves by reason")
    fig.set_label("task_moves")
    return fig
