"""CPU scheduling: who runs on each CPU, task moves, and a simple load balancer.

Departures from CFS, by design: every task is always runnable (the
workloads are CPU-bound threads), each CPU runs the task with the smallest
vruntime for a whole tick (time sharing at tick granularity), every task has
the load of one busy nice-0 task (``task_h_load`` = 1024), and the regular
load balancer is reduced to the rules in :func:`load_balance`.
"""

from __future__ import annotations

from numaexp.sim.engine.codes import EV_LB_MOVE
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.trace import trace_event
from numaexp.sim.kernel.constants import CACHE_NICE_TRIES, NUMA_IMBALANCE_MIN, NUMA_NO_NODE
from numaexp.sim.kernel.scan_period import task_scan_start_of
from numaexp.sim.kernel.weights import group_weight, task_weight


@jit_inline
def update_scan_period(s, t, new_cpu):
    """``update_scan_period``: reset the scan period on a cross-node CPU change.

    Nothing happens while moving to the preferred node or away from a node
    that was not the preferred one once a scan has completed.
    """
    if s.p.mode == 0:
        return
    if not s.tk.has_faults[t] or not s.tk.alive[t]:
        return
    src_nid = s.cpu.node[s.tk.cpu[t]]
    dst_nid = s.cpu.node[new_cpu]
    if src_nid == dst_nid:
        return
    if s.tk.numa_scan_seq[t] != 0:
        pref = s.tk.numa_preferred_nid[t]
        if dst_nid == pref or (pref != NUMA_NO_NODE and src_nid != pref):
            return
    s.tk.numa_scan_period[t] = task_scan_start_of(s, t)


@jit
def set_task_cpu(s, t, new_cpu):
    """Move task ``t`` to ``new_cpu`` (``set_task_cpu`` + enqueue).

    Calls :func:`update_scan_period` as ``migrate_task_rq_fair`` does, and
    places the task at the destination's ``min_vruntime`` if it was behind.
    """
    old = s.tk.cpu[t]
    if old == new_cpu:
        return
    update_scan_period(s, t, new_cpu)
    s.cpu.nr_running[old] -= 1
    s.cpu.nr_running[new_cpu] += 1
    s.tk.cpu[t] = new_cpu
    if s.tk.vruntime[t] < s.cpu.min_vruntime[new_cpu]:
        s.tk.vruntime[t] = s.cpu.min_vruntime[new_cpu]


@jit
def sched_pick(s):
    """Choose the task that runs on each CPU this tick (smallest vruntime)."""
    curr = s.cpu.curr
    tk = s.tk
    for c in range(s.p.nr_cpus):
        curr[c] = -1
    for t in range(s.p.nr_tasks):
        tk.running[t] = 0
        if not tk.alive[t]:
            continue
        c = tk.cpu[t]
        cur = curr[c]
        if cur < 0 or tk.vruntime[t] < tk.vruntime[cur]:
            curr[c] = t
    for c in range(s.p.nr_cpus):
        cur = curr[c]
        if cur >= 0:
            tk.running[cur] = 1
            s.cpu.min_vruntime[c] = tk.vruntime[cur]


@jit_inline
def adjust_numa_imbalance(imbalance, dst_running, imb_numa_nr):
    """``adjust_numa_imbalance``: allow a small imbalance while lightly loaded."""
    if dst_running > imb_numa_nr:
        return imbalance
    if imbalance <= NUMA_IMBALANCE_MIN:
        return 0
    return imbalance


@jit
def nr_preferred_running(s, c):
    """Tasks on CPU ``c``, and how many of them are on their preferred node."""
    nid = s.cpu.node[c]
    nr = 0
    pref = 0
    for t in range(s.p.nr_tasks):
        if s.tk.alive[t] and s.tk.cpu[t] == c:
            nr += 1
            if s.tk.numa_preferred_nid[t] == nid:
                pref += 1
    return nr, pref


@jit
def migrate_degrades_locality(s, t, src_cpu, dst_cpu, dst_idle):
    """``migrate_degrades_locality``: 1 degrades, 0 improves, -1 no opinion."""
    if s.p.mode == 0 or not s.tk.has_faults[t]:
        return -1
    src_nid = s.cpu.node[src_cpu]
    dst_nid = s.cpu.node[dst_cpu]
    if src_nid == dst_nid:
        return -1
    pref = s.tk.numa_preferred_nid[t]
    if src_nid == pref:
        nr, nr_pref = nr_preferred_running(s, src_cpu)
        return 1 if nr > nr_pref else -1
    if dst_nid == pref:
        return 0
    if dst_idle:
        return -1
    dist = s.nd_distance[src_nid, dst_nid]
    if s.tk.numa_group[t] >= 0:
        src_w = group_weight(s, t, src_nid, dist)
        dst_w = group_weight(s, t, dst_nid, dist)
    else:
        src_w = task_weight(s, t, src_nid, dist)
        dst_w = task_weight(s, t, dst_nid, dist)
    return 1 if dst_w < src_w else 0


