"""The load balancer's decisions on group statistics (kernel/sched/fair.c).

Pure functions of ``sg_lb_stats`` rows and a few scalars, so that tests can
compare them with readable references: which group is busiest
(``update_sd_pick_busiest``), whether a domain is balanced
(``sched_balance_find_src_group``'s decision matrix) and how much to move
(``calculate_imbalance`` and ``sibling_imbalance``).

Departures: no misfit, asymmetric-packing or SMT-balance groups (CPUs are
symmetric and there is no SMT level); ``is_rd_overutilized`` only matters with
energy-aware scheduling, which these machines do not have.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import (
    CPU_NOT_IDLE,
    GROUP_FULLY_BUSY,
    GROUP_HAS_SPARE,
    GROUP_IMBALANCED,
    GROUP_OVERLOADED,
    MIGRATE_LOAD,
    MIGRATE_TASK,
    MIGRATE_UTIL,
    SCHED_CAPACITY_SCALE,
    SD_NUMA,
    SD_SHARE_LLC,
    U32_MASK,
)
from numaexp.sim.kernel.sched import adjust_numa_imbalance


@jit_inline
def s32(x):
    """``x`` stored into a C ``int`` (two's complement of its low 32 bits)."""
    return ((x + 0x80000000) & U32_MASK) - 0x80000000


@jit_inline
def update_sd_pick_busiest(busiest, sgs):
    """``update_sd_pick_busiest``: is the group of ``sgs`` busier than ``busiest``?"""
    if sgs.sum_h_nr_running == 0:
        return False
    if sgs.group_type > busiest.group_type:
        return True
    if sgs.group_type < busiest.group_type:
        return False
    if sgs.group_type == GROUP_OVERLOADED:
        return sgs.avg_load > busiest.avg_load
    if sgs.group_type == GROUP_IMBALANCED:
        return False
    if sgs.group_type == GROUP_FULLY_BUSY:
        return sgs.avg_load >= busiest.avg_load
    # group_has_spare: the fewest idle CPUs, then the most tasks
    if sgs.idle_cpus > busiest.idle_cpus:
        return False
    if sgs.idle_cpus == busiest.idle_cpus and sgs.sum_nr_running <= busiest.sum_nr_running:
        return False
    return True


@jit_inline
def sibling_imbalance(idle, busiest, local):
    """``sibling_imbalance``: tasks to move so both groups run as many tasks per core."""
    if idle == CPU_NOT_IDLE or busiest.sum_nr_running == 0:
        return 0
    ncores_busiest = busiest.cores
    ncores_local = local.cores
    if ncores_busiest == ncores_local:
        return max(busiest.sum_nr_running - local.sum_nr_running, 0)
    imbalance = max(ncores_local * busiest.sum_nr_running
                    - ncores_busiest * local.sum_nr_running, 0)
    imbalance = (2 * imbalance + ncores_local + ncores_busiest) // (ncores_local + ncores_busiest)
    if imbalance <= 1 and local.sum_nr_running == 0 and busiest.sum_nr_running > 1:
        imbalance = 2
    return imbalance


@jit
def calculate_imbalance(env, local, busiest, sd_flags, imb_numa_nr):
    """``calculate_imbalance``: set ``env.migration_type`` and ``env.imbalance``.

    Reads ``env.idle``, ``env.prefer_sibling``, ``env.total_load`` and
    ``env.total_capacity``; may set ``local.avg_load`` and ``env.avg_load``.
    """
    if busiest.group_type == GROUP_IMBALANCED:
        env.migration_type = MIGRATE_TASK
        env.imbalance = 1
        return
    if local.group_type == GROUP_HAS_SPARE:
        if busiest.group_type > GROUP_FULLY_BUSY and not sd_flags & SD_SHARE_LLC:
            env.migration_type = MIGRATE_UTIL
            env.imbalance = max(local.group_capacity, local.group_util) - local.group_util
            if env.idle != CPU_NOT_IDLE and env.imbalance == 0:
                env.migration_type = MIGRATE_TASK
                env.imbalance = 1
            return
        if busiest.group_weight == 1 or env.prefer_sibling:
            env.migration_type = MIGRATE_TASK
            env.imbalance = sibling_imbalance(env.idle, busiest, local)
        else:
            # max_t(long, 0, unsigned int difference): a negative difference wraps
            env.migration_type = MIGRATE_TASK
            env.imbalance = (local.idle_cpus - busiest.idle_cpus) & U32_MASK
        if sd_flags & SD_NUMA:  # adjust_numa_imbalance takes and returns an int
            env.imbalance = adjust_numa_imbalance(s32(env.imbalance), local.sum_nr_running + 1,
                                                  imb_numa_nr)
        env.imbalance >>= 1
        return
    if local.group_type < GROUP_OVERLOADED:
        local.avg_load = local.group_load * SCHED_CAPACITY_SCALE // local.group_capacity
        if local.avg_load >= busiest.avg_load:
            env.imbalance = 0
            return
        env.avg_load = env.total_load * SCHED_CAPACITY_SCALE // env.total_capacity
        if local.avg_load >= env.avg_load:
            env.imbalance = 0
            return
    else:  # set by sched_balance_find_src_group for an overloaded local group
        env.avg_load = env.total_load * SCHED_CAPACITY_SCALE // env.total_capacity
    env.migration_type = MIGRATE_LOAD
    # unsigned long products (a negative difference wraps), the result stored in a long
    a = np.uint64(busiest.avg_load - env.avg_load) * np.uint64(busiest.group_capacity)
    b = np.uint64(env.avg_load - local.avg_load) * np.uint64(local.group_capacity)
    env.imbalance = np.int64(min(a, b) // np.uint64(SCHED_CAPACITY_SCALE))


@jit
def find_src_group_balanced(env, local, busiest, imbalance_pct):
    """The decision matrix of ``sched_balance_find_src_group``: True if the domain is
    balanced (no task to pull); False to go on to ``calculate_imbalance``.

    May set ``env.avg_load`` (the domain's average load, overloaded local group).
    """
    if busiest.group_type == GROUP_IMBALANCED:
        return False
    if local.group_type > busiest.group_type:
        return True
    if local.group_type == GROUP_OVERLOADED:
        if local.avg_load >= busiest.avg_load:
            return True
        env.avg_load = env.total_load * SCHED_CAPACITY_SCALE // env.total_capacity
        if local.avg_load >= env.avg_load:
            return True
        if 100 * busiest.avg_load <= imbalance_pct * local.avg_load:
            return True
    if env.prefer_sibling and local.group_type == GROUP_HAS_SPARE and \
            sibling_imbalance(env.idle, busiest, local) > 1:
        return False
    if busiest.group_type != GROUP_OVERLOADED:
        if env.idle == CPU_NOT_IDLE:
            return True
        if busiest.group_weight > 1 and local.idle_cpus <= busiest.idle_cpus + 1:
            return True
        if busiest.sum_h_nr_running == 1:
            return True
    return False
