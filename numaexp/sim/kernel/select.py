"""Where a waking or new task runs: ``select_task_rq_fair`` and its helpers (fair.c).

Wake-ups take the fast path (:mod:`numaexp.sim.kernel.wakeup`): ``wake_affine``
between the waker's CPU and the task's previous one, then ``select_idle_sibling``
in the target's LLC. New tasks (``WF_FORK``) take
the slow path down the domains that have ``SD_BALANCE_FORK``:
``sched_balance_find_dst_group`` (which keeps a new task near its parent
while the NUMA imbalance allowance permits) and
``sched_balance_find_dst_group_cpu``.

Departures: no energy-aware placement, SMT or cluster scans (none of them
applies to these machines); a CPU that never went idle since the start of
the run counts as idle since time 1 ns (``rq->idle_stamp``).
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import (
    GROUP_FULLY_BUSY,
    GROUP_HAS_SPARE,
    GROUP_OVERLOADED,
    NICE_0_LOAD,
    SCHED_CAPACITY_SCALE,
    SD_NUMA,
    SD_WAKE_AFFINE,
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
from numaexp.sim.kernel.pelt import (
    cpu_load,
    cpu_load_without,
    cpu_util_without,
)
from numaexp.sim.kernel.sched import adjust_numa_imbalance, idle_cpu
from numaexp.sim.kernel.topology import (
    span_cpus_of,
    span_intersects_allowed,
    span_test,
)
from numaexp.sim.kernel.wakeup import (
    record_wakee,
    select_idle_sibling,
    wake_affine,
    wake_wide,
)

WF_FORK = 0x04  # SD_BALANCE_FORK
WF_TTWU = 0x08  # SD_BALANCE_WAKE
WF_SYNC = 0x10


@jit_inline
def task_running_on_cpu(s, c, p):
    """``task_running_on_cpu``: ``p`` is queued on ``c`` (a new task never is)."""
    return 1 if s.tk.cpu[p] == c and s.tk.on_rq[p] else 0


@jit
def update_sg_wakeup_stats(s, sd, group, row, p):
    """``update_sg_wakeup_stats``: a group's statistics as if ``p`` were not there."""
    sgs = s.tmp_sgs[row]
    sgs_clear(s, row)
    for c in span_cpus_of(s, s.grp.span[group]):
        if not s.tk_allowed[p, c]:
            continue
        sgs.group_load += cpu_load_without(s, c, p)
        sgs.group_util += cpu_util_without(s, c, p)
        sgs.group_runnable += cpu_load_without(s, c, p)
        local = task_running_on_cpu(s, c, p)
        nr_running = s.cpu.nr_running[c] - local
        sgs.sum_h_nr_running += nr_running
        sgs.sum_nr_running += nr_running
        if nr_running == 0:
            sgs.idle_cpus += 1
    sgs.group_capacity = s.grp.capacity[group]
    sgs.group_weight = s.grp.weight[group]
    sgs.group = group
    sgs.group_type = classify_sgs(s.sd.imbalance_pct[sd], sgs, False)
    if sgs.group_type == GROUP_FULLY_BUSY or sgs.group_type == GROUP_OVERLOADED:
        sgs.avg_load = sgs.group_load * SCHED_CAPACITY_SCALE // sgs.group_capacity


@jit_inline
def update_pick_idlest(idlest, sgs):
    """``update_pick_idlest``: is the group of ``sgs`` idler than the idlest so far?"""
    if sgs.group_type < idlest.group_type:
        return True
    if sgs.group_type > idlest.group_type:
        return False
    if sgs.group_type == GROUP_OVERLOADED or sgs.group_type == GROUP_FULLY_BUSY:
        if idlest.avg_load <= sgs.avg_load:
            return False
    elif sgs.group_type == GROUP_HAS_SPARE:
        if idlest.idle_cpus > sgs.idle_cpus:
            return False
        if idlest.idle_cpus == sgs.idle_cpus and idlest.group_util <= sgs.group_util:
            return False
    else:
        return False
    return True


