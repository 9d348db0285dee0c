"""NUMA task placement: ``task_numa_migrate`` and its helpers (kernel/sched/fair.c).

The search state ``struct task_numa_env`` is a record
(``State.tmp_env[0]``, ``TASK_NUMA_ENV_DTYPE``) and its two ``struct
numa_stats`` are the rows of ``State.tmp_numa_stats`` (``SRC``, ``DST``), with
the kernel's field names. ``numa_classify``, ``load_too_imbalanced`` and
``task_numa_compare_score`` are pure functions of integers, callable from
Python. Departures: each task's load (``task_h_load``, PELT load and
runnable averages) is that of one always-runnable nice-0 task, 1024; CPU
capacity is 1024; there is no SMT idle-core preference.
"""

from __future__ import annotations

from numaexp.sim.engine.codes import EV_STICK_NUMA
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.rows import memset_row
from numaexp.sim.engine.trace import trace_event
from numaexp.sim.kernel.constants import (
    CMP_MOVE,
    CMP_SKIP,
    CMP_SWAP,
    NODE_FULLY_BUSY,
    NODE_HAS_SPARE,
    NODE_OVERLOADED,
    NUMA_NO_NODE,
    SCHED_CAPACITY_SCALE,
    SMALLIMP,
)
from numaexp.sim.kernel.pelt import cpu_load, cpu_runnable, cpu_util_cfs, task_h_load
from numaexp.sim.kernel.sched import adjust_numa_imbalance, idle_cpu, sched_setnuma
from numaexp.sim.kernel.task_move import migrate_swap, migrate_task_to
from numaexp.sim.kernel.weights import NUMA_BACKPLANE, group_weight, task_weight

SRC, DST = 0, 1
"""Rows of ``State.tmp_numa_stats``: ``env->src_stats`` and ``env->dst_stats``."""

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


@jit
def update_numa_stats(s, env, row, nid, find_idle):
    """``update_numa_stats``: load, capacity and an idle CPU of node ``nid`` into row ``row``
    (``SRC`` or ``DST``) of ``State.tmp_numa_stats``."""
    ns = s.tmp_numa_stats[row]
    memset_row(s.tmp_numa_stats, row)
    ns.idle_cpu = -1
    first = s.nd.first_cpu[nid]
    for cpu in range(first, first + s.nd.cpus[nid]):
        nr = s.cpu.nr_running[cpu]
        ns.load += cpu_load(s, cpu)
        ns.runnable += cpu_runnable(s, cpu)
        ns.util += cpu_util_cfs(s, cpu)
        ns.nr_running += nr
        ns.compute_capacity += SCHED_CAPACITY_SCALE
        if find_idle and nr == 0:
            if s.cpu.numa_migrate_on[cpu] or not s.tk_allowed[env.p, cpu]:
                continue
            if ns.idle_cpu == -1:
                ns.idle_cpu = cpu
    ns.weight = s.nd.cpus[nid]
    ns.node_type = numa_classify(env.imbalance_pct, ns.nr_running, ns.weight,
                                 ns.compute_capacity, ns.util, ns.runnable)


@jit
def task_numa_assign(s, env, cur, imp):
    """``task_numa_assign``: record the best CPU (and swap partner) so far."""
    dst_cpu = env.dst_cpu
    if env.best_cpu != dst_cpu:
        was = s.cpu.numa_migrate_on[dst_cpu]
        s.cpu.numa_migrate_on[dst_cpu] = 1
        if was:
            # find an alternative idle CPU on the node
            nid = env.dst_nid
            first = s.nd.first_cpu[nid]
            n = s.nd.cpus[nid]
            found = False
            for k in range(n):
                cpu = first + (dst_cpu - first + 1 + k) % n
                if cpu == env.best_cpu or not idle_cpu(s, cpu) or not s.tk_allowed[env.p, cpu]:
                    continue
                env.dst_cpu = cpu
                was = s.cpu.numa_migrate_on[cpu]
                s.cpu.numa_migrate_on[cpu] = 1
                if not was:
                    found = True
                    break
            if not found:
                return
    if env.best_cpu != -1 and env.best_cpu != env.dst_cpu:
        s.cpu.numa_migrate_on[env.best_cpu] = 0
    env.best_task = cur
    env.best_imp = imp
    env.best_cpu = env.dst_cpu


@jit
def task_numa_compare(s, env, taskimp, groupimp, maymove):
    """``task_numa_compare``: consider ``env``'s destination CPU. True stops the search."""
    src_stats = s.tmp_numa_stats[SRC]
    dst_stats = s.tmp_numa_stats[DST]
    p = env.p
    dst_cpu = env.dst_cpu
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
        if not (maymove and imp >= env.best_imp):
            return False
        action = CMP_MOVE
    else:
        if not s.tk_allowed[cur, env.src_cpu]:
            return False
        best = env.best_task
        src_nid = env.src_nid
        dst_nid = env.dst_nid
        dist = env.dist
        action, imp = task_numa_compare_score(
            taskimp, groupimp, maymove, p_group, s.tk.numa_group[cur],
            s.tk.numa_preferred_nid[cur], best >= 0,
            s.tk.numa_preferred_nid[best] if best >= 0 else NUMA_NO_NODE, env.best_imp,
            src_nid, dst_nid, dst_stats.node_type == NODE_HAS_SPARE,
            task_weight(s, cur, src_nid, dist), task_weight(s, cur, dst_nid, dist),
            group_weight(s, cur, src_nid, dist), group_weight(s, cur, dst_nid, dist),
            task_h_load(s, p) - task_h_load(s, cur), src_stats.load, dst_stats.load,
            src_stats.compute_capacity, dst_stats.compute_capacity)
        if action == CMP_SKIP:
            return False
        if action == CMP_MOVE:
            cur = -1
    if cur < 0:
        cpu = dst_stats.idle_cpu
        if cpu < 0:
            cpu = dst_cpu
        best_cpu = env.best_cpu
        if not idle_cpu(s, cpu) and best_cpu >= 0 and idle_cpu(s, best_cpu):
            cpu = best_cpu
        env.dst_cpu = cpu
    task_numa_assign(s, env, cur, imp)
    best_cpu = env.best_cpu
    if maymove and cur < 0 and best_cpu >= 0 and idle_cpu(s, best_cpu):
        return True
    best = env.best_task
    if not maymove and best >= 0 and s.tk.numa_preferred_nid[best] == env.src_nid:
        return True
    return False


