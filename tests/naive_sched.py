"""Slow, plain-Python references for the scheduler's decision functions (6.12 fair.c).

Written from ``kernel/sched/fair.c`` of Debian's 6.12, not from the simulator,
with C's integer widths where the kernel relies on them (``unsigned int`` and
``unsigned long`` wrap, see :mod:`naive`). Statistics rows are dicts named as
``struct sg_lb_stats``'s fields. ``allow_numa_imbalance`` no longer exists in
6.12: it was folded into ``adjust_numa_imbalance`` (:func:`naive.adjust_numa_imbalance`)
in 5.18, which both the balancer and fork placement call.
"""

from __future__ import annotations

from naive import adjust_numa_imbalance, s32, s64, u32, u64

SCHED_CAPACITY_SCALE = 1024
NICE_0_LOAD_SHIFTED = 1024  # scale_load_down(NICE_0_LOAD)
SD_SHARE_LLC = 1 << 9  # include/linux/sched/sd_flags.h order
SD_NUMA = 1 << 14

# enum group_type
HAS_SPARE, FULLY_BUSY, MISFIT, SMT_BALANCE, ASYM_PACKING, IMBALANCED, OVERLOADED = range(7)
# enum migration_type
MIGRATE_LOAD, MIGRATE_UTIL, MIGRATE_TASK, MIGRATE_MISFIT = range(4)
# enum cpu_idle_type
NOT_IDLE, IDLE, NEWLY_IDLE = 0, 1, 2

SYSCTL_SCHED_MIGRATION_COST = 500_000  # ns


def group_has_capacity(imbalance_pct: int, sgs: dict) -> bool:
    """``group_has_capacity``."""
    if u32(sgs["sum_nr_running"]) < u32(sgs["group_weight"]):
        return True
    if u64(sgs["group_capacity"] * imbalance_pct) < u64(sgs["group_runnable"] * 100):
        return False
    if u64(sgs["group_capacity"] * 100) > u64(sgs["group_util"] * imbalance_pct):
        return True
    return False


def group_is_overloaded(imbalance_pct: int, sgs: dict) -> bool:
    """``group_is_overloaded``."""
    if u32(sgs["sum_nr_running"]) <= u32(sgs["group_weight"]):
        return False
    if u64(sgs["group_capacity"] * 100) < u64(sgs["group_util"] * imbalance_pct):
        return True
    if u64(sgs["group_capacity"] * imbalance_pct) < u64(sgs["group_runnable"] * 100):
        return True
    return False


def group_classify(imbalance_pct: int, sgs: dict, imbalanced: bool) -> int:
    """``group_classify`` for symmetric CPUs without SMT (no asym, smt_balance, misfit)."""
    if group_is_overloaded(imbalance_pct, sgs):
        return OVERLOADED
    if imbalanced:
        return IMBALANCED
    if not group_has_capacity(imbalance_pct, sgs):
        return FULLY_BUSY
    return HAS_SPARE


def update_sd_pick_busiest(busiest: dict, sgs: dict) -> bool:
    """``update_sd_pick_busiest`` for symmetric CPUs without SMT groups."""
    if not sgs["sum_h_nr_running"]:
        return False
    if sgs["group_type"] > busiest["group_type"]:
        return True
    if sgs["group_type"] < busiest["group_type"]:
        return False
    kind = sgs["group_type"]
    if kind == OVERLOADED:
        return sgs["avg_load"] > busiest["avg_load"]
    if kind == IMBALANCED:
        return False
    if kind == FULLY_BUSY:
        return not sgs["avg_load"] < busiest["avg_load"]
    if sgs["idle_cpus"] > busiest["idle_cpus"]:
        return False
    if sgs["idle_cpus"] == busiest["idle_cpus"] and \
            sgs["sum_nr_running"] <= busiest["sum_nr_running"]:
        return False
    return True


def sibling_imbalance(idle: int, busiest: dict, local: dict) -> int:
    """``sibling_imbalance`` (``long``; ``lsub_positive`` stops at 0)."""
    if not idle or not busiest["sum_nr_running"]:
        return 0
    nb, nl = busiest["cores"], local["cores"]
    if nb == nl:
        return max(busiest["sum_nr_running"] - local["sum_nr_running"], 0)
    imbalance = max(nl * busiest["sum_nr_running"] - nb * local["sum_nr_running"], 0)
    imbalance = (2 * imbalance + nl + nb) // (nl + nb)
    if imbalance <= 1 and local["sum_nr_running"] == 0 and busiest["sum_nr_running"] > 1:
        imbalance = 2
    return imbalance