@jit_inline
def allowed_in_span(s, span, p):
    """``cpumask_weight(span & p->cpus_ptr)``."""
    n = 0
    for cpu in span_cpus_of(s, span):
        n += s.tk_allowed[p, cpu]
    return n


@jit
def find_dst_group_decision(local, idlest, sd_flags, imbalance_pct, imb_numa_nr, local_pref,
                            idlest_pref):
    """The end of ``sched_balance_find_dst_group``: True to push the task to the idlest group.

    ``local_pref`` / ``idlest_pref``: the task's preferred node is that of the
    waking CPU / of the idlest group's first CPU (``CONFIG_NUMA_BALANCING``);
    ``imb_numa_nr`` is already the minimum with the task's allowed CPUs in
    the local group.
    """
    if local.group_type < idlest.group_type:
        return False
    if local.group_type > idlest.group_type:
        return True
    if local.group_type == GROUP_OVERLOADED or local.group_type == GROUP_FULLY_BUSY:
        imbalance = NICE_0_LOAD * (imbalance_pct - 100) // 100
        if sd_flags & SD_NUMA and idlest.avg_load + imbalance >= local.avg_load:
            return False
        if idlest.avg_load >= local.avg_load + imbalance:
            return False
        if 100 * local.avg_load <= imbalance_pct * idlest.avg_load:
            return False
        return True
    if local.group_type == GROUP_HAS_SPARE:
        if sd_flags & SD_NUMA:
            if local_pref:
                return False
            if idlest_pref:
                return True
            imbalance = abs(local.idle_cpus - idlest.idle_cpus)
            if not adjust_numa_imbalance(imbalance, local.sum_nr_running + 1, imb_numa_nr):
                return False
        return local.idle_cpus < idlest.idle_cpus
    return False


@jit
def sched_balance_find_dst_group(s, sd, p, this_cpu):
    """``sched_balance_find_dst_group``: the least busy group of ``sd`` for ``p``, or -1 to
    stay in the local group."""
    sgs_begin(s, idle_cpus=0, avg_load=np.int64(U32_MASK), group_type=GROUP_OVERLOADED)
    local = s.tmp_sgs[SGS_LOCAL]
    idlest = s.tmp_sgs[SGS_BUSIEST]
    tmp = s.tmp_sgs[SGS_TMP]
    found_local = False
    found_idlest = False
    for k in range(s.sd.group_first[sd], s.sd.group_first[sd] + s.sd.group_count[sd]):
        group = s.sd_grp[k]
        span = s.grp.span[group]
        if not span_intersects_allowed(s, span, p):
            continue
        local_group = span_test(s, span, this_cpu)
        # one call with the row as a variable, as the kernel's one call with sgs: a
        # constant row would compile update_sg_wakeup_stats once per value
        row = SGS_LOCAL if local_group else SGS_TMP
        update_sg_wakeup_stats(s, sd, group, row, p)
        if local_group:
            found_local = True
        elif update_pick_idlest(idlest, tmp):
            sgs_keep_examined(s)
            found_idlest = True
    if not found_idlest:
        return -1
    if not found_local:
        return idlest.group
    imb_numa_nr = s.sd.imb_numa_nr[sd]
    local_pref = False
    idlest_pref = False
    pref = s.tk.numa_preferred_nid[p]
    if s.sd.sd_flags[sd] & SD_NUMA:
        local_pref = s.cpu.node[this_cpu] == pref
        first = s.span_cpus[s.spans.first[s.grp.span[idlest.group]]]
        idlest_pref = s.cpu.node[first] == pref
        imb_numa_nr = min(allowed_in_span(s, s.grp.span[local.group], p), imb_numa_nr)
    if find_dst_group_decision(local, idlest, s.sd.sd_flags[sd], s.sd.imbalance_pct[sd],
                               imb_numa_nr, local_pref, idlest_pref):
        return idlest.group
    return -1


