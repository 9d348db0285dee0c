"""The simulator and a real kernel on the same axes (``compare(..., backends=["sim", "kernel"])``).

Solid lines are the simulator, dashed lines the kernel; a colour is a
counter or a node. Time is each run's own: seconds since the workload
started (simulated seconds, or seconds inside the guest).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from numaexp.viz.style import MIB_PER_PAGE, OKABE_ITO, new_figure

COUNTERS = ("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated")
"""Counters drawn over time."""

STYLE = {"sim": "-", "kernel": "--"}


def _pairs(source, mode=None) -> dict:
    """``{backend: Result}`` of one mode from a Comparison, or a dict given directly."""
    if isinstance(source, dict):
        return source
    settings = source.settings
    if mode is None:
        mode = settings["mode"].iloc[0]
    rows = settings[settings["mode"] == mode]
    return {row["backend"]: source.results[row["label"]] for _, row in rows.iterrows()}


def plot_sim_vs_kernel(source, mode: int | None = None, counters=COUNTERS):
    """Four panels: counters over time, pages per node over time, final placement, and
    each thread's preferred node, for the simulator and the kernel.

    Parameters
    ----------
    source : Comparison or dict
        A comparison made with ``backends=["sim", "kernel"]``, or
        ``{"sim": Result, "kernel": Result}``.
    mode : int, optional
        The mode to draw (default: the first).
    counters : sequence of str
        ``/proc/vmstat`` counters for the first panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    pairs = _pairs(source, mode)
    fig, axes = new_figure(2, 2, width=5.2, height=3.4)
    ax = axes[0, 0]
    for i, name in enumerate(counters):
        for backend, result in pairs.items():
            ts = result.timeseries
            if name in ts and not ts[name].isna().all():
                ax.plot(ts["time_s"], ts[name].astype("float64"), STYLE.get(backend, ":"),
                        color=OKABE_ITO[i % 8], label=f"{name} ({backend})")
    ax.set(xlabel="time (s)", ylabel="count since start", title="counters over time")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    nodes = []
    for backend, result in pairs.items():
        cg = result.cgroup_timeseries.groupby(["time_s", "node"])["pages"].sum().unstack()
        for j, node in enumerate(cg.columns):
            nodes.append(node)
            ax.plot(cg.index, cg[node].astype("float64") * MIB_PER_PAGE, STYLE.get(backend, ":"),
                    color=OKABE_ITO[j % 8], label=f"{node} ({backend})")
    ax.set(xlabel="time (s)", ylabel="MiB", title="workload pages per node")
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    nodes = sorted(set(nodes), key=lambda n: int(n[1:]))
    width = 0.8 / max(1, len(pairs))
    for b, (backend, result) in enumerate(pairs.items()):
        pages = result.numa_stat.groupby("node")["pages"].sum().reindex(nodes).astype("float64")
        ax.bar(np.arange(len(nodes)) + b * width, pages.to_numpy() * MIB_PER_PAGE, width,
               label=backend, color=OKABE_ITO[b], hatch="//" if backend == "kernel" else None)
    ax.set_xticks(np.arange(len(nodes)) + width * (len(pairs) - 1) / 2, nodes)
    ax.set(ylabel="MiB", title="final placement")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    for b, (backend, result) in enumerate(pairs.items()):
        sched = result.sched
        pref = pd.to_numeric(sched["numa_preferred_nid"], errors="coerce").astype("float64")
        x = np.arange(len(sched)) + b * width
        ax.bar(x, pref.to_numpy() + 1.0, width, bottom=-1.0, label=backend, color=OKABE_ITO[b],
               hatch="//" if backend == "kernel" else None)
    first = next(iter(pairs.values())).sched
    ax.set_xticks(np.arange(len(first)) + width * (len(pairs) - 1) / 2,
                  [str(t) for t in first["thread"]], rotation=45, fontsize=7)
    ax.set(ylabel="numa_preferred_nid (-1: none)", title="preferred node per thread")
    ax.legend(fontsize=7)
    return fig
