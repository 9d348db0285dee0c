"""RFC patches 2 and 3 as selectable kernel variants: per-cgroup gate and interleave."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import scenario, small_machine, sweep_workload

from numaexp import Action, Cgroup, KernelConfig, MemPolicy, ScenarioError, Vma, simulate
from numaexp.model import rfc_presets

NUMA_COUNTERS = ("numa_pte_updates", "numa_hint_faults", "numa_hint_faults_local",
                 "numa_pages_migrated", "numa_task_migrated", "numa_task_swapped")


def _in_cgroups(workload, *cgroups: Cgroup, path: str):
    return dataclasses.replace(workload, cgroups=cgroups, processes=tuple(
        dataclasses.replace(p, cgroup=path) for p in workload.processes))


@pytest.fixture(scope="module")
def machine():
    return small_machine(2, 2)


@pytest.fixture(scope="module")
def busy(machine):
    """numa02-like with every page first touched on node 0: mode 1 migrates a lot."""
    return sweep_workload(machine, first_touch_node=0, passes=20000)


def _vm(result):
    return result.vmstat.iloc[0]


@pytest.mark.parametrize("variant", ["rfc-v1", "rfc-v2", "hierarchical"])
def test_mode_4_with_no_cgroup_enabled_counts_nothing(busy, machine, variant):
    vm = _vm(simulate(scenario(busy, machine, mode=4, variant=variant), progress=False))
    for name in NUMA_COUNTERS:
        assert vm[name] == 0, name


def test_mode_4_moves_only_the_enabled_cgroups_counters():
    result = simulate(rfc_presets.per_cgroup(numa_balancing=4, duration_s=8.0), progress=False)
    ms = result.memory_stat.set_index("cgroup")
    assert ms.loc["/mytest", "numa_pte_updates"] > 0
    assert ms.loc["/mytest", "numa_hint_faults"] > 0
    for cg in ("/", "/other"):
        for name in ("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated",
                     "numa_task_migrated", "numa_task_swapped"):
            assert ms.loc[cg, name] == 0, (cg, name)
    sched = result.sched
    assert (sched.loc[sched["cgroup"] == "/other", "total_numa_faults"] == 0).all()
    # mode 1 balances the other cgroup too
    mode1 = simulate(rfc_presets.per_cgroup(numa_balancing=1, duration_s=8.0), progress=False)
    assert mode1.memory_stat.set_index("cgroup").loc["/other", "numa_pte_updates"] > 0


def test_hierarchical_disabled_parent_silences_an_enabled_child(busy, machine):
    work = _in_cgroups(busy, Cgroup("/a"), Cgroup("/a/b", numa_load_balance=1), path="/a/b")
    flat = simulate(scenario(work, machine, mode=4, variant="rfc-v2"), progress=False)
    assert _vm(flat)["numa_hint_faults"] > 0
    tree = simulate(scenario(work, machine, mode=4, variant="hierarchical"), progress=False)
    assert _vm(tree)["numa_pte_updates"] == 0 and _vm(tree)["numa_hint_faults"] == 0
    parent_on = _in_cgroups(busy, Cgroup("/a", numa_load_balance=1),
                            Cgroup("/a/b", numa_load_balance=1), path="/a/b")
    both = simulate(scenario(parent_on, machine, mode=4, variant="hierarchical"), progress=False)
    assert _vm(both)["numa_hint_faults"] > 0


@pytest.mark.parametrize("variant", ["rfc-v1", "rfc-v2"])
def test_pages_marked_before_disabling_still_migrate_but_the_task_is_left_alone(machine,
                                                                                variant):
    # slow random accesses: pages made PROT_NONE by the first scans fault for seconds after
    from numaexp import Pattern, Phase, Process, Thread, Workload

    work = Workload(name="slow", cgroups=(Cgroup("/t", numa_load_balance=1),), processes=(
        Process(name="p", cgroup="/t", vmas=(Vma(name="buf", size="64 MiB", first_touch_node=0),),
                threads=(Thread(name="w", count=4, phases=(Phase(
                    patterns=(Pattern(vma="buf", kind="uniform"),), think_ns=2_000_000.0,
                    duration_s=12.0),)),)),))
    off_at = 4.0
    sc = dataclasses.replace(scenario(work, machine, mode=4, variant=variant, duration=12.0),
                             actions=(Action(at_s=off_at, kind="numa_load_balance", cgroup="/t",
                                             value=0),))
    result = simulate(sc, progress=False)
    ts = result.timeseries
    before = ts[ts["time_s"] <= off_at + 1e-9].iloc[-1]
    after = ts.iloc[-1]
    assert before["numa_pte_updates"] > 0
    assert after["numa_pte_updates"] == before["numa_pte_updates"]  # no scan once disabled
    assert after["numa_pages_migrated"] > before["numa_pages_migrated"]  # marked pages move
    assert after["numa_task_migrated"] == before["numa_task_migrated"]
    assert after["numa_task_swapped"] == before["numa_task_swapped"]
    tts = result.task_timeseries
    pref_before = tts[tts["time_s"] == before["time_s"]]["numa_preferred_nid"].to_numpy()
    pref_after = tts[tts["time_s"] == after["time_s"]]["numa_preferred_nid"].to_numpy()
    assert (pref_before == pref_after).all()


def test_mode_4_on_mainline_scans_but_marks_no_top_tier_page():
    """6.12's sysctl takes 0..4 (SYSCTL_FOUR) and no mainline code reads bit 4: the scanner
    runs (the static key is on), but change_pte_range marks top-tier pages only with the
    NORMAL bit, so nothing faults, and nothing is gated per cgroup."""
    import bitid

    base = bitid.preset_scenario("numa02")
    kernel = dataclasses.replace(base.kernel, numa_balancing=4, variant="mainline")
    result = simulate(dataclasses.replace(base, kernel=kernel), progress=False)
    assert (result.sched["numa_scans"] > 0).all()
    assert _vm(result)["numa_pte_updates"] == 0 and _vm(result)["numa_hint_faults"] == 0


def test_modes_5_to_7_are_rejected():
    for mode in (5, 6, 7):
        with pytest.raises(ScenarioError, match=r"rejects 5\.\.7"):
            KernelConfig(numa_balancing=mode)


def test_interleave_with_the_flag_needs_patch_3(machine):
    work = sweep_workload(machine, policy=MemPolicy(mode="interleave", nodes=(0, 1),
                                                    numa_balancing=True))
    with pytest.raises(ScenarioError, match="EINVAL") as err:
        scenario(work, machine, variant="mainline")
    assert err.value.field.endswith("policy.numa_balancing")


PRIVATE_PAGES = 2 * 64 * 256  # the two private heaps of interleave_pair, 64 MiB each


def test_interleave_without_the_flag_is_never_scanned():
    result = simulate(rfc_presets.interleave_pair(numa_balancing_flag=False, duration_s=10.0),
                      progress=False)
    vm = _vm(result)
    # only the private heaps (default policy, local) are scanned: nothing moves
    assert 0 < vm["numa_pte_updates"] and vm["numa_pte_updates"] % PRIVATE_PAGES == 0
    assert vm["numa_pages_migrated"] == vm["numa_task_migrated"] == vm["numa_task_swapped"] == 0


@pytest.mark.parametrize("variant", ["rfc-v2", "rfc-v2+interleave-as-posted"])
def test_interleave_with_the_flag_moves_tasks_not_pages(variant):
    result = simulate(rfc_presets.interleave_pair(variant=variant, duration_s=10.0),
                      progress=False)
    vm = _vm(result)
    assert vm["numa_hint_faults"] > 0
    # no interleaved page moves; the private heaps follow their tasks (as posted, t1's heap,
    # whose target is node 1 = NUMA_TASK_MIG, stays)
    heaps = PRIVATE_PAGES // 2 if variant.endswith("as-posted") else PRIVATE_PAGES
    assert vm["numa_pages_migrated"] == heaps
    assert vm["numa_task_swapped"] + vm["numa_task_migrated"] > 0
    sched = result.sched
    # t1's memory is on node 1, t2's on node 0: each ends on its memory's node
    assert (sched.loc[sched["process"] == "t1", "current_node"] == 1).all()
    assert (sched.loc[sched["process"] == "t2", "current_node"] == 0).all()


def test_numa_task_mig_as_posted_blocks_migrations_to_node_1():
    machine = small_machine(4, 2)
    work = sweep_workload(machine, first_touch_node=0, passes=20000)
    pages = {}
    for interleave in ("fixed", "as-posted"):
        sc = scenario(work, machine, mode=1, variant=f"rfc-v2+interleave-{interleave}"
                      if interleave == "as-posted" else "rfc-v2")
        ns = simulate(sc, progress=False).numa_stat
        pages[interleave] = ns.groupby("node")["pages"].sum()
    assert pages["fixed"]["N1"] > 0 and pages["fixed"]["N2"] > 0
    assert pages["as-posted"]["N1"] == 0  # no page ever migrates to node 1
    assert pages["as-posted"]["N2"] > 0 and pages["as-posted"]["N3"] > 0


@pytest.mark.parametrize("interleave", ["fixed", "as-posted"])
def test_thp_fault_on_task_only_memory_migrates_to_node_1_as_posted(interleave):
    sc = rfc_presets.interleave_pair(variant="rfc-v2" if interleave == "fixed"
                                     else "rfc-v2+interleave-as-posted", duration_s=8.0)
    procs = tuple(dataclasses.replace(p, vmas=tuple(dataclasses.replace(v, thp=True)
                                                    for v in p.vmas if v.name == "buf")
                                      + tuple(v for v in p.vmas if v.name != "buf"))
                  for p in sc.workload.processes)
    sc = dataclasses.replace(sc, workload=dataclasses.replace(sc.workload, processes=procs))
    vm = _vm(simulate(sc, progress=False))
    assert vm["numa_huge_pte_updates"] > 0
    thp_migrated = vm["thp_migration_success"] * 512
    if interleave == "fixed":
        assert thp_migrated == 0  # the interleaved (THP) memory stays; only the heaps move
    else:  # t2's interleaved memory (on node 0) is pulled to node 1 by THP faults
        assert thp_migrated > 0


def test_patch_1_as_posted_misspells_and_never_counts_vmstat():
    fixed = simulate(rfc_presets.interleave_pair(duration_s=10.0), progress=False)
    posted = simulate(rfc_presets.interleave_pair(variant="rfc-v2+stats-as-posted",
                                                  duration_s=10.0), progress=False)
    assert fixed.vmstat.iloc[0]["numa_task_swapped"] > 0
    assert "numa_task_swapped" not in posted.vmstat.columns
    assert posted.vmstat.iloc[0]["numa_task_swaped"] == 0
    assert posted.vmstat.iloc[0]["numa_task_migrated"] == 0
    # per task and per cgroup the counts are there in both
    assert posted.sched["numa_task_swapped"].sum() == fixed.sched["numa_task_swapped"].sum()
    assert posted.memory_stat["numa_task_swapped"].sum() == \
        fixed.memory_stat["numa_task_swapped"].sum()
    assert (posted.vmstat["variant"] == "rfc-v2+stats-as-posted").all()


def test_mode_4_leaves_top_tier_thps_unscanned_as_posted(machine):
    work = sweep_workload(machine, first_touch_node=0, passes=20000, size="64 MiB")
    work = dataclasses.replace(work, processes=tuple(
        dataclasses.replace(p, vmas=tuple(dataclasses.replace(v, thp=True) for v in p.vmas))
        for p in work.processes))
    mode1 = _vm(simulate(scenario(work, machine, mode=1), progress=False))
    assert mode1["numa_huge_pte_updates"] > 0
    enabled = _in_cgroups(work, Cgroup("/t", numa_load_balance=1), path="/t")
    mode4 = _vm(simulate(scenario(enabled, machine, mode=4), progress=False))
    # change_huge_pmd was not taught about NUMA_BALANCING_CGROUP: every node is top tier here
    assert mode4["numa_huge_pte_updates"] == 0 and mode4["numa_hint_faults"] == 0
