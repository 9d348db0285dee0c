"""Memory tiering (modes 2 and 3): promotion rate limit, hot threshold, demotion, THP counters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from numaexp import Action, simulate
from numaexp.model import rfc_presets
from numaexp.model.memory import watermarks


def _pmbench(**kw):
    kw.setdefault("duration_s", 30.0)
    return rfc_presets.pmbench_gaussian(**kw)


@pytest.fixture(scope="module")
def limited():
    """Mode 2 with a low promotion rate limit (16 MB/s = 4096 pages/s)."""
    sc = _pmbench()
    sc = dataclasses.replace(sc, kernel=dataclasses.replace(sc.kernel,
                                                            promote_rate_limit_mbps=16))
    return sc, simulate(sc, progress=False)


def test_promotions_per_second_never_exceed_the_rate_limit(limited):
    sc, result = limited
    limit = sc.kernel.promote_rate_limit_mbps << 8  # pages per second
    ts = result.timeseries
    assert ts["pgpromote_success"].iloc[-1] > 0
    per_sample = ts["pgpromote_success"].diff().dropna().to_numpy()
    # samples are 1 s apart; a sample can straddle two 1-s rate-limit windows
    assert per_sample.max() <= 2 * limit + 1
    assert ts["pgpromote_success"].iloc[-1] <= limit * (ts["time_s"].iloc[-1] + 1)
    assert ts["pgpromote_candidate"].iloc[-1] > ts["pgpromote_success"].iloc[-1]


def test_hot_threshold_stays_within_its_range_and_adapts():
    sc = _pmbench(duration_s=40.0)
    sc = dataclasses.replace(sc, kernel=dataclasses.replace(sc.kernel, scan_period_max_ms=4000))
    th = simulate(sc, progress=False).timeseries["hot_threshold_ms_N0"]
    assert th.between(125, 2000).all()
    assert th.nunique() > 1  # the default (huge) rate limit only lets it climb
    assert th.is_monotonic_increasing and th.iloc[-1] == 2000


@pytest.mark.parametrize("demotion", [True, False])
def test_demotion_lets_the_fast_tier_recover_above_the_promo_watermark(demotion):
    sc = _pmbench(demotion_enabled=demotion)
    result = simulate(sc, progress=False)
    promo = watermarks(sc.machine, sc.kernel).promo[0]
    ts = result.timeseries
    low_point = ts["free_pages_N0"].idxmin()
    later = ts.loc[low_point:, "free_pages_N0"]
    if demotion:
        assert result.vmstat.iloc[0]["pgdemote_kswapd"] > 0
        assert later.max() > promo
    else:
        assert result.vmstat.iloc[0]["pgdemote_kswapd"] == 0
        assert later.max() <= promo


def test_mode_2_alone_leaves_top_tier_pages_unscanned():
    vm2 = simulate(_pmbench(numa_balancing=2), progress=False).vmstat.iloc[0]
    vm3 = simulate(_pmbench(numa_balancing=3), progress=False).vmstat.iloc[0]
    assert vm2["numa_hint_faults"] > 0
    # the only CPU node is the top tier: every fault of mode 2 is on the slow node
    assert vm2["numa_hint_faults_local"] == 0
    assert vm3["numa_hint_faults_local"] > 0


def test_hot_pages_gather_on_the_fast_tier_over_time():
    result = simulate(_pmbench(duration_s=40.0), progress=False)
    tts = result.task_timeseries
    per_time = tts.groupby("time_s")["locality"].mean()  # share of accesses hitting DRAM
    start = per_time[per_time.index > 0].iloc[0]  # first touch spilled part of the hot set
    assert per_time.iloc[-1] > start + 0.05
    assert per_time[per_time.index > 0].is_monotonic_increasing


def test_slow_tier_faults_stay_out_of_task_statistics():
    result = simulate(_pmbench(numa_balancing=2), progress=False)
    vm = result.vmstat.iloc[0]
    assert vm["numa_hint_faults"] > 2 * vm["numa_pages_migrated"] > 0
    # only faults that promoted their page (now on the top tier) reach the task's
    # statistics, and those decay
    assert 0 < result.sched["total_numa_faults"].sum() <= vm["numa_pages_migrated"]


def test_switching_tiering_on_at_run_time_resets_the_threshold():
    sc = _pmbench(numa_balancing=1, duration_s=20.0)
    sc = dataclasses.replace(sc, actions=(Action(at_s=10.0, kind="numa_balancing", value=3),))
    ts = simulate(sc, progress=False).timeseries
    before = ts[ts["time_s"] <= 10.0]
    after = ts[ts["time_s"] > 10.0]
    assert before["pgpromote_success"].iloc[-1] == 0
    assert after["pgpromote_success"].iloc[-1] > 0
    assert (ts["hot_threshold_ms_N0"] == 1000).all()


def test_thp_scans_count_512_ptes_per_huge_pte():
    sc = _pmbench(numa_balancing=3, duration_s=15.0)
    procs = tuple(dataclasses.replace(p, vmas=tuple(dataclasses.replace(v, thp=True)
                                                    for v in p.vmas))
                  for p in sc.workload.processes)
    sc = dataclasses.replace(sc, workload=dataclasses.replace(sc.workload, processes=procs))
    vm = simulate(sc, progress=False).vmstat.iloc[0]
    assert vm["numa_huge_pte_updates"] > 0
    assert vm["numa_pte_updates"] == 512 * vm["numa_huge_pte_updates"]
    assert vm["numa_pages_migrated"] % 512 == 0
    assert vm["thp_migration_success"] * 512 == vm["pgmigrate_success"]
    assert np.isfinite(vm["numa_hint_faults"])


def _direct_reclaim_scenario():
    """A 240 MiB process fills a 256 MiB DRAM node, then a 160 MiB one bound to it allocates."""
    from numaexp.model import (
        KernelConfig,
        MemPolicy,
        Pattern,
        Phase,
        Process,
        Scenario,
        Stop,
        Thread,
        Vma,
        Workload,
        tiered,
    )

    def process(name, size, gbps, policy=None):
        sweep = Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0),),
                      passes=3, stream_gbps=gbps)
        return Process(name=name, vmas=(Vma(name="buf", size=size, policy=policy),),
                       threads=(Thread(name="t", phases=(sweep,)),))

    machine = tiered(dram_nodes=1, slow_nodes=1, cpus_per_node=2, dram_per_node="256 MiB",
                     slow_per_node="1 GiB")
    workload = Workload(name="fill", processes=(
        process("hog", "240 MiB", 40.0),
        process("bound", "160 MiB", 2.0, MemPolicy(mode="bind", nodes=(0,)))))
    return Scenario(name="direct", machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=0, demotion_enabled=True),
                    stop=Stop(kind="duration", duration_s=2.0))


def test_direct_reclaim_demotes_when_a_bound_task_finds_its_node_full():
    """kswapd cannot keep up, so the bound task's allocation slow path demotes by
    direct reclaim (``pgdemote_direct``) to the slow tier before taking the page."""
    sc = _direct_reclaim_scenario()
    result = simulate(sc, progress=False)
    vm = result.vmstat.iloc[0]
    assert vm["pgdemote_direct"] > 0 and vm["alloc_failed"] == 0
    assert result.memory_stat["pgdemote_direct"].sum() == vm["pgdemote_direct"]
    pages = result.numa_stat.groupby("node")["pages"].sum()
    assert pages.sum() == vm["pgfault_first_touch"] == sc.memory_pages  # every page, once
    assert pages["N1"] >= vm["pgdemote_direct"]  # the demoted pages are on the slow tier


def test_a_first_touch_with_no_room_anywhere_is_counted_and_warned():
    """Without demotion the bound task's pages find no room: the simulator drops
    those accesses (the kernel would OOM-kill), counts them and warns."""
    import dataclasses as dc

    from numaexp.model import KernelConfig

    sc = _direct_reclaim_scenario()
    sc = dc.replace(sc, kernel=KernelConfig(numa_balancing=0, demotion_enabled=False))
    with pytest.warns(UserWarning, match="found no allowed node with free memory"):
        result = simulate(sc, progress=False)
    vm = result.vmstat.iloc[0]
    assert vm["alloc_failed"] > 0 and vm["pgdemote_direct"] == 0
    assert vm["pgfault_first_touch"] + vm["alloc_failed"] <= sc.memory_pages
    assert vm["pgfault_first_touch"] < sc.memory_pages
