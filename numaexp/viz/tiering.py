"""Memory tiering over time: promotion rate, hot threshold and fast-tier share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from numaexp.viz.style import (
    MIB_PER_PAGE,
    TIME_LABEL,
    colors,
    label_axes,
    new_figure,
    require_columns,
    runs,
)
from numaexp.viz.timeseries import counter_rate

THRESHOLD_PREFIX = "hot_threshold_ms_"
"""Prefix of the per-node hot threshold columns (``pgdat->nbp_threshold``, ms) in ``timeseries``."""

FREE_PREFIX = "free_pages_"
"""Prefix of the free pages per node columns in ``timeseries``."""


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


def plot_tiering(source):
    """Memory tiering at work: promotion rate, hot threshold and fast-tier share.

    Three panels, one line per run: the promotion rate (``pgpromote_success``
    per second, MiB/s; dotted: the rate limit times the number of top-tier
    nodes, when in range), the hot threshold of each top-tier node
    (``hot_threshold_ms_<node>``, ms), and the share of the used memory on
    top-tier nodes (from ``free_pages_<node>``).

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``timeseries`` frame.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: promotion rate, hot threshold, top-tier share.

    Raises
    ------
    ValueError
        Naming the missing column when a run's ``timeseries`` lacks
        ``pgpromote_success``, a ``free_pages_<node>`` column or a top-tier
        node's ``hot_threshold_ms_<node>`` column.
    """
    results = runs(source)
    palette = colors(results)
    fig, axes = new_figure(1, 3, width=4.4, height=3.4, sharex=True)
    ax_rate, ax_th, ax_share = axes[0]
    limits = set()
    top_rate = 0.0
    for label, result in results.items():
        ts = result.timeseries
        machine = result.scenario.machine
        names = [f"N{i}" for i in range(machine.nr_nodes)]
        toptier = dict(zip(names, machine.toptier, strict=True))
        thresholds = [THRESHOLD_PREFIX + n for n in names if toptier[n]]
        require_columns(ts, ["time_s", "pgpromote_success", *thresholds], "timeseries")
        share = fast_tier_share(ts, {n: node.pages for n, node in zip(names, machine.nodes,
                                                                      strict=True)}, toptier)
        color = palette[label]
        rate = counter_rate(ts["time_s"], ts["pgpromote_success"]) * MIB_PER_PAGE
        ax_rate.plot(ts["time_s"], rate, color=color, label=label)
        top_rate = max(top_rate, float(np.nanmax(rate, initial=0.0)))
        limits.add(result.scenario.kernel.promote_rate_limit_mbps * sum(toptier.values()))
        for j, col in enumerate(thresholds):
            ax_th.plot(ts["time_s"], ts[col], color=color, linestyle=("-", "--", ":", "-.")[j % 4],
                       label=f"{label} {col.removeprefix(THRESHOLD_PREFIX)}")
        ax_share.plot(ts["time_s"], share, color=color, label=label)
    for limit in sorted(limits):
        # a limit far above every rate would flatten the lines: the title names it anyway
        if limit * 1e6 / 2**20 <= 2 * top_rate:
            ax_rate.axhline(limit * 1e6 / 2**20, color="grey", linestyle=":", linewidth=1)
    label_axes(ax_rate, TIME_LABEL, "promoted (MiB/s)",
               f"Promotion rate (limit {', '.join(f'{x:,}' for x in sorted(limits))} MB/s)")
    label_axes(ax_th, TIME_LABEL, "hot threshold (ms)", "Hot page threshold per top-tier node")
    label_axes(ax_share, TIME_LABEL, "used memory on the fast tier (%)", "Fast-tier share")
    ax_rate.set_ylim(bottom=0)
    ax_th.set_ylim(bottom=0)
    ax_share.set_ylim(0, 105)
    ax_rate.legend(title="run", fontsize="small")
    ax_th.legend(fontsize="x-small")
    fig.suptitle("Memory tiering (kernel.numa_balancing & 2)")
    fig.set_label("tiering")
    return fig
