"""Lock contention: the wait of one acquisition, from the other threads' arrival rate.

The simulator's own model (the kernel has no such function): each lock is
an M/M/1 queue. An acquisition holds it ``hold`` ns; the other threads
arrive at rate ``lambda`` = their acquisitions in the previous tick over the
tick's length (so a thread never waits for itself, and the result does not
depend on the order in which one tick's faults are handled). With
``rho = lambda * hold`` the mean wait before the lock is taken is
``hold * rho / (1 - rho)``, ``rho`` capped at :data:`RHO_MAX`. More threads
contending means a higher ``lambda``, so the wait grows with them.

Locks modelled (``costs.*_hold_ns``):

- the VMA lock (``lock_vma_under_rcu``'s read side, a cache line every
  faulting thread writes), per VMA, on every fault;
- the split page-table lock of the faulting PMD, on every fault: the VMA's
  arrivals spread evenly over its PMD tables (``npages / 512``);
- a node's LRU lock, per folio isolated from it for migration;
- a NUMA group's lock, per ``task_numa_placement`` of one of its tasks.

Arrival counts roll over at the start of every tick (:func:`roll_lock_counts`).
"""

from __future__ import annotations

from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import HPAGE_PMD_NR

RHO_MAX = 0.95
"""Largest utilisation of a lock in the model: the wait is at most 19 hold times."""


@jit_inline
def queue_wait_ns(others, tick_ns, hold_ns):
    """Mean M/M/1 wait, ns, for ``others`` acquisitions per tick of ``hold_ns`` each."""
    if others <= 0 or hold_ns <= 0.0:
        return 0.0
    rho = min(others * hold_ns / tick_ns, RHO_MAX)
    return hold_ns * rho / (1.0 - rho)


@jit_inline
def fault_lock_wait(s, t, v):
    """Wait of task ``t``'s fault in VMA ``v`` for the VMA lock and the PMD's page-table lock, ns.

    Counts the fault as an arrival at both.
    """
    others = s.vm.faults_prev[v] - s.tk.faults_prev[t]
    tables = max(1, s.vm.npages[v] // HPAGE_PMD_NR)
    wait = queue_wait_ns(others, s.p.tick_ns, s.p.vma_lock_hold_ns)
    wait += queue_wait_ns(others / tables, s.p.tick_ns, s.p.ptl_hold_ns)
    s.vm.faults_cur[v] += 1
    s.tk.faults_cur[t] += 1
    return wait


@jit_inline
def lru_lock_wait(s, t, nid):
    """Wait of task ``t`` for node ``nid``'s LRU lock to isolate a folio, ns (counted)."""
    others = s.nd.isolate_prev[nid] - s.tk.isolate_prev[t]
    s.nd.isolate_cur[nid] += 1
    s.tk.isolate_cur[t] += 1
    return queue_wait_ns(others, s.p.tick_ns, s.p.lru_lock_hold_ns)


@jit
def numa_group_lock_wait(s, grp):
    """Wait for NUMA group ``grp``'s lock in ``task_numa_placement``, ns (counted)."""
    others = s.ng.lock_prev[grp]
    s.ng.lock_cur[grp] += 1
    return queue_wait_ns(others, s.p.tick_ns, s.p.numa_group_lock_hold_ns)


@jit
def roll_lock_counts(s):
    """Start a tick: this tick's arrivals become the previous tick's."""
    for v in range(len(s.vm)):
        s.vm.faults_prev[v] = s.vm.faults_cur[v]
        s.vm.faults_cur[v] = 0
    for t in range(s.p.nr_tasks):
        s.tk.faults_prev[t] = s.tk.faults_cur[t]
        s.tk.faults_cur[t] = 0
        s.tk.isolate_prev[t] = s.tk.isolate_cur[t]
        s.tk.isolate_cur[t] = 0
        s.ng.lock_prev[t] = s.ng.lock_cur[t]
        s.ng.lock_cur[t] = 0
    for n in range(s.p.nr_nodes):
        s.nd.isolate_prev[n] = s.nd.isolate_cur[n]
        s.nd.isolate_cur[n] = 0
