"""What NUMA balancing costs: system time by account across runs, and its scaling in a sweep.

The accounts are the ``times`` frame's breakdown of ``system_s``
(:data:`numaexp.readout.SYSTEM_TIME_SPECS`, in that order), then
``stolen_s``: the time flush IPIs took from the tasks they interrupted,
which is not system time. ``autonuma_cost_s`` is mmtests' "AutoNUMA cost",
the sum of the accounts NUMA balancing pays for.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from numaexp.readout import AUTONUMA_COST_S, STOLEN_S, SYSTEM_S, SYSTEM_TIME_SPECS
from numaexp.viz.marks import finish, foot, identical_labels
from numaexp.viz.style import (
    colors,
    empty_message,
    figure_legend,
    label_axes,
    new_figure,
    require_columns,
    runs,
    table,
)
from numaexp.viz.sweeps import _value_ticks, format_value, summarize_sweep

ACCOUNTS = tuple(name for name, _, _ in SYSTEM_TIME_SPECS)
"""The ``times`` columns that add up to ``system_s``, in stacking order."""

AUTONUMA_ACCOUNTS = frozenset(name for name, _, autonuma in SYSTEM_TIME_SPECS if autonuma)
"""The accounts mmtests' "AutoNUMA cost" counts (marked ``*`` in the legend)."""

STOLEN_STYLE = {"facecolor": "white", "edgecolor": "#444444", "hatch": "////"}
"""Look of the stolen-time segment drawn after the accounts."""

NO_BREAKDOWN_COLOR = "#999999"
"""Colour of the bar of a run without a breakdown (kernel backend): its ``system_s`` alone."""

LEGEND_HEIGHT = 0.25 * (len(ACCOUNTS) + 6)
"""Inches the legend of the accounts and the notes under it take: the least height of the
figure's panels together."""

LABEL_ROOM = 1.3
"""The x axis runs to this many times the longest bar: room for the AutoNUMA labels."""

THREADS_COLUMN = re.compile(r"\.threads\[[^\]]+\]\.count$")
"""A sweep frame's thread-count parameter: the path of a thread spec's ``count``."""


def account_label(name: str) -> str:
    """Legend label of a ``times`` account column: ``"hint_fault_s"`` -> ``"hint fault"``."""
    return name.removesuffix("_s").replace("_", " ")


