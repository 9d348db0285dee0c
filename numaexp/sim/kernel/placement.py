"""NUMA fault statistics and task placement (kernel/sched/fair.c).

``task_numa_fault`` records each hinting fault, ``task_numa_group``
(:mod:`numaexp.sim.kernel.numa_group`) builds NUMA groups from shared faults,
``task_numa_placement`` decays the statistics once per completed scan pass and
picks the preferred node, and ``numa_migrate_preferred`` asks
``task_numa_migrate`` to move the task there.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import CLK_TICK, SYS_LOCK_WAIT
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.locks import numa_group_lock_wait
from numaexp.sim.engine.policy_hooks import (
    POLICY_PLACE_TASK,
    POLICY_SCAN_PERIOD,
    checked_policy_result,
    decision_context,
    policy_decides,
    policy_error,
)
from numaexp.sim.kernel.cgroup_gate import gate_allows
from numaexp.sim.kernel.constants import (
    CPUPID_UNSET,
    GATE_FAULT,
    LOAD_AVG_MAX,
    NUMA_BALANCING_MEMORY_TIERING,
    NUMA_CPU,
    NUMA_CPUBUF,
    NUMA_MEM,
    NUMA_MEMBUF,
    NUMA_NO_NODE,
    TNF_FAULT_LOCAL,
    TNF_MIGRATE_FAIL,
    TNF_MIGRATED,
    TNF_NO_GROUP,
    U32_MASK,
)
from numaexp.sim.kernel.cpupid import cpupid_match_pid, cpupid_valid
from numaexp.sim.kernel.numa_group import (
    numa_group_count_active_nodes,
    numa_is_active_node,
    task_numa_group,
)
from numaexp.sim.kernel.scan_period import (
    jiffies_ms,
    msecs_to_jiffies,
    task_scan_max_of,
    task_scan_min_of,
    update_task_scan_period,
)
from numaexp.sim.kernel.sched import sched_setnuma
from numaexp.sim.kernel.taskmig import task_numa_migrate
from numaexp.sim.kernel.weights import (
    NUMA_DIRECT,
    NUMA_GLUELESS_MESH,
    group_faults,
    group_weight,
    task_faults,
)


@jit
def numa_nearest_node(s, nid):
    """``numa_nearest_node(nid, N_CPU)``: ``nid`` if it has CPUs, else the nearest one that does."""
    if nid == NUMA_NO_NODE or s.nd.cpus[nid] > 0:
        return nid
    best = NUMA_NO_NODE
    best_dist = 1 << 30
    for n in range(s.p.nr_nodes):
        if s.nd.cpus[n] > 0 and s.nd_distance[nid, n] < best_dist:
            best_dist = s.nd_distance[nid, n]
            best = n
    return best


@jit
def preferred_group_nid(s, t, nid):
    """``preferred_group_nid``: the group's best node on mesh and backplane topologies."""
    topo = s.p.topology_type
    if topo == NUMA_DIRECT:
        return nid
    nn = s.p.nr_nodes
    if topo == NUMA_GLUELESS_MESH:
        max_score = 0
        max_node = nid
        dist = s.p.max_distance
        for node in range(nn):
            if s.nd.cpus[node] == 0:
                continue
            score = group_weight(s, t, node, dist)
            if score > max_score:
                max_score = score
                max_node = node
        return max_node
    # NUMA_BACKPLANE: descend into the group of nodes with the most faults
    nodes = np.int64(0)
    for node in range(nn):
        if s.nd.cpus[node] > 0:
            nodes |= np.int64(1) << node
    for dist in range(s.p.max_distance, 10, -1):
        present = False
        for a in range(nn):
            for b in range(nn):
                if s.nd_distance[a, b] == dist:
                    present = True
        if not present:
            continue
        max_faults = 0
        max_group = np.int64(0)
        for a in range(nn):
            if not (nodes >> a) & 1:
                continue
            faults = 0
            this_group = np.int64(0)
            for b in range(nn):
                if (nodes >> b) & 1 and s.nd_distance[a, b] < dist:
                    faults += group_faults(s, t, b)
                    this_group |= np.int64(1) << b
                    nodes &= ~(np.int64(1) << b)
            if faults > max_faults:
                max_faults = faults
                max_group = this_group
                nid = a
        if max_faults == 0:
            break
        nodes = max_group
    return nid


