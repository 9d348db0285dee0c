"""NUMA groups (kernel/sched/fair.c): ``task_numa_group`` joins tasks that share pages
into one ``struct numa_group`` (``State.ng``, its faults in ``State.ng_faults``), and
``numa_group_count_active_nodes`` / ``numa_is_active_node`` say on which nodes a group
is active (CPU faults above 1/``ACTIVE_NODE_FRACTION`` of its busiest node's).

Departures: group slots are indexed by the creating task, and the slot index stands
for the group's address in the kernel's tie-break; there is no RCU or group lock.
"""

from __future__ import annotations

from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import ACTIVE_NODE_FRACTION, TNF_SHARED
from numaexp.sim.kernel.cpupid import cpupid_match_pid, cpupid_to_cpu
from numaexp.sim.kernel.weights import group_faults_cpu


@jit_inline
def numa_is_active_node(s, nid, g):
    """``numa_is_active_node``: CPU faults above a third of the group's maximum."""
    return group_faults_cpu(s, g, nid) * ACTIVE_NODE_FRACTION > s.ng.max_faults_cpu[g]


@jit
def numa_group_count_active_nodes(s, g):
    """``numa_group_count_active_nodes`` over nodes with CPUs."""
    max_faults = 0
    for nid in range(s.p.nr_nodes):
        if s.nd.cpus[nid] > 0:
            f = group_faults_cpu(s, g, nid)
            if f > max_faults:
                max_faults = f
    active = 0
    for nid in range(s.p.nr_nodes):
        if s.nd.cpus[nid] > 0 and group_faults_cpu(s, g, nid) * ACTIVE_NODE_FRACTION > max_faults:
            active += 1
    s.ng.max_faults_cpu[g] = max_faults
    s.ng.active_nodes[g] = active


@jit
def task_numa_group(s, t, cpupid, flags):
    """``task_numa_group``: join the group of the task running on ``cpupid``'s CPU.

    Creates the task's own group first if it has none. Returns ``priv``
    (0: shared fault; 1: a cross-process fault without TNF_SHARED, counted
    as private). Group slots are indexed by the creating task, and the
    slot index stands for the group's address in the tie-break.
    """
    nn = s.p.nr_nodes
    tk = s.tk
    if tk.numa_group[t] < 0:
        g = t
        for i in range(4 * nn):
            s.ng_faults[g, i] = s.tk_faults[t, i]
        s.ng.total_faults[g] = tk.total_numa_faults[t]
        s.ng.nr_tasks[g] = 1
        s.ng.active_nodes[g] = 1
        s.ng.max_faults_cpu[g] = 0
        s.ng.gid[g] = tk.pid[t]
        tk.numa_group[t] = g
    cpu = cpupid_to_cpu(cpupid)
    if cpu >= s.p.nr_cpus:
        return 0
    tsk = s.cpu.curr[cpu]
    if tsk < 0 or not cpupid_match_pid(tk.pid[tsk], cpupid):
        return 0
    grp = tk.numa_group[tsk]
    if grp < 0:
        return 0
    my_grp = tk.numa_group[t]
    if grp == my_grp:
        return 0
    if s.ng.nr_tasks[my_grp] > s.ng.nr_tasks[grp]:
        return 0
    if s.ng.nr_tasks[my_grp] == s.ng.nr_tasks[grp] and my_grp > grp:
        return 0
    join = tk.mm[tsk] == tk.mm[t] or (flags & TNF_SHARED) != 0
    priv = 0 if join else 1
    if not join:
        return priv
    for i in range(4 * nn):
        s.ng_faults[my_grp, i] -= s.tk_faults[t, i]
        s.ng_faults[grp, i] += s.tk_faults[t, i]
    s.ng.total_faults[my_grp] -= tk.total_numa_faults[t]
    s.ng.total_faults[grp] += tk.total_numa_faults[t]
    s.ng.nr_tasks[my_grp] -= 1
    s.ng.nr_tasks[grp] += 1
    tk.numa_group[t] = grp
    return priv
