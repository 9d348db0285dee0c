"""Per-cgroup plots: pages per node over time and ``memory.stat`` counters across runs."""

from __future__ import annotations

import numpy as np

from numaexp.viz.marks import finish, identical_labels, mark_times
from numaexp.viz.style import (
    GIB_PER_PAGE,
    OKABE_ITO,
    TIME_LABEL,
    colors,
    empty_message,
    figure_legend,
    grid_shape,
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

    Small multiples: one panel per (cgroup, run), cgroup by cgroup, at most
    four panels a row; one colour per node.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``cgroup_timeseries`` frame.
    cgroups : sequence of str, optional
        Cgroup paths to show (default: every cgroup that holds pages at some point).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per cgroup and run.
    """
    cts = table(source, "cgroup_timeseries")
    labels = list(runs(source))
    names = identical_labels(source)
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
    panels = [(cg, label) for cg in cgroups for label in labels]
    nrows, ncols = grid_shape(len(panels), 4)
    fig, axes = new_figure(nrows, ncols, width=3.0, height=2.2, sharex=True, legend=True)
    for k, (ax, (cgroup, label)) in enumerate(zip(axes.flat, panels, strict=False)):
        part = cts[(cts["label"] == label) & (cts["cgroup"] == cgroup)]
        pages = part.pivot_table(index="time_s", columns="node", values="pages",
                                 aggfunc="sum").reindex(columns=nodes, fill_value=0)
        if pages.empty:
            empty_message(ax, "no sample")
            continue
        ax.stackplot(pages.index, *(pages[n].to_numpy() * GIB_PER_PAGE for n in nodes),
                     labels=nodes, colors=node_colors, alpha=0.9)
        mark_times(ax, source, text=False)
        label_axes(ax, TIME_LABEL if k >= len(panels) - ncols else "",
                   "memory (GiB)" if k % ncols == 0 else "", f"{cgroup}\n{names[label]}")
        ax.title.set_fontsize("small")
    hide_unused(axes, len(panels))
    figure_legend(fig, *axes.flat[0].get_legend_handles_labels(), title="node")
    return finish(fig, source, "Pages per node per cgroup (memory.numa_stat)", "pages_per_node")


def plot_memory_stat(source, counters=MEMORY_STAT_COUNTERS):
    """``memory.stat`` NUMA counters per cgroup across runs, as small multiples.

    One panel per (counter, cgroup): a row per counter, a column per cgroup;
    in each panel one horizontal bar per run, named on the left. The figure
    grows by a fixed height per run, never wider.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``memory_stat`` frame.
    counters : sequence of str
        Columns of the ``memory_stat`` frame.

    Returns
    -------
    matplotlib.figure.Figure
        A grid of counter x cgroup panels.
    """
    counters = list(counters)
    ms = table(source, "memory_stat")
    require_columns(ms, counters, "memory_stat")
    labels = list(runs(source))
    names = identical_labels(source)
    palette = colors(labels)
    cgroups = list(dict.fromkeys(ms["cgroup"]))
    held = ms.groupby("cgroup", sort=False)[counters].sum().sum(axis=1)
    shown = [cg for cg in cgroups if held.get(cg, 0) > 0 or cg != "/"] or cgroups
    height = 0.7 + 0.22 * len(labels)
    fig, axes = new_figure(len(counters), len(shown), width=2.5, height=height, sharey=True)
    y = np.arange(len(labels))
    for r, counter in enumerate(counters):
        for c, cgroup in enumerate(shown):
            ax = axes[r, c]
            values = [ms[(ms["label"] == label) & (ms["cgroup"] == cgroup)][counter].sum()
                      for label in labels]
            bars = ax.barh(y, values, color=[palette[label] for label in labels], height=0.7)
            ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize="xx-small",
                         padding=2)
            ax.set_yticks(y, [names[label] for label in labels], fontsize="x-small")
            if r == 0 and c == 0:
                ax.invert_yaxis()  # shared: every panel lists the runs top down
            ax.margins(x=0.25)
            ax.grid(False, axis="y")
            ax.tick_params(axis="x", labelsize="x-small")
            title = f"{cgroup}" if r == 0 else ""
            label_axes(ax, COUNTER_UNITS.get(counter, "count") if r == len(counters) - 1
                       else "", counter if c == 0 else "", title)
    return finish(fig, source, "Per-cgroup NUMA counters (memory.stat): a row per counter, a "
                  "column per cgroup", "memory_stat", marks=False)
