"""NUMA task placement: ``task_numa_migrate`` and its helpers (kernel/sched/fair.c).

The search state ``struct task_numa_env`` is an int64 array (``E_*``
indices). ``numa_classify``, ``load_too_imbalanced`` and
``task_numa_compare_score`` are pure functions of integers, callable from
Python. Departures: each task's load (``task_h_load``, PELT load and
runnable averages) is that of one always-runnable nice-0 task, 1024; CPU
capacity is 1024; there is no SMT idle-core preference.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.constants import (
    CMP_MOVE,
    CMP_SKIP,
    CMP_SWAP,
    EV_MOVE_NUMA,
    EV_STICK_NUMA,
    EV_SWAP_NUMA,
    MC_NUMA_TASK_MIGRATED,
    MC_NUMA_TASK_SWAPPED,
    NODE_FULLY_BUSY,
    NODE_HAS_SPARE,
    NODE_OVERLOADED,
    NUMA_NO_NODE,
    NUMA_TASK_MIGRATED,
    NUMA_TASK_SWAPPED,
    SCHED_CAPACITY_SCALE,
    SMALLIMP,
)
from numaexp.sim.jit import jit, jit_inline
from numaexp.sim.sched import adjust_numa_imbalance, set_task_cpu
from numaexp.sim.trace import trace_event
from numaexp.sim.weights import NUMA_BACKPLANE, group_weight, task_weight

# struct task_numa_env fields
E_P, E_SRC_CPU, E_SRC_NID, E_DST_CPU, E_DST_NID, E_IMB_NUMA_NR, E_IMB_PCT, E_DIST = range(8)
E_BEST_TASK, E_BEST_IMP, E_BEST_CPU = 8, 9, 10
E_SRC_STATS, E_DST_STATS = 12, 20
# struct numa_stats fields (offsets inside a stats block)
NS_LOAD, NS_RUNNABLE, NS_UTIL, NS_CAPACITY, NS_NR, NS_WEIGHT, NS_TYPE, NS_IDLE = range(8)
ENV_SIZE = 28

TASK_H_LOAD = SCHED_CAPACITY_SCALE


@jit_inline
def cdiv(a, b):
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


@jit
def numa_classify(imbalance_pct, nr_running, weight, capacity, util, runnable):
    """``numa_classify``: NODE_HAS_SPARE, NODE_FULLY_BUSY or NODE_OVERLOADED."""
    if nr_running > weight and (capacity * 100 < util * imbalance_pct
                                or capacity * imbalance_pct < runnable * 100):
        return NODE_OVERLOADED
    if nr_running < weight or (capacity * 100 > util * imbalance_pct
                               and capacity * imbalance_pct > runnable * 100):
        return NODE_HAS_SPARE
    return NODE_FULLY_BUSY


@jit
def load_too_imbalanced(src_load, dst_load, src_capacity, dst_capacity, orig_src_load,
                        orig_dst_load):
    """``load_too_imbalanced``: would the move make the capacity-weighted imbalance worse?"""
    imb = abs(dst_load * src_capacity - src_load * dst_capacity)
    old_imb = abs(orig_dst_load * src_capacity - orig_src_load * dst_capacity)
    return imb > old_imb


@jit
def task_numa_compare_score(taskimp, groupimp, maymove, p_group, cur_group, cur_pref,
                            has_best_task, best_pref, best_imp, src_nid, dst_nid, dst_has_spare,
                            cur_tw_src, cur_tw_dst, cur_gw_src, cur_gw_dst, load, src_load,
                            dst_load, src_capacity, dst_capacity):
    """Scoring of ``task_numa_compare`` once a swap candidate ``cur`` is known.

    Parameters
    ----------
    taskimp, groupimp : int
        Improvement of moving ``p`` (task and group weights, per mille).
    maymove : bool
        A plain move of ``p`` is allowed.
    p_group, cur_group : int
        Group ids of ``p`` and ``cur`` (-1: none).
    cur_pref : int
        ``cur``'s preferred node.
    has_best_task, best_pref : bool, int
        Whether the best candidate so far is a task, and its preferred node.
    best_imp : int
        ``env->best_imp``.
    src_nid, dst_nid : int
        Source and destination nodes.
    dst_has_spare : bool
        The destination node is classified NODE_HAS_SPARE.
    cur_tw_src, cur_tw_dst, cur_gw_src, cur_gw_dst : int
        ``cur``'s task and group weights on the source and destination.
    load : int
        ``task_h_load(p) - task_h_load(cur)``.
    src_load, dst_load, src_capacity, dst_capacity : int
        Node loads and capacities from the stats.

    Returns
    -------
    (action, imp) : (int, int)
        ``CMP_SKIP``, ``CMP_MOVE`` (take a move of ``p`` with ``imp``) or
        ``CMP_SWAP`` (take a swap with ``cur`` with ``imp``).
    """
    imp = groupimp if p_group >= 0 else taskimp
    moveimp = imp
    if has_best_task and best_pref == src_nid and cur_pref != src_nid:
        return CMP_SKIP, 0
    if cur_group == p_group:
        if dst_has_spare:
            return CMP_SKIP, 0
        imp = taskimp + cur_tw_src - cur_tw_dst
        if cur_group >= 0:
            imp -= cdiv(imp, 16)
    elif cur_group >= 0 and p_group >= 0:
        imp += cur_gw_src - cur_gw_dst
    else:
        imp += cur_tw_src - cur_tw_dst
    if cur_pref == dst_nid:
        imp -= cdiv(imp, 16)
    if cur_pref == src_nid:
        imp += cdiv(imp, 8)
    if maymove and moveimp > imp and moveimp > best_imp:
        return CMP_MOVE, moveimp
    if has_best_task and cur_pref == src_nid and best_pref != src_nid:
        return CMP_SWAP, imp
    if imp < SMALLIMP or imp <= best_imp + SMALLIMP // 2:
        return CMP_SKIP, 0
    if load != 0 and load_too_imbalanced(src_load - load, dst_load + load, src_capacity,
                                         dst_capacity, src_load, dst_load):
        return CMP_SKIP, 0
    return CMP_SWAP, imp


@jit_inline
def idle_cpu(s, c):
    """``idle_cpu``: the CPU has no task."""
    return s.cpu.nr_running[c] == 0


@jit
def update_numa_stats(s, env, off, nid, find_idle):
    """``update_numa_stats``: load, capacity and an idle CPU of node ``nid``."""
    for i in range(8):
        env[off + i] = 0
    env[off + NS_IDLE] = -1
    p = env[E_P]
    first = s.nd.first_cpu[nid]
    for c in range(first, first + s.nd.cpus[nid]):
        nr = s.cpu.nr_running[c]
        env[off + NS_LOAD] += nr * TASK_H_LOAD
        env[off + NS_RUNNABLE] += nr * TASK_H_LOAD
        env[off + NS_UTIL] += SCHED_CAPACITY_SCALE if nr > 0 else 0
        env[off + NS_NR] += nr
        env[off + NS_CAPACITY] += SCHED_CAPACITY_SCALE
        if find_idle and nr == 0:
            if s.cpu.numa_migrate_on[c] or not s.tk_allowed[p, c]:
                continue
            if env[off + NS_IDLE] == -1:
                env[off + NS_IDLE] = c
    env[off + NS_WEIGHT] = s.nd.cpus[nid]
    env[off + NS_TYPE] = numa_classify(env[E_IMB_PCT], env[off + NS_NR], env[off + NS_WEIGHT],
                                       env[off + NS_CAPACITY], env[off + NS_UTIL],
                                       env[off + NS_RUNNABLE])


@jit
def task_numa_assign(s, env, cur, imp):
    """``task_numa_assign``: record the best CPU (and swap partner) so far."""
    dst_cpu = env[E_DST_CPU]
    if env[E_BEST_CPU] != dst_cpu:
        was = s.cpu.numa_migrate_on[dst_cpu]
        s.cpu.numa_migrate_on[dst_cpu] = 1
        if was:
            # find an alternative idle CPU on the node
            nid = env[E_DST_NID]
            first = s.nd.first_cpu[nid]
            n = s.nd.cpus[nid]
            found = False
            for k in range(n):
                c = first + (dst_cpu - first + 1 + k) % n
                if c == env[E_BEST_CPU] or not idle_cpu(s, c) or not s.tk_allowed[env[E_P], c]:
                    continue
                env[E_DST_CPU] = c
                was = s.cpu.numa_migrate_on[c]
                s.cpu.numa_migrate_on[c] = 1
                if not was:
                    found = True
                    break
            if not found:
                return
    if env[E_BEST_CPU] != -1 and env[E_BEST_CPU] != env[E_DST_CPU]:
        s.cpu.numa_migrate_on[env[E_BEST_CPU]] = 0
    env[E_BEST_TASK] = cur
    env[E_BEST_IMP] = imp
    env[E_BEST_CPU] = env[E_DST_CPU]


@jit
def task_numa_compare(s, env, taskimp, groupimp, maymove):
    """``task_numa_compare``: consider ``env``'s destination CPU. True stops the search."""
    p = env[E_P]
    dst_cpu = env[E_DST_CPU]
    if s.cpu.numa_migrate_on[dst_cpu]:
        return False
    cur = s.cpu.curr[dst_cpu]
    if cur >= 0 and not s.tk.alive[cur]:
        cur = -1
    if cur == p:
        return True
    p_group = s.tk.numa_group[p]
    imp = groupimp if p_group >= 0 else taskimp
    if cur < 0:
        if not (maymove and imp >= env[E_BEST_IMP]):
            return False
        action = CMP_MOVE
    else:
        if not s.tk_allowed[cur, env[E_SRC_CPU]]:
            return False
        best = env[E_BEST_TASK]
        src_nid = env[E_SRC_NID]
        dst_nid = env[E_DST_NID]
        dist = env[E_DIST]
        action, imp = task_numa_compare_score(
            taskimp, groupimp, maymove, p_group, s.tk.numa_group[cur],
            s.tk.numa_preferred_nid[cur], best >= 0,
            s.tk.numa_preferred_nid[best] if best >= 0 else NUMA_NO_NODE, env[E_BEST_IMP],
            src_nid, dst_nid, env[E_DST_STATS + NS_TYPE] == NODE_HAS_SPARE,
            task_weight(s, cur, src_nid, dist), task_weight(s, cur, dst_nid, dist),
            group_weight(s, cur, src_nid, dist), group_weight(s, cur, dst_nid, dist),
            TASK_H_LOAD - TASK_H_LOAD, env[E_SRC_STATS + NS_LOAD], env[E_DST_STATS + NS_LOAD],
            env[E_SRC_STATS + NS_CAPACITY], env[E_DST_STATS + NS_CAPACITY])
        if action == CMP_SKIP:
            return False
        if action == CMP_MOVE:
            cur = -1
    if cur < 0:
        c = env[E_DST_STATS + NS_IDLE]
        if c < 0:
            c = dst_cpu
        best_cpu = env[E_BEST_CPU]
        if not idle_cpu(s, c) and best_cpu >= 0 and idle_cpu(s, best_cpu):
            c = best_cpu
        env[E_DST_CPU] = c
    task_numa_assign(s, env, cur, imp)
    best_cpu = env[E_BEST_CPU]
    if maymove and cur < 0 and best_cpu >= 0 and idle_cpu(s, best_cpu):
        return True
    best = env[E_BEST_TASK]
    if not maymove and best >= 0 and s.tk.numa_preferred_nid[best] == env[E_SRC_NID]:
        return True
    return False


