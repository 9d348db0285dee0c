"""Handing out each tick's CPU time: who runs on each CPU, for how long, in which order.

Each CPU gives its tick to the runnable tasks in turns: the task with the
smallest ``vruntime`` among those already there runs until the tick ends or
it stops (it sleeps at the end of a burst, waits at a barrier, ends its
phase or has nothing to do), then the next one, and so on; a task has at
most one turn per tick. A CPU-bound task thus keeps its CPU for whole ticks,
and two of them on one CPU alternate tick by tick.

The turns of all CPUs are run round by round (every CPU's first turn, then
the second turns of the CPUs whose first turn ended early, ...). Within a
round, sweeping tasks run first, the furthest ahead first, so that when
several threads sweep the same pages the one that passes a page first in
time touches it first; the other tasks follow in CPU order from a per-tick
random offset.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import BARRIER_PASS, CLK_TICK, RNG_ORDER, TK_MAIN_SLEEPER, TS_NEW
from numaexp.sim.engine.events import set_progress
from numaexp.sim.engine.heapsort import heapsort
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.perf import compute_speeds
from numaexp.sim.engine.rng import rand_u64
from numaexp.sim.engine.touch import sweep_advance
from numaexp.sim.engine.waits import barrier_arrive, block, sleep_until
from numaexp.sim.kernel.lb import sched_balance_newidle
from numaexp.sim.kernel.sched import rq_list_move_head, set_curr


@jit_inline
def pick_next_task(s, c, tick_ns):
    """The task CPU ``c`` runs next this tick, and from when (ns into the tick); -1 if none.

    Among the runnable tasks that have not had their turn, those already
    there at the CPU's clock first; of those, the smallest ``vruntime``.
    """
    clock = s.cpu.clock[c]
    best = -1
    best_start = tick_ns
    t = s.cpu.rq_head[c]
    while t >= 0:
        if not s.tk.slot_done[t] and s.tk.avail_ns[t] < tick_ns:
            start = max(clock, s.tk.avail_ns[t])
            if best < 0 or start < best_start or (
                    start == best_start and s.tk.vruntime[t] < s.tk.vruntime[best]):
                best = t
                best_start = start
        t = s.tk.rq_next[t]
    if best >= 0 and best_start > clock:
        # idle until a task arrives: among the arrived ones by then, the smallest vruntime
        t = s.cpu.rq_head[c]
        while t >= 0:
            if not s.tk.slot_done[t] and s.tk.avail_ns[t] <= best_start and \
                    s.tk.vruntime[t] < s.tk.vruntime[best]:
                best = t
            t = s.tk.rq_next[t]
    return best, best_start


@jit_inline
def _has_unborn_children(s, t):
    for u in range(s.p.nr_tasks):
        if s.tk.state[u] == TS_NEW and s.tk.creator[u] == t:
            return True
    return False


@jit
def run_slot(s, t, c, start, now):
    """Task ``t`` runs on CPU ``c`` from ``start`` ns into the tick. Returns when its turn ends
    (ns into the tick) and whether it blocked."""
    tk = s.tk
    tick_ns = s.p.tick_ns
    avail = tick_ns - start
    pay = min(tk.debt[t], avail)
    tk.debt[t] -= pay
    avail -= pay
    budget = avail
    burst = tk.burst_ns[t]
    if burst >= 0:
        budget = min(budget, max(burst - pay, 0))
    used = 0
    adv = 0.0
    at_pass_end = False
    ph = tk.phase[t]
    if ph >= 0 and not tk.phase_done[t] and budget > 0:
        if s.ph.stream_count[ph] == 0:  # a background burst: CPU time only
            used = budget
        else:
            adv = budget * tk.speed[t]
            remaining = tk.target[t] - tk.progress[t]
            phase_end = True
            if s.ph.barrier[ph] == BARRIER_PASS:
                n = s.st.n[s.ph.stream_first[ph]]
                to_pass = (np.floor(tk.progress[t] / n) + 1.0) * n - tk.progress[t]
                if to_pass < remaining:
                    remaining = to_pass
                    phase_end = False
            used = budget
            if adv >= remaining:
                adv = max(remaining, 0.0)
                used = min(budget, np.int64(adv / tk.speed[t]) + 1)
                if phase_end:
                    tk.phase_done[t] = 1
                    tk.finish_ns[t] = now + start + pay + used
                else:
                    at_pass_end = True
            old = tk.progress[t]
            set_progress(s, t, old + adv)
            tk.touches[t] += adv
            if s.ph.sweep[ph]:
                sweep_advance(s, t, old, adv, now + start + pay)
        tk.utime[t] += used
    tk.rate[t] += adv / tick_ns
    ran = pay + used
    tk.ran_ns[t] += ran
    tk.sum_exec_runtime[t] += ran
    tk.vruntime[t] += ran
    end = start + ran
    tk.exec_start[t] = now + end
    blocked = False
    if burst >= 0:
        tk.burst_ns[t] = burst - ran
        if tk.burst_ns[t] <= 0 and ph >= 0 and not tk.phase_done[t]:
            sleep_until(s, t, now + end)
            blocked = True
    if not blocked and at_pass_end:
        blocked = barrier_arrive(s, t, now + end, now, BARRIER_PASS)
        if blocked:
            block(s, t, now + end)
            return end, True
    if not blocked and ph < 0 and tk.debt[t] == 0 and tk.kind[t] == TK_MAIN_SLEEPER and \
            not _has_unborn_children(s, t):
        block(s, t, now + end)  # pthread_join: the main thread sleeps until the end
        return end, True
    if blocked and s.cpu.nr_running[c] == 0:
        sched_balance_newidle(s, c, s.clk[CLK_TICK], now + end)
    return end, blocked


@jit_inline
def _switch_in(s, c, t, start):
    """Context-switch accounting when ``t`` starts its turn on ``c`` at ``start``."""
    last = s.cpu.last[c]
    if last == t:
        return
    if last >= 0:
        s.tk.nivcsw[last] += 1  # preempted: it is still runnable
        s.cpu.nr_switches[c] += 1
    elif start > s.cpu.clock[c] or last == -1:
        s.cpu.nr_switches[c] += 1  # from the idle task
    s.cpu.last[c] = t


@jit
def _order_round(s, m, tick):
    """Order the round's ``m`` turns: sweeps furthest ahead first, then the others from a
    random CPU offset: ``tmp_round_key`` holds the keys negated, so that its ascending heap
    sort leaves ``tmp_round_idx`` in descending order of the keys)."""
    key = s.tmp_round_key
    idx = s.tmp_round_idx
    offset = np.int64(rand_u64(s.p.seed_key, tick, m, RNG_ORDER) % np.uint64(max(m, 1)))
    for j in range(m):
        t = s.tmp_round_task[j]
        ph = s.tk.phase[t]
        if ph >= 0 and s.ph.sweep[ph]:
            key[j] = -(1.0 + s.tk.progress[t])
        else:
            key[j] = 1.0 + ((j - offset) % m) / (m + 1.0)
        idx[j] = j
    heapsort(key, m, idx)


@jit
def run_cpus(s, now):
    """Give out the tick starting at ``now`` on every CPU; set ``cpu.curr`` to the task
    running when it ends."""
    tick_ns = s.p.tick_ns
    tk = s.tk
    nc = s.p.nr_cpus
    for c in range(nc):
        s.cpu.clock[c] = 0
        set_curr(s, c, -1)
    for t in range(s.p.nr_tasks):
        tk.slot_done[t] = 0
        tk.running[t] = 0
        tk.rate[t] = 0.0
    tick = s.clk[CLK_TICK]
    while True:
        m = 0
        for c in range(nc):
            if s.cpu.clock[c] >= tick_ns or s.cpu.curr[c] >= 0:
                continue
            t, start = pick_next_task(s, c, tick_ns)
            if t < 0:
                continue
            s.tmp_round_task[m] = t
            s.tmp_round_cpu[m] = c
            s.tmp_round_start[m] = start
            set_curr(s, c, t)  # running: the balancers leave it alone
            tk.running[t] = 1
            tk.slot_done[t] = 1
            m += 1
        if m == 0:
            break
        compute_speeds(s)
        _order_round(s, m, tick)
        for j in range(m):
            i = s.tmp_round_idx[j]
            t = s.tmp_round_task[i]
            c = s.tmp_round_cpu[i]
            start = s.tmp_round_start[i]
            if tk.cpu[t] != c or s.cpu.curr[c] != t:
                continue  # moved meanwhile (a NUMA swap in another turn)
            _switch_in(s, c, t, start)
            rq_list_move_head(s, c, t)
            end, blocked = run_slot(s, t, c, start, now)
            s.cpu.idle_ns[c] += start - s.cpu.clock[c]
            s.cpu.clock[c] = end
            if tk.cpu[t] != c:  # NUMA balancing moved it during its turn
                if s.cpu.curr[c] == t:
                    set_curr(s, c, -1)
                s.cpu.last[c] = -1
                continue
            if blocked:
                tk.nvcsw[t] += 1
                s.cpu.nr_switches[c] += 1
                s.cpu.last[c] = -2  # switched out voluntarily: the next switch is counted
            elif start < end < tick_ns and not tk.phase_done[t]:
                tk.slot_done[t] = 0  # it stopped at a barrier it opened: it may go on
            if end < tick_ns or blocked:
                set_curr(s, c, -1)
    for c in range(nc):
        if s.cpu.clock[c] < tick_ns:
            s.cpu.idle_ns[c] += tick_ns - s.cpu.clock[c]
        last = s.cpu.last[c]
        if s.cpu.curr[c] < 0 and (last == -2 or (last >= 0 and not tk.on_rq[last])):
            s.cpu.last[c] = -1  # the CPU ends the tick idle
    for t in range(s.p.nr_tasks):
        tk.avail_ns[t] = 0