@jit
def task_numa_find_cpu(s, env, taskimp, groupimp):
    """``task_numa_find_cpu``: move to an idle CPU if balance allows, else compare CPUs."""
    src_stats = s.tmp_numa_stats[SRC]
    dst_stats = s.tmp_numa_stats[DST]
    p = env.p
    maymove = False
    if dst_stats.node_type == NODE_HAS_SPARE:
        src_running = src_stats.nr_running - 1
        dst_running = dst_stats.nr_running + 1
        imbalance = max(0, dst_running - src_running)
        imbalance = adjust_numa_imbalance(imbalance, dst_running, env.imb_numa_nr)
        if imbalance == 0:
            maymove = True
            if dst_stats.idle_cpu >= 0:
                env.dst_cpu = dst_stats.idle_cpu
                task_numa_assign(s, env, -1, 0)
                return
    else:
        load = task_h_load(s, p)
        maymove = not load_too_imbalanced(
            src_stats.load - load, dst_stats.load + load, src_stats.compute_capacity,
            dst_stats.compute_capacity, src_stats.load, dst_stats.load)
    nid = env.dst_nid
    first = s.nd.first_cpu[nid]
    for cpu in range(first, first + s.nd.cpus[nid]):
        if not s.tk_allowed[p, cpu]:
            continue
        env.dst_cpu = cpu
        if task_numa_compare(s, env, taskimp, groupimp, maymove):
            break


@jit
def task_numa_migrate(s, t, now_ns):
    """``task_numa_migrate``: find a better CPU for ``t`` on its preferred node (or others).

    Returns 0 on a move or swap, 1 when the task sticks (``-EAGAIN``).
    """
    env = s.tmp_env[0]
    env.p = t
    env.src_cpu = s.tk.cpu[t]
    env.src_nid = s.cpu.node[s.tk.cpu[t]]
    env.dst_cpu = 0
    env.dst_nid = 0
    env.dist = 0
    env.best_task = -1
    env.best_imp = 0
    env.best_cpu = -1
    sd = s.cpu.sd_numa[env.src_cpu]
    if sd < 0:
        sched_setnuma(s, t, env.src_nid)
        return 1
    env.imbalance_pct = 100 + (s.sd.imbalance_pct[sd] - 100) // 2
    env.imb_numa_nr = s.sd.imb_numa_nr[sd]
    src_nid = env.src_nid
    env.dst_nid = s.tk.numa_preferred_nid[t]
    dist = s.nd_distance[src_nid, env.dst_nid]
    env.dist = dist
    taskweight = task_weight(s, t, src_nid, dist)
    groupweight = group_weight(s, t, src_nid, dist)
    update_numa_stats(s, env, SRC, src_nid, False)
    taskimp = task_weight(s, t, env.dst_nid, dist) - taskweight
    groupimp = group_weight(s, t, env.dst_nid, dist) - groupweight
    update_numa_stats(s, env, DST, env.dst_nid, True)
    task_numa_find_cpu(s, env, taskimp, groupimp)

    g = s.tk.numa_group[t]
    if env.best_cpu == -1 or (g >= 0 and s.ng.active_nodes[g] > 1):
        for nid in range(s.p.nr_nodes):
            if s.nd.cpus[nid] == 0:
                continue
            if nid == src_nid or nid == s.tk.numa_preferred_nid[t]:
                continue
            # as in the kernel: the distance to the previous destination
            dist = s.nd_distance[src_nid, env.dst_nid]
            if s.p.topology_type == NUMA_BACKPLANE and dist != env.dist:
                taskweight = task_weight(s, t, src_nid, dist)
                groupweight = group_weight(s, t, src_nid, dist)
            taskimp = task_weight(s, t, nid, dist) - taskweight
            groupimp = group_weight(s, t, nid, dist) - groupweight
            if taskimp < 0 and groupimp < 0:
                continue
            env.dist = dist
            env.dst_nid = nid
            update_numa_stats(s, env, DST, nid, True)
            task_numa_find_cpu(s, env, taskimp, groupimp)

    if g >= 0:
        nid = src_nid if env.best_cpu == -1 else s.cpu.node[env.best_cpu]
        if nid != s.tk.numa_preferred_nid[t]:
            sched_setnuma(s, t, nid)

    best_cpu = env.best_cpu
    if best_cpu == -1:
        trace_event(s, now_ns, EV_STICK_NUMA, t, env.src_cpu, -1, -1, 0)
        return 1
    best = env.best_task
    if best < 0:
        migrate_task_to(s, t, best_cpu, now_ns)
    else:
        migrate_swap(s, t, best, best_cpu, env.src_cpu, now_ns)
    s.cpu.numa_migrate_on[best_cpu] = 0
    return 0
