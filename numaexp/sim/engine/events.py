"""When is a page touched next? Exact first-access sampling.

A page that is not present, or was made PROT_NONE, faults at its next
access.

- Random streams touch a page as a Poisson process of rate
  ``rate(task) * share * weight``. Threads with the same pattern share a
  mass row whose clock counts their touches; on that clock the page's
  accesses are a Poisson process of intensity ``weight``, so the next one is
  drawn once as a clock value and the page waits in the row's ring bucket
  for it (exact whatever the threads' speeds, stalls or time sharing).
- A page covered by several random rows (or by random and sweep streams) is
  drawn in wall time from the rows' upper bound ``rate_max`` and accepted
  with probability ``rate / rate_max`` when its time comes (thinning).
- Sweeps touch pages deterministically: the page waits in the sweep bucket
  of its position and faults when a sweeper passes it.
"""

from __future__ import annotations

import math

import numpy as np

from numaexp.sim.engine.access import stream_position, stream_weight
from numaexp.sim.engine.codes import CLK_TICK, PAT_SWEEP, RNG_FAULT_TIME
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.lists import list_push
from numaexp.sim.engine.rng import rand_u01
from numaexp.sim.engine.segindex import find_segment, page_object

_NOT_SOONER = 1.0 + 2.0**-40
"""Margin of the test that lets :func:`next_access_list_at` skip a sweeper's
division. ``ahead / rate < best_t`` (rounded) implies ``ahead < best_t * rate``
exactly, and the rounded product times this margin exceeds the exact one, so
the test never skips a sweeper that the division would pick: the choice is
the same, with one division per sweeper that comes nearer instead of one per
sweeper. A page in the segments of 48 sweepers of one buffer (numa01 between
its two phases) is the case that needs it."""


@jit_inline
def sweep_position(s, t, n):
    """Next position task ``t``'s sweep will touch, in its region of ``n`` positions.

    ``int64(progress) % n``, kept in ``tk.sweep_pos`` whenever the progress
    changes (:func:`set_progress`): the division is too slow for a loop
    over every sweeper of every re-drawn page.
    """
    return s.tk.sweep_pos[t]


@jit_inline
def set_progress(s, t, progress):
    """Set task ``t``'s progress in its phase, and its sweep position in a sweep phase."""
    s.tk.progress[t] = progress
    ph = s.tk.phase[t]
    if ph >= 0 and s.ph.sweep[ph]:
        s.tk.sweep_pos[t] = np.int64(progress) % s.st.n[s.ph.stream_first[ph]]


@jit_inline
def random_rate(s, seg, off, which):
    """Access rate of a page by the random streams of segment ``seg``, per ns.

    ``which`` selects the current rate (0) or its upper bound ``rate_max`` (1).
    One weight per distinct mass row: threads with the same pattern share it.
    """
    lam = 0.0
    for j in range(s.sg_mrow_first[seg], s.sg_mrow_first[seg + 1]):
        k = s.sg_mrows[j]
        row = s.st.mrow[k]
        if not s.mr.random[row]:
            continue
        i = stream_position(s.st, k, off)
        if i < 0:
            continue
        rate = s.mr.rate[row] if which == 0 else s.mr.rate_max[row]
        if rate > 0.0:
            lam += rate * stream_weight(s.st, k, i)
    return lam


@jit_inline
def next_access_list(s, page, salt, delay):
    """Pending-fault list in which ``page`` waits for its next access.

    A pure function of the page and the read-only run state (streams, rows,
    clock): it neither reads nor writes the lists, so it may run for many
    pages in parallel (:mod:`numaexp.sim.engine.parallel`).

    Parameters
    ----------
    s : State
    page : int
        Global page index (not present, or PROT_NONE).
    salt : int
        Distinguishes draws made for the same page in the same tick.
    delay : int
        Ticks during which no random access can happen (the accessors are
        stalled); the Poisson draw starts after them.

    Returns
    -------
    int
        List id, or -1 if no active stream covers the page (it waits
        unqueued until a phase change covers it).
    """
    o = page_object(s, page)
    off = page - s.ob.first[o]
    return next_access_list_at(s, page, off, find_segment(s, o, off), salt, delay)