@jit
def numa_get_avg_runtime(s, t, now_ns):
    """``numa_get_avg_runtime``: CPU time and wall time since the last placement, ns.

    The first time the kernel uses the PELT ``load_sum`` over LOAD_AVG_MAX;
    an always-runnable task's ``load_sum`` is modelled as
    ``LOAD_AVG_MAX * (1 - 2^(-age / 32 ms))``.
    """
    runtime = s.tk.sum_exec_runtime[t]
    if s.tk.last_task_numa_placement[t]:
        delta = runtime - s.tk.last_sum_exec_runtime[t]
        period = now_ns - s.tk.last_task_numa_placement[t]
        if period < 0:
            period = 0
    else:
        age_ms = (now_ns - s.tk.start_ns[t]) / 1e6
        delta = np.int64(LOAD_AVG_MAX * (1.0 - 2.0 ** (-age_ms / 32.0)))
        period = LOAD_AVG_MAX
    s.tk.last_sum_exec_runtime[t] = runtime
    s.tk.last_task_numa_placement[t] = now_ns
    return delta, period


@jit
def task_numa_placement_decay(faults, gfaults, has_group, nr_nodes, runtime, period,
                              total_faults):
    """The decay loop of ``task_numa_placement`` (arrays updated in place).

    Parameters
    ----------
    faults : int64 array, shape (8 * nr_nodes,)
        The task's ``numa_faults`` (MEM, CPU, MEMBUF, CPUBUF regions).
    gfaults : int64 array, shape (4 * nr_nodes,)
        Its group's ``faults`` (MEM, CPU); ignored without a group.
    has_group : bool
    nr_nodes : int
    runtime, period : int
        From ``numa_get_avg_runtime``, ns.
    total_faults : int
        ``numa_faults_locality[0] + [1]``.

    Returns
    -------
    (max_nid, max_faults, shared, private, total_diff) : tuple of int
        Node with the most (group) faults (NUMA_NO_NODE if none), those
        faults, ``fault_types[0]`` and ``[1]``, and the change of
        ``total_numa_faults`` (also the change of the group's total).
    """
    max_nid = NUMA_NO_NODE
    max_faults = 0
    ft0 = 0
    ft1 = 0
    total_diff = 0
    f_scale = (runtime << 16) // (period + 1)
    for nid in range(nr_nodes):
        node_faults = 0
        node_gfaults = 0
        for priv in range(2):
            mem_idx = 2 * (NUMA_MEM * nr_nodes + nid) + priv
            membuf_idx = 2 * (NUMA_MEMBUF * nr_nodes + nid) + priv
            cpu_idx = 2 * (NUMA_CPU * nr_nodes + nid) + priv
            cpubuf_idx = 2 * (NUMA_CPUBUF * nr_nodes + nid) + priv
            diff = faults[membuf_idx] - faults[mem_idx] // 2
            if priv == 0:
                ft0 += faults[membuf_idx]
            else:
                ft1 += faults[membuf_idx]
            faults[membuf_idx] = 0
            f_weight = (f_scale * faults[cpubuf_idx]) // (total_faults + 1)
            f_diff = f_weight - faults[cpu_idx] // 2
            faults[cpubuf_idx] = 0
            faults[mem_idx] += diff
            faults[cpu_idx] += f_diff
            node_faults += faults[mem_idx]
            total_diff += diff
            if has_group:
                gfaults[mem_idx] += diff
                gfaults[cpu_idx] += f_diff
                node_gfaults += gfaults[mem_idx]
        if not has_group:
            if node_faults > max_faults:
                max_faults = node_faults
                max_nid = nid
        elif node_gfaults > max_faults:
            max_faults = node_gfaults
            max_nid = nid
    return max_nid, max_faults, ft0, ft1, total_diff