@jit
def task_numa_find_cpu(s, env, taskimp, groupimp):
    """``task_numa_find_cpu``: move to an idle CPU if balance allows, else compare CPUs."""
    p = env[E_P]
    maymove = False
    if env[E_DST_STATS + NS_TYPE] == NODE_HAS_SPARE:
        src_running = env[E_SRC_STATS + NS_NR] - 1
        dst_running = env[E_DST_STATS + NS_NR] + 1
        imbalance = max(0, dst_running - src_running)
        imbalance = adjust_numa_imbalance(imbalance, dst_running, env[E_IMB_NUMA_NR])
        if imbalance == 0:
            maymove = True
            if env[E_DST_STATS + NS_IDLE] >= 0:
                env[E_DST_CPU] = env[E_DST_STATS + NS_IDLE]
                task_numa_assign(s, env, -1, 0)
                return
    else:
        load = TASK_H_LOAD
        maymove = not load_too_imbalanced(
            env[E_SRC_STATS + NS_LOAD] - load, env[E_DST_STATS + NS_LOAD] + load,
            env[E_SRC_STATS + NS_CAPACITY], env[E_DST_STATS + NS_CAPACITY],
            env[E_SRC_STATS + NS_LOAD], env[E_DST_STATS + NS_LOAD])
    nid = env[E_DST_NID]
    first = s.nd.first_cpu[nid]
    for c in range(first, first + s.nd.cpus[nid]):
        if not s.tk_allowed[p, c]:
            continue
        env[E_DST_CPU] = c
        if task_numa_compare(s, env, taskimp, groupimp, maymove):
            break


