"""Invariants checked after every fuzzed run (issue 16), on the public result frames.

:func:`violations` lists what a run broke, as one line each:

- pages conserved: used pages (from the nodes' free pages) never fall, agree
  with the cgroups' pages at every sample and with ``numa_stat`` at the end,
  never exceed the workload's pages, and equal the pre-populated pages plus
  one page per first-touch fault (1 to 512 per fault with THP);
- capacity respected: ``0 <= free_pages <= node pages`` at every sample;
- ``numa_hint_faults_local <= numa_hint_faults``;
- migrations bounded by faults, THP counted per page: of
  ``numa_pages_migrated``, ``512 * thp_migration_success`` came with THP
  migrations, and base-page plus THP migrations are at most the hinting faults;
- sample times strictly increasing (system, per task, per cgroup and node);
- ``elapsed_s <= stop`` (the stop rounded up to a whole tick, as runs advance
  tick by tick);
- counters >= 0 and times finite.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from numaexp.readout import SYSTEM_TIME_SPECS

HPAGE_PMD_NR = 512
"""Base pages of a PMD-mapped THP."""


def _stop_s(scenario) -> float:
    hz = scenario.kernel.hz
    return math.ceil(scenario.stop.limit_s * hz - 1e-6) / hz


def _prepopulated(scenario) -> int:
    pages: dict[str, int] = {}
    for proc in scenario.workload.processes:
        for vma in proc.vmas:
            if vma.first_touch_node is not None:
                pages[f"obj:{vma.object}" if vma.object else f"{proc.name}:{vma.name}"] = vma.pages
    return sum(pages.values())


def _strictly_increasing(frame, by: list[str]) -> bool:
    if not by:
        return bool((np.diff(frame["time_s"].to_numpy()) > 0).all())
    return all((np.diff(group["time_s"].to_numpy()) > 0).all()
               for _, group in frame.groupby(by, sort=False))


def violations(scenario, result) -> list[str]:
    """Every invariant ``result`` (a :class:`numaexp.results.Result` of ``scenario``) breaks."""
    out: list[str] = []
    vm = result.vmstat.iloc[0]
    machine = scenario.machine
    thp = any(v.thp for p in scenario.workload.processes for v in p.vmas)
    counters = [c for c in result.vmstat.columns  # the counters, not the run's labels
                if pd.api.types.is_numeric_dtype(result.vmstat[c])]
    negative = [c for c in counters if vm[c] < 0]
    if negative:
        out.append(f"negative vmstat counters {negative}")
    # pages conserved, capacity respected
    ts = result.timeseries
    free = ts[[f"free_pages_N{n}" for n in range(machine.nr_nodes)]].to_numpy()
    pages = np.array([node.pages for node in machine.nodes])
    if (free < 0).any() or (free > pages).any():
        out.append(f"free pages outside [0, node pages]: min {free.min()}, "
                   f"max over capacity {(free - pages).max()}")
    used = pages.sum() - free.sum(axis=1)
    if (np.diff(used) < 0).any():
        out.append(f"used pages fell: {used.tolist()[:20]}")
    if ts["time_s"].is_unique:  # else summing by time is meaningless (reported below)
        cts = result.cgroup_timeseries.groupby("time_s", sort=True)["pages"].sum().to_numpy()
        if len(cts) != len(used) or (cts != used).any():
            out.append(f"cgroup pages {cts.tolist()[-3:]} != used pages {used.tolist()[-3:]}")
    final = int(result.numa_stat["pages"].sum())
    if final != used[-1]:
        out.append(f"numa_stat holds {final} pages, the nodes {used[-1]}")
    if used.max() > scenario.memory_pages:
        out.append(f"{used.max()} pages used of a workload of {scenario.memory_pages}")
    low = _prepopulated(scenario) + int(vm["pgfault_first_touch"])
    high = _prepopulated(scenario) + int(vm["pgfault_first_touch"]) * (HPAGE_PMD_NR if thp else 1)
    if not low <= used[-1] <= high:
        out.append(f"{used[-1]} pages used, but pre-population and first touches allocated "
                   f"{low}..{high}")
    # hinting faults and migrations
    if vm["numa_hint_faults_local"] > vm["numa_hint_faults"]:
        out.append(f"numa_hint_faults_local {vm['numa_hint_faults_local']} > numa_hint_faults "
                   f"{vm['numa_hint_faults']}")
    base = vm["numa_pages_migrated"] - HPAGE_PMD_NR * vm["thp_migration_success"]
    if base < 0 or base + vm["thp_migration_success"] > vm["numa_hint_faults"]:
        out.append(f"numa_pages_migrated {vm['numa_pages_migrated']} (thp_migration_success "
                   f"{vm['thp_migration_success']}) not bounded by numa_hint_faults "
                   f"{vm['numa_hint_faults']}")
    # samples and times
    for name, by in (("timeseries", []), ("task_timeseries", ["pid"]),
                     ("cgroup_timeseries", ["cgroup", "node"])):
        if not _strictly_increasing(result.frames[name], by):
            out.append(f"{name}: sample times not strictly increasing")
    times = result.times
    for column in ("user_s", "system_s", "elapsed_s"):
        values = times[column].to_numpy(dtype=float)
        if not np.isfinite(values).all() or (values < 0).any():
            out.append(f"times.{column} not finite and >= 0: {values.tolist()[:5]}")
    out += _breakdown_violations(times)
    stop = _stop_s(scenario)
    if times["elapsed_s"].max() > stop + 1e-9:
        out.append(f"elapsed_s {times['elapsed_s'].max()} beyond the stop {stop}")
    if result.meta["sim_seconds"] > stop + 1e-9:
        out.append(f"sim_seconds {result.meta['sim_seconds']} beyond the stop {stop}")
    return out


def _breakdown_violations(times) -> list[str]:
    """The accounts of system time add up to ``system_s`` and the AutoNUMA ones to
    ``autonuma_cost_s``, in every row of ``times`` (tasks, cgroups, total); all are >= 0."""
    out = []
    accounts = [name for name, _, _ in SYSTEM_TIME_SPECS]
    autonuma = [name for name, _, counted in SYSTEM_TIME_SPECS if counted]
    values = times[[*accounts, "stolen_s", "autonuma_cost_s"]].to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values < 0).any():
        out.append("times: an account of system time is not finite and >= 0")
    for total, parts in (("system_s", accounts), ("autonuma_cost_s", autonuma)):
        summed = times[parts].to_numpy(dtype=float).sum(axis=1)
        expected = times[total].to_numpy(dtype=float)
        if not np.allclose(summed, expected, rtol=1e-9, atol=1e-12):
            row = int(np.argmax(np.abs(summed - expected)))
            out.append(f"times row {row}: the accounts add up to {summed[row]!r}, "
                       f"{total} is {expected[row]!r}")
    return out


def same_frames(a, b) -> str | None:
    """Where results ``a`` and ``b`` differ (frame and column), or None when identical."""
    import pandas as pd

    for name, frame in a.frames.items():
        try:
            pd.testing.assert_frame_equal(frame, b.frames[name], check_exact=True)
        except AssertionError as err:
            return f"{name}: {str(err).splitlines()[0]}"
    return None
