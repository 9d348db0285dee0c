"""Thread lifecycles: creation (``fork``/``clone``), sleep, barrier waits, wake-ups, exit.

A process starts when the launcher forks its main thread (at the process's
``start_s``, from CPU 0); every other thread is cloned by its creator, either
when the creator starts or when one of the creator's phases ends, one clone
after another (``costs.clone_ns`` apart, each charged to the creator as system
time), plus the thread's own ``start_s``. A new task is placed by
``select_task_rq_fair`` with ``WF_FORK`` from its creator's CPU and gets
``init_numa_balancing`` as the kernel gives it at that moment.

Sleeps, barrier waits and wake-ups are in :mod:`numaexp.sim.engine.waits`.

Events happen at sub-tick times: a task woken or created within a tick may
run from that time on (``avail_ns``), after the task the CPU runs at the
moment finishes its turn (:mod:`numaexp.sim.engine.cputime`).
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import (
    BARRIER_PHASE,
    CLK_ALIVE,
    CLK_PENDING,
    CLK_TICK,
    EV_EXIT,
    EV_PHASE,
    EV_START,
    EV_WAKEUP_NEW,
    RNG_SLEEP,
    SYS_CLONE,
    TK_KTHREAD,
    TK_MAIN_SLEEPER,
    TK_WORKER,
    TS_DEAD,
    TS_NEW,
    TS_SLEEPING,
)
from numaexp.sim.engine.heapsort import heapsort
from numaexp.sim.engine.jit import jit
from numaexp.sim.engine.phases import enter_phase, leave_phase
from numaexp.sim.engine.rng import rand_u01
from numaexp.sim.engine.trace import trace_event
from numaexp.sim.engine.waits import (
    FINISHED,
    RELEASED,
    barrier_arrive,
    barrier_leave,
    block,
    select_fallback_rq,
    sleep_until,
    ttwu,
)
from numaexp.sim.kernel.constants import NSEC_PER_MSEC, NUMA_NO_NODE, U32_MASK
from numaexp.sim.kernel.lb import sched_balance_newidle
from numaexp.sim.kernel.pelt import post_init_entity_util_avg
from numaexp.sim.kernel.scan_period import msecs_to_jiffies, task_scan_max_of
from numaexp.sim.kernel.sched import activate_task, deactivate_task
from numaexp.sim.kernel.select import WF_FORK, select_task_rq_fair

INSTANT_BURST_NS = 100_000
"""A background burst this short (100 us) woken on an idle CPU runs at once
(:func:`burst_now`); a longer one waits for the tick's turns like any task."""

LAUNCHER_CPU = 0
"""The CPU the launcher forks processes from (it counts as running there meanwhile)."""


@jit
def init_numa_balancing(s, t, parent, now_ns):
    """``init_numa_balancing`` for the new task ``t``, created by ``parent`` (-1: forked by
    the launcher, a new mm; else a thread cloned with ``CLONE_VM``)."""
    tk = s.tk
    mm = tk.mm[t]
    if mm >= 0 and parent >= 0 and s.mm.users[mm] == 1:
        s.mm.numa_next_scan[mm] = s.clk[CLK_TICK] + msecs_to_jiffies(s.p.scan_delay_ms, s.p.hz)
        s.mm.numa_scan_seq[mm] = 0
    tk.node_stamp[t] = 0
    tk.numa_scan_seq[t] = s.mm.numa_scan_seq[mm] if mm >= 0 else 0
    tk.numa_scan_period[t] = s.p.scan_delay_ms
    tk.numa_migrate_retry[t] = 0
    tk.numa_pages_migrated[t] = 0
    tk.total_numa_faults[t] = 0
    tk.last_task_numa_placement[t] = 0
    tk.last_sum_exec_runtime[t] = 0
    if parent < 0 or mm < 0:
        tk.numa_preferred_nid[t] = NUMA_NO_NODE
        return
    tk.numa_preferred_nid[t] = tk.numa_preferred_nid[parent]
    users = s.mm.users[mm]
    product = (tk.numa_scan_period[parent] * users * NSEC_PER_MSEC) & U32_MASK
    delay = min(task_scan_max_of(s, parent) & U32_MASK, product)
    tk.node_stamp[t] = delay + 2 * s.p.tick_ns