def calculate_imbalance(idle: int, prefer_sibling: bool, sd_flags: int, imb_numa_nr: int,
                        local: dict, busiest: dict, total_load: int,
                        total_capacity: int) -> tuple[int, int]:
    """``calculate_imbalance`` (no misfit, asym or SMT groups): (migration_type, imbalance).

    ``env->imbalance`` is a ``long``; the idle-CPU difference is computed in
    ``unsigned int`` before ``max_t(long, ...)``, and ``adjust_numa_imbalance`` takes
    and returns an ``int``, as in the kernel.
    """
    if busiest["group_type"] == IMBALANCED:
        return MIGRATE_TASK, 1
    if local["group_type"] == HAS_SPARE:
        if busiest["group_type"] > FULLY_BUSY and not sd_flags & SD_SHARE_LLC:
            imbalance = u64(max(local["group_capacity"], local["group_util"])
                            - local["group_util"])
            if idle and imbalance == 0:
                return MIGRATE_TASK, 1
            return MIGRATE_UTIL, s64(imbalance)
        if busiest["group_weight"] == 1 or prefer_sibling:
            imbalance = sibling_imbalance(idle, busiest, local)
        else:
            imbalance = max(0, u32(local["idle_cpus"] - busiest["idle_cpus"]))
        if sd_flags & SD_NUMA:
            imbalance = adjust_numa_imbalance(s32(imbalance), local["sum_nr_running"] + 1,
                                              imb_numa_nr)
        return MIGRATE_TASK, imbalance >> 1
    local_avg = local["avg_load"]
    sds_avg = 0
    if local["group_type"] < OVERLOADED:
        local_avg = u64(local["group_load"] * SCHED_CAPACITY_SCALE) // local["group_capacity"]
        if local_avg >= busiest["avg_load"]:
            return MIGRATE_LOAD, 0
        sds_avg = u64(total_load * SCHED_CAPACITY_SCALE) // total_capacity
        if local_avg >= sds_avg:
            return MIGRATE_LOAD, 0
    else:
        sds_avg = u64(total_load * SCHED_CAPACITY_SCALE) // total_capacity
    a = u64(u64(busiest["avg_load"] - sds_avg) * busiest["group_capacity"])
    b = u64(u64(sds_avg - local_avg) * local["group_capacity"])
    return MIGRATE_LOAD, s64(min(a, b) // SCHED_CAPACITY_SCALE)


def find_src_group_balanced(idle: int, prefer_sibling: bool, imbalance_pct: int, local: dict,
                            busiest: dict, total_load: int, total_capacity: int) -> bool:
    """The decision matrix of ``sched_balance_find_src_group``: is the domain balanced?"""
    if busiest["group_type"] == IMBALANCED:
        return False
    if local["group_type"] > busiest["group_type"]:
        return True
    if local["group_type"] == OVERLOADED:
        if local["avg_load"] >= busiest["avg_load"]:
            return True
        avg = u64(total_load * SCHED_CAPACITY_SCALE) // total_capacity
        if local["avg_load"] >= avg:
            return True
        if 100 * busiest["avg_load"] <= imbalance_pct * local["avg_load"]:
            return True
    if prefer_sibling and local["group_type"] == HAS_SPARE and \
            sibling_imbalance(idle, busiest, local) > 1:
        return False
    if busiest["group_type"] != OVERLOADED:
        if not idle:
            return True
        if busiest["group_weight"] > 1 and local["idle_cpus"] <= busiest["idle_cpus"] + 1:
            return True
        if busiest["sum_h_nr_running"] == 1:
            return True
    return False


def migrate_degrades_locality(numa_enabled: bool, has_faults: bool, sd_numa: bool,
                              src_nid: int, dst_nid: int, preferred: int, src_nr_running: int,
                              src_nr_preferred_running: int, idle: int, src_weight: int,
                              dst_weight: int) -> int:
    """``migrate_degrades_locality``: 1 degrades, 0 improves, -1 no opinion.

    ``src_weight`` / ``dst_weight`` are the task's (or its group's) weights on
    the two nodes, at their distance.
    """
    if not numa_enabled:
        return -1
    if not has_faults or not sd_numa:
        return -1
    if src_nid == dst_nid:
        return -1
    if src_nid == preferred:
        return 1 if src_nr_running > src_nr_preferred_running else -1
    if dst_nid == preferred:
        return 0
    if idle == IDLE:
        return -1
    return 1 if dst_weight < src_weight else 0


def can_migrate_task(kthread_per_cpu: bool, allowed_on_dst: bool, running: bool,
                     active_lb: bool, degrades: int, since_ran_ns: int, nr_balance_failed: int,
                     cache_nice_tries: int) -> bool:
    """``can_migrate_task`` without throttling or core scheduling: may the task move?

    ``degrades`` is :func:`migrate_degrades_locality`'s answer, ``since_ran_ns``
    ``rq_clock_task(src) - p->se.exec_start`` (``task_hot``'s delta).
    """
    if kthread_per_cpu:
        return False
    if not allowed_on_dst:
        return False
    if running:
        return False
    if active_lb:
        return True
    hot = degrades
    if hot == -1:
        hot = 1 if since_ran_ns < SYSCTL_SCHED_MIGRATION_COST else 0
    return hot <= 0 or nr_balance_failed > cache_nice_tries


def wake_affine_weight(this_load: int, prev_load: int, task_load: int, current_load: int,
                       sync: bool, imbalance_pct: int, this_capacity: int = 1024,
                       prev_capacity: int = 1024) -> bool:
    """``wake_affine_weight`` (WA_BIAS on): True to pull the task to the waking CPU.

    ``this_eff_load`` / ``prev_eff_load`` are ``s64``.
    """
    this_eff_load = this_load
    if sync:
        if current_load > this_eff_load:
            return True
        this_eff_load -= current_load
    this_eff_load += task_load
    this_eff_load *= 100
    this_eff_load *= prev_capacity
    prev_eff_load = prev_load - task_load
    prev_eff_load *= 100 + (imbalance_pct - 100) // 2
    prev_eff_load *= this_capacity
    if sync:
        prev_eff_load += 1
    return s64(this_eff_load) < s64(prev_eff_load)


def find_dst_group_pushes(local: dict, idlest: dict, sd_flags: int, imbalance_pct: int,
                          sd_imb_numa_nr: int, local_allowed: int, this_node_preferred: bool,
                          idlest_node_preferred: bool) -> bool:
    """The end of ``sched_balance_find_dst_group``: push the new or waking task to the idlest
    group (True) or keep it in the local group (False)?

    ``local_allowed`` is ``cpumask_weight(local group & p->cpus_ptr)``;
    ``p->nr_cpus_allowed != NR_CPUS`` holds (Debian's NR_CPUS is 8192).
    """
    if local["group_type"] < idlest["group_type"]:
        return False
    if local["group_type"] > idlest["group_type"]:
        return True
    kind = local["group_type"]
    if kind in (OVERLOADED, FULLY_BUSY):
        imbalance = NICE_0_LOAD_SHIFTED * (imbalance_pct - 100) // 100
        if sd_flags & SD_NUMA and idlest["avg_load"] + imbalance >= local["avg_load"]:
            return False
        if idlest["avg_load"] >= local["avg_load"] + imbalance:
            return False
        if 100 * local["avg_load"] <= imbalance_pct * idlest["avg_load"]:
            return False
        return True
    if kind != HAS_SPARE:
        return False
    if sd_flags & SD_NUMA:
        if this_node_preferred:
            return False
        if idlest_node_preferred:
            return True
        imb_numa_nr = min(local_allowed, sd_imb_numa_nr)
        imbalance = abs(local["idle_cpus"] - idlest["idle_cpus"])
        if not adjust_numa_imbalance(imbalance, local["sum_nr_running"] + 1, imb_numa_nr):
            return False
    return local["idle_cpus"] < idlest["idle_cpus"]


def sched_max_numa_distance(distance, has_cpu) -> int:
    """``sched_max_numa_distance`` as ``sched_init_numa`` (kernel/sched/topology.c) sets it.

    The de-duplicating pass marks ``node_distance(i, j)`` for every pair of nodes that
    ``for_each_cpu_node_but`` visits (online nodes *with CPUs*), the sorted marks become
    ``sched_domains_numa_distance[]``, and the largest of them is
    ``sched_max_numa_distance``, the ``max_dist`` of ``score_nearby_nodes`` and
    ``preferred_group_nid``. A memory-only node is never visited, however far it is.

    Parameters
    ----------
    distance : sequence of sequences of int
        The SLIT (``node_distance``).
    has_cpu : sequence of bool
        ``N_CPU`` of each node.
    """
    seen = set()
    for i, cpu_i in enumerate(has_cpu):
        if not cpu_i:
            continue
        for j, cpu_j in enumerate(has_cpu):
            if cpu_j:
                seen.add(distance[i][j])
    levels = sorted(seen)
    return levels[-1]
