"""NUMA fault weights of tasks and groups (kernel/sched/fair.c).

``task_faults`` / ``group_faults`` read the decayed MEM faults;
``task_weight`` / ``group_weight`` turn them into per-mille shares, adding
faults on nearby nodes on non-direct topologies (``score_nearby_nodes``).
"""

from __future__ import annotations

from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import NUMA_CPU, NUMA_MEM

NUMA_DIRECT, NUMA_GLUELESS_MESH, NUMA_BACKPLANE = 0, 1, 2
LOCAL_DISTANCE = 10


@jit_inline
def task_faults_idx(s_region, nid, priv, nr_nodes):
    """``task_faults_idx``: index of (stat region, node, priv) in ``numa_faults``."""
    return 2 * (s_region * nr_nodes + nid) + priv


@jit_inline
def task_faults(s, t, nid):
    """``task_faults``: decayed MEM faults of task ``t`` on node ``nid``."""
    if not s.tk.has_faults[t]:
        return 0
    i = task_faults_idx(NUMA_MEM, nid, 0, s.p.nr_nodes)
    return s.tk_faults[t, i] + s.tk_faults[t, i + 1]


@jit_inline
def group_faults(s, t, nid):
    """``group_faults``: decayed MEM faults of task ``t``'s group on node ``nid``."""
    g = s.tk.numa_group[t]
    if g < 0:
        return 0
    i = task_faults_idx(NUMA_MEM, nid, 0, s.p.nr_nodes)
    return s.ng_faults[g, i] + s.ng_faults[g, i + 1]


@jit_inline
def group_faults_cpu(s, g, nid):
    """``group_faults_cpu``: decayed CPU faults of group ``g`` on node ``nid``."""
    i = task_faults_idx(NUMA_CPU, nid, 0, s.p.nr_nodes)
    return s.ng_faults[g, i] + s.ng_faults[g, i + 1]


@jit
def score_nearby_nodes(s, t, nid, lim_dist, task):
    """``score_nearby_nodes``: faults on nodes near ``nid`` (0 on NUMA_DIRECT)."""
    topo = s.p.topology_type
    if topo == NUMA_DIRECT:
        return 0
    max_dist = s.p.max_distance
    score = 0
    for node in range(s.p.nr_nodes):
        dist = s.nd_distance[nid, node]
        if dist >= max_dist or node == nid:
            continue
        if topo == NUMA_BACKPLANE and dist >= lim_dist:
            continue
        faults = task_faults(s, t, node) if task else group_faults(s, t, node)
        if topo == NUMA_GLUELESS_MESH:
            faults = faults * (max_dist - dist)
            faults = faults // (max_dist - LOCAL_DISTANCE)
        score += faults
    return score


@jit_inline
def _weight(s, t, nid, dist, task, total_faults):
    """The common tail of ``task_weight`` and ``group_weight``: per-mille of the task's
    (``task``) or its group's faults on and near ``nid``, of ``total_faults``."""
    if not total_faults:
        return 0
    faults = task_faults(s, t, nid) if task else group_faults(s, t, nid)
    faults += score_nearby_nodes(s, t, nid, dist, task)
    return 1000 * faults // total_faults


@jit
def task_weight(s, t, nid, dist):
    """``task_weight``: per-mille of task ``t``'s faults on (and near) ``nid``."""
    if not s.tk.has_faults[t]:
        return 0
    return _weight(s, t, nid, dist, True, s.tk.total_numa_faults[t])


@jit
def group_weight(s, t, nid, dist):
    """``group_weight``: per-mille of the group's faults on (and near) ``nid``."""
    g = s.tk.numa_group[t]
    if g < 0:
        return 0
    return _weight(s, t, nid, dist, False, s.ng.total_faults[g])