def plot_system_time(source, level: str = "total"):
    """System time by account per run, as horizontal stacked bars.

    One bar per run, named on the left; one colour per account, stacked in
    the order of :data:`numaexp.readout.SYSTEM_TIME_SPECS` (so the segments
    add up to ``system_s``), then ``stolen_s`` as a hatched segment. Each bar
    is labelled with the run's ``autonuma_cost_s``.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
        The runs, labelled; reads their ``times`` frame.
    level : {"total", "cgroup"}
        One panel for the whole run, or one per cgroup.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Seconds are CPU seconds summed over threads. A run whose breakdown
    columns are NaN (the kernel backend: ``/proc`` has no split of system
    time) gets one grey bar of its ``system_s``, said so at the figure's
    foot. When no run has any system or stolen time, the panel says so.
    """
    if level not in ("total", "cgroup"):
        raise ValueError(f"level must be 'total' or 'cgroup' (got {level!r})")
    labels = list(runs(source))
    names = identical_labels(source)
    times = table(source, "times")
    require_columns(times, [SYSTEM_S.name, *ACCOUNTS, STOLEN_S.name, AUTONUMA_COST_S.name],
                    "times")
    times = times[times["level"] == level]
    spent = times[[SYSTEM_S.name, STOLEN_S.name]].abs().to_numpy(dtype=float)
    if not np.nansum(spent):
        fig, axes = new_figure(1, 1, width=6.0, height=0.8 + 0.24 * len(labels))
        empty_message(axes[0, 0], "no system time in any run: every system_s and stolen_s"
                                  f"{' of a cgroup' if level == 'cgroup' else ''} is 0, "
                                  "nothing to break down")
        return finish(fig, source, _title(level), _figure_name(level), marks=False)
    groups = list(dict.fromkeys(times["cgroup"])) if level == "cgroup" else [""]
    palette = colors(ACCOUNTS)
    height = max(0.8 + 0.24 * len(labels), LEGEND_HEIGHT / len(groups))
    fig, axes = new_figure(len(groups), 1, width=6.0, height=height, sharex=True, sharey=True,
                           legend=True)
    y = np.arange(len(labels))
    unsplit = set()
    peak = 0.0
    for r, group in enumerate(groups):
        ax = axes[r, 0]
        part = times[times["cgroup"] == group] if level == "cgroup" else times
        rows = [part[part["label"] == label] for label in labels]
        present = np.array([len(row) > 0 for row in rows])
        split = present & np.array([bool(row[list(ACCOUNTS)].notna().to_numpy().all())
                                    for row in rows])
        unsplit |= {label for label, k in zip(labels, present & ~split, strict=True) if k}
        left = np.zeros(len(labels))
        if split.any():
            for name in ACCOUNTS:
                widths = np.where(split, _sums(rows, name), 0.0)
                mark = " *" if name in AUTONUMA_ACCOUNTS else ""
                ax.barh(y, widths, left=left, height=0.7, color=palette[name],
                        label=account_label(name) + mark if r == 0 else None)
                left += widths
            widths = np.where(split, np.nan_to_num(_sums(rows, STOLEN_S.name)), 0.0)
            ax.barh(y, widths, left=left, height=0.7, **STOLEN_STYLE,
                    label=account_label(STOLEN_S.name) + " (not system time)" if r == 0
                    else None)
            left += widths
        if (present & ~split).any():
            system = np.where(present & ~split, np.nan_to_num(_sums(rows, SYSTEM_S.name)), 0.0)
            ax.barh(y, system, height=0.7, color=NO_BREAKDOWN_COLOR,
                    label=f"{SYSTEM_S.name}, no breakdown" if r == 0 else None)
            left = np.maximum(left, system)
        peak = max(peak, float(left.max()))
        cost = _sums(rows, AUTONUMA_COST_S.name)
        for k in range(len(labels)):
            text = (f"AutoNUMA {cost[k]:.3g} s" if split[k] else "AutoNUMA n/a" if present[k]
                    else "no such row")
            ax.annotate(text, (left[k], y[k]), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize="xx-small")
        ax.set_yticks(y, [names[label] for label in labels], fontsize="x-small")
        if r == 0:
            ax.invert_yaxis()
        ax.grid(False, axis="y")
        label_axes(ax, "CPU seconds" if r == len(groups) - 1 else "",
                   group if level == "cgroup" else "")
    axes[0, 0].set_xlim(0.0, LABEL_ROOM * peak)  # shared; a stacked bar's end is sticky
    figure_legend(fig, *axes[0, 0].get_legend_handles_labels(),
                  title="account (* AutoNUMA cost)")
    notes = ["bar label: autonuma_cost_s, mmtests' \"AutoNUMA cost\" (the accounts marked *); "
             "stolen (hatched): time TLB-flush IPIs took from the tasks they interrupted, "
             "not part of system_s"]
    if unsplit:
        notes.append(f"{', '.join(names[label] for label in labels if label in unsplit)}: "
                     "no breakdown of system time (NaN: the kernel backend reads /proc, "
                     "which has no such split); the grey bar is system_s alone")
    return finish(fig, source, _title(level), _figure_name(level), *notes, marks=False)


def _sums(rows, name: str) -> np.ndarray:
    """Sum of column ``name`` over each run's rows (one frame per run)."""
    return np.array([float(row[name].sum()) for row in rows])


def _title(level: str) -> str:
    return "System time by account" + (" per cgroup" if level == "cgroup" else "")


def _figure_name(level: str) -> str:
    return "system_time" if level == "total" else "system_time_per_cgroup"