@jit
def _can_migrate(s, t, src_cpu, dst_cpu, allow_running):
    """``can_migrate_task``, reduced: allowed CPU, not running (unless active
    balancing), and not degrading NUMA locality unless balancing failed more
    than ``cache_nice_tries`` times."""
    if not s.tk.alive[t] or s.tk.cpu[t] != src_cpu or not s.tk_allowed[t, dst_cpu]:
        return False
    if s.cpu.curr[src_cpu] == t and not allow_running:
        return False
    if s.cpu.node[src_cpu] != s.cpu.node[dst_cpu]:
        if migrate_degrades_locality(s, t, src_cpu, dst_cpu, s.cpu.nr_running[dst_cpu] == 0) == 1:
            if s.tk.nr_balance_failed[t] <= CACHE_NICE_TRIES:
                s.tk.nr_balance_failed[t] += 1
                return False
    return True


@jit
def _pull_one(s, src_cpu, dst_cpu, allow_running, now_ns):
    """Move one task from ``src_cpu`` to ``dst_cpu``, preferring tasks whose
    preferred node is the destination. Returns True if one moved."""
    best = -1
    best_key = 3
    dst_nid = s.cpu.node[dst_cpu]
    for t in range(s.p.nr_tasks):
        if s.tk.cpu[t] != src_cpu or not s.tk.alive[t]:
            continue
        if not _can_migrate(s, t, src_cpu, dst_cpu, allow_running):
            continue
        pref = s.tk.numa_preferred_nid[t]
        key = 0 if pref == dst_nid else (1 if pref == NUMA_NO_NODE else 2)
        if key < best_key:
            best_key = key
            best = t
    if best < 0:
        return False
    set_task_cpu(s, best, dst_cpu)
    s.tk.nr_balance_failed[best] = 0
    trace_event(s, now_ns, EV_LB_MOVE, best, src_cpu, dst_cpu, s.cpu.node[src_cpu], dst_nid)
    return True


@jit
def load_balance(s, now_ns, tick):
    """The regular load balancer, reduced to three rules.

    1. Every tick, an idle CPU pulls a waiting task: from its own node
       first, else from the busiest CPU of another node (``can_migrate_task``
       refuses tasks whose move degrades NUMA locality until balancing has
       failed ``cache_nice_tries`` times).
    2. Every tick, CPUs of one node even out (a CPU with two more tasks than
       another gives one away).
    3. Every ``balance_interval`` ticks, a node with idle CPUs pulls a task
       from the node with the most tasks when ``sibling_imbalance`` (the
       difference of running tasks) survives ``adjust_numa_imbalance`` and
       the halving of ``calculate_imbalance``: nodes may differ by up to
       ``NUMA_IMBALANCE_MIN`` tasks while lightly loaded, so NUMA placement
       is not undone.
    """
    nc = s.p.nr_cpus
    nr = s.cpu.nr_running
    node = s.cpu.node
    # rules 1 and 2 (only when some CPU has a waiting task)
    waiting = False
    for c in range(nc):
        if nr[c] >= 2:
            waiting = True
            break
    for c in range(nc if waiting else 0):
        target_room = nr[c] == 0
        for src in range(nc):
            if src == c or nr[src] < 2:
                continue
            if node[src] != node[c] and not target_room:
                continue
            if node[src] == node[c] and nr[src] - nr[c] < 2:
                continue
            if _pull_one(s, src, c, False, now_ns):
                break
    # rule 3
    if tick % s.p.balance_interval != 0 or s.p.nr_nodes < 2:
        return
    nn = s.p.nr_nodes
    per_node = s.tmp_node_counts[0]
    idle = s.tmp_node_counts[1]
    for n in range(nn):
        per_node[n] = 0
        idle[n] = 0
    for c in range(nc):
        per_node[node[c]] += nr[c]
        if nr[c] == 0:
            idle[node[c]] += 1
    for dst in range(nn):
        if idle[dst] == 0:
            continue
        busiest = -1
        for a in range(nn):
            if a != dst and (busiest < 0 or per_node[a] > per_node[busiest]):
                busiest = a
        if busiest < 0 or per_node[busiest] == 0:
            continue
        imbalance = per_node[busiest] - per_node[dst]
        if imbalance <= 0:
            continue
        imbalance = adjust_numa_imbalance(imbalance, per_node[dst] + 1, s.p.imb_numa_nr) >> 1
        if imbalance <= 0:
            continue
        dst_cpu = -1
        for c in range(nc):
            if node[c] == dst and nr[c] == 0:
                dst_cpu = c
                break
        moved = False
        for src in range(nc):
            if node[src] == busiest and nr[src] > 0:
                if _pull_one(s, src, dst_cpu, True, now_ns):
                    moved = True
                    break
        if moved:
            per_node[busiest] -= 1
            per_node[dst] += 1
            idle[dst] -= 1
