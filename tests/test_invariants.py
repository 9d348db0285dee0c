"""Invariants that hold for every run: pages conserved, capacity respected,
counters consistent (vmstat vs memory.stat vs per-task), mode 0 silent."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario, small_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numaexp import simulate
from numaexp.model import (
    Pattern,
    Phase,
    Process,
    Scenario,
    Stop,
    Thread,
    Vma,
    Workload,
    two_socket,
)

SHARED = ("numa_pages_migrated", "numa_pte_updates", "numa_hint_faults", "numa_task_migrated",
          "numa_task_swapped")
"""Counters the kernel keeps both in /proc/vmstat and in memory.stat."""


@st.composite
def small_scenarios(draw):
    """Random small scenarios: 2-3 nodes, 1-3 processes with random and sweep threads."""
    nodes = draw(st.integers(2, 3))
    cpus = draw(st.integers(1, 4))
    machine = small_machine(nodes=nodes, cpus=cpus, memory="256 MiB")
    procs = []
    for p in range(draw(st.integers(1, 3))):
        mib = draw(st.integers(4, 48))
        kind = draw(st.sampled_from(["sweep", "uniform", "hotset", "zipf", "gaussian"]))
        count = draw(st.integers(1, 3))
        first = draw(st.one_of(st.none(), st.integers(0, nodes - 1)))
        pattern = Pattern(vma="heap", kind=kind, slice_by_thread=kind == "sweep" and count > 1)
        phase = Phase(patterns=(pattern,), duration_s=draw(st.floats(0.5, 3.0)))
        procs.append(Process(name=f"p{p}", vmas=(Vma(name="heap", size=f"{mib} MiB",
                                                     first_touch_node=first),),
                             threads=(Thread(name="t", count=count, phases=(phase,)),)))
    workload = Workload(name="random", processes=tuple(procs))
    mode = draw(st.sampled_from([0, 1]))
    return scenario(workload, machine, mode=mode, seed=draw(st.integers(0, 2**31)),
                    scan_delay_ms=draw(st.sampled_from([100, 1000])),
                    scan_period_min_ms=draw(st.sampled_from([100, 1000])))


def check_invariants(result) -> None:
    """Every invariant the kernel's counters obey, on one result."""
    sc = result.scenario
    vm = result.vmstat.iloc[0]
    # hinting-fault counters
    assert vm["numa_hint_faults_local"] <= vm["numa_hint_faults"]
    assert vm["numa_pages_migrated"] <= vm["numa_hint_faults"]
    assert vm["pgmigrate_success"] == vm["numa_pages_migrated"]
    assert vm["numa_pte_updates"] >= 0 and vm["pgmigrate_fail"] >= 0
    # memory.stat summed over cgroups equals vmstat where the kernel keeps both
    ms = result.memory_stat
    for name in SHARED:
        assert ms[name].sum() == vm[name], name
    # the kernel's hierarchical files: the root's count everything
    root = result.hierarchical("memory_stat").set_index("cgroup").loc["/"]
    for name in SHARED:
        assert root[name] == vm[name], name
    ns = result.hierarchical("numa_stat")
    np.testing.assert_array_equal(ns[ns["cgroup"] == "/"]["pages"].to_numpy(),
                                  result.numa_stat.groupby("node", sort=False)["pages"].sum())
    # per-task statistics add up to the system-wide ones
    sched = result.sched
    assert sched["numa_task_migrated"].sum() == vm["numa_task_migrated"]
    assert sched["numa_task_swapped"].sum() == vm["numa_task_swapped"]
    assert sched["numa_pages_migrated"].sum() <= vm["numa_pages_migrated"]
    # pages conserved and capacity respected at every sample
    ts = result.timeseries
    for nid, node in enumerate(sc.machine.nodes):
        free = ts[f"free_pages_N{nid}"].to_numpy()
        assert (free >= 0).all() and (free <= node.pages).all()
    cts = result.cgroup_timeseries.groupby("time_s")["pages"].sum()
    used = sum(node.pages for node in sc.machine.nodes) - ts[
        [f"free_pages_N{n}" for n in range(sc.machine.nr_nodes)]].sum(axis=1).to_numpy()
    np.testing.assert_array_equal(cts.to_numpy(), used)
    assert cts.max() <= sc.memory_pages
    assert result.numa_stat["pages"].sum() == cts.iloc[-1]
    # times: system time accounts for every kernel action, user time is work
    times = result.times[result.times["level"] == "task"]
    assert (times["user_s"] >= 0).all() and (times["system_s"] >= 0).all()
    if sc.kernel.numa_balancing == 0:
        for name in ("numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults",
                     "numa_hint_faults_local", "numa_pages_migrated", "pgmigrate_success",
                     "pgmigrate_fail", "numa_task_migrated", "numa_task_swapped"):
            assert vm[name] == 0, name
        assert (sched["total_numa_faults"] == 0).all()
        assert (sched["numa_preferred_nid"] == -1).all()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_scenarios())
