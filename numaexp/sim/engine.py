"""The tick loop.

Each tick (1/HZ s): pick the running task of every CPU; compute speeds;
advance every running task (sweeps fault on the marked pages they pass);
deliver the random-access faults due this tick; run ``task_tick_numa`` (and
``task_numa_work`` when queued); load-balance; apply phase changes.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.access import stream_position, stream_weight
from numaexp.sim.constants import (
    CLK_ALIVE,
    CLK_PENDING,
    CLK_TICK,
    GUIDE_CELLS,
    PG_CLEAR_QUEUED,
    PG_PRESENT,
    PG_PROTNONE,
    RNG_ACCESSOR,
    RNG_ORDER,
    RNG_THIN,
    RUN_DONE,
    RUN_EVENTS_FULL,
    RUN_OK,
    RUN_SEGMENTS_FULL,
    VM_THP,
)
from numaexp.sim.events import random_rate, schedule_page, schedule_page_at, set_progress
from numaexp.sim.fault import do_anonymous_page, do_numa_page
from numaexp.sim.huge_memory import do_huge_pmd_numa_page
from numaexp.sim.jit import jit, jit_inline
from numaexp.sim.lists import (
    list_next,
    list_push,
    list_take,
    next_sweep_bucket,
    segment_page,
    segment_take,
)
from numaexp.sim.perf import compute_speeds
from numaexp.sim.phases import (
    advance_phases,
    build_segments,
    enter_phase,
    settle_streams,
    update_row_rates,
)
from numaexp.sim.rng import rand_u01, rand_u64
from numaexp.sim.scan import task_numa_work, task_tick_numa
from numaexp.sim.sched import load_balance, sched_pick
from numaexp.sim.segindex import find_segment, page_object
from numaexp.sim.vmscan import kswapd


@jit
def sim_init(s):
    """Enter every task's first phase; the index is built by the first :func:`run`."""
    for t in range(s.p.nr_tasks):
        enter_phase(s, t, s.tk.phase[t], 0)
    s.clk[CLK_ALIVE] = s.p.nr_tasks
    s.clk[CLK_PENDING] = 1


@jit
def handle_touch(s, page, t, writes, now_ns):
    """Task ``t`` touches a pending ``page``: first touch or hinting fault."""
    handle_touch_at(s, page, page_object(s, page), t, writes, now_ns)


@jit
def handle_touch_at(s, page, o, t, writes, now_ns):
    """:func:`handle_touch` of a page of memory object ``o``."""
    f = s.pg.pflags[page]
    if not f & PG_PRESENT:
        do_anonymous_page(s, t, page, o, writes)
    elif f & PG_PROTNONE:
        if s.ob.vm_flags[o] & VM_THP:
            do_huge_pmd_numa_page(s, t, page, now_ns)
        else:
            do_numa_page(s, t, page, o, now_ns)


@jit_inline
def _touch_bucket(s, t, k, lst, lo, hi, now_ns):
    """Fault the pages of sweep bucket ``lst`` whose positions lie in ``[lo, hi)``."""
    page = list_take(s, lst)
    pg = s.pg
    o = s.st.obj[k]
    base = s.ob.first[o]
    writes = s.st.writes[k]
    small = not s.ob.vm_flags[o] & VM_THP
    while page >= 0:
        nxt = pg.next[page]  # neighbouring positions: no prefetch needed (list_next)
        pg.pflags[page] &= PG_CLEAR_QUEUED
        i = stream_position(s.st, k, page - base)
        if lo <= i < hi:
            if small and pg.pflags[page] & PG_PRESENT:
                # handle_touch_at's hinting-fault case, inlined (the commonest touch)
                if pg.pflags[page] & PG_PROTNONE:
                    do_numa_page(s, t, page, o, now_ns)
            else:
                handle_touch_at(s, page, o, t, writes, now_ns)
        else:
            list_push(s, lst, page)
        page = nxt


@jit
def _sweep_span(s, t, k, lo, hi, now_ns):
    """Touch positions ``[lo, hi)`` (within one pass) of sweep stream ``k``."""
    r = s.st.region[k]
    sh = s.p.sweep_shift
    bfirst = s.rg.bucket_first[r]
    b = bfirst + (lo >> sh)
    bend = bfirst + ((hi - 1) >> sh) + 1
    while True:
        b = next_sweep_bucket(s, b, bend)
        if b < 0:
            break
        _touch_bucket(s, t, k, s.p.sweep_list_base + b, lo, hi, now_ns)
        b += 1