@jit_inline
def next_access_list_at(s, page, off, seg, salt, delay):
    """:func:`next_access_list` of a page whose object offset ``off`` and segment ``seg``
    are known.

    Inlined, so that the parallel draw calls no function per page: a call
    that takes the state updates its shared reference count from every
    thread, and the threads then run no faster than one.
    """
    region = s.sg_region[seg]
    if not s.sg_random[seg] and region >= 0:
        # only sweeps of one region cover the page: its bucket, if on a touched position
        rel = off - s.rg.first[region]
        stride = s.rg.stride[region]
        i = rel
        if stride != 1:
            if rel % stride != 0:
                return -1
            i = rel // stride
        return s.p.sweep_list_base + s.rg.bucket_first[region] + (i >> s.p.sweep_shift)
    tick = s.clk[CLK_TICK]
    if s.sg_random[seg] == 1 and region == -1:
        # one random row only: draw the access on the row's own clock (exact, no thinning)
        for j in range(s.sg_mrow_first[seg], s.sg_mrow_first[seg + 1]):
            k = s.sg_mrows[j]
            row = s.st.mrow[k]
            if s.mr.random[row]:
                break
        i = stream_position(s.st, k, off)
        if i < 0 or s.mr.rate_max[row] <= 0.0:
            return -1
        w = stream_weight(s.st, k, i)
        if w <= 0.0:
            return -1
        u = rand_u01(s.p.seed_key, page, tick, RNG_FAULT_TIME * 1024 + salt)
        target = s.mr.clock[row] - math.log(u) / w
        bucket = target / s.mr.width[row]
        if bucket - s.mr.pos[row] >= s.p.row_ring:  # compared as floats: it may be huge
            return s.mr.lists[row] + s.p.row_ring
        b = max(np.int64(bucket), s.mr.pos[row])
        return s.mr.lists[row] + (b & (s.p.row_ring - 1))
    dt = math.inf
    if s.sg_random[seg]:
        lam_max = random_rate(s, seg, off, 1)
        if lam_max > 0.0:
            u = rand_u01(s.p.seed_key, page, tick, RNG_FAULT_TIME * 1024 + salt)
            dt = -math.log(u) / lam_max + delay * s.p.tick_ns
    best_t = math.inf
    best_region = -1
    best_pos = 0
    if region != -1:  # sweeps too: which one reaches the page first?
        for j in range(s.sg_list_first[seg], s.sg_list_first[seg + 1]):
            # unsigned indices: numba then skips the negative-index fix-up of
            # each record field read (up to 48 sweepers per page); own names,
            # as numba would unify them with the signed ones above into floats
            sk = np.uint64(s.sg_streams[j])
            if s.st.kind[sk] != PAT_SWEEP:
                continue
            i = stream_position(s.st, sk, off)
            if i < 0:
                continue
            sweeper = np.uint64(s.st.task[sk])
            n = s.st.n[sk]
            rate = s.tk.rate[sweeper]
            if rate <= 0.0:
                rate = s.tk.max_rate[sweeper]
            ahead = i - sweep_position(s, sweeper, n)  # (i - position) % n, both in [0, n)
            if ahead < 0:
                ahead += n
            if not ahead <= best_t * rate * _NOT_SOONER:
                continue  # cannot beat best_t: spare the division
            est = ahead / rate
            if est < best_t:
                best_t = est
                best_region = s.st.region[sk]
                best_pos = i
    if dt == math.inf and best_region < 0:
        return -1
    if dt <= best_t:
        ahead = dt / s.p.tick_ns
        if ahead >= s.p.ring_size - 1:  # compared as a float: it may be huge
            return s.p.far_list
        return (tick + 1 + np.int64(ahead)) & (s.p.ring_size - 1)
    return s.p.sweep_list_base + s.rg.bucket_first[best_region] + (best_pos >> s.p.sweep_shift)


@jit
def schedule_page(s, page, salt, delay):
    """Queue ``page`` for its next access (it must not be queued).

    Parameters are those of :func:`next_access_list`.

    Returns
    -------
    bool
        False if no active stream covers the page (it waits unqueued until
        a phase change covers it).
    """
    lst = next_access_list(s, page, salt, delay)
    if lst < 0:
        return False
    list_push(s, lst, page)
    return True


@jit
def schedule_page_at(s, page, off, seg, salt, delay):
    """:func:`schedule_page` of a page whose object offset ``off`` and segment ``seg`` are known."""
    lst = next_access_list_at(s, page, off, seg, salt, delay)
    if lst < 0:
        return False
    list_push(s, lst, page)
    return True
