"""Runqueues (kernel/sched/core.c, fair.c): enqueue, dequeue, CPU changes, NUMA accounting.

Each CPU's runnable tasks are on its ``cfs_tasks`` list (most recently picked
first), and the CPU counts them (``nr_running``), those with a preferred node
(``nr_numa_running``) and those on it (``nr_preferred_running``) as
``account_numa_enqueue`` does. A task that sleeps leaves the list but keeps
its CPU (``task_cpu``) until it wakes up.

Time sharing is the engine's (:mod:`numaexp.sim.engine.cputime`): each tick,
a CPU hands its time out by ``vruntime``. Departure from EEVDF: a task's
``vruntime`` is its CPU time, lifted to the runqueue's ``min_vruntime`` when it
arrives (a woken or new task one ns below it, so that it runs first in the
tick it arrives in: wake-up preemption at tick granularity); there are no
deadlines, lags or slices.
"""

from __future__ import annotations

from numaexp.sim.engine.account import steal
from numaexp.sim.engine.codes import CLK_RD_OVERLOADED, EV_MIGRATE, TS_RUNNABLE
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.trace import trace_event
from numaexp.sim.kernel.constants import NUMA_IMBALANCE_MIN, NUMA_NO_NODE
from numaexp.sim.kernel.scan_period import task_scan_start_of


@jit_inline
def idle_cpu(s, c):
    """``idle_cpu``: no task runnable on CPU ``c``."""
    return s.cpu.nr_running[c] == 0


@jit_inline
def task_node(s, t):
    """``task_node``: the node of the task's CPU."""
    return s.cpu.node[s.tk.cpu[t]]


@jit_inline
def account_numa_enqueue(s, c, t):
    """``account_numa_enqueue``."""
    pref = s.tk.numa_preferred_nid[t]
    s.cpu.nr_numa_running[c] += pref != NUMA_NO_NODE
    s.cpu.nr_preferred_running[c] += pref == s.cpu.node[c]


@jit_inline
def account_numa_dequeue(s, c, t):
    """``account_numa_dequeue``."""
    pref = s.tk.numa_preferred_nid[t]
    s.cpu.nr_numa_running[c] -= pref != NUMA_NO_NODE
    s.cpu.nr_preferred_running[c] -= pref == s.cpu.node[c]


@jit
def rq_list_add(s, c, t):
    """Put ``t`` at the head of CPU ``c``'s ``cfs_tasks`` (``list_add``)."""
    head = s.cpu.rq_head[c]
    s.tk.rq_prev[t] = -1
    s.tk.rq_next[t] = head
    if head >= 0:
        s.tk.rq_prev[head] = t
    else:
        s.cpu.rq_tail[c] = t
    s.cpu.rq_head[c] = t


@jit
def rq_list_del(s, c, t):
    """Take ``t`` off CPU ``c``'s ``cfs_tasks``."""
    prev = s.tk.rq_prev[t]
    nxt = s.tk.rq_next[t]
    if prev >= 0:
        s.tk.rq_next[prev] = nxt
    else:
        s.cpu.rq_head[c] = nxt
    if nxt >= 0:
        s.tk.rq_prev[nxt] = prev
    else:
        s.cpu.rq_tail[c] = prev
    s.tk.rq_next[t] = -1
    s.tk.rq_prev[t] = -1


@jit_inline
def rq_list_move(s, c, t):
    """Move ``t`` to the head of CPU ``c``'s ``cfs_tasks`` (``list_move``)."""
    rq_list_del(s, c, t)
    rq_list_add(s, c, t)


@jit
def rq_list_move_head(s, c, t):
    """``list_move(&p->se.group_node, &rq->cfs_tasks)``: ``t`` to the head."""
    if s.cpu.rq_head[c] != t:
        rq_list_del(s, c, t)
        rq_list_add(s, c, t)


@jit
def activate_task(s, t, c, arrival):
    """``activate_task``: queue ``t`` on CPU ``c`` (its CPU).

    ``arrival`` places a woken or new task just below the runqueue's
    ``min_vruntime``; a migrated task only catches up with it.
    """
    if s.tk.on_rq[t]:
        return
    s.tk.on_rq[t] = 1
    s.tk.state[t] = TS_RUNNABLE
    s.cpu.nr_running[c] += 1
    if s.cpu.nr_running[c] >= 2:  # add_nr_running
        s.clk[CLK_RD_OVERLOADED] = 1
    s.cpu.idle_stamp[c] = 0
    account_numa_enqueue(s, c, t)
    rq_list_add(s, c, t)
    floor = s.cpu.min_vruntime[c] - (1 if arrival else 0)
    if s.tk.vruntime[t] < floor:
        s.tk.vruntime[t] = floor


