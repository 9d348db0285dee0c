"""The scheduler's compiled decision functions against the readable references of
``tests/naive_sched.py`` (written from 6.12's fair.c), on random inputs."""

from __future__ import annotations

import naive
import naive_sched as ref
import numba
import numpy as np
from helpers import scenario, sweep_workload
from hypothesis import given, settings
from hypothesis import strategies as st

from numaexp.model import Machine, Node
from numaexp.model.presets import tiered
from numaexp.sim.engine.dtypes import LB_ENV_DTYPE, SG_LB_STATS_DTYPE
from numaexp.sim.engine.params import Facts, build_params
from numaexp.sim.kernel import group_stats, lb_decide, lb_migrate, select, wakeup
from numaexp.sim.kernel.sched import adjust_numa_imbalance

FIELDS = ("avg_load", "group_load", "group_capacity", "group_util", "group_runnable",
          "sum_nr_running", "sum_h_nr_running", "idle_cpus", "group_weight", "group_type",
          "cores")


@st.composite
def group_stats_rows(draw, group_type=None):
    """A plausible ``sg_lb_stats``: up to 64 CPUs, loads and utilizations near their scale."""
    weight = draw(st.integers(1, 64))
    nr = draw(st.integers(0, 3 * weight))
    idle = draw(st.integers(0, weight))
    row = {
        "group_weight": weight, "cores": weight, "sum_nr_running": nr, "sum_h_nr_running": nr,
        "idle_cpus": idle, "group_capacity": 1024 * weight,
        "group_util": draw(st.integers(0, 1100 * weight)),
        "group_runnable": draw(st.integers(0, 1100 * max(nr, 1))),
        "group_load": draw(st.integers(0, 1100 * max(nr, 1))),
        "group_type": draw(st.sampled_from([ref.HAS_SPARE, ref.FULLY_BUSY, ref.IMBALANCED,
                                            ref.OVERLOADED])) if group_type is None
        else group_type,
    }
    row["avg_load"] = draw(st.integers(0, 4096))
    return row


def _record(row: dict):
    out = np.zeros(1, dtype=SG_LB_STATS_DTYPE)
    for key in FIELDS:
        out[0][key] = row[key]
    return out


IMBALANCE_PCT = st.sampled_from([110, 117, 125])
PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(pct=IMBALANCE_PCT, row=group_stats_rows(), imbalanced=st.booleans())
def test_group_classify_matches_kernel(pct, row, imbalanced):
    assert group_stats.group_classify(pct, row["sum_nr_running"], row["group_weight"],
                                      row["group_capacity"], row["group_util"],
                                      row["group_runnable"], imbalanced) == \
        ref.group_classify(pct, row, imbalanced)


@numba.njit
def _pick(busiest, sgs):
    return lb_decide.update_sd_pick_busiest(busiest[0], sgs[0])


@PROPERTY
@given(busiest=group_stats_rows(), sgs=group_stats_rows())
def test_update_sd_pick_busiest_matches_kernel(busiest, sgs):
    assert _pick(_record(busiest), _record(sgs)) == ref.update_sd_pick_busiest(busiest, sgs)


@numba.njit
def _calc(env, stats, sd_flags, imb_numa_nr):
    lb_decide.calculate_imbalance(env[0], stats[0], stats[1], sd_flags, imb_numa_nr)
    return env[0].migration_type, env[0].imbalance


@numba.njit
def _balanced(env, stats, pct):
    return lb_decide.find_src_group_balanced(env[0], stats[0], stats[1], pct)


SD_FLAGS = st.sampled_from([0, ref.SD_SHARE_LLC, ref.SD_NUMA])


@st.composite
def domain_pair(draw):
    """Local and busiest group statistics, and the domain's totals."""
    local, busiest = draw(group_stats_rows()), draw(group_stats_rows())
    total_capacity = local["group_capacity"] + busiest["group_capacity"] + \
        draw(st.integers(0, 4)) * 1024
    total_load = local["group_load"] + busiest["group_load"] + draw(st.integers(0, 4096))
    return local, busiest, total_load, total_capacity


def _env(idle, prefer_sibling, total_load, total_capacity):
    env = np.zeros(1, dtype=LB_ENV_DTYPE)
    env[0]["idle"] = idle
    env[0]["prefer_sibling"] = prefer_sibling
    env[0]["total_load"] = total_load
    env[0]["total_capacity"] = total_capacity
    return env


