"""Carrying out a NUMA task move (kernel/sched/core.c): ``migrate_task_to`` moves a task to
an idle CPU, ``migrate_swap`` exchanges two tasks' CPUs. Each counts RFC patch 1's
``numa_task_migrated`` / ``numa_task_swapped`` per task, in vmstat and per memcg, and
charges the moved task its cost.

Departure: the stopper thread's work is instant; a moved task runs on its new CPU from
the moment of the move.
"""

from __future__ import annotations

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import EV_MOVE_NUMA, EV_SWAP_NUMA, MOVE_NUMA, MOVE_SWAP, SYS_TASK_MOVE
from numaexp.sim.engine.jit import jit
from numaexp.sim.engine.trace import trace_event
from numaexp.sim.kernel.constants import (
    MC_NUMA_TASK_MIGRATED,
    MC_NUMA_TASK_SWAPPED,
    NUMA_TASK_MIGRATED,
    NUMA_TASK_SWAPPED,
)
from numaexp.sim.kernel.sched import set_curr, set_task_cpu


@jit
def count_task_event(s, t, vm_item, memcg_item):
    """RFC patch 1: the task's ``numa_task_migrated`` or ``numa_task_swapped`` count, the
    vmstat item (where the variant increments it) and the memcg event."""
    if vm_item == NUMA_TASK_MIGRATED:
        s.tk.numa_task_migrated[t] += 1
    else:
        s.tk.numa_task_swapped[t] += 1
    if s.p.stats_vmstat:  # as posted, the vmstat items were never incremented
        s.cnt_vm[vm_item] += 1
    s.cnt_memcg[s.mm.cgroup[s.tk.mm[t]], memcg_item] += 1  # count_memcg_event_mm


@jit
def charge_move(s, t):
    """The task pays ``CostModel.task_move_ns`` of system time for being moved."""
    charge(s, t, s.p.task_move_ns, SYS_TASK_MOVE)


@jit
def migrate_task_to(s, t, cpu, now_ns):
    """``migrate_task_to``: move ``t`` to ``cpu``; counts ``numa_task_migrated`` (RFC patch 1)."""
    src = s.tk.cpu[t]
    trace_event(s, now_ns, EV_MOVE_NUMA, t, src, cpu, s.cpu.node[src], s.cpu.node[cpu])
    set_task_cpu(s, t, cpu, now_ns, MOVE_NUMA, -1)
    # t runs on its new CPU from now on (stop_one_cpu): later searches this tick see it there
    if s.cpu.curr[src] == t:
        set_curr(s, src, -1)
    if s.cpu.curr[cpu] < 0:
        set_curr(s, cpu, t)
    count_task_event(s, t, NUMA_TASK_MIGRATED, MC_NUMA_TASK_MIGRATED)
    charge_move(s, t)


@jit
def migrate_swap(s, p, cur, target_cpu, curr_cpu, now_ns):
    """``migrate_swap``: exchange CPUs of ``p`` and ``cur``; ``__migrate_swap_task``
    runs for each, so ``numa_task_swapped`` counts on both (RFC patch 1)."""
    trace_event(s, now_ns, EV_SWAP_NUMA, p, curr_cpu, target_cpu, cur, 0)
    set_task_cpu(s, p, target_cpu, now_ns, MOVE_SWAP, -1)
    set_task_cpu(s, cur, curr_cpu, now_ns, MOVE_SWAP, -1)
    # migrate_swap_stop exchanges the two running tasks: later searches this tick
    # must see each on its new CPU (else several tasks could swap with one partner)
    set_curr(s, target_cpu, p)
    set_curr(s, curr_cpu, cur)
    count_task_event(s, p, NUMA_TASK_SWAPPED, MC_NUMA_TASK_SWAPPED)
    count_task_event(s, cur, NUMA_TASK_SWAPPED, MC_NUMA_TASK_SWAPPED)
    charge_move(s, p)
    charge_move(s, cur)