@jit
def set_curr(s, c, t):
    """Task ``t`` (-1: none) is now the one running on CPU ``c`` (``rq->curr``).

    Every change goes through here, which keeps what the TLB shootdowns
    need (:mod:`numaexp.sim.kernel.tlb`): each mm's count of CPUs running
    it (x86's ``mm_cpumask`` without its lazy CPUs), and the flush IPIs a
    task takes while it runs, charged when it stops (``ipi_seen``).
    """
    old = s.cpu.curr[c]
    if old == t:
        return
    tk = s.tk
    if old >= 0:
        tk.oncpu[old] -= 1
        mm = tk.mm[old]
        if mm >= 0:
            s.mm.nr_running_cpus[mm] -= 1
            if tk.oncpu[old] == 0:
                charge_ipis(s, old)
    s.cpu.curr[c] = t
    if t >= 0:
        tk.oncpu[t] += 1
        mm = tk.mm[t]
        if mm >= 0:
            s.mm.nr_running_cpus[mm] += 1
            if tk.oncpu[t] == 1:
                tk.ipi_seen[t] = s.mm.ipi_ns[mm]


@jit_inline
def charge_ipis(s, t):
    """Charge task ``t`` (of an mm) the flush IPIs its CPU took since they were last charged,
    as stolen time."""
    mm = s.tk.mm[t]
    taken = s.mm.ipi_ns[mm] - s.tk.ipi_seen[t]
    if taken > 0.0:
        steal(s, t, taken)
    s.tk.ipi_seen[t] = s.mm.ipi_ns[mm]


@jit
def deactivate_task(s, t):
    """``deactivate_task``: take ``t`` off its CPU's runqueue (it sleeps, exits or moves)."""
    if not s.tk.on_rq[t]:
        return
    c = s.tk.cpu[t]
    s.tk.on_rq[t] = 0
    s.cpu.nr_running[c] -= 1
    account_numa_dequeue(s, c, t)
    rq_list_del(s, c, t)
    if s.cpu.curr[c] == t:
        set_curr(s, c, -1)


@jit_inline
def update_scan_period(s, t, new_cpu):
    """``update_scan_period``: reset the scan period on a cross-node CPU change.

    Nothing happens while moving to the preferred node or away from a node
    that was not the preferred one once a scan has completed.
    """
    if s.p.mode == 0:
        return
    if not s.tk.has_faults[t] or s.tk.mm[t] < 0:
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
def set_task_cpu(s, t, new_cpu, now_ns, reason, level):
    """``set_task_cpu``: move task ``t`` to ``new_cpu`` (re-queued there if it was queued).

    Runs ``migrate_task_rq_fair`` (``update_scan_period``), counts
    ``se.nr_migrations`` and traces ``sched_migrate_task`` with the move's
    ``reason`` (``MOVE_*``) and the sched-domain ``level`` that moved it (-1:
    none).
    """
    old = s.tk.cpu[t]
    if old == new_cpu:
        return
    queued = s.tk.on_rq[t]
    if queued:
        deactivate_task(s, t)
    trace_event(s, now_ns, EV_MIGRATE, t, old, new_cpu, reason, level)
    update_scan_period(s, t, new_cpu)
    # PELT: the task's averages leave the old CPU's sums and join the new one's
    s.cpu.load_avg[old] -= s.tk.load_avg[t]
    s.cpu.util_avg[old] -= s.tk.util_avg[t]
    s.cpu.load_avg[new_cpu] += s.tk.load_avg[t]
    s.cpu.util_avg[new_cpu] += s.tk.util_avg[t]
    s.tk.cpu[t] = new_cpu
    s.tk.nr_migrations[t] += 1
    if queued:
        activate_task(s, t, new_cpu, False)


@jit
def sched_setnuma(s, t, nid):
    """``sched_setnuma``: change the preferred node (re-counted on the runqueue)."""
    queued = s.tk.on_rq[t]
    c = s.tk.cpu[t]
    if queued:
        account_numa_dequeue(s, c, t)
    s.tk.numa_preferred_nid[t] = nid
    if queued:
        account_numa_enqueue(s, c, t)


@jit_inline
def adjust_numa_imbalance(imbalance, dst_running, imb_numa_nr):
    """``adjust_numa_imbalance``: allow a small imbalance while the destination is lightly
    loaded (up to ``NUMA_IMBALANCE_MIN`` tasks while it runs at most ``imb_numa_nr``)."""
    if dst_running > imb_numa_nr:
        return imbalance
    if imbalance <= NUMA_IMBALANCE_MIN:
        return 0
    return imbalance