@jit
def sched_setnuma(s, t, nid):
    """``sched_setnuma``: change the preferred node."""
    s.tk.numa_preferred_nid[t] = nid


@jit
def _count_task_event(s, t, vm_item, memcg_item):
    if vm_item == NUMA_TASK_MIGRATED:
        s.tk.numa_task_migrated[t] += 1
    else:
        s.tk.numa_task_swapped[t] += 1
    if s.p.stats_vmstat:  # as posted, the vmstat items were never incremented
        s.cnt_vm[vm_item] += 1
    s.cnt_memcg[s.mm.cgroup[s.tk.mm[t]], memcg_item] += 1  # count_memcg_event_mm


@jit
def _charge_move(s, t):
    cost = np.int64(s.p.task_move_ns)
    s.tk.stime[t] += cost
    s.tk.debt[t] += cost


@jit
def migrate_task_to(s, t, cpu, now_ns):
    """``migrate_task_to``: move ``t`` to ``cpu``; counts ``numa_task_migrated`` (RFC patch 1)."""
    src = s.tk.cpu[t]
    trace_event(s, now_ns, EV_MOVE_NUMA, t, src, cpu, s.cpu.node[src], s.cpu.node[cpu])
    set_task_cpu(s, t, cpu)
    # t runs on its new CPU from now on (stop_one_cpu): later searches this tick see it there
    if s.cpu.curr[src] == t:
        s.cpu.curr[src] = -1
    if s.cpu.curr[cpu] < 0:
        s.cpu.curr[cpu] = t
    _count_task_event(s, t, NUMA_TASK_MIGRATED, MC_NUMA_TASK_MIGRATED)
    _charge_move(s, t)


