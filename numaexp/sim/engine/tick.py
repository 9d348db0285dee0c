"""The tick loop.

Each tick (1/HZ s): pick the running task of every CPU; compute speeds;
advance every running task (sweeps fault on the marked pages they pass);
deliver the random-access faults due this tick; run ``task_tick_numa`` (and
``task_numa_work`` when queued); load-balance; apply phase changes.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import (
    CLK_ALIVE,
    CLK_PENDING,
    CLK_POLICY_ERROR,
    CLK_TICK,
    PG_CLEAR_QUEUED,
    RNG_ORDER,
    RUN_DONE,
    RUN_EVENTS_FULL,
    RUN_OK,
    RUN_POLICY_ERROR,
    RUN_SEGMENTS_FULL,
    SCHED_FAR_REDRAW,
)
from numaexp.sim.engine.delivery import (
    advance_row_clocks,
    deliver_random_touch,
    prepare_row_picks,
    redraw_far,
)
from numaexp.sim.engine.events import set_progress
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.lists import (
    list_next,
    list_take,
    segment_page,
    segment_take,
)
from numaexp.sim.engine.perf import compute_speeds
from numaexp.sim.engine.phases import (
    advance_phases,
    build_segments,
    enter_phase,
    settle_streams,
    update_row_rates,
)
from numaexp.sim.engine.rng import rand_u64
from numaexp.sim.engine.touch import sweep_advance
from numaexp.sim.kernel.scan import task_numa_work, task_tick_numa
from numaexp.sim.kernel.sched import load_balance, sched_pick
from numaexp.sim.kernel.vmscan import kswapd


@jit
def sim_init(s):
    """Enter every task's first phase; the index is built by the first :func:`run`."""
    for t in range(s.p.nr_tasks):
        enter_phase(s, t, s.tk.phase[t], 0)
    s.clk[CLK_ALIVE] = s.p.nr_tasks
    s.clk[CLK_PENDING] = 1


@jit_inline
def _shuffle(s, tick):
    order = s.tmp_order
    n = len(order)
    for i in range(n):
        order[i] = i
    for i in range(n - 1, 0, -1):
        j = np.int64(rand_u64(s.p.seed_key, tick, i, RNG_ORDER) % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]


@jit
def tick_once(s):
    """Simulate one tick."""
    tick = s.clk[CLK_TICK]
    tick_ns = s.p.tick_ns
    now = tick * tick_ns
    tk = s.tk
    sched_pick(s)
    compute_speeds(s)
    _shuffle(s, tick)
    for j in range(s.p.nr_tasks):
        t = s.tmp_order[j]
        if not tk.running[t]:
            tk.rate[t] = 0.0
            continue
        avail = tick_ns
        pay = min(tk.debt[t], avail)
        tk.debt[t] -= pay
        avail -= pay
        used = 0
        adv = 0.0
        if tk.phase[t] >= 0 and not tk.phase_done[t] and avail > 0:
            adv = avail * tk.speed[t]
            remaining = tk.target[t] - tk.progress[t]
            used = avail
            if adv >= remaining:
                adv = max(remaining, 0.0)
                used = min(avail, np.int64(adv / tk.speed[t]) + 1)
                tk.phase_done[t] = 1
                tk.finish_ns[t] = now + pay + used
            old = tk.progress[t]
            set_progress(s, t, old + adv)
            tk.touches[t] += adv
            tk.utime[t] += used
            if s.ph.sweep[tk.phase[t]]:
                sweep_advance(s, t, old, adv, now)
        tk.rate[t] = adv / tick_ns
        ran = pay + used
        tk.sum_exec_runtime[t] += ran
        tk.vruntime[t] += ran if ran > 0 else tick_ns
    update_row_rates(s, 0)
    prepare_row_picks(s)
    for t in range(s.p.nr_tasks):
        end = tk.phase_end_ns[t]
        if tk.alive[t] and tk.phase[t] >= 0 and end >= 0 and now + tick_ns >= end and \
                not tk.phase_done[t]:
            tk.phase_done[t] = 1
            tk.finish_ns[t] = end
    # random-access faults due this tick
    advance_row_clocks(s, now)
    lst = tick & (s.p.ring_size - 1)
    page = list_take(s, lst)
    while page >= 0:
        nxt = list_next(s, page)
        s.pg.pflags[page] &= PG_CLEAR_QUEUED
        deliver_random_touch(s, page, now)
        page = nxt
    lo, hi = segment_take(s, lst)
    for i in range(hi - 1, lo - 1, -1):
        page = segment_page(s, i, lo)
        if page >= 0:
            deliver_random_touch(s, page, now)
    # NUMA scanning, paced by runtime
    if s.p.mode != 0:
        for t in range(s.p.nr_tasks):
            if tk.running[t] and task_tick_numa(s, t):
                task_numa_work(s, t)
    if s.p.demotion_enabled:
        kswapd(s, now)
    load_balance(s, now, tick)
    if tick % (s.p.ring_size >> 1) == 0:
        redraw_far(s, s.p.far_list, SCHED_FAR_REDRAW)
    if advance_phases(s, now + tick_ns):
        s.clk[CLK_PENDING] = 1
    s.clk[CLK_TICK] = tick + 1


@jit
def run(s, until_tick):
    """Simulate ticks until ``until_tick``, the end of all work, or a full buffer.

    Returns one of RUN_OK, RUN_DONE, RUN_EVENTS_FULL, RUN_SEGMENTS_FULL.
    """
    margin = len(s.ev) >> 1
    while True:
        if s.clk[CLK_PENDING]:
            if not build_segments(s):
                return RUN_SEGMENTS_FULL
            settle_streams(s)
            s.clk[CLK_PENDING] = 0
        if s.clk[CLK_ALIVE] <= 0:
            return RUN_DONE
        if s.clk[CLK_TICK] >= until_tick:
            return RUN_OK
        if s.ev_count[0] > margin:
            return RUN_EVENTS_FULL
        if s.clk[CLK_POLICY_ERROR]:
            return RUN_POLICY_ERROR
        tick_once(s)


@jit
def task_locality(s, out):
    """Share of each task's touches that land on its current node (0 when idle)."""
    nn = s.p.nr_nodes
    for t in range(s.p.nr_tasks):
        out[t] = 0.0
        ph = s.tk.phase[t]
        if ph < 0:
            continue
        local = s.cpu.node[s.tk.cpu[t]]
        acc = 0.0
        for k in range(s.ph.stream_first[ph], s.ph.stream_first[ph] + s.ph.stream_count[ph]):
            total = 0.0
            row = s.st.mrow[k]
            for n in range(nn):
                total += s.st_mass[row, n]
            if total > 0.0:
                acc += s.st.share[k] * s.st_mass[row, local] / total
        out[t] = acc
