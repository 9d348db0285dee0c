"""Random accesses: when a marked page's drawn access comes, who makes it.

Pages covered by one random mass row wait on the row's own clock
(:func:`advance_row_clocks`); others wait in the calendar ring and are
thinned and attributed when due (:func:`deliver_random_touch`). The
accessor is drawn in proportion to the streams' rates this tick, from
prefix sums and guide tables built once per tick (:func:`prepare_row_picks`).
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.access import stream_position, stream_weight
from numaexp.sim.engine.codes import (
    CLK_TICK,
    GUIDE_CELLS,
    PG_CLEAR_QUEUED,
    RNG_ACCESSOR,
    RNG_STREAM_IN_ROW,
    RNG_THIN,
    SCHED_REDRAW,
    SCHED_ROW_FAR_REDRAW,
)
from numaexp.sim.engine.events import random_rate, schedule_page, schedule_page_at
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.lists import list_next, list_take, segment_page, segment_take
from numaexp.sim.engine.rng import rand_u01
from numaexp.sim.engine.segindex import find_segment, page_object
from numaexp.sim.engine.touch import handle_touch, handle_touch_at


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
    cell = x * s.mr.pick_scale[row]  # a float first: the scale is huge when the rates are tiny
    g = np.int64(min(cell, cells - 1)) if x > 0.0 else np.int64(0)
    q = s.tmp_guide[GUIDE_CELLS * lo + g]
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
def redraw_far(s, lst, salt):
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
                redraw_far(s, s.mr.lists[r] + ring, SCHED_ROW_FAR_REDRAW)


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
        schedule_page_at(s, page, off, seg, SCHED_REDRAW, _stall_ticks(s, seg, off) - 1)
        return
    lam_max = random_rate(s, seg, off, 1)
    if rand_u01(s.p.seed_key, page, tick, RNG_THIN) * lam_max >= lam:
        schedule_page_at(s, page, off, seg, SCHED_REDRAW, 0)  # not an access: draw again
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
    x = rand_u01(s.p.seed_key, page, tick, RNG_STREAM_IN_ROW) * s.mr.rate[row]
    chosen = pick_row_stream(s, row, x, rep)
    handle_touch_at(s, page, o, s.st.task[chosen], s.st.writes[chosen], now_ns)