@jit
def migrate_swap(s, p, cur, target_cpu, curr_cpu, now_ns):
    """``migrate_swap``: exchange CPUs of ``p`` and ``cur``; ``__migrate_swap_task``
    runs for each, so ``numa_task_swapped`` counts on both (RFC patch 1)."""
    trace_event(s, now_ns, EV_SWAP_NUMA, p, curr_cpu, target_cpu, cur, 0)
    set_task_cpu(s, p, target_cpu)
    set_task_cpu(s, cur, curr_cpu)
    # migrate_swap_stop exchanges the two running tasks: later searches this tick
    # must see each on its new CPU (else several tasks could swap with one partner)
    s.cpu.curr[target_cpu] = p
    s.cpu.curr[curr_cpu] = cur
    _count_task_event(s, p, NUMA_TASK_SWAPPED, MC_NUMA_TASK_SWAPPED)
    _count_task_event(s, cur, NUMA_TASK_SWAPPED, MC_NUMA_TASK_SWAPPED)
    _charge_move(s, p)
    _charge_move(s, cur)


@jit
def task_numa_migrate(s, t, now_ns):
    """``task_numa_migrate``: find a better CPU for ``t`` on its preferred node (or others).

    Returns 0 on a move or swap, 1 when the task sticks (``-EAGAIN``).
    """
    env = s.tmp_ints
    for i in range(ENV_SIZE):
        env[i] = 0
    env[E_P] = t
    env[E_SRC_CPU] = s.tk.cpu[t]
    env[E_SRC_NID] = s.cpu.node[s.tk.cpu[t]]
    env[E_IMB_PCT] = s.p.imbalance_pct
    env[E_IMB_NUMA_NR] = s.p.imb_numa_nr
    env[E_BEST_TASK] = -1
    env[E_BEST_IMP] = 0
    env[E_BEST_CPU] = -1
    if not s.p.has_numa_domain:
        sched_setnuma(s, t, env[E_SRC_NID])
        return 1
    src_nid = env[E_SRC_NID]
    env[E_DST_NID] = s.tk.numa_preferred_nid[t]
    dist = s.nd_distance[src_nid, env[E_DST_NID]]
    env[E_DIST] = dist
    taskweight = task_weight(s, t, src_nid, dist)
    groupweight = group_weight(s, t, src_nid, dist)
    update_numa_stats(s, env, E_SRC_STATS, src_nid, False)
    taskimp = task_weight(s, t, env[E_DST_NID], dist) - taskweight
    groupimp = group_weight(s, t, env[E_DST_NID], dist) - groupweight
    update_numa_stats(s, env, E_DST_STATS, env[E_DST_NID], True)
    task_numa_find_cpu(s, env, taskimp, groupimp)

    g = s.tk.numa_group[t]
    if env[E_BEST_CPU] == -1 or (g >= 0 and s.ng.active_nodes[g] > 1):
        for nid in range(s.p.nr_nodes):
            if s.nd.cpus[nid] == 0:
                continue
            if nid == src_nid or nid == s.tk.numa_preferred_nid[t]:
                continue
            # as in the kernel: the distance to the previous destination
            dist = s.nd_distance[src_nid, env[E_DST_NID]]
            if s.p.topology_type == NUMA_BACKPLANE and dist != env[E_DIST]:
                taskweight = task_weight(s, t, src_nid, dist)
                groupweight = group_weight(s, t, src_nid, dist)
            taskimp = task_weight(s, t, nid, dist) - taskweight
            groupimp = group_weight(s, t, nid, dist) - groupweight
            if taskimp < 0 and groupimp < 0:
                continue
            env[E_DIST] = dist
            env[E_DST_NID] = nid
            update_numa_stats(s, env, E_DST_STATS, nid, True)
            task_numa_find_cpu(s, env, taskimp, groupimp)

    if g >= 0:
        nid = src_nid if env[E_BEST_CPU] == -1 else s.cpu.node[env[E_BEST_CPU]]
        if nid != s.tk.numa_preferred_nid[t]:
            sched_setnuma(s, t, nid)

    best_cpu = env[E_BEST_CPU]
    if best_cpu == -1:
        trace_event(s, now_ns, EV_STICK_NUMA, t, env[E_SRC_CPU], -1, -1, 0)
        return 1
    best = env[E_BEST_TASK]
    if best < 0:
        migrate_task_to(s, t, best_cpu, now_ns)
    else:
        migrate_swap(s, t, best, best_cpu, env[E_SRC_CPU], now_ns)
    s.cpu.numa_migrate_on[best_cpu] = 0
    return 0

