"""Thread phases: activating access streams, the segment index, re-queuing pages.

When a thread enters a phase (or exits), its streams change. The segment
index is rebuilt, the new streams' per-node masses are computed, and every
pending page of the affected regions is re-queued with fresh draws (the
Poisson draws are memoryless, so re-drawing from now is exact). Both passes
over the pages run in parallel (:mod:`numaexp.sim.engine.parallel`).

Stream ``active`` codes: 0 inactive, 1 active, 2 activating, 3 deactivating.
"""

from __future__ import annotations

import math

import numpy as np

from numaexp.sim.engine.codes import CLK_TICK, PAT_SWEEP, RNG_REHOME, SCHED_ROW_REBASE
from numaexp.sim.engine.delivery import redraw_far
from numaexp.sim.engine.events import set_progress
from numaexp.sim.engine.heapsort import heapsort
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.parallel import requeue_range, row_mass
from numaexp.sim.kernel.constants import PAGE_SIZE

ACTIVE_NONE, ACTIVE_ON, ACTIVE_NEW, ACTIVE_OLD = 0, 1, 2, 3


@jit_inline
def _stream_end(st, k):
    return st.first[k] + (st.n[k] - 1) * st.stride[k] + 1


@jit
def build_segments(s):
    """Rebuild the page -> active streams index. False if it needs more room.

    Each segment lists its active streams, one stream per distinct mass row
    (for :func:`~numaexp.sim.engine.segindex.update_mass`), the single sweep region
    covering it (-1 none, -2 several) and its number of distinct random rows.
    """
    st = s.st
    nobj = len(s.ob) - 1
    nstreams = len(st.task)
    # pass 1: count
    nseg = 0
    nent = 0
    for o in range(nobj):
        nb = _bounds(s, o)
        bounds = s.tmp_bounds[1]
        for b in range(nb - 1):
            lo = bounds[b]
            for k in range(nstreams):
                a = st.active[k]
                if st.obj[k] == o and (a == ACTIVE_ON or a == ACTIVE_NEW) and \
                        st.first[k] <= lo < _stream_end(st, k):
                    nent += 1
            nseg += 1
    if nseg > len(s.sg_start) or nent > len(s.sg_streams):
        s.sg_need[0] = nseg
        s.sg_need[1] = nent
        return False
    # pass 2: fill
    nseg = 0
    nent = 0
    nrow = 0
    for o in range(nobj):
        s.sg_obj_first[o] = nseg
        nb = _bounds(s, o)
        bounds = s.tmp_bounds[1]
        for b in range(nb - 1):
            lo = bounds[b]
            s.sg_start[nseg] = lo
            s.sg_list_first[nseg] = nent
            s.sg_mrow_first[nseg] = nrow
            region = -1
            random = 0
            for k in range(nstreams):
                a = st.active[k]
                if st.obj[k] == o and (a == ACTIVE_ON or a == ACTIVE_NEW) and \
                        st.first[k] <= lo < _stream_end(st, k):
                    s.sg_streams[nent] = k
                    nent += 1
                    if st.kind[k] == PAT_SWEEP:
                        if region == -1:
                            region = st.region[k]
                        elif region != st.region[k]:
                            region = -2
                    seen = False
                    for j in range(s.sg_mrow_first[nseg], nrow):
                        if st.mrow[s.sg_mrows[j]] == st.mrow[k]:
                            seen = True
                            break
                    if not seen:
                        s.sg_mrows[nrow] = k
                        nrow += 1
                        if st.kind[k] != PAT_SWEEP:
                            random += 1
            s.sg_region[nseg] = region
            s.sg_random[nseg] = random
            nseg += 1
    s.sg_obj_first[nobj] = nseg
    s.sg_list_first[nseg] = nent
    s.sg_mrow_first[nseg] = nrow
    return True


@jit
def _bounds(s, o):
    """Sorted distinct segment boundaries of object ``o`` (0 and its size included).

    They are left in ``s.tmp_bounds[1]``; returns how many there are.
    """
    st = s.st
    size = s.ob.first[o + 1] - s.ob.first[o]
    cnt = 2
    for k in range(len(st.task)):
        a = st.active[k]
        if st.obj[k] == o and (a == ACTIVE_ON or a == ACTIVE_NEW):
            cnt += 2
    raw = s.tmp_bounds[0, :cnt]
    raw[0] = 0
    raw[1] = size
    j = 2
    for k in range(len(st.task)):
        a = st.active[k]
        if st.obj[k] == o and (a == ACTIVE_ON or a == ACTIVE_NEW):
            raw[j] = st.first[k]
            raw[j + 1] = min(size, _stream_end(st, k))
            j += 2
    heapsort(raw, cnt)
    out = s.tmp_bounds[1]
    m = 0
    for x in raw:
        if m == 0 or out[m - 1] != x:
            out[m] = x
            m += 1
    return m