@jit
def update_task_scan_period_of(s, t, shared, private):
    """Apply ``update_task_scan_period`` to task ``t`` (or its ``scan_period`` policy).

    A policy chooses the new period; the kernel's slow-path bookkeeping (no
    local or shared fault in the window, or a failed migration: the mm's
    next scan moves out by the new period) applies whatever it chose.
    """
    loc = s.tk.numa_faults_locality
    smin = task_scan_min_of(s, t)
    smax = task_scan_max_of(s, t)
    new, slow = update_task_scan_period(
        s.tk.numa_scan_period[t], s.tk.numa_scan_period_max[t], smin, smax, loc[t, 0],
        loc[t, 1], loc[t, 2], shared, private)
    if policy_decides(s, POLICY_SCAN_PERIOD):
        c = decision_context(s, t, jiffies_ms(s))
        c.period_ms = s.tk.numa_scan_period[t]
        c.period_max_ms = s.tk.numa_scan_period_max[t]
        c.scan_min_ms = smin
        c.scan_max_ms = smax
        c.faults_remote = loc[t, 0]
        c.faults_local = loc[t, 1]
        c.faults_failed = loc[t, 2]
        c.faults_shared = shared
        c.faults_private = private
        c.kernel_period_ms = new
        new = checked_policy_result(s, POLICY_SCAN_PERIOD, s.pol[POLICY_SCAN_PERIOD](
            s.pol_ctx, s.pol_mem), 0, U32_MASK, new)
    s.tk.numa_scan_period[t] = new
    if slow:
        mm = s.tk.mm[t]
        s.mm.numa_next_scan[mm] = s.clk[CLK_TICK] + msecs_to_jiffies(new, s.p.hz)
        if not s.p.locality_reset_fix:
            return
    loc[t, 0] = 0
    loc[t, 1] = 0
    loc[t, 2] = 0


@jit
def task_numa_placement(s, t, now_ns):
    """``task_numa_placement``: once per completed scan pass, decay and pick a node."""
    seq = s.mm.numa_scan_seq[s.tk.mm[t]]
    if s.tk.numa_scan_seq[t] == seq:
        return
    s.tk.numa_scan_seq[t] = seq
    s.tk.numa_scan_period_max[t] = task_scan_max_of(s, t)
    loc = s.tk.numa_faults_locality
    total_faults = loc[t, 0] + loc[t, 1]
    runtime, period = numa_get_avg_runtime(s, t, now_ns)
    g = s.tk.numa_group[t]
    gslot = g if g >= 0 else 0
    if g >= 0:  # spin_lock_irq(&ng->lock) while the group's faults are updated
        charge(s, t, numa_group_lock_wait(s, g), SYS_LOCK_WAIT)
    max_nid, max_faults, ft0, ft1, total_diff = task_numa_placement_decay(
        s.tk_faults[t], s.ng_faults[gslot], g >= 0, s.p.nr_nodes, runtime, period,
        total_faults)
    s.tk.total_numa_faults[t] += total_diff
    if g >= 0:
        s.ng.total_faults[g] += total_diff
    max_nid = numa_nearest_node(s, max_nid)
    if g >= 0:
        numa_group_count_active_nodes(s, g)
        max_nid = preferred_group_nid(s, t, max_nid)
    if policy_decides(s, POLICY_PLACE_TASK):
        nid = place_task_policy(s, t, g, max_nid, max_faults)
        if nid != NUMA_NO_NODE and nid != s.tk.numa_preferred_nid[t]:
            sched_setnuma(s, t, nid)
    elif max_faults:
        if max_nid != s.tk.numa_preferred_nid[t]:
            sched_setnuma(s, t, max_nid)
    update_task_scan_period_of(s, t, ft0, ft1)


