"""Difference-from-baseline views, and per-cgroup counters over time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from numaexp.viz import style
from numaexp.viz.marks import finish, identical_labels, mark_times
from numaexp.viz.style import TIME_LABEL, label_axes, new_figure, run_styles, runs
from numaexp.viz.timeseries import COUNTER_UNITS

DIFFERENCE_COUNTERS = ("numa_hint_faults", "numa_pages_migrated")
"""vmstat counters whose difference from the baseline :func:`plot_difference` draws."""

CGROUP_METRICS = (("numa_scans", "scans (cumulative)"),
                  ("numa_pages_migrated", "pages migrated (cumulative)"),
                  ("throughput_per_s", "accesses/s"),
                  ("locality", "local accesses (%)"))
"""Columns of ``Result.cgroup_counters()`` drawn by :func:`plot_cgroup_counters`, with axis
labels."""


def _throughput(result) -> pd.Series:
    """Accesses per second over each sample interval, all threads."""
    tts = result.task_timeseries
    total = tts.groupby("time_s")["touches"].sum().astype(float)
    gap = pd.Series(total.index, index=total.index).diff()
    return (total.diff() / gap).where(gap > 0)


def plot_difference(source, baseline: str | None = None, counters=DIFFERENCE_COUNTERS):
    """Each run against a baseline run: what changed, over time and in total.

    Panels: throughput over time relative to the baseline's (%), locality
    minus the baseline's (percentage points), each of ``counters`` minus the
    baseline's (cumulative), and the whole run's speed-up (%) as bars.

    Parameters
    ----------
    source : Comparison or dict of str to Result
        At least two runs.
    baseline : str, optional
        Label of the baseline run (default ``"mode 0"`` when present, else the first).
    counters : sequence of str
        ``timeseries`` counters.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from numaexp.summary import pick_baseline, summary_frame

    results = runs(source)
    base = pick_baseline(results, baseline)
    others = [label for label in results if label != base]
    panels = 3 + len(counters)
    nrows, ncols = style.grid_shape(panels, 3)
    fig, axes = new_figure(nrows, ncols, width=3.8, height=2.7, legend=True)
    flat = list(axes.flat)
    if not others:
        style.empty_message(flat[0], f"nothing to compare: only the baseline {base} ran")
        style.hide_unused(axes, 1)
        fig.set_label("difference")
        return fig
    styles = run_styles(results)
    names = identical_labels(source)
    ref = results[base]
    ref_speed = _throughput(ref)
    ref_local = ref.task_timeseries[ref.task_timeseries["alive"].astype(bool)].groupby(
        "time_s")["locality"].mean()
    for label in others:
        result, look = results[label], styles[label]
        speed = _throughput(result)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = 100.0 * (speed / ref_speed.reindex(speed.index) - 1.0)
        flat[0].plot(rel.index, rel.to_numpy(), label=names[label], **look)
        local = result.task_timeseries[result.task_timeseries["alive"].astype(bool)].groupby(
            "time_s")["locality"].mean()
        flat[1].plot(local.index, 100.0 * (local - ref_local.reindex(local.index)).to_numpy(),
                     **look)
        ts, ref_ts = result.timeseries.set_index("time_s"), ref.timeseries.set_index("time_s")
        for k, counter in enumerate(counters):
            diff = ts[counter].astype(float) - ref_ts[counter].astype(float).reindex(ts.index)
            flat[2 + k].plot(diff.index, diff.to_numpy(), **look)
    label_axes(flat[0], TIME_LABEL, f"throughput vs {base} (%)", "Throughput, relative")
    label_axes(flat[1], TIME_LABEL, f"locality minus {base} (points)", "Locality, difference")
    for k, counter in enumerate(counters):
        label_axes(flat[2 + k], TIME_LABEL, f"{COUNTER_UNITS.get(counter, 'count')} minus {base}",
                   counter)
    for ax in flat[: 2 + len(counters)]:
        ax.axhline(0, color="black", linewidth=0.8)
        mark_times(ax, source, text=ax is flat[0])
    frame = summary_frame(results, base)
    bars_ax = flat[2 + len(counters)]
    pct = [(float(frame.loc[frame["label"] == label, "speedup"].iloc[0]) - 1.0) * 100.0
           for label in others]
    palette = style.colors(results)
    y = np.arange(len(others))
    bars = bars_ax.barh(y, pct, color=[palette[label] for label in others])
    bars_ax.bar_label(bars, fmt="%+.1f%%", fontsize="x-small", padding=2)
    bars_ax.set_yticks(y, [names[label] for label in others], fontsize="x-small")
    bars_ax.invert_yaxis()
    bars_ax.axvline(0, color="black", linewidth=0.8)
    bars_ax.margins(x=0.3)
    label_axes(bars_ax, f"throughput vs {base} (%)", "", "Whole run")
    style.hide_unused(axes, panels)
    style.figure_legend(fig, *flat[0].get_legend_handles_labels(), title=f"run (baseline {base})")
    return finish(fig, source, f"Difference from the baseline {base}", "difference")


def plot_cgroup_counters(source, metrics=CGROUP_METRICS):
    """Per-cgroup NUMA balancing activity over time (``Result.cgroup_counters()``).

    A row per metric (scans, pages migrated, throughput, locality), a column
    per cgroup with threads; one line per run. In mode 4 only the enabled
    cgroups' scans and migrations climb.

    Parameters
    ----------
    source : Result, Comparison or dict of str to Result
    metrics : sequence of (column, axis label)

    Returns
    -------
    matplotlib.figure.Figure
    """
    results = runs(source)
    frames = {label: r.cgroup_counters() for label, r in results.items()}
    cgroups = list(dict.fromkeys(cg for f in frames.values() for cg in f["cgroup"]))
    styles = run_styles(results)
    names = identical_labels(source)
    metrics = list(metrics)
    fig, axes = new_figure(len(metrics), max(1, len(cgroups)), width=3.4, height=2.3,
                           sharex=True, sharey="row", legend=True)
    if not cgroups:
        style.empty_message(axes[0, 0], "nothing to draw: no thread was sampled")
    for c, cgroup in enumerate(cgroups):
        for r, (column, unit) in enumerate(metrics):
            ax = axes[r, c]
            for label, frame in frames.items():
                part = frame[frame["cgroup"] == cgroup]
                values = part[column].astype(float) * (100.0 if column == "locality" else 1.0)
                ax.plot(part["time_s"], values.to_numpy(), label=names[label], **styles[label])
            mark_times(ax, source, text=r == 0 and c == 0)
            label_axes(ax, TIME_LABEL if r == len(metrics) - 1 else "",
                       unit if c == 0 else "", cgroup if r == 0 else "")
    style.figure_legend(fig, *axes[0, 0].get_legend_handles_labels(), title="run")
    return finish(fig, source, "Per-cgroup NUMA balancing over time (each cgroup's own threads)",
                  "cgroup_counters")