@jit
def wake_up_new_task(s, t, now_ns, tick_start_ns):
    """Create task ``t`` at ``now_ns``: ``copy_process`` (mm users, ``init_numa_balancing``)
    and ``wake_up_new_task`` (placement with ``WF_FORK``, enqueue, first phase)."""
    tk = s.tk
    parent = tk.creator[t]
    mm = tk.mm[t]
    this_cpu = tk.cpu[parent] if parent >= 0 else LAUNCHER_CPU
    if tk.kind[t] == TK_KTHREAD:
        this_cpu = tk.cpu[t]
    init_numa_balancing(s, t, parent, now_ns)
    if mm >= 0:
        s.mm.users[mm] += 1
        s.mm.nr_threads[mm] += 1
    tk.cpu[t] = this_cpu
    tk.alive[t] = 1
    tk.start_ns[t] = now_ns
    tk.create_ns[t] = now_ns
    tk.exec_start[t] = now_ns
    tk.recent_used_cpu[t] = this_cpu
    if parent >= 0:
        tk.vruntime[t] = tk.vruntime[parent]
        charge(s, parent, s.p.clone_ns, SYS_CLONE)
    launcher = parent < 0 and tk.kind[t] != TK_KTHREAD
    if launcher:
        s.cpu.nr_running[LAUNCHER_CPU] += 1
    cpu = this_cpu
    if tk.kind[t] != TK_KTHREAD:
        cpu = select_task_rq_fair(s, t, this_cpu, this_cpu, parent, WF_FORK, s.clk[CLK_TICK])
    if launcher:
        s.cpu.nr_running[LAUNCHER_CPU] -= 1
    if not s.tk_allowed[t, cpu]:
        cpu = select_fallback_rq(s, t, cpu)
    tk.cpu[t] = cpu  # __set_task_cpu: no migration for a task that never ran
    if tk.kind[t] == TK_WORKER or tk.kind[t] == TK_MAIN_SLEEPER:  # not the background:
        post_init_entity_util_avg(s, t, cpu)
    # a background task has been asleep since boot: its averages have decayed to nothing
    s.cpu.load_avg[cpu] += tk.load_avg[t]
    s.cpu.util_avg[cpu] += tk.util_avg[t]
    tk.avail_ns[t] = max(now_ns - tick_start_ns, 0)
    workload = tk.kind[t] == TK_WORKER or tk.kind[t] == TK_MAIN_SLEEPER
    if workload:
        trace_event(s, now_ns, EV_WAKEUP_NEW, t, this_cpu if parent >= 0 else -1, cpu,
                    parent, 0)
    ph = tk.phase[t]
    if ph >= 0:
        enter_phase(s, t, ph, now_ns)
        s.clk[CLK_PENDING] = 1
        if workload:
            trace_event(s, now_ns, EV_START, t, cpu, ph, 0, 0)
        tk.burst_ns[t] = s.ph.run_ns[ph]
        if s.ph.barrier[ph] != 0:
            s.mm.barrier_members[mm] += 1
    if workload:
        activate_task(s, t, cpu, True)
        schedule_children(s, t, -1, now_ns)
    else:  # a background task starts asleep, at a random point of its cycle
        tk.state[t] = TS_SLEEPING
        u = rand_u01(s.p.seed_key, t, now_ns, RNG_SLEEP + 1)
        tk.wake_ns[t] = now_ns + np.int64(u * s.ph.sleep_ns[ph])


@jit
def schedule_children(s, creator, phase_row, now_ns):
    """The creator reached a creation point (its start, ``phase_row`` -1, or the end of
    ``phase_row``): its threads made there get their creation time."""
    for t in range(s.p.nr_tasks):
        if s.tk.state[t] == TS_NEW and s.tk.creator[t] == creator and \
                s.tk.create_phase[t] == phase_row and s.tk.create_ns[t] < 0:
            s.tk.create_ns[t] = now_ns + s.tk.create_delay[t]


@jit
def next_phase(s, t, now_ns, tick_start_ns):
    """Move task ``t`` past its finished phase: into the next one, or exit.

    Returns True if the task has a next phase (False: it exited).
    """
    tk = s.tk
    ph = tk.phase[t]
    if s.ph.barrier[ph] != 0:
        barrier_leave(s, t, now_ns, tick_start_ns)
    leave_phase(s, t)
    s.clk[CLK_PENDING] = 1
    schedule_children(s, t, ph, now_ns)
    nxt = ph + 1
    if nxt > tk.phase_last[t]:
        tk.phase[t] = -1
        done_at = tk.finish_ns[t] if tk.finish_ns[t] >= 0 else now_ns
        tk.finish_ns[t] = done_at + tk.debt[t]
        trace_event(s, now_ns, EV_EXIT, t, tk.cpu[t], 0, 0, 0)
        task_exit(s, t, now_ns)
        return False
    enter_phase(s, t, nxt, now_ns)
    tk.burst_ns[t] = s.ph.run_ns[nxt]
    if s.ph.barrier[nxt] != 0:
        s.mm.barrier_members[tk.mm[t]] += 1
    return True