@jit
def _requeue_changed(s, o, salt):
    """Re-queue, once each, the pending pages of object ``o`` covered by a changed stream.

    The ranges of activating and deactivating streams are merged first, so a
    page covered by many of them (threads sweeping one buffer) is re-drawn once.
    """
    st = s.st
    starts = s.tmp_bounds[0]
    ends = s.tmp_bounds[1]
    n = 0
    for k in range(len(st)):
        a = st.active[k]
        if st.obj[k] == o and (a == ACTIVE_NEW or a == ACTIVE_OLD):
            lo = st.first[k]
            hi = _stream_end(st, k)
            j = n
            while j > 0 and starts[j - 1] > lo:  # insertion sort by start
                starts[j] = starts[j - 1]
                ends[j] = ends[j - 1]
                j -= 1
            starts[j] = lo
            ends[j] = hi
            n += 1
    base = s.ob.first[o]
    i = 0
    while i < n:
        lo = starts[i]
        hi = ends[i]
        i += 1
        while i < n and starts[i] <= hi:
            hi = max(hi, ends[i])
            i += 1
        requeue_range(s, base + lo, base + hi, salt)


@jit
def enter_phase(s, t, ph, now_ns):
    """Make phase row ``ph`` the current phase of task ``t`` (streams marked activating)."""
    tk = s.tk
    tk.phase[t] = ph
    set_progress(s, t, 0.0)
    tk.target[t] = s.ph.end_touches[ph]
    end = s.ph.end_ns[ph]
    tk.phase_end_ns[t] = -1 if end == math.inf else now_ns + np.int64(end)
    if s.ph.sweep[ph]:
        tk.max_rate[t] = s.ph.stream_bw[ph] / PAGE_SIZE
    else:
        tk.max_rate[t] = 1.0 / (s.ph.think_ns[ph] + s.p.min_latency_ns / s.ph.mlp[ph])
    for k in range(s.ph.stream_first[ph], s.ph.stream_first[ph] + s.ph.stream_count[ph]):
        s.st.active[k] = ACTIVE_NEW


@jit
def leave_phase(s, t):
    """Mark the streams of task ``t``'s current phase as deactivating."""
    ph = s.tk.phase[t]
    if ph < 0:
        return
    for k in range(s.ph.stream_first[ph], s.ph.stream_first[ph] + s.ph.stream_count[ph]):
        s.st.active[k] = ACTIVE_OLD


@jit
def update_row_rates(s, which):
    """Sum the access rates of each mass row's active random streams.

    ``which`` 0 sums this tick's ``rate`` (each tick), 1 sums ``max_rate``
    (after phase changes; activating streams count, deactivating ones not).
    """
    for r in range(len(s.mr)):
        if which == 0:
            s.mr.rate[r] = 0.0
        else:
            s.mr.rate_max[r] = 0.0
    for k in range(len(s.st)):
        row = s.st.mrow[k]
        a = s.st.active[k]
        if not (a == ACTIVE_ON or a == ACTIVE_NEW) or not s.mr.random[row]:
            continue
        t = s.st.task[k]
        if which == 0:
            s.mr.rate[row] += s.tk.rate[t] * s.st.share[k]
        else:
            s.mr.rate_max[row] += s.tk.max_rate[t] * s.st.share[k]
    if which == 1:
        for r in range(len(s.mr)):
            if s.mr.random[r] and s.mr.rate_max[r] > 0.0:
                s.mr.width[r] = s.mr.rate_max[r] * s.p.tick_ns
                position = s.mr.clock[r] / s.mr.width[r] + 0.5  # a float: it may be huge
                if position < ROW_POSITION_LIMIT:
                    s.mr.pos[r] = np.int64(position)
                else:
                    rebase_row_clock(s, r)


ROW_POSITION_LIMIT = 2.0 ** 52
"""Largest bucket position of a mass row kept on its clock: beyond it a float no longer
resolves one bucket (and beyond 2**63 it is no int64). Only a row whose rate falls by ~15
orders of magnitude (think_ns 1e307 beside fast threads) gets there."""


@jit
def rebase_row_clock(s, r):
    """Restart mass row ``r``'s clock at 0 and re-draw every page queued on it.

    Exact, as a row's far list redraw is: the accesses are memoryless, so
    drawing the queued pages again from the new clock changes only which
    random numbers are used.
    """
    s.mr.clock[r] = 0.0
    s.mr.pos[r] = 0
    for lst in range(s.mr.lists[r], s.mr.lists[r] + s.p.row_ring + 1):
        redraw_far(s, lst, SCHED_ROW_REBASE)


@jit
def settle_streams(s):
    """After the index is rebuilt: compute new masses and re-queue affected pages."""
    st = s.st
    salt = RNG_REHOME + (s.clk[CLK_TICK] & 0xFF)
    for r in range(len(s.mr)):  # once per row, whatever the number of its new streams
        for q in range(s.mr.first[r], s.mr.first[r] + s.mr.count[r]):
            k = s.mr_streams[q]
            if st.active[k] == ACTIVE_NEW:
                row_mass(s, k)
                break
    update_row_rates(s, 1)
    for o in range(len(s.ob) - 1):
        _requeue_changed(s, o, salt)
    for k in range(len(st)):
        a = st.active[k]
        if a == ACTIVE_NEW:
            st.active[k] = ACTIVE_ON
        elif a == ACTIVE_OLD:
            st.active[k] = ACTIVE_NONE
