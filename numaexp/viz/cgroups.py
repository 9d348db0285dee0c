"""Per-cgroup plots: pages per node over time and ``memory.stat`` counters across runs."""

from __future__ import annotations

import numpy as np

from numaexp.viz.style import (
    GIB_PER_PAGE,
    OKABE_ITO,
    TIME_LABEL,
    colors,
    hide_unused,
    label_axes,
    new_figure,
    require_columns,
    runs,
    table,
)
from numaexp.viz.timeseries import COUNTER_UNITS

MEMORY_STAT_COUNTERS = ("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated",
                        "numa_task_migrated", "numa_task_swapped")
"""``memory.stat`` counters shown by default."""


def plot_pages_per_node(source, cgroups=None):
    """Memory of each cgroup per node over time, as stacked areas (``memory.numa_stat``).

    One row of panels per cgroup, one column per run.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``cgroup_timeseries`` frame.
    cgroups : sequence of str, optional
        Cgroup paths to show (default: every cgroup that holds pages at some point).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per cgroup and node, one line per run.
    """
    cts = table(source, "cgroup_timeseries")
    labels = list(runs(source))
    if cgroups is None:
        held = cts.groupby("cgroup", sort=False)["pages"].max()
        cgroups = [cg for cg, pages in held.items() if pages > 0] or list(held.index)
    else:
        cgroups = list(cgroups)
        unknown = sorted(set(cgroups) - set(cts["cgroup"]))
        if unknown:
            raise ValueError(f"unknown cgroup(s) {', '.join(unknown)} (cgroups: "
                             f"{', '.join(dict.fromkeys(cts['cgroup']))})")
    nodes = list(dict.fromkeys(cts["node"]))
    node_colors = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(nodes))]
    fig, axes = new_figure(len(cgroups), len(labels), width=4.0, height=2.8, sharex=True,
                           sharey="row")
    for r, cgroup in enumerate(cgroups):
        for c, label in enumerate(labels):
            ax = axes[r, c]
            part = cts[(cts["label"] == label) & (cts["cgroup"] == cgroup)]
            pages = part.pivot_table(index="time_s", columns="node", values="pages",
                                     aggfunc="sum").reindex(columns=nodes, fill_value=0)
            ax.stackplot(pages.index, *(pages[n].to_numpy() * GIB_PER_PAGE for n in nodes),
                         labels=nodes, colors=node_colors, alpha=0.9)
            label_axes(ax, TIME_LABEL if r == len(cgroups) - 1 else "",
                       "memory (GiB)" if c == 0 else "", f"{label} — cgroup {cgroup}")
    axes[0, 0].legend(title="node", loc="lower right", fontsize="small")
    fig.suptitle("Pages per node per cgroup (memory.numa_stat)")
    fig.set_label("pages_per_node")
    return fig


def plot_memory_stat(source, counters=MEMORY_STAT_COUNTERS):
    """``memory.stat`` NUMA counters per cgroup, grouped bars across runs.

    One panel per counter; bars grouped by cgroup, one bar per run.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``memory_stat`` frame.
    counters : sequence of str
        Columns of the ``memory_stat`` frame.

    Returns
    -------
    matplotlib.figure.Figure
        One group of bars per counter and cgroup.
    """
    counters = list(counters)
    ms = table(source, "memory_stat")
    require_columns(ms, counters, "memory_stat")
    labels = list(runs(source))
    palette = colors(labels)
    cgroups = list(dict.fromkeys(ms["cgroup"]))
    ncols = min(3, len(counters))
    nrows = -(-len(counters) // ncols)
    fig, axes = new_figure(nrows, ncols, width=max(3.6, 0.9 * len(cgroups) * len(labels)),
                           height=3.2)
    x = np.arange(len(cgroups))
    width = 0.8 / len(labels)
    for ax, counter in zip(axes.flat, counters, strict=False):
        for i, label in enumerate(labels):
            values = ms[ms["label"] == label].set_index("cgroup")[counter].reindex(cgroups)
            ax.bar(x - 0.4 + (i + 0.5) * width, values.fillna(0).to_numpy(), width,
                   label=label, color=palette[label])
        ax.set_xticks(x, cgroups, rotation=30 if len(cgroups) > 3 else 0)
        label_axes(ax, "cgroup", COUNTER_UNITS.get(counter, "count"), counter)
        ax.grid(False, axis="x")
    hide_unused(axes, len(counters))
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=len(labels), fontsize="small")
    fig.suptitle("Per-cgroup NUMA counters (memory.stat)")
    fig.set_label("memory_stat")
    return fig