@PROPERTY
@given(pair=domain_pair(), idle=st.sampled_from([ref.NOT_IDLE, ref.IDLE, ref.NEWLY_IDLE]),
       prefer_sibling=st.booleans(), sd_flags=SD_FLAGS, imb_numa_nr=st.integers(1, 16))
def test_calculate_imbalance_matches_kernel(pair, idle, prefer_sibling, sd_flags, imb_numa_nr):
    local, busiest, total_load, total_capacity = pair
    stats = np.concatenate([_record(local), _record(busiest)])
    env = _env(idle, prefer_sibling, total_load, total_capacity)
    got = _calc(env, stats, sd_flags, imb_numa_nr)
    want = ref.calculate_imbalance(idle, prefer_sibling, sd_flags, imb_numa_nr, local, busiest,
                                   total_load, total_capacity)
    if want[1] == 0 and got[1] == 0:
        return  # balanced: the migration type is not looked at
    assert (int(got[0]), int(got[1])) == want


@PROPERTY
@given(pair=domain_pair(), idle=st.sampled_from([ref.NOT_IDLE, ref.IDLE, ref.NEWLY_IDLE]),
       prefer_sibling=st.booleans(), pct=IMBALANCE_PCT)
def test_find_src_group_decision_matches_kernel(pair, idle, prefer_sibling, pct):
    local, busiest, total_load, total_capacity = pair
    stats = np.concatenate([_record(local), _record(busiest)])
    env = _env(idle, prefer_sibling, total_load, total_capacity)
    assert _balanced(env, stats, pct) == ref.find_src_group_balanced(
        idle, prefer_sibling, pct, local, busiest, total_load, total_capacity)


@PROPERTY
@given(imbalance=st.integers(-5, 40), dst_running=st.integers(0, 64),
       imb_numa_nr=st.integers(0, 32))
def test_adjust_numa_imbalance_matches_kernel(imbalance, dst_running, imb_numa_nr):
    assert adjust_numa_imbalance(imbalance, dst_running, imb_numa_nr) == \
        naive.adjust_numa_imbalance(imbalance, dst_running, imb_numa_nr)


NODE = st.integers(0, 3)


@PROPERTY
@given(numa_enabled=st.booleans(), has_faults=st.booleans(), sd_numa=st.booleans(),
       src=NODE, dst=NODE, preferred=st.integers(-1, 3), nr=st.integers(0, 8),
       nr_pref=st.integers(0, 8), idle=st.sampled_from([0, 1, 2]),
       src_w=st.integers(0, 1000), dst_w=st.integers(0, 1000))
def test_migrate_degrades_locality_matches_kernel(numa_enabled, has_faults, sd_numa, src, dst,
                                                  preferred, nr, nr_pref, idle, src_w, dst_w):
    assert lb_migrate.locality_verdict(numa_enabled, has_faults, sd_numa, src, dst, preferred, nr,
                               nr_pref, idle, src_w, dst_w) == \
        ref.migrate_degrades_locality(numa_enabled, has_faults, sd_numa, src, dst, preferred, nr,
                                      nr_pref, idle, src_w, dst_w)


@PROPERTY
@given(kthread=st.booleans(), allowed=st.booleans(), running=st.booleans(),
       active=st.booleans(), degrades=st.sampled_from([-1, 0, 1]),
       since=st.integers(0, 2_000_000), failed=st.integers(0, 6), tries=st.integers(0, 2))
def test_can_migrate_task_matches_kernel(kthread, allowed, running, active, degrades, since,
                                         failed, tries):
    assert lb_migrate.migrate_verdict(kthread, allowed, running, active, degrades, since, failed,
                              tries) == \
        ref.can_migrate_task(kthread, allowed, running, active, degrades, since, failed, tries)


LOAD = st.integers(0, 8192)


@PROPERTY
@given(this_load=LOAD, prev_load=LOAD, task_load=st.integers(0, 1024),
       current_load=st.integers(0, 1024), sync=st.booleans(), pct=IMBALANCE_PCT)
def test_wake_affine_weight_matches_kernel(this_load, prev_load, task_load, current_load, sync,
                                           pct):
    assert wakeup.wake_affine_weight(this_load, prev_load, task_load, current_load, sync,
                                     pct) == \
        ref.wake_affine_weight(this_load, prev_load, task_load, current_load, sync, pct)


@numba.njit
def _dst_group(stats, sd_flags, pct, imb_numa_nr, local_pref, idlest_pref):
    return select.find_dst_group_decision(stats[0], stats[1], sd_flags, pct, imb_numa_nr,
                                          local_pref, idlest_pref)


