"""Headline figures of runs: one row per run (or per run and cgroup), with a speed-up.

The columns are declared once in :data:`numaexp.readout.SUMMARY`; each is
read from the frame its ``source`` names (``times`` for times and
throughput, ``counters`` for the counters: ``vmstat`` for a run,
``memory_stat`` for a cgroup) or computed here (``sim_s``, ``speedup``,
``hint_local_pct``, ``local_access_pct``). :func:`cgroup_counters` derives
the per-cgroup time series of :data:`numaexp.readout.CGROUP_COUNTERS` from
``task_timeseries``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from numaexp.errors import ScenarioError
from numaexp.readout import CGROUP_COUNTERS, SUMMARY

BY = ("run", "cgroup")
"""Rows of :func:`summary_frame`: one per run, or one per run and cgroup."""


def _value(value):
    """A counter as an int, NA kept (a kernel run lacks some counters)."""
    if value is None or pd.isna(value):
        return pd.NA
    return int(value)


def local_access_pct(tts: pd.DataFrame) -> float:
    """Share of all touches that hit the toucher's node, % (weighted by work per sample).

    Parameters
    ----------
    tts : DataFrame
        A ``task_timeseries`` frame (or the rows of some of its threads).

    Returns
    -------
    float
        Percent; NaN when no work was done or locality is not known.
    """
    if tts.empty or tts["locality"].isna().all():
        return float("nan")
    frame = tts.sort_values(["pid", "time_s"])
    done = frame.groupby("pid")["touches"].diff().fillna(0.0).astype(float).clip(lower=0.0)
    total = done.sum()
    if not total > 0:
        return float("nan")
    # locality sampled at the end of each interval stands for the interval
    return float(100.0 * (done * frame["locality"].astype(float)).sum() / total)


def _float(value) -> float:
    """A time or rate as a float, NaN for NA (a kernel run lacks some)."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def _row(result, times: pd.Series, counters: pd.Series, tts: pd.DataFrame,
         hint_local: float) -> dict:
    """The :data:`SUMMARY` columns of one run or cgroup."""
    out = {}
    for col in SUMMARY.columns:
        if col.source.startswith("times."):
            out[col.name] = _float(times[col.source.removeprefix("times.")])
        elif col.source == "counters":
            out[col.name] = _value(counters.get(col.name, counters.get(
                "numa_task_swaped" if col.name == "numa_task_swapped" else col.name)))
        elif col.name == "finished":
            out[col.name] = _finished(result, bool(times["finished"]) if pd.notna(
                times["finished"]) else False)
        elif col.name == "sim_s":
            out[col.name] = float(result.meta.get("sim_seconds", float("nan")))
        elif col.name == "hint_local_pct":
            out[col.name] = hint_local
        elif col.name == "local_access_pct":
            out[col.name] = local_access_pct(tts)
    return out


def _finished(result, threads_done: bool) -> bool | None:
    """The run ended as planned: all threads done (a ``duration`` run ends there too when
    its work is done first), or the whole duration ran (a ``duration`` stop); never after
    an interrupt, nor for a ``work`` run that ``stop.max_duration_s`` cut off. None for a
    machine's snapshot, which is no run with a stop."""
    if result.meta.get("interrupted"):
        return False
    if result.scenario is None:
        return None
    stop = result.scenario.stop
    if stop.kind == "duration":
        return threads_done or float(result.meta.get("sim_seconds", 0.0)) >= \
            stop.duration_s - 1e-9
    return threads_done


def run_row(result) -> dict:
    """The summary of one run (without ``speedup``), as a dict in :data:`SUMMARY` order."""
    times = result.times
    total = times[times["level"] == "total"].iloc[0]
    vm = result.vmstat.iloc[0]
    faults, local = _value(vm.get("numa_hint_faults")), _value(vm.get("numa_hint_faults_local"))
    hint_local = (100.0 * local / faults if faults is not pd.NA and local is not pd.NA
                  and faults else float("nan"))
    return _row(result, total, vm, result.task_timeseries, hint_local)


def cgroup_rows(result) -> list[dict]:
    """The summary of each cgroup that holds threads, with a ``cgroup`` column first."""
    times = result.times
    rows = times[times["level"] == "cgroup"].set_index("cgroup")
    stat = result.memory_stat.set_index("cgroup")
    tts = result.task_timeseries
    out = []
    for cgroup, row in rows.iterrows():
        counters = stat.loc[cgroup] if cgroup in stat.index else pd.Series(dtype=object)
        out.append({"cgroup": cgroup, **_row(result, row, counters, tts[tts["cgroup"] == cgroup],
                                             float("nan"))})
    return out


def pick_baseline(labels, baseline: str | None) -> str:
    """The baseline label: ``baseline`` if given (it must be a label), else ``"mode 0"`` if
    there is one, else the first label."""
    labels = list(labels)
    if baseline is not None:
        if baseline not in labels:
            raise ScenarioError("baseline", f"no run labelled {baseline!r}", ", ".join(labels))
        return baseline
    zero = [label for label in labels if label == "mode 0" or label.startswith("mode 0 ")]
    return zero[0] if zero else labels[0]


