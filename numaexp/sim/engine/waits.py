"""Sleeps, barrier waits and wake-ups (``try_to_wake_up``).

Sleeping and waiting tasks leave their runqueue. A sleep ends at its time
(the timer fires on the task's previous CPU, which wakes it); a barrier
releases its waiters when the last member of the process arrives, and that
member's CPU wakes them. Every wake-up goes through ``select_task_rq_fair``
(``ttwu``).
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import (
    BARRIER_PHASE,
    CLK_TICK,
    MOVE_WAKEUP,
    RNG_SLEEP,
    TK_KTHREAD,
    TS_SLEEPING,
    TS_WAITING,
)
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.rng import rand_u01
from numaexp.sim.kernel.lb import sched_balance_newidle
from numaexp.sim.kernel.sched import activate_task, deactivate_task, set_task_cpu
from numaexp.sim.kernel.select import WF_TTWU, select_task_rq_fair

FINISHED, RELEASED = 1, 2
"""``TASK_DTYPE.phase_done``: the task finished its phase in this tick; a phase barrier
released it (it moves on at the end of the tick)."""


@jit
def select_fallback_rq(s, t, cpu):
    """``select_fallback_rq``: an allowed CPU of ``cpu``'s node, else any allowed CPU."""
    nid = s.cpu.node[cpu]
    first = s.nd.first_cpu[nid]
    for c in range(first, first + s.nd.cpus[nid]):
        if s.tk_allowed[t, c]:
            return c
    for c in range(s.p.nr_cpus):
        if s.tk_allowed[t, c]:
            return c
    return cpu


@jit
def ttwu(s, t, waker, this_cpu, now_ns, tick_start_ns):
    """``try_to_wake_up``: place the waking task (``select_task_rq_fair``) and queue it."""
    tk = s.tk
    prev = tk.cpu[t]
    cpu = prev
    if tk.kind[t] != TK_KTHREAD:
        cpu = select_task_rq_fair(s, t, prev, this_cpu, waker, WF_TTWU, s.clk[CLK_TICK])
    if not s.tk_allowed[t, cpu]:
        cpu = select_fallback_rq(s, t, prev)
    if cpu != prev:
        set_task_cpu(s, t, cpu, now_ns, MOVE_WAKEUP, -1)
    tk.avail_ns[t] = max(tk.avail_ns[t], now_ns - tick_start_ns)
    tk.slot_done[t] = 0
    activate_task(s, t, cpu, True)


@jit_inline
def _sleep_length(s, t, ph, now_ns):
    """A sleep of phase row ``ph``: fixed, or exponential with that mean (ns)."""
    mean = s.ph.sleep_ns[ph]
    if not s.ph.sleep_exp[ph]:
        return np.int64(mean)
    u = rand_u01(s.p.seed_key, t, now_ns, RNG_SLEEP)
    return np.int64(-mean * np.log1p(-u))


@jit
def sleep_until(s, t, now_ns):
    """Task ``t`` goes to sleep at ``now_ns`` for its phase's sleep length."""
    ph = s.tk.phase[t]
    deactivate_task(s, t)
    s.tk.state[t] = TS_SLEEPING
    s.tk.wake_ns[t] = now_ns + max(_sleep_length(s, t, ph, now_ns), 1)
    s.tk.burst_ns[t] = s.ph.run_ns[ph]


@jit
def block(s, t, now_ns):
    """Task ``t`` blocks (waits) at ``now_ns``; its CPU balances if it went idle."""
    c = s.tk.cpu[t]
    deactivate_task(s, t)
    s.tk.state[t] = TS_WAITING
    s.tk.exec_start[t] = now_ns
    if s.cpu.nr_running[c] == 0:
        sched_balance_newidle(s, c, s.clk[CLK_TICK], now_ns)


@jit
def barrier_arrive(s, t, now_ns, tick_start_ns, kind):
    """Task ``t`` arrives at its process's barrier. Returns True if it must wait.

    The last member to arrive releases the others (and goes on); ``kind`` is
    ``BARRIER_PASS`` or ``BARRIER_PHASE``.
    """
    mm = s.tk.mm[t]
    s.mm.barrier_waiting[mm] += 1
    s.tk.barrier_wait[t] = kind
    if s.mm.barrier_waiting[mm] < s.mm.barrier_members[mm]:
        return True
    s.tk.barrier_wait[t] = 0
    s.mm.barrier_waiting[mm] -= 1
    barrier_release(s, mm, t, now_ns, tick_start_ns)
    return False


@jit
def barrier_release(s, mm, waker, now_ns, tick_start_ns):
    """Release every waiter of ``mm``'s barrier (woken from the CPU of ``waker``, -1: each
    from its own). Waiters at the end of a phase move on to their next phase first: they
    are left to :func:`advance_phases` (``phase_done`` 2), which wakes them."""
    this_cpu = s.tk.cpu[waker] if waker >= 0 else -1
    for t in range(s.p.nr_tasks):
        if s.tk.mm[t] != mm or s.tk.barrier_wait[t] == 0 or s.tk.state[t] != TS_WAITING:
            continue
        kind = s.tk.barrier_wait[t]
        s.tk.barrier_wait[t] = 0
        s.mm.barrier_waiting[mm] -= 1
        s.tk.barrier_seq[t] += 1
        if kind == BARRIER_PHASE:
            s.tk.phase_done[t] = RELEASED
            continue
        ttwu(s, t, waker, this_cpu if this_cpu >= 0 else s.tk.cpu[t], now_ns, tick_start_ns)
    if waker >= 0:
        s.tk.barrier_seq[waker] += 1


@jit
def barrier_leave(s, t, now_ns, tick_start_ns):
    """Task ``t`` stops being a member of its process's barrier (phase change, exit); the
    others are released if they were only waiting for it."""
    mm = s.tk.mm[t]
    s.mm.barrier_members[mm] -= 1
    if s.mm.barrier_waiting[mm] > 0 and s.mm.barrier_waiting[mm] >= s.mm.barrier_members[mm]:
        barrier_release(s, mm, -1, now_ns, tick_start_ns)