def test_invariants_on_random_scenarios(sc):
    check_invariants(simulate(sc, progress=False))


@pytest.mark.parametrize("mode", [0, 1])
def test_invariants_on_default_scenario(mode):
    from numaexp.model.presets import default_scenario

    check_invariants(simulate(default_scenario(numa_balancing=mode), progress=False))


def _check_pending_counts(runner) -> None:
    """The per-chunk counts of pending pages agree with the pages' flags."""
    from numaexp.sim.engine.build.memory import pending_counts

    np.testing.assert_array_equal(runner.arrays.pg_pending, pending_counts(runner.arrays.pg))


def _advance_checking_pending(sc, steps: int = 4) -> None:
    from numaexp.sim.engine.runner import Runner

    runner = Runner(sc)
    _check_pending_counts(runner)
    end = sc.stop.limit_s
    for i in range(1, steps + 1):
        runner.advance(end * i / steps)
        _check_pending_counts(runner)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_scenarios())
def test_pending_page_counts_follow_the_flags(sc):
    """``pg_pending`` (which lets re-queue passes skip chunks) never drifts from the flags."""
    _advance_checking_pending(sc)


@pytest.mark.parametrize("which", ["thp", "tiering"])
def test_pending_page_counts_with_thp_and_demotion(which):
    import dataclasses

    from numaexp.model import rfc_presets

    if which == "thp":  # huge PMDs made PROT_NONE and faulted 512 pages at a time
        sc = rfc_presets.interleave_pair(variant="rfc-v2+interleave-as-posted", duration_s=6.0)
        procs = tuple(dataclasses.replace(p, vmas=tuple(dataclasses.replace(v, thp=True)
                                                        for v in p.vmas))
                      for p in sc.workload.processes)
        sc = dataclasses.replace(sc, workload=dataclasses.replace(sc.workload, processes=procs))
    else:  # kswapd demotes pages, PROT_NONE ones included
        sc = rfc_presets.gups_moving_hotset(duration_s=10.0)
    _advance_checking_pending(sc)


def test_hierarchical_cgroup_files_add_each_subtree():
    """``memory.stat`` / ``memory.numa_stat`` of a parent include its children (rstat flush)."""
    machine = two_socket(cpus_per_node=2, memory_per_node="1 GiB")
    phase = Phase(patterns=(Pattern(vma="h"),), duration_s=10.0)
    procs = tuple(Process(name=name, cgroup=cgroup, vmas=(Vma(name="h", size="16 MiB"),),
                          threads=(Thread(name="t", count=2, phases=(phase,)),))
                  for name, cgroup in (("p1", "/a/b"), ("p2", "/a"), ("p3", "/ab")))
    sc = Scenario(name="nested", machine=machine, workload=Workload(name="w", processes=procs),
                  stop=Stop(kind="duration", duration_s=6.0))
    result = simulate(sc, progress=False)
    own = result.memory_stat.set_index("cgroup")
    tree = result.hierarchical("memory_stat").set_index("cgroup")
    counted = "numa_hint_faults"
    assert own.loc["/a/b", counted] > 0 and own.loc["/a", counted] > 0
    assert tree.loc["/a/b", counted] == own.loc["/a/b", counted]
    assert tree.loc["/a", counted] == own.loc["/a", counted] + own.loc["/a/b", counted]
    assert tree.loc["/ab", counted] == own.loc["/ab", counted]  # a sibling, not a child
    assert tree.loc["/", counted] == result.vmstat.iloc[0][counted]
    pages = result.hierarchical("numa_stat").set_index(["cgroup", "node"])["pages"]
    mine = result.numa_stat.set_index(["cgroup", "node"])["pages"]
    for node in ("N0", "N1"):
        assert pages["/a", node] == mine["/a", node] + mine["/a/b", node]
    assert pages.xs("/", level="cgroup").sum() == 3 * 16 * 256
    cts = result.hierarchical("cgroup_timeseries")
    last = cts[cts["time_s"] == cts["time_s"].max()].set_index(["cgroup", "node"])["pages"]
    assert (last == pages.reindex(last.index)).all()