@jit
def task_exit(s, t, now_ns):
    """A thread exits: leave the runqueue, the mm and its NUMA group (``task_numa_free``)."""
    tk = s.tk
    c = tk.cpu[t]
    deactivate_task(s, t)
    tk.alive[t] = 0
    tk.state[t] = TS_DEAD
    tk.running[t] = 0
    tk.rate[t] = 0.0
    s.cpu.load_avg[c] -= tk.load_avg[t]
    s.cpu.util_avg[c] -= tk.util_avg[t]
    mm = tk.mm[t]
    if mm >= 0:
        s.mm.users[mm] -= 1
        s.mm.nr_threads[mm] -= 1
    if tk.kind[t] == TK_WORKER:
        s.clk[CLK_ALIVE] -= 1
    g = tk.numa_group[t]
    if g >= 0:
        for i in range(4 * s.p.nr_nodes):
            s.ng_faults[g, i] -= s.tk_faults[t, i]
        s.ng.total_faults[g] -= tk.total_numa_faults[t]
        s.ng.nr_tasks[g] -= 1
        tk.numa_group[t] = -1
    if s.cpu.nr_running[c] == 0:
        sched_balance_newidle(s, c, s.clk[CLK_TICK], now_ns)


@jit
def _collect_due(s, end):
    """Tasks with a creation or a timer wake-up before ``end``, sorted by its time (then
    index), in ``tmp_round_idx``; returns how many."""
    tk = s.tk
    key = s.tmp_round_key
    idx = s.tmp_round_idx
    n = 0
    for t in range(s.p.nr_tasks):
        st = tk.state[t]
        if st == TS_NEW and 0 <= tk.create_ns[t] < end:
            when = tk.create_ns[t]
        elif st == TS_SLEEPING and tk.wake_ns[t] < end:
            when = tk.wake_ns[t]
        else:
            continue
        key[n] = when + t / (s.p.nr_tasks + 1.0)
        idx[n] = t
        n += 1
    heapsort(key, n, idx)
    return n


@jit
def burst_now(s, t, now_ns, tick_end_ns):
    """A background task woken on an idle CPU runs its burst at once and sleeps again, so
    that the tick's later creations and wake-ups see its CPU idle again (its burst is
    microseconds; :mod:`~numaexp.sim.engine.cputime` hands out the rest of the tick)."""
    tk = s.tk
    c = tk.cpu[t]
    ran = min(tk.burst_ns[t], tick_end_ns - now_ns)
    if ran <= 0:
        return
    tk.ran_ns[t] += ran
    tk.utime[t] += ran
    tk.sum_exec_runtime[t] += ran
    tk.vruntime[t] += ran
    tk.burst_ns[t] -= ran
    s.cpu.nr_switches[c] += 2  # idle -> the task -> idle
    if tk.burst_ns[t] <= 0:
        tk.nvcsw[t] += 1
        sleep_until(s, t, now_ns + ran)
        s.cpu.idle_stamp[c] = now_ns + ran


@jit
def sched_events(s, tick_start_ns):
    """Creations and timer wake-ups due in the tick starting at ``tick_start_ns``, in time
    order (threads created by those made here come in a following pass)."""
    end = tick_start_ns + s.p.tick_ns
    tk = s.tk
    while True:
        n = _collect_due(s, end)
        if n == 0:
            return
        for j in range(n):
            t = s.tmp_round_idx[j]
            if tk.state[t] == TS_NEW:
                wake_up_new_task(s, t, max(tk.create_ns[t], tick_start_ns), tick_start_ns)
            elif tk.state[t] == TS_SLEEPING:
                when = max(tk.wake_ns[t], tick_start_ns)
                ttwu(s, t, -1, tk.cpu[t], when, tick_start_ns)
                if s.ph.stream_count[tk.phase[t]] == 0 and s.cpu.nr_running[tk.cpu[t]] == 1 \
                        and tk.burst_ns[t] <= INSTANT_BURST_NS:
                    burst_now(s, t, when, end)


@jit
def advance_phases(s, now_ns):
    """At the end of the tick (``now_ns``): every task whose phase ended waits at its
    phase barrier, or moves on to its next phase, or exits; tasks a barrier released
    move on and wake up. Repeats while that releases more.

    Returns True if any stream changed (the index must be rebuilt).
    """
    tk = s.tk
    changed = False
    again = True
    while again:
        again = False
        for t in range(s.p.nr_tasks):
            done = tk.phase_done[t]
            if not done:
                continue
            tk.phase_done[t] = 0
            changed = True
            again = True
            ph = tk.phase[t]
            if done == FINISHED and s.ph.barrier[ph] == BARRIER_PHASE:
                if barrier_arrive(s, t, now_ns, now_ns, BARRIER_PHASE):
                    block(s, t, now_ns)
                    continue
            if next_phase(s, t, now_ns, now_ns):
                trace_event(s, now_ns, EV_PHASE, t, tk.phase[t], tk.cpu[t], 0, 0)
                if done == RELEASED:
                    ttwu(s, t, -1, tk.cpu[t], now_ns, now_ns)
    return changed


@jit
def sim_init(s):
    """Count the workload's threads; they are created by the first ticks."""
    n = 0
    for t in range(s.p.nr_tasks):
        if s.tk.kind[t] == TK_WORKER:
            n += 1
    s.clk[CLK_ALIVE] = n
    s.clk[CLK_PENDING] = 1
