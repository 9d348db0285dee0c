"""What NUMA balancing should do, on small versions of known workloads."""

from __future__ import annotations

import dataclasses

import numpy as np
from helpers import scenario, small_machine, sweep_workload

from numaexp import simulate
from numaexp.model import (
    MemPolicy,
    Pattern,
    Phase,
    Process,
    Scenario,
    Stop,
    Thread,
    Vma,
    Workload,
    four_node,
)
from numaexp.model.presets import autonumabench_scenario, numa02, random_access


def final_locality(result) -> np.ndarray:
    """Each thread's share of accesses on its own node at the last sample it was alive.

    For a sweep this is the share of the thread's slice that sits on its node.
    """
    tts = result.task_timeseries
    alive = tts[tts["alive"]]
    return alive.sort_values("time_s").groupby("pid")["locality"].last().to_numpy()


def test_numa02_first_touched_on_node0_converges_in_mode1_and_stays_in_mode0():
    machine = small_machine(nodes=2, cpus=4)
    workload = sweep_workload(machine, size="64 MiB", passes=1e9, first_touch_node=0)
    on = simulate(scenario(workload, machine, mode=1, duration=12.0), progress=False)
    loc = final_locality(on)
    assert len(loc) == machine.nr_cpus
    assert (loc > 0.9).all(), loc
    off = simulate(scenario(workload, machine, mode=0, duration=12.0), progress=False)
    stat = off.numa_stat.groupby("node")["pages"].sum()
    assert stat["N0"] == 64 * 256 and stat["N1"] == 0
    # threads on node 1 keep running remote in mode 0
    assert sorted(np.round(final_locality(off), 3).tolist()) == [0.0] * 4 + [1.0] * 4


def test_numa02_preset_first_touch_node_matches_machine_halves():
    from numaexp.model import four_node

    machine = four_node(cpus_per_node=2)
    workload = numa02(machine, memory_scale=1 / 16, passes=1e9, first_touch_node=0)
    result = simulate(scenario(workload, machine, mode=1, duration=10.0), progress=False)
    assert (final_locality(result) > 0.9).all()


def test_hard_bind_variants_migrate_nothing():
    from numaexp.model import four_node

    machine = four_node(cpus_per_node=2)
    for name in ("numa01_HARD_BIND", "numa01_THREAD_ALLOC_HARD_BIND", "numa02_HARD_BIND",
                 "numa02_SMT_HARD_BIND"):
        sc = autonumabench_scenario(name, machine=machine, memory_scale=1 / 64)
        sc = dataclasses.replace(sc, stop=dataclasses.replace(sc.stop, max_duration_s=30))
        vm = simulate(sc, progress=False).vmstat.iloc[0]
        assert vm["numa_pages_migrated"] == 0, name
        assert vm["numa_pte_updates"] == 0, name  # MPOL_BIND without MOF: never scanned


def test_scan_period_of_all_local_task_grows_toward_max():
    machine = small_machine(nodes=2, cpus=4)
    cpus = tuple(machine.node_cpus(0))
    workload = Workload(name="local", processes=(Process(
        name="p", main_thread="sleeps",
        vmas=(Vma(name="buf", size="32 MiB", first_touch_node=0),),
        threads=(Thread(name="w", count=2, cpus=cpus, phases=(Phase(
            patterns=(Pattern(vma="buf", kind="sweep", slice_by_thread=True),),
            duration_s=400.0),)),)),))
    # +30 % per completed pass: from 1 s to the 60 s maximum takes ~200 s of scanning
    result = simulate(scenario(workload, machine, mode=1, duration=300.0), progress=False)
    vm = result.vmstat.iloc[0]
    assert vm["numa_hint_faults"] > 0
    assert vm["numa_hint_faults_local"] == vm["numa_hint_faults"]
    tts = result.task_timeseries
    for _pid, part in tts.groupby("pid"):
        periods = part.sort_values("time_s")["numa_scan_period_ms"].to_numpy()
        assert (np.diff(periods[periods > 0]) >= 0).all()  # never shrinks
        assert periods[-1] == 60000  # scan_period_max for an RSS below one 256 MB window


def test_interleave_without_flag_is_never_scanned():
    machine = small_machine(nodes=2, cpus=2)
    workload = sweep_workload(machine, size="16 MiB", passes=1e9,
                              policy=MemPolicy(mode="interleave", nodes=(0, 1)))
    result = simulate(scenario(workload, machine, mode=1, duration=5.0), progress=False)
    vm = result.vmstat.iloc[0]
    assert vm["numa_pte_updates"] == 0 and vm["numa_hint_faults"] == 0
    stat = result.numa_stat.groupby("node")["pages"].sum()
    assert stat["N0"] == stat["N1"] == 16 * 256 // 2


def test_scan_period_min_acts_only_above_the_scan_window_floor():
    """``task_scan_min`` is max(1000 / (2560 MB / scan_size), scan_period_min / windows):
    with 256 MB windows the floor is 100 ms, and a 1 GiB mm has 4 windows, so a
    scan_period_min of 100 or 250 ms gives the same scanning and 1000 ms less.

    The accesses are shared and at random over 4 nodes, so locality stays poor and the
    scan period falls to that minimum (numa02, whose pages become local, only slows its
    scanning down: scan_period_min then never matters)."""
    machine = four_node(cpus_per_node=4, memory_per_node="4 GiB")
    sc = Scenario(name="random", machine=machine,
                  workload=random_access(machine, memory="1 GiB", threads=16, duration_s=1000),
                  stop=Stop(kind="duration", duration_s=10.0))
    updates = {}
    for smin in (100, 250, 1000):
        run = dataclasses.replace(sc, kernel=dataclasses.replace(sc.kernel,
                                                                 scan_period_min_ms=smin))
        updates[smin] = int(simulate(run, progress=False).vmstat.iloc[0]["numa_pte_updates"])
    assert updates[100] == updates[250] > updates[1000] > 0, updates


def test_vma_pid_reset_period_is_four_scan_delays_rounded_once():
    """``VMA_PID_RESET_PERIOD`` (4 * scan_delay ms) is rounded up to ticks as a whole.

    At HZ 250 a 1001 ms delay is 251 ticks, yet 4004 ms is 1001 ticks, not 4 * 251.
    """
    from numaexp.sim.engine.runner import Runner

    machine = small_machine(nodes=2, cpus=2)
    workload = sweep_workload(machine, size="16 MiB", passes=1e9)
    sc = scenario(workload, machine, mode=1, duration=4.0, hz=250, scan_delay_ms=1001)
    runner = Runner(sc)
    runner.advance(4.0)
    vm = runner.arrays.vm
    seen = vm["has_state"] == 1
    assert seen.any()
    gap = vm["pids_active_reset"][seen] - vm["next_scan"][seen]
    # first scan near 1 s, next_scan 251 ticks later, the first reset 1001 ticks after
    # that: beyond the run's end, so every gap is one period (4 * 251 = 1004 if rounded per delay)
    assert (gap == 1001).all(), gap