@PROPERTY
@given(local=group_stats_rows(), idlest=group_stats_rows(), sd_flags=SD_FLAGS, pct=IMBALANCE_PCT,
       sd_imb=st.integers(1, 16), allowed=st.integers(1, 64), local_pref=st.booleans(),
       idlest_pref=st.booleans())
def test_find_dst_group_choice_matches_kernel(local, idlest, sd_flags, pct, sd_imb, allowed,
                                              local_pref, idlest_pref):
    for row in (local, idlest):  # the slow path never sees imbalanced groups
        if row["group_type"] == ref.IMBALANCED:
            row["group_type"] = ref.HAS_SPARE
    stats = np.concatenate([_record(local), _record(idlest)])
    assert _dst_group(stats, sd_flags, pct, min(allowed, sd_imb), local_pref, idlest_pref) == \
        ref.find_dst_group_pushes(local, idlest, sd_flags, pct, sd_imb, allowed, local_pref,
                                  idlest_pref)


def test_examples_from_fair_c():
    # two idle-ish nodes: one task more on the local one stays (the NUMA allowance)
    local = {"group_type": ref.HAS_SPARE, "idle_cpus": 1, "sum_nr_running": 1, "avg_load": 0}
    idlest = {"group_type": ref.HAS_SPARE, "idle_cpus": 2, "sum_nr_running": 0, "avg_load": 0}
    assert ref.find_dst_group_pushes(local, idlest, ref.SD_NUMA, 117, 1, 2, False, False)
    # ... but not when the destination node would run more than imb_numa_nr tasks
    local["sum_nr_running"] = 0
    assert not ref.find_dst_group_pushes(local, idlest, ref.SD_NUMA, 117, 1, 2, False, False)


@st.composite
def machines_with_cpuless_nodes(draw):
    """1-4 nodes with CPUs (any symmetric SLIT), then 1-2 memory-only nodes at any distance
    (nearer than, as far as, or further than the CPU nodes are from each other)."""
    cpu_nodes = draw(st.integers(1, 4))
    n = cpu_nodes + draw(st.integers(1, 2))
    dist = [[10] * n for _ in range(n)]
    for a in range(n):
        for b in range(a + 1, n):
            dist[a][b] = dist[b][a] = draw(st.integers(11, 254))
    nodes = tuple(Node(cpus=2 if i < cpu_nodes else 0, memory="64 MiB") for i in range(n))
    return Machine(name="m", nodes=nodes, distance=tuple(map(tuple, dist))), cpu_nodes


@PROPERTY
@given(drawn=machines_with_cpuless_nodes())
def test_cpuless_nodes_do_not_change_sched_max_numa_distance(drawn):
    """What goes wrong today, item 6: the max distance of ``group_weight`` /
    ``preferred_group_nid`` is taken over nodes with CPUs only."""
    machine, cpu_nodes = drawn
    expected = ref.sched_max_numa_distance(machine.distance, [n.cpus > 0 for n in machine.nodes])
    cpu_only = Machine(name="cpu nodes", nodes=machine.nodes[:cpu_nodes],
                       distance=tuple(row[:cpu_nodes] for row in machine.distance[:cpu_nodes]))
    assert machine.sched_max_numa_distance == expected == cpu_only.sched_max_numa_distance
    assert machine.numa_distances[-1] == expected  # the NUMA domain levels end there too
    # the value the jitted score_nearby_nodes and preferred_group_nid read (s.p.max_distance)
    sc = scenario(sweep_workload(machine, size="8 MiB"), machine)
    params = build_params(Facts(scenario=sc, nr_tasks=machine.nr_cpus, nr_pages=2048,
                                nr_cgroups=1, row_list_base=0, nr_work_tasks=machine.nr_cpus))
    assert params["max_distance"] == expected


def test_far_cpuless_node_example():
    # two CPU nodes 20 apart, a CXL-like memory node 40 from both: the kernel's max is 20
    dist = ((10, 20, 40), (20, 10, 40), (40, 40, 10))
    assert ref.sched_max_numa_distance(dist, [True, True, False]) == 20
    m = Machine(name="m", nodes=(Node(cpus=2, memory="1 GiB"), Node(cpus=2, memory="1 GiB"),
                                 Node(cpus=0, memory="1 GiB")), distance=dist)
    assert m.sched_max_numa_distance == 20
    t = tiered()
    assert t.sched_max_numa_distance == ref.sched_max_numa_distance(
        t.distance, [n.cpus > 0 for n in t.nodes]) < max(map(max, t.distance))
