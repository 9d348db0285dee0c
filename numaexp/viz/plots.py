"""Figures from result frames, without pyplot's global state.

Every function takes a :class:`~numaexp.experiment.Comparison` (or a
:class:`~numaexp.results.Result`) and returns a ``matplotlib.figure.Figure``;
:func:`save_figure` writes it (PNG, SVG, PDF) and closes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
"""Colour-blind-safe palette (Okabe & Ito)."""


def _figure(nrows: int = 1, ncols: int = 1, width: float = 6.4, height: float = 4.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _table(source, name: str) -> pd.DataFrame:
    """Frame ``name`` with a ``label`` column, from a Comparison or a Result."""
    if hasattr(source, "table"):
        return source.table(name)
    frame = source.frames[name].copy()
    frame.insert(0, "label", f"mode {source.meta.get('mode')}")
    return frame


def _colors(labels) -> dict:
    return {label: OKABE_ITO[i % len(OKABE_ITO)] for i, label in enumerate(labels)}


def plot_counters(source, counters=("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated",
                                    "numa_task_migrated")):
    """Cumulative vmstat counters over time, one line per run."""
    ts = _table(source, "timeseries")
    labels = list(dict.fromkeys(ts["label"]))
    colors = _colors(labels)
    ncols = 2
    nrows = -(-len(counters) // ncols)
    fig, axes = _figure(nrows, ncols, width=5.0, height=3.2)
    for ax, counter in zip(axes.flat, counters, strict=False):
        for label in labels:
            part = ts[ts["label"] == label]
            ax.plot(part["time_s"], part[counter], label=label, color=colors[label])
        ax.set_title(counter)
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("count (cumulative)")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(counters):]:
        ax.set_visible(False)
    axes.flat[0].legend()
    fig.suptitle("NUMA balancing counters (/proc/vmstat)")
    return fig


def plot_times(source):
    """User, system and elapsed seconds per run (mmtests style grouped bars)."""
    times = _table(source, "times")
    total = times[times["level"] == "total"]
    labels = list(total["label"])
    metrics = ("user_s", "system_s", "elapsed_s")
    fig, axes = _figure(1, 1, width=6.4, height=3.6)
    ax = axes[0, 0]
    x = np.arange(len(metrics))
    width = 0.8 / max(1, len(labels))
    colors = _colors(labels)
    for i, label in enumerate(labels):
        row = total[total["label"] == label].iloc[0]
        ax.bar(x + i * width - 0.4 + width / 2, [row[m] for m in metrics], width,
               label=label, color=colors[label])
    ax.set_xticks(x, ["user", "system", "elapsed"])
    ax.set_ylabel("seconds (user/system summed over threads)")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    ax.set_title("CPU and elapsed time")
    return fig


def plot_locality(source):
    """Share of the threads' accesses that hit their own node, over time (mean over threads)."""
    tts = _table(source, "task_timeseries")
    tts = tts[tts["alive"]]
    labels = list(dict.fromkeys(_table(source, "timeseries")["label"]))
    colors = _colors(labels)
    fig, axes = _figure(1, 1, width=6.4, height=3.6)
    ax = axes[0, 0]
    for label in labels:
        part = tts[tts["label"] == label].groupby("time_s")["locality"].mean()
        ax.plot(part.index, 100 * part.to_numpy(), label=label, color=colors[label])
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("local accesses (%)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Locality of running threads")
    return fig


def plot_pages_per_node(source):
    """Pages per node over time (stacked), one panel per run (all cgroups)."""
    cts = _table(source, "cgroup_timeseries")
    labels = list(dict.fromkeys(cts["label"]))
    fig, axes = _figure(1, len(labels), width=4.2, height=3.2)
    for ax, label in zip(axes[0], labels, strict=True):
        part = cts[cts["label"] == label].groupby(["time_s", "node"])["pages"].sum().unstack()
        nodes = list(part.columns)
        ax.stackplot(part.index, *(part[n].to_numpy() * 4096 / 2**30 for n in nodes),
                     labels=nodes, colors=OKABE_ITO[: len(nodes)])
        ax.set_title(label)
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("memory (GiB)")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="lower right")
    fig.suptitle("Pages per node (memory.numa_stat, all cgroups)")
    return fig


def save_figure(fig, path: str | Path, formats: tuple[str, ...] = ("png",), dpi: int = 120):
    """Write ``fig`` as ``path`` + each format's suffix, then close it.

    Returns
    -------
    list of Path
        The files written.
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = base.with_suffix("." + fmt)
        fig.savefig(target, dpi=dpi)
        written.append(target)
    fig.clear()
    return written