@jit
def place_task_policy(s, t, g, max_nid, max_faults):
    """The preferred node a ``place_task`` policy picks for task ``t`` (checked: -1, or a
    node with CPUs; else the kernel's choice, with the error recorded)."""
    c = decision_context(s, t, jiffies_ms(s))
    c.preferred_nid = s.tk.numa_preferred_nid[t]
    c.has_group = g >= 0
    c.max_nid = max_nid
    c.max_faults = max_faults
    nn = s.p.nr_nodes
    for nid in range(nn):
        c.node_cpus[nid] = s.nd.cpus[nid]
        c.task_faults[nid] = task_faults(s, t, nid)
        c.group_faults[nid] = group_faults(s, t, nid) if g >= 0 else 0
    nid = s.pol[POLICY_PLACE_TASK](s.pol_ctx, s.pol_mem)
    if nid == NUMA_NO_NODE or (0 <= nid < nn and s.nd.cpus[nid] > 0):
        return nid
    policy_error(s, POLICY_PLACE_TASK, nid)
    return max_nid if max_faults else NUMA_NO_NODE


@jit
def numa_migrate_preferred(s, t, now_ns):
    """``numa_migrate_preferred``: retry moving the task to its preferred node."""
    pref = s.tk.numa_preferred_nid[t]
    if pref == NUMA_NO_NODE or not s.tk.has_faults[t]:
        return
    interval = min(s.p.hz, msecs_to_jiffies(s.tk.numa_scan_period[t], s.p.hz) // 16)
    s.tk.numa_migrate_retry[t] = s.clk[CLK_TICK] + interval
    if s.cpu.node[s.tk.cpu[t]] == pref:
        return
    task_numa_migrate(s, t, now_ns)


@jit_inline
def task_numa_fault(s, t, last_cpupid, mem_node, pages, flags, now_ns):
    """``task_numa_fault``: account a hinting fault of ``pages`` pages on ``mem_node``."""
    if s.p.mode == 0 or not gate_allows(s, t, GATE_FAULT):
        return
    tk = s.tk
    nn = s.p.nr_nodes
    cpu_node = s.cpu.node[tk.cpu[t]]
    local = 1 if flags & TNF_FAULT_LOCAL else 0
    # slow-tier faults stay out of the task's statistics
    tiering = (s.p.mode & NUMA_BALANCING_MEMORY_TIERING) != 0
    if not s.nd.toptier[mem_node] and (tiering or not cpupid_valid(last_cpupid, s.p.nr_cpus)):
        return
    if not tk.has_faults[t]:
        tk.has_faults[t] = 1
        tk.total_numa_faults[t] = 0
        for i in range(8 * nn):
            s.tk_faults[t, i] = 0
        for i in range(3):
            tk.numa_faults_locality[t, i] = 0
    if last_cpupid == CPUPID_UNSET:
        priv = 1
    else:
        priv = 1 if cpupid_match_pid(tk.pid[t], last_cpupid) else 0
        if not priv and not flags & TNF_NO_GROUP:
            priv = task_numa_group(s, t, last_cpupid, flags)
    g = tk.numa_group[t]
    if not priv and not local and g >= 0 and s.ng.active_nodes[g] > 1 and \
            numa_is_active_node(s, cpu_node, g) and numa_is_active_node(s, mem_node, g):
        local = 1
    if s.clk[CLK_TICK] - tk.numa_migrate_retry[t] > 0:
        task_numa_placement(s, t, now_ns)
        numa_migrate_preferred(s, t, now_ns)
    if flags & TNF_MIGRATED:
        tk.numa_pages_migrated[t] += pages
    if flags & TNF_MIGRATE_FAIL:
        tk.numa_faults_locality[t, 2] += pages
    s.tk_faults[t, 2 * (NUMA_MEMBUF * nn + mem_node) + priv] += pages
    s.tk_faults[t, 2 * (NUMA_CPUBUF * nn + cpu_node) + priv] += pages
    tk.numa_faults_locality[t, local] += pages
