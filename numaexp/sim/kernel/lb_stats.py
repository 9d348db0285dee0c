"""Load-balance statistics (kernel/sched/fair.c): the busiest group and runqueue.

``update_sg_lb_stats`` / ``update_sd_lb_stats`` gather each group's load,
utilisation and running tasks and classify it; ``sched_balance_find_src_group``
applies the decision matrix (with ``calculate_imbalance`` from ``lb_decide``)
and ``sched_balance_find_src_rq`` picks the runqueue to pull from.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import (
    CLK_RD_OVERLOADED,
)
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import (
    CPU_NEWLY_IDLE,
    FBQ_ALL,
    FBQ_REGULAR,
    FBQ_REMOTE,
    GROUP_HAS_SPARE,
    GROUP_OVERLOADED,
    MIGRATE_LOAD,
    MIGRATE_TASK,
    MIGRATE_UTIL,
    SCHED_CAPACITY_SCALE,
    SD_NUMA,
    SD_PREFER_SIBLING,
    U32_MASK,
)
from numaexp.sim.kernel.group_stats import (
    SGS_BUSIEST,
    SGS_LOCAL,
    SGS_TMP,
    classify_sgs,
    sgs_begin,
    sgs_clear,
    sgs_keep_examined,
)
from numaexp.sim.kernel.lb_decide import (
    calculate_imbalance,
    find_src_group_balanced,
    update_sd_pick_busiest,
)
from numaexp.sim.kernel.pelt import cpu_load, cpu_runnable, cpu_util_cfs
from numaexp.sim.kernel.sched import idle_cpu
from numaexp.sim.kernel.topology import span_cpus_of, span_test
from numaexp.sim.kernel.wakeup import update_idle_cpu_scan


@jit
def update_sg_lb_stats(s, env, group, row, local_group):
    """``update_sg_lb_stats``: statistics of a group's CPUs (those still in ``env->cpus``).

    Returns True if some CPU of the group runs more than one task (``sg_overloaded``).
    """
    sgs = s.tmp_sgs[row]
    sgs_clear(s, row)
    overloaded = False
    for i in span_cpus_of(s, s.grp.span[group]):
        if not s.tmp_lb_cpus[i]:
            continue
        sgs.group_load += cpu_load(s, i)
        sgs.group_util += cpu_util_cfs(s, i)
        sgs.group_runnable += cpu_runnable(s, i)
        nr_running = s.cpu.nr_running[i]
        sgs.sum_h_nr_running += nr_running
        sgs.sum_nr_running += nr_running
        if nr_running > 1:
            overloaded = True
        sgs.nr_numa_running += s.cpu.nr_numa_running[i]
        sgs.nr_preferred_running += s.cpu.nr_preferred_running[i]
        if nr_running == 0 and idle_cpu(s, i):
            sgs.idle_cpus += 1
    sgs.group_capacity = s.grp.capacity[group]
    sgs.group_weight = s.grp.weight[group]
    sgs.cores = s.grp.cores[group]
    sgs.group = group
    sgs.group_type = classify_sgs(s.sd.imbalance_pct[env.sd], sgs, s.grp.imbalance[group] != 0)
    if sgs.group_type == GROUP_OVERLOADED:
        sgs.avg_load = sgs.group_load * SCHED_CAPACITY_SCALE // sgs.group_capacity
    return overloaded


@jit_inline
def fbq_classify_group(sgs):
    """``fbq_classify_group``: regular, remote (NUMA tasks off their node) or all."""
    if sgs.sum_h_nr_running > sgs.nr_numa_running:
        return FBQ_REGULAR
    if sgs.sum_h_nr_running > sgs.nr_preferred_running:
        return FBQ_REMOTE
    return FBQ_ALL


@jit_inline
def fbq_classify_rq(s, c):
    """``fbq_classify_rq``."""
    if s.cpu.nr_running[c] > s.cpu.nr_numa_running[c]:
        return FBQ_REGULAR
    if s.cpu.nr_running[c] > s.cpu.nr_preferred_running[c]:
        return FBQ_REMOTE
    return FBQ_ALL


@jit
def update_sd_lb_stats(s, env):
    """``update_sd_lb_stats``: local and busiest group statistics of ``env.sd``.

    Returns True if a busiest group was found.
    """
    sgs_begin(s, idle_cpus=np.int64(U32_MASK), avg_load=0, group_type=GROUP_HAS_SPARE)
    busiest = s.tmp_sgs[SGS_BUSIEST]
    env.total_load = 0
    env.total_capacity = 0
    env.avg_load = 0
    env.prefer_sibling = 0
    sd = env.sd
    found = False
    overloaded = False
    sum_util = 0
    first = s.sd.group_first[sd]
    for k in range(first, first + s.sd.group_count[sd]):
        group = s.sd_grp[k]
        is_local = span_test(s, s.grp.span[group], env.dst_cpu)
        row = SGS_LOCAL if is_local else SGS_TMP
        sgs = s.tmp_sgs[row]
        if update_sg_lb_stats(s, env, group, row, is_local):
            overloaded = True
        sgs.grp_flags = s.sd_grp_flags[k]
        if is_local:
            env.dst_group = group
        elif update_sd_pick_busiest(busiest, sgs):
            sgs_keep_examined(s)  # sgs is the examined row here
            found = True
        env.total_load += sgs.group_load
        env.total_capacity += sgs.group_capacity
        sum_util += sgs.group_util
    if found:
        env.prefer_sibling = 1 if busiest.grp_flags & SD_PREFER_SIBLING else 0
    if s.sd.sd_flags[sd] & SD_NUMA:
        env.fbq_type = fbq_classify_group(busiest)
    if s.sd.parent[sd] < 0:
        s.clk[CLK_RD_OVERLOADED] = 1 if overloaded else 0
    if env.idle != CPU_NEWLY_IDLE and s.cpu.sd_llc[env.dst_cpu] == sd:
        update_idle_cpu_scan(s, s.sd.span[sd], sum_util, s.sd.span_weight[sd],
                             s.sd.imbalance_pct[sd])
    return found


@jit
def sched_balance_find_src_group(s, env):
    """``sched_balance_find_src_group``: the busiest group's row if there is an imbalance
    (``env.imbalance`` > 0), else -1."""
    if not update_sd_lb_stats(s, env):
        env.imbalance = 0
        return -1
    local = s.tmp_sgs[SGS_LOCAL]
    busiest = s.tmp_sgs[SGS_BUSIEST]
    if find_src_group_balanced(env, local, busiest, s.sd.imbalance_pct[env.sd]):
        env.imbalance = 0
        return -1
    calculate_imbalance(env, local, busiest, s.sd.sd_flags[env.sd], s.sd.imb_numa_nr[env.sd])
    return busiest.group if env.imbalance != 0 else -1


@jit
def sched_balance_find_src_rq(s, env, group):
    """``sched_balance_find_src_rq``: the busiest runqueue of the group, -1 if none."""
    busiest = -1
    busiest_util = 0
    busiest_load = 0
    busiest_capacity = 1
    busiest_nr = 0
    for i in span_cpus_of(s, s.grp.span[group]):
        if not s.tmp_lb_cpus[i]:
            continue
        if fbq_classify_rq(s, i) > env.fbq_type:
            continue
        nr_running = s.cpu.nr_running[i]
        if nr_running == 0:
            continue
        capacity = SCHED_CAPACITY_SCALE
        if env.migration_type == MIGRATE_LOAD:
            load = cpu_load(s, i)
            if nr_running == 1 and load > env.imbalance:
                continue  # check_cpu_capacity: full capacity here
            if load * busiest_capacity > busiest_load * capacity:
                busiest_load = load
                busiest_capacity = capacity
                busiest = i
        elif env.migration_type == MIGRATE_UTIL:
            util = max(cpu_util_cfs(s, i), min(cpu_runnable(s, i), SCHED_CAPACITY_SCALE))
            if nr_running <= 1:
                continue
            if busiest_util < util:
                busiest_util = util
                busiest = i
        elif env.migration_type == MIGRATE_TASK:
            if busiest_nr < nr_running:
                busiest_nr = nr_running
                busiest = i
    return busiest