def summary_frame(results: dict, baseline: str | None = None, by: str = "run",
                  settings: dict | None = None) -> pd.DataFrame:
    """Headline figures of several runs, with their speed-up against a baseline run.

    Parameters
    ----------
    results : dict of str to Result
        Runs by label.
    baseline : str, optional
        Label of the run the others are compared with (default ``"mode 0"`` when
        present, else the first run).
    by : {"run", "cgroup"}
        One row per run, or one per run and cgroup (each cgroup's own threads
        and ``memory.stat`` counters; its speed-up is against the same cgroup
        of the baseline run).
    settings : dict of str to dict, optional
        Extra columns per label (e.g. ``mode``, ``variant``), put after ``label``.

    Returns
    -------
    DataFrame
        ``label`` (and ``cgroup``), the settings, ``baseline``, then the
        :data:`numaexp.readout.SUMMARY` columns.
    """
    if by not in BY:
        raise ScenarioError("by", f"unknown value {by!r}", ", ".join(BY))
    if not results:
        return pd.DataFrame(columns=["label", *(c.name for c in SUMMARY.columns)])
    base = pick_baseline(results, baseline)
    rows = []
    for label, result in results.items():
        extra = {"label": label, **(settings or {}).get(label, {}), "baseline": base}
        parts = [run_row(result)] if by == "run" else cgroup_rows(result)
        rows += [{**extra, **part} for part in parts]
    frame = pd.DataFrame(rows)
    key = ["cgroup"] if by == "cgroup" else []
    reference = frame[frame["label"] == base].set_index(key)["throughput_per_s"] if key else \
        frame.loc[frame["label"] == base, "throughput_per_s"].iloc[0]
    if key:
        ref = frame["cgroup"].map(reference)
    else:
        ref = reference
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = frame["throughput_per_s"].astype(float) / pd.Series(ref, index=frame.index,
                                                                    dtype=float)
    frame.insert(frame.columns.get_loc("throughput_per_s") + 1, "speedup",
                 speed.where(np.isfinite(speed)))
    return frame


def cgroup_counters(result) -> pd.DataFrame:
    """Per-cgroup counters over time (:data:`numaexp.readout.CGROUP_COUNTERS`).

    Sums of each cgroup's threads' ``task_timeseries`` columns per sample; the
    throughput and locality are those of the interval ending at the sample.

    Parameters
    ----------
    result : Result

    Returns
    -------
    DataFrame
        One row per (sample, cgroup), columns as declared.
    """
    tts = result.task_timeseries.sort_values(["pid", "time_s"])
    names = [c.name for c in CGROUP_COUNTERS.columns]
    if tts.empty:
        return pd.DataFrame(columns=names)
    summed = ["numa_scans", "numa_pages_migrated", "numa_task_migrated", "numa_task_swapped",
              "touches", "system_s"]
    frame = tts.assign(**{c: pd.to_numeric(tts[c], errors="coerce").astype(float)
                          for c in summed})
    done = frame.groupby("pid")["touches"].diff().fillna(0.0).clip(lower=0.0)
    frame = frame.assign(done=done, local=done * frame["locality"].astype(float))
    grouped = frame.groupby(["time_s", "cgroup"], sort=True)
    out = grouped[summed].sum(min_count=1)
    out[["done", "local"]] = grouped[["done", "local"]].sum()
    out = out.reset_index()
    gap = out.groupby("cgroup")["time_s"].diff()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["throughput_per_s"] = (out["done"] / gap).where(gap > 0)
        out["locality"] = (out["local"] / out["done"]).where(out["done"] > 0)
    return out[names].reset_index(drop=True)


def fast_tier_access_pct(result) -> pd.Series:
    """Share of the accesses served by top-tier nodes, per sample interval, %.

    Each thread's ``access_share_<node>`` (``task_timeseries``) summed over the
    top-tier nodes and weighted by the thread's touches in the interval ending
    at the sample.

    Returns
    -------
    Series
        Percent indexed by ``time_s``; NaN where no work was done, and empty
        when the frame has no ``access_share_<node>`` columns (a kernel run).
    """
    machine = result.scenario.machine if result.scenario is not None else None
    if machine is None or "task_timeseries" not in result.frames:
        return pd.Series(dtype=float)
    tts = result.task_timeseries.sort_values(["pid", "time_s"])
    top = [f"access_share_N{i}" for i, is_top in enumerate(machine.toptier) if is_top]
    if not top or any(c not in tts for c in top):
        return pd.Series(dtype=float)
    done = tts.groupby("pid")["touches"].diff().fillna(0.0).astype(float).clip(lower=0.0)
    fast = done * tts[top].astype(float).sum(axis=1)
    grouped = pd.DataFrame({"time_s": tts["time_s"], "done": done, "fast": fast}).groupby(
        "time_s")[["done", "fast"]].sum()
    return (100.0 * grouped["fast"] / grouped["done"].where(grouped["done"] > 0)).rename(
        "fast_tier_access_pct")
