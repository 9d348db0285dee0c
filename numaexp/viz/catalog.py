"""Which figures apply to a set of runs, drawn by name: what ``numaexp run``, the dashboard
and :func:`numaexp.viz.export` of a comparison write."""

from __future__ import annotations

from numaexp.viz.cgroups import plot_memory_stat, plot_pages_per_node
from numaexp.viz.costs import plot_system_time
from numaexp.viz.differences import plot_cgroup_counters, plot_difference
from numaexp.viz.placement import plot_placement
from numaexp.viz.style import runs
from numaexp.viz.tiering import plot_tiering
from numaexp.viz.times import plot_times
from numaexp.viz.timeseries import plot_counters, plot_locality, plot_scan_period

PLOTS = {
    "counters": plot_counters,
    "locality": plot_locality,
    "times": plot_times,
    "system_time": plot_system_time,
    "difference": plot_difference,
    "pages_per_node": plot_pages_per_node,
    "cgroup_counters": plot_cgroup_counters,
    "placement": plot_placement,
    "scan_period": plot_scan_period,
    "memory_stat": plot_memory_stat,
    "tiering": plot_tiering,
}
"""Every figure of a comparison by name, in display order."""


def _cgroups_with_threads(result) -> int:
    return result.task_timeseries["cgroup"].nunique()


def applicable(source) -> list[str]:
    """Names of :data:`PLOTS` that show something for ``source``.

    ``difference`` needs two runs; ``cgroup_counters`` two cgroups with
    threads; ``tiering`` a run on a machine with a lower memory tier.
    """
    results = runs(source)
    names = []
    for name in PLOTS:
        if name == "difference" and len(results) < 2:
            continue
        if name == "cgroup_counters" and not any(_cgroups_with_threads(r) > 1
                                                 for r in results.values()):
            continue
        if name == "tiering" and not any(
                r.scenario is not None and not all(r.scenario.machine.toptier)
                for r in results.values()):
            continue
        names.append(name)
    return names


def draw(source, names=None) -> dict:
    """``{name: Figure}`` of the applicable figures (or of ``names``), in display order."""
    wanted = applicable(source) if names is None else list(names)
    unknown = [n for n in wanted if n not in PLOTS]
    if unknown:
        raise ValueError(f"unknown figure(s) {', '.join(unknown)} (figures: {', '.join(PLOTS)})")
    return {name: PLOTS[name](source) for name in wanted}
