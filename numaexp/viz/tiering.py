"""Memory tiering over time: promotion per top-tier node, hot threshold, fast-tier shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from numaexp.model.units import PAGE_SIZE
from numaexp.viz.marks import finish, identical_labels, mark_times
from numaexp.viz.style import (
    TIME_LABEL,
    empty_message,
    figure_legend,
    hide_unused,
    label_axes,
    new_figure,
    require_columns,
    run_styles,
    runs,
)
from numaexp.viz.timeseries import counter_rate

THRESHOLD_PREFIX = "hot_threshold_ms_"
"""Prefix of the per-node hot threshold columns (``pgdat->nbp_threshold``, ms) in ``timeseries``."""

FREE_PREFIX = "free_pages_"
"""Prefix of the free pages per node columns in ``timeseries``."""

PROMOTED_PREFIX = "pgpromote_success_"
"""Prefix of the per-node promotion counters in ``timeseries``."""

MB_PER_PAGE = PAGE_SIZE / 1e6
"""MB (10^6 bytes, the unit of ``numa_balancing_promote_rate_limit_MBps``) per 4 KiB page."""

LIMIT_SHOWN = 3.0
"""The rate limit is drawn when it is at most this many times the highest rate drawn."""


def fast_tier_share(timeseries: pd.DataFrame, node_pages: dict[str, int],
                    toptier: dict[str, bool]) -> pd.Series:
    """Share of the used memory that sits on top-tier nodes, over time.

    Parameters
    ----------
    timeseries : DataFrame
        Has ``time_s`` and a ``free_pages_<node>`` column per node.
    node_pages : dict of str to int
        Capacity of each node, pages.
    toptier : dict of str to bool
        ``node_is_toptier`` of each node.

    Returns
    -------
    Series
        Percent, indexed like ``timeseries``; NaN while no memory is used.

    Raises
    ------
    ValueError
        When a node's ``free_pages_<node>`` column is missing.
    """
    require_columns(timeseries, [FREE_PREFIX + n for n in node_pages], "timeseries")
    used = pd.DataFrame({n: pages - timeseries[FREE_PREFIX + n]
                         for n, pages in node_pages.items()})
    total = used.sum(axis=1)
    fast = used[[n for n in node_pages if toptier[n]]].sum(axis=1)
    return 100 * fast / total.where(total > 0)


def _tiered(result) -> bool:
    machine = result.scenario.machine if result.scenario is not None else None
    return machine is not None and not all(machine.toptier)


def plot_tiering(source):
    """Memory tiering at work, in the units the kernel uses.

    Top row: pages promoted into each top-tier node per second, in MB/s (the
    unit of ``numa_balancing_promote_rate_limit_MBps``, a limit per node,
    drawn dotted when in range); middle row: each top-tier node's hot
    threshold (ms); bottom row: the share of accesses served by the top tier
    and the share of the used memory on it (%). One line per run; runs on a
    machine with a single memory tier are left out (and named).

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads ``timeseries`` and ``task_timeseries``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        Naming the missing column when a tiered run's ``timeseries`` lacks a
        top-tier node's ``hot_threshold_ms_<node>`` or ``pgpromote_success_<node>``,
        or a ``free_pages_<node>`` column.
    """
    from numaexp.summary import fast_tier_access_pct

    results = runs(source)
    tiered = {label: r for label, r in results.items() if _tiered(r)}
    left_out = [label for label in results if label not in tiered]
    if not tiered:
        fig, axes = new_figure(1, 1, width=7.0, height=2.4)
        machine = next(iter(results.values())).scenario
        empty_message(axes[0, 0], "nothing to draw: no run has a lower memory tier "
                      f"({machine.machine.name if machine else 'this machine'} has one tier, "
                      "so memory tiering promotes nothing);\nuse a machine with CPU-less slow "
                      "nodes, numaexp.model.machine.tiered()")
        fig.suptitle("Memory tiering (kernel.numa_balancing & 2)")
        fig.set_label("tiering")
        return fig
    first = next(iter(tiered.values())).scenario.machine
    top = [f"N{i}" for i, is_top in enumerate(first.toptier) if is_top]
    ncols = max(2, len(top))
    fig, axes = new_figure(3, ncols, width=3.8, height=2.7, sharex=True, legend=True)
    styles = run_styles(results)
    names = identical_labels(source)
    top_rate, limits = 0.0, set()
    for label, result in tiered.items():
        ts = result.timeseries
        machine = result.scenario.machine
        nodes = [f"N{i}" for i in range(machine.nr_nodes)]
        toptier = dict(zip(nodes, machine.toptier, strict=True))
        require_columns(ts, ["time_s", *(PROMOTED_PREFIX + n for n in top),
                             *(THRESHOLD_PREFIX + n for n in top)], "timeseries")
        limits.add(result.scenario.kernel.promote_rate_limit_mbps)
        style = styles[label]
        for j, node in enumerate(top):
            rate = counter_rate(ts["time_s"], ts[PROMOTED_PREFIX + node]) * MB_PER_PAGE
            top_rate = max(top_rate, float(np.nanmax(rate, initial=0.0)))
            axes[0, j].plot(ts["time_s"], rate, label=names[label], **style)
            axes[1, j].plot(ts["time_s"], ts[THRESHOLD_PREFIX + node], **style)
        access = fast_tier_access_pct(result)
        axes[2, 0].plot(access.index, access.to_numpy(), **style)
        share = fast_tier_share(ts, {n: node.pages for n, node in zip(nodes, machine.nodes,
                                                                      strict=True)}, toptier)
        axes[2, 1].plot(ts["time_s"], share, **style)
    limit_text = ", ".join(f"{x:,}" for x in sorted(limits))
    for j, node in enumerate(top):
        for limit in limits:
            if limit <= LIMIT_SHOWN * top_rate:
                axes[0, j].axhline(limit, color="grey", linestyle=":", linewidth=1)
        label_axes(axes[0, j], "", "promoted (MB/s)" if j == 0 else "",
                   f"Promotions into {node}")
        label_axes(axes[1, j], "", "hot threshold (ms)" if j == 0 else "",
                   f"Hot threshold of {node}")
        axes[0, j].set_ylim(bottom=0)
        axes[1, j].set_ylim(bottom=0)
    label_axes(axes[2, 0], TIME_LABEL, "accesses to the top tier (%)",
               "Accesses served by the fast tier")
    label_axes(axes[2, 1], TIME_LABEL, "used memory on the top tier (%)",
               "Memory on the fast tier")
    for ax in (axes[2, 0], axes[2, 1]):
        ax.set_ylim(0, 105)
    for ax in axes.flat:
        if ax.get_visible():
            mark_times(ax, source, text=ax is axes[0, 0])
    hide_unused(axes[2:], 2)
    for j in range(len(top), ncols):
        axes[0, j].set_visible(False)
        axes[1, j].set_visible(False)
    figure_legend(fig, *axes[0, 0].get_legend_handles_labels(), title="run")
    drawn = "dotted" if any(limit <= LIMIT_SHOWN * top_rate for limit in limits) \
        else "off the scale, not drawn"
    return finish(fig, source, f"Memory tiering\npromotion rate limit {limit_text} MB/s per "
                  f"top-tier node ({drawn})", "tiering",
                  f"left out (one memory tier): {', '.join(left_out)}" if left_out else "")