@jit
def sweep_advance(s, t, old_progress, adv, now_ns):
    """Task ``t``'s sweep moved ``adv`` positions past ``old_progress``: fault passed pages."""
    ph = s.tk.phase[t]
    k = s.ph.stream_first[ph]
    n = s.st.n[k]
    count = np.int64(old_progress + adv) - np.int64(old_progress)
    if count <= 0:
        return
    if count >= n:
        _sweep_span(s, t, k, 0, n, now_ns)
        return
    pos0 = np.int64(old_progress) % n
    pos1 = pos0 + count
    if pos1 <= n:
        _sweep_span(s, t, k, pos0, pos1, now_ns)
    else:
        _sweep_span(s, t, k, pos0, n, now_ns)
        _sweep_span(s, t, k, 0, pos1 - n, now_ns)


@jit
def prepare_row_picks(s):
    """Once per tick, after the rates: prefix sums and guide tables for :func:`pick_row_stream`.

    ``tmp_pick[0, q]`` is the running sum, over the streams of ``q``'s mass
    row up to ``mr_streams[q]``, of ``rate(task) * share`` of the active
    streams with a positive weight, added in stream order: the very sums the
    linear scan computed, so the pick is bit-identical. ``tmp_pick[1, q]`` is
    the last such stream at or before ``q`` (-1 none). Rates and active
    streams do not change between this call and the tick's accesses. Rows
    of sweeps are skipped: no access is ever picked from them.
    """
    pick = s.tmp_pick
    for r in range(len(s.mr)):
        if not s.mr.random[r]:
            continue  # only random rows pick an accessor (sweeps fault their own sweeper)
        acc = 0.0
        last = -1
        for q in range(s.mr.first[r], s.mr.first[r] + s.mr.count[r]):
            k = s.mr_streams[q]
            if s.st.active[k] == 1:
                w = s.tk.rate[s.st.task[k]] * s.st.share[k]
                if w > 0.0:
                    acc += w
                    last = k
            pick[0, q] = acc
            pick[1, q] = last
        build_row_guide(s, r)


@jit
def build_row_guide(s, row):
    """Guide table of mass row ``row`` from its running sums ``tmp_pick[0]`` (Chen and Asau).

    The row's range of draws ``[0, total)`` is cut into ``GUIDE_CELLS``
    cells per stream; ``tmp_guide`` holds, per cell, the first slot whose
    running sum exceeds the cell's lower bound, and ``mr.pick_scale`` the
    cells per unit of draw. A pick starts there and is then one or two
    compares from its answer, where a binary search over 64 sums takes six
    dependent steps.
    """
    lo = s.mr.first[row]
    count = s.mr.count[row]
    if count <= 0:
        return
    hi = lo + count
    pick = s.tmp_pick
    guide = s.tmp_guide
    cells = GUIDE_CELLS * count
    base = GUIDE_CELLS * lo
    total = pick[0, hi - 1]
    scale = cells / total if total > 0.0 else 0.0
    s.mr.pick_scale[row] = scale
    q = lo
    for g in range(cells):
        bound = g / scale if scale > 0.0 else 0.0
        while q < hi - 1 and not pick[0, q] > bound:
            q += 1
        guide[base + g] = q


@jit_inline
def pick_row_stream(s, row, x, default):
    """The stream of mass row ``row`` that makes an access drawn at ``x`` in [0, rate).

    The first active stream whose running sum of weights exceeds ``x`` (the
    last one with a positive weight if rounding leaves none, ``default`` if
    none has a weight), found from the row's guide table
    (:func:`build_row_guide`): the guide's slot is moved back while the sum
    before it still exceeds ``x`` (rounding of the cell bounds), then on
    while its own sum does not, so the answer does not depend on the guide.
    """
    lo = s.mr.first[row]
    count = s.mr.count[row]
    hi = lo + count
    if hi <= lo:
        return default
    pick = s.tmp_pick
    if not pick[0, hi - 1] > x:
        last = np.int64(pick[1, hi - 1])
        return last if last >= 0 else default
    cells = GUIDE_CELLS * count
    g = np.int64(x * s.mr.pick_scale[row]) if x > 0.0 else np.int64(0)
    q = s.tmp_guide[GUIDE_CELLS * lo + min(g, cells - 1)]
    while q > lo and pick[0, q - 1] > x:
        q -= 1
    while not pick[0, q] > x:
        q += 1
    return s.mr_streams[q]


@jit_inline
def deliver_row_touch(s, page, row, now_ns):
    """The clock of random row ``row`` reached ``page``'s drawn access: fault.

    The accessor is one of the row's active streams, drawn in proportion to
    its touches this tick.
    """
    x = rand_u01(s.p.seed_key, page, s.clk[CLK_TICK], RNG_ACCESSOR) * s.mr.rate[row]
    chosen = pick_row_stream(s, row, x, -1)
    handle_touch(s, page, s.st.task[chosen], s.st.writes[chosen], now_ns)