@jit
def sched_balance_find_dst_group_cpu(s, group, p, this_cpu):
    """``sched_balance_find_dst_group_cpu``: the most recently idled allowed CPU of the
    group, else its least loaded one (``this_cpu`` if none is less loaded)."""
    span = s.grp.span[group]
    sp = s.spans[span]
    if s.grp.weight[group] == 1:
        return s.span_cpus[sp.first]
    min_load = np.int64(1) << 62
    least_loaded = this_cpu
    shallowest = -1
    latest_idle = 0
    for c in span_cpus_of(s, span):
        if not s.tk_allowed[p, c]:
            continue
        if idle_cpu(s, c):
            if s.cpu.idle_stamp[c] > latest_idle:
                latest_idle = s.cpu.idle_stamp[c]
                shallowest = c
        elif shallowest == -1:
            load = cpu_load(s, c)
            if load < min_load:
                min_load = load
                least_loaded = c
    return shallowest if shallowest != -1 else least_loaded


@jit
def sched_balance_find_dst_cpu(s, sd, p, cpu, prev_cpu, sd_flag):
    """``sched_balance_find_dst_cpu``: walk down from ``sd`` to the idlest CPU for ``p``."""
    new_cpu = cpu
    if not span_intersects_allowed(s, s.sd.span[sd], p):
        return prev_cpu
    while sd >= 0:
        if not s.sd.sd_flags[sd] & sd_flag:
            sd = s.sd.child[sd]
            continue
        group = sched_balance_find_dst_group(s, sd, p, cpu)
        if group < 0:
            sd = s.sd.child[sd]
            continue
        new_cpu = sched_balance_find_dst_group_cpu(s, group, p, cpu)
        if new_cpu == cpu:
            sd = s.sd.child[sd]
            continue
        cpu = new_cpu
        weight = s.sd.span_weight[sd]
        sd = -1
        tmp = s.cpu.sd[cpu]
        while tmp >= 0:
            if weight <= s.sd.span_weight[tmp]:
                break
            if s.sd.sd_flags[tmp] & sd_flag:
                sd = tmp
            tmp = s.sd.parent[tmp]
    return new_cpu


@jit
def select_task_rq_fair(s, p, prev_cpu, this_cpu, waker, wake_flags, jiffies):
    """``select_task_rq_fair``: the CPU a waking (``WF_TTWU``) or new (``WF_FORK``) task runs on.

    ``this_cpu`` is the CPU doing the wake-up (the waker's, or the CPU whose
    timer fired), ``waker`` the waking task (-1: none, a timer).
    """
    sync = 1 if wake_flags & WF_SYNC else 0
    sd_flag = wake_flags & 0xF
    new_cpu = prev_cpu
    want_affine = False
    if wake_flags & WF_TTWU:
        record_wakee(s, waker, p, jiffies)
        want_affine = not wake_wide(s, waker, p, this_cpu) and s.tk_allowed[p, this_cpu] == 1
    sd = -1
    tmp = s.cpu.sd[this_cpu]
    while tmp >= 0:
        if want_affine and s.sd.sd_flags[tmp] & SD_WAKE_AFFINE and \
                span_test(s, s.sd.span[tmp], prev_cpu):
            if this_cpu != prev_cpu:
                new_cpu = wake_affine(s, tmp, p, waker, this_cpu, prev_cpu, sync)
            sd = -1
            break
        if s.sd.sd_flags[tmp] & sd_flag:
            sd = tmp
        elif not want_affine:
            break
        tmp = s.sd.parent[tmp]
    if sd >= 0:
        new_cpu = sched_balance_find_dst_cpu(s, sd, p, this_cpu, prev_cpu, sd_flag)
    elif wake_flags & WF_TTWU:
        new_cpu = select_idle_sibling(s, p, prev_cpu, new_cpu)
    return new_cpu