def thread_column(frame: pd.DataFrame, x: str) -> tuple[pd.DataFrame, str]:
    """The sweep frame and its column for ``x``.

    A sweep frame names a swept parameter by its scenario path (e.g.
    ``workload.processes["random"].threads["worker"].count``): ``x`` is that
    column, or ``"threads"`` for the parameter columns that are a thread
    spec's ``count`` (:data:`THREADS_COLUMN`): one such column, or the sum of
    several (thread specs swept together, e.g. one per node) in a column
    ``threads`` added to the frame.

    Raises
    ------
    ValueError
        When there is no such column.
    """
    if x in frame.columns:
        return frame, x
    if x == "threads":
        found = [str(c) for c in frame.columns if THREADS_COLUMN.search(str(c))]
        if len(found) == 1:
            return frame, found[0]
        if found:
            return frame.assign(threads=frame[found].sum(axis=1)), "threads"
    raise ValueError(f"sweep frame has no column {x!r}"
                     + (" nor a swept thread count (a path ending in .threads[...].count)"
                        if x == "threads" else "")
                     + f" (columns: {', '.join(map(str, frame.columns))})")


def overhead_per_fault(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``system_us_per_fault``, ``autonuma_us_per_fault`` and
    ``machine_us_per_fault`` added.

    ``system_s``, ``autonuma_cost_s`` and ``autonuma_cost_s + stolen_s``
    (what NUMA balancing cost the whole machine, the CPUs its shootdowns
    interrupted included) over ``numa_hint_faults``, in microseconds per
    hinting fault; NaN for a run without hinting faults (mode 0).
    """
    require_columns(frame, [SYSTEM_S.name, AUTONUMA_COST_S.name, STOLEN_S.name,
                            "numa_hint_faults"], "sweep frame")
    faults = frame["numa_hint_faults"].to_numpy(dtype=float)
    seconds = {"system": frame[SYSTEM_S.name].to_numpy(dtype=float),
               "autonuma": frame[AUTONUMA_COST_S.name].to_numpy(dtype=float)}
    seconds["machine"] = seconds["autonuma"] + frame[STOLEN_S.name].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = {f"{short}_us_per_fault": np.where(faults > 0, 1e6 * values / faults, np.nan)
               for short, values in seconds.items()}
    return frame.assign(**per)


def throughput_loss(frame: pd.DataFrame, x: str, mode=1, baseline=0) -> pd.DataFrame:
    """Throughput lost by ``mode`` against ``baseline``, paired by seed index.

    Parameters
    ----------
    frame : DataFrame
        Sweep frame with ``mode``, ``throughput_per_s``, ``x`` and ``repeat``
        (or ``seed``) columns, one row per (``x``, mode, repeat).
    x : str
        Column the pairs share besides the seed index.
    mode, baseline : int
        Values of the ``mode`` column compared (``kernel.numa_balancing``).

    Returns
    -------
    DataFrame
        ``x``, the seed-index column and ``throughput_loss_pct``: ``100 x (1 -
        throughput of mode / throughput of baseline)``, percent (positive:
        ``mode`` is slower), for every pair that has both runs.
    """
    key = "repeat" if "repeat" in frame.columns else "seed"
    require_columns(frame, [x, "mode", "throughput_per_s", key], "sweep frame")
    if frame.duplicated([x, "mode", key]).any():
        raise ValueError(f"several rows per ({x}, mode, {key}): another parameter varies; "
                         "pass the rows of one value of it")
    tput = {m: frame[frame["mode"] == m].set_index([x, key])["throughput_per_s"].astype(float)
            for m in (mode, baseline)}
    loss = 100.0 * (1.0 - tput[mode] / tput[baseline])
    return loss.dropna().rename("throughput_loss_pct").reset_index()


def plot_overhead_scaling(frame: pd.DataFrame, x: str = "threads", *, mode=1, baseline=0):
    """NUMA balancing's overhead against a swept parameter (the thread count).

    Two panels, mean over seeds with a 95 % confidence band: (a) system time
    and AutoNUMA cost per hinting fault (µs), one colour per mode, solid and
    dashed; (b) the throughput ``mode`` loses against ``baseline``
    (percent), paired by seed index (:func:`throughput_loss`).

    Parameters
    ----------
    frame : DataFrame
        Tidy sweep frame (:func:`numaexp.sweep.sweep`): one row per point with
        the parameter columns, ``repeat``, ``status`` and the summary columns
        (``mode``, ``system_s``, ``autonuma_cost_s``, ``numa_hint_faults``,
        ``throughput_per_s``). Only ``status == "ok"`` rows are drawn.
    x : str
        Column on the x axis; ``"threads"`` finds the swept thread count
        (:func:`thread_column`).
    mode, baseline : int
        The ``mode`` values whose throughputs panel (b) compares.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    ``system_s`` also holds work that is not NUMA balancing's (first
    touches, thread creation): ``autonuma_cost_s`` per fault is the cost of
    NUMA balancing alone. A mode without hinting faults (mode 0), or a
    point without them, has no figure per fault: the figure's foot names
    them.
    """
    frame, column = thread_column(frame, x)
    ok = frame[frame["status"] == "ok"] if "status" in frame.columns else frame
    require_columns(ok, ["mode", "throughput_per_s"], "sweep frame")
    per = overhead_per_fault(ok)
    fig, axes = new_figure(1, 2, width=4.6, height=3.2, legend=True)
    cost_ax, loss_ax = axes[0]
    modes = sorted(per["mode"].dropna().unique())
    palette = colors(modes)
    faultless, gaps = 0, []
    for m in modes:
        rows = per[per["mode"] == m]
        with_faults = rows.dropna(subset=["system_us_per_fault"])
        if with_faults.empty:
            faultless += 1
            gaps.append(f"mode {format_value(m)}")
            continue
        missing = sorted(set(rows[column]) - set(with_faults[column]))
        if missing:
            gaps.append(f"mode {format_value(m)} at {x} = "
                        + ", ".join(format_value(v) for v in missing))
        for metric, style, what in (("system_us_per_fault", "-", SYSTEM_S.name),
                                    ("autonuma_us_per_fault", "--", AUTONUMA_COST_S.name),
                                    ("machine_us_per_fault", ":",
                                     f"{AUTONUMA_COST_S.name} + {STOLEN_S.name}")):
            _mean_line(cost_ax, with_faults.dropna(subset=[metric]), column, metric,
                       color=palette[m], linestyle=style,
                       label=f"mode {format_value(m)}: {what}")
    if faultless == len(modes):
        empty_message(cost_ax, "no run had a hinting fault: nothing per fault")
    label_axes(cost_ax, x, "µs per hinting fault", "(a) cost per hinting fault")
    loss = throughput_loss(ok, column, mode, baseline)
    if loss.empty:
        empty_message(loss_ax, f"no pair of mode {format_value(mode)} and mode "
                               f"{format_value(baseline)} runs at one {x} and seed")
    else:
        _mean_line(loss_ax, loss, column, "throughput_loss_pct", color=palette[mode],
                   linestyle="-")
        loss_ax.axhline(0, color="black", linewidth=0.8)
    label_axes(loss_ax, x, "throughput lost (%)",
               f"(b) throughput lost, mode {format_value(mode)} vs {format_value(baseline)}")
    figure_legend(fig, *cost_ax.get_legend_handles_labels(), title="per hinting fault")
    seeds = int(ok.groupby([column, "mode"]).size().max()) if len(ok) else 0
    fig.suptitle(f"NUMA balancing overhead against {x}")
    foot(fig, f"mean of {seeds} seed(s)" + (", 95 % confidence band" if seeds > 1 else "")
         + (f"; {x}: column {column}" if column != x else ""),
         "(a) system_s (solid), autonuma_cost_s (dashed) and autonuma_cost_s + stolen_s "
         "(dotted) over numa_hint_faults; system_s also counts first touches and thread "
         "creation, autonuma_cost_s is NUMA balancing's own, stolen_s what its shootdowns "
         "took from the CPUs they interrupted",
         f"(b) 100 x (1 - throughput_per_s of mode {format_value(mode)} / that of mode "
         f"{format_value(baseline)}), paired by seed index",
         f"no hinting fault, nothing per fault: {'; '.join(gaps)}" if gaps else "")
    fig.set_label("overhead_scaling")
    return fig


def _mean_line(ax, data: pd.DataFrame, x: str, metric: str, **style) -> None:
    """Draw the mean of ``metric`` over seeds against ``x`` with its 95 % band."""
    stats = summarize_sweep(data, x, metric)
    ax.plot(stats[x], stats["mean"], marker="o", markersize=4, **style)
    ax.fill_between(stats[x], stats["ci_low"], stats["ci_high"], color=style["color"],
                    alpha=0.2, linewidth=0)
    _value_ticks(ax, stats[x])