@jit
def _redraw_far(s, lst, salt):
    """Re-draw the pages of far list ``lst`` (linked ones, then its segment)."""
    page = list_take(s, lst)
    while page >= 0:
        nxt = list_next(s, page)
        s.pg.pflags[page] &= PG_CLEAR_QUEUED
        schedule_page(s, page, salt, 0)
        page = nxt
    lo, hi = segment_take(s, lst)
    for i in range(hi - 1, lo - 1, -1):
        page = segment_page(s, i, lo)
        if page >= 0:
            schedule_page(s, page, salt, 0)


@jit
def advance_row_clocks(s, now_ns):
    """Advance each random row's clock by this tick's touches and fire the passed buckets.

    A bucket fires when the clock passes its middle, so accesses are on
    average on time, within one tick. Every half turn of a ring, its far
    list is re-drawn from the current clock (memoryless: exact).
    """
    ring = s.p.row_ring
    for r in range(len(s.mr)):
        if not s.mr.random[r] or s.mr.rate[r] <= 0.0 or s.mr.width[r] <= 0.0:
            continue
        clock = s.mr.clock[r] + s.mr.rate[r] * s.p.tick_ns
        s.mr.clock[r] = clock
        width = s.mr.width[r]
        while (s.mr.pos[r] + 0.5) * width <= clock:
            b = s.mr.pos[r]
            lst = s.mr.lists[r] + (b & (ring - 1))
            page = list_take(s, lst)
            while page >= 0:
                nxt = list_next(s, page)
                s.pg.pflags[page] &= PG_CLEAR_QUEUED
                deliver_row_touch(s, page, r, now_ns)
                page = nxt
            lo, hi = segment_take(s, lst)
            for i in range(hi - 1, lo - 1, -1):
                page = segment_page(s, i, lo)
                if page >= 0:
                    deliver_row_touch(s, page, r, now_ns)
            s.mr.pos[r] = b + 1
            if (b + 1) % (ring >> 1) == 0:
                _redraw_far(s, s.mr.lists[r] + ring, 4)


@jit
def _stall_ticks(s, seg, off):
    """Ticks until some random accessor of the page can run again (at least 1).

    A running task with kernel-time debt makes no accesses until the debt is
    paid; a task waiting for its CPU may run next tick.
    """
    best = 1 << 30
    for j in range(s.sg_mrow_first[seg], s.sg_mrow_first[seg + 1]):
        row = s.st.mrow[s.sg_mrows[j]]
        if not s.mr.random[row]:
            continue
        for q in range(s.mr.first[row], s.mr.first[row] + s.mr.count[row]):
            k = s.mr_streams[q]
            t = s.st.task[k]
            if s.st.active[k] != 1 or not s.tk.alive[t]:
                continue
            wait = 1
            if s.tk.running[t]:
                wait = max(1, (s.tk.debt[t] + s.p.tick_ns - 1) // s.p.tick_ns)
            best = min(best, wait)
    return best if best < (1 << 30) else 1


@jit_inline
def deliver_random_touch(s, page, now_ns):
    """A page's drawn access time has come: thin, pick the accessor, fault.

    The draw used the accessors' ``rate_max``; the access is real with
    probability ``rate / rate_max`` (thinning), and the accessor is drawn in
    proportion to the current rates. When no accessor runs at all, the next
    candidate is drawn from the time the first of them can run again
    (exact: no access can happen before).
    """
    o = page_object(s, page)
    off = page - s.ob.first[o]
    seg = find_segment(s, o, off)
    tick = s.clk[CLK_TICK]
    lam = random_rate(s, seg, off, 0)
    if lam <= 0.0:
        schedule_page_at(s, page, off, seg, 2, _stall_ticks(s, seg, off) - 1)
        return
    lam_max = random_rate(s, seg, off, 1)
    if rand_u01(s.p.seed_key, page, tick, RNG_THIN) * lam_max >= lam:
        schedule_page_at(s, page, off, seg, 2, 0)  # not an access: draw the next candidate
        return
    # the accessing row, then the accessing stream within it
    x = rand_u01(s.p.seed_key, page, tick, RNG_ACCESSOR) * lam
    row = -1
    rep = -1
    acc = 0.0
    for j in range(s.sg_mrow_first[seg], s.sg_mrow_first[seg + 1]):
        k = s.sg_mrows[j]
        r = s.st.mrow[k]
        if not s.mr.random[r] or s.mr.rate[r] <= 0.0:
            continue
        i = stream_position(s.st, k, off)
        if i < 0:
            continue
        row = r
        rep = k
        acc += s.mr.rate[r] * stream_weight(s.st, k, i)
        if acc > x:
            break
    x = rand_u01(s.p.seed_key, page, tick, RNG_ACCESSOR + 16) * s.mr.rate[row]
    chosen = pick_row_stream(s, row, x, rep)
    handle_touch_at(s, page, o, s.st.task[chosen], s.st.writes[chosen], now_ns)


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
        _redraw_far(s, s.p.far_list, 3)
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
