"""One sentence per run, generated from its summary: what changed against the baseline, and why.

Example: ``"mode 1: 21% faster than mode 0; 196,608 pages migrated; 0 task moves, 12
swaps; local accesses 86% (mode 0: 7%); /other untouched"``.
"""

from __future__ import annotations

import pandas as pd

from numaexp.readout import RUN_LABELS

UNTOUCHED = ("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated", "pgpromote_success",
             "numa_task_migrated", "numa_task_swapped")
"""Counters that are all 0 in a cgroup NUMA balancing left alone."""

SAME_SPEED_PCT = 0.5
"""Speed differences below this many percent read "as fast as"."""

COMPARED_FRAMES = ("vmstat", "memory_stat", "times", "timeseries", "task_timeseries")
"""Frames two runs must agree on, bit for bit, to be called identical."""


def _count(n, one: str, many: str | None = None) -> str:
    if n is None or pd.isna(n):
        return f"? {many or one + 's'}"
    n = int(n)
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def fingerprint(result) -> tuple:
    """What two identical runs share: the compared frames without the run's own labels
    (kept on the result once computed)."""
    cached = result.__dict__.get("_fingerprint")
    if cached is not None:
        return cached
    labels = [c.name for c in RUN_LABELS]
    out = []
    for name in COMPARED_FRAMES:
        frame = result.frames.get(name)
        if frame is None:
            out.append(None)
            continue
        frame = frame.drop(columns=[c for c in labels if c in frame])
        out.append((tuple(frame.columns), len(frame),
                    int(pd.util.hash_pandas_object(frame, index=False).sum())))
    result.__dict__["_fingerprint"] = tuple(out)
    return tuple(out)


def identical_runs(results: dict) -> dict[str, str]:
    """``{label: earlier label}`` for each run identical to an earlier one (see
    :data:`COMPARED_FRAMES`); each maps to the first run of its group."""
    seen: dict[tuple, str] = {}
    out = {}
    for label, result in results.items():
        key = fingerprint(result)
        if key in seen:
            out[label] = seen[key]
        else:
            seen[key] = label
    return out


def _speed(label: str, row: dict, baseline: str, identical_to: str | None,
           base_row: dict | None) -> str:
    """The speed against the baseline; a run cut off (or a baseline cut off) says that its
    figure is the throughput over the part that ran."""
    if identical_to is not None:
        return f"identical to {identical_to} (every counter and time)"
    if label == baseline:
        return "the baseline"
    ratio = row.get("speedup")
    if ratio is None or pd.isna(ratio):
        return f"no speed to compare with {baseline}"
    pct = (float(ratio) - 1.0) * 100.0
    text = (f"as fast as {baseline}" if abs(pct) < SAME_SPEED_PCT else
            f"{abs(pct):.0f}% {'faster' if pct > 0 else 'slower'} than {baseline}")
    if row.get("finished") is False:
        text += " while it ran"
    if (base_row or {}).get("finished") is False:
        text += f" ({baseline} was cut off)"
    return text


def _memory(row: dict) -> str:
    parts = [_count(row.get("numa_pages_migrated"), "page") + " migrated"]
    for column, verb in (("pgpromote_success", "promoted"), ("pgdemote_kswapd", "demoted")):
        value = row.get(column)
        if value is not None and not pd.isna(value) and value:
            parts.append(f"{int(value):,} {verb}")
    return ", ".join(parts)


def _cgroups(mode, cgroup_rows: list[dict]) -> str | None:
    """Which cgroups NUMA balancing left alone (when it is on and some were touched)."""
    if not mode or len(cgroup_rows) < 2:
        return None
    untouched = [r["cgroup"] for r in cgroup_rows
                 if all(not r.get(c) or pd.isna(r.get(c)) for c in UNTOUCHED)]
    if not untouched:
        return None
    if len(untouched) == len(cgroup_rows):
        return "no cgroup scanned"
    return f"{', '.join(untouched)} untouched"


def run_sentence(label: str, row: dict, *, baseline: str | None, base_row: dict | None = None,
                 cgroup_rows: list[dict] = (), identical_to: str | None = None) -> str:
    """One sentence on a run.

    Parameters
    ----------
    label : str
        The run's label.
    row : dict
        Its summary row (:func:`numaexp.summary.summary_frame`, by run).
    baseline : str or None
        Label of the run it is compared with (None: a run on its own).
    base_row : dict, optional
        The baseline's summary row (for its locality).
    cgroup_rows : list of dict
        Its per-cgroup summary rows (to name the cgroups left untouched).
    identical_to : str, optional
        Label of an earlier run with the very same frames.

    Returns
    -------
    str
    """
    parts = []
    if identical_to is None and row.get("finished") is False:
        parts.append(f"cut off at {row.get('sim_s', float('nan')):.3g} simulated s")
    if baseline is not None:
        parts.append(_speed(label, row, baseline, identical_to, base_row))
    if identical_to is None:
        if row.get("mode") == 0:
            parts.append("NUMA balancing off")
        else:
            parts.append(_memory(row))
            parts.append(f"{_count(row.get('numa_task_migrated'), 'task move')}, "
                         f"{_count(row.get('numa_task_swapped'), 'swap')}")
        local = row.get("local_access_pct")
        if local is not None and not pd.isna(local):
            text = f"local accesses {local:.0f}%"
            base = (base_row or {}).get("local_access_pct")
            if label != baseline and base is not None and not pd.isna(base):
                text += f" ({baseline}: {base:.0f}%)"
            parts.append(text)
        cgroups = _cgroups(row.get("mode"), list(cgroup_rows))
        if cgroups:
            parts.append(cgroups)
    return f"{label}: " + "; ".join(parts)


def sentences(results: dict, runs: pd.DataFrame, cgroups: pd.DataFrame) -> dict[str, str]:
    """A sentence per run, from the summaries by run and by cgroup.

    Parameters
    ----------
    results : dict of str to Result
        The runs (for :func:`identical_runs`).
    runs, cgroups : DataFrame
        :func:`numaexp.summary.summary_frame` with ``by="run"`` and ``by="cgroup"``.
    """
    same = identical_runs(results)
    rows = {r["label"]: r for r in runs.to_dict("records")}
    out = {}
    for label, row in rows.items():
        baseline = row["baseline"]
        out[label] = run_sentence(
            label, row, baseline=baseline, base_row=rows.get(baseline),
            cgroup_rows=cgroups[cgroups["label"] == label].to_dict("records"),
            identical_to=same.get(label))
    return out
