"""The tick loop.

Each tick (1/HZ s): create and wake the tasks due; hand out every CPU's time
(sweeps fault on the marked pages they pass); deliver the random-access
faults due this tick; then each CPU's ``scheduler_tick``: ``task_tick_numa``
of its running task (and ``task_numa_work`` when queued), load tracking and
periodic load balancing; apply phase changes.
"""

from __future__ import annotations

from numaexp.sim.engine.codes import (
    CLK_ALIVE,
    CLK_PENDING,
    CLK_POLICY_ERROR,
    CLK_TICK,
    PG_CLEAR_QUEUED,
    RUN_DONE,
    RUN_EVENTS_FULL,
    RUN_OK,
    RUN_POLICY_ERROR,
    RUN_SEGMENTS_FULL,
    SCHED_FAR_REDRAW,
)
from numaexp.sim.engine.cputime import run_cpus
from numaexp.sim.engine.delivery import (
    advance_row_clocks,
    deliver_random_touch,
    prepare_row_picks,
    redraw_far,
)
from numaexp.sim.engine.jit import jit
from numaexp.sim.engine.lifecycle import advance_phases, sched_events, sim_init
from numaexp.sim.engine.lists import (
    list_next,
    list_take,
    segment_page,
    segment_take,
)
from numaexp.sim.engine.locks import roll_lock_counts
from numaexp.sim.engine.perf import measure_demand
from numaexp.sim.engine.phases import (
    build_segments,
    settle_streams,
    update_row_rates,
)
from numaexp.sim.kernel.lb import sched_balance_trigger
from numaexp.sim.kernel.pelt import update_load_avg_tick
from numaexp.sim.kernel.scan import task_numa_work, task_tick_numa
from numaexp.sim.kernel.tlb import charge_running_ipis
from numaexp.sim.kernel.vmscan import kswapd

__all__ = ["run", "sim_init", "task_locality", "tick_once"]


@jit
def tick_once(s):
    """Simulate one tick."""
    tick = s.clk[CLK_TICK]
    tick_ns = s.p.tick_ns
    now = tick * tick_ns
    tk = s.tk
    roll_lock_counts(s)
    sched_events(s, now)
    run_cpus(s, now)
    measure_demand(s)
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
    # scheduler_tick of each CPU: NUMA scanning of the running task (paced by its
    # runtime), load tracking, periodic load balancing
    if s.p.mode != 0:
        for c in range(s.p.nr_cpus):
            t = s.cpu.curr[c]
            if t >= 0 and tk.mm[t] >= 0 and task_tick_numa(s, t):
                task_numa_work(s, t)
    if s.p.demotion_enabled:
        kswapd(s, now)
    update_load_avg_tick(s, tick_ns)
    for c in range(s.p.nr_cpus):
        sched_balance_trigger(s, c, tick, now + tick_ns)
    if tick % (s.p.ring_size >> 1) == 0:
        redraw_far(s, s.p.far_list, SCHED_FAR_REDRAW)
    charge_running_ipis(s)
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
