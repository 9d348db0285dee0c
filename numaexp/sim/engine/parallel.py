"""Passes over the page array that run in parallel over page chunks (numba ``prange``).

At hundreds of millions of pages two passes over every page dominate the
start of a run and each re-build of the segment index after a phase change:
drawing the next access of every pending page (:func:`requeue_range`) and
summing a mass row over the pages' nodes (:func:`row_mass`). Each is split
into

- a parallel part that computes, page by page, a pure function of the page
  and of state that the pass does not change (the pending-fault list the
  page waits in; a chunk's per-node mass), and
- a serial part that applies the results in page order (links the pages
  into their lists) or in chunk order (adds the chunks' sums),

so the lists and the floating-point sums are bit-identical whatever the
number of threads (``NUMBA_NUM_THREADS``).

The re-queue passes visit only the chunks of ``1 << PENDING_SHIFT`` pages
that hold pending pages (``State.pg_pending``): after a phase change most of
a buffer is present and not PROT_NONE, and four passes over all its pages
cost more than the pages to re-draw.

The per-page work of a parallel loop must be inlined (``jit_inline``): a
call per page that takes the state increments and decrements the state's
reference count, shared by all threads, and two threads then run slower
than one.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from numaexp.sim.engine.access import stream_weight
from numaexp.sim.engine.codes import (
    CLK_POOL_SEGS,
    CLK_POOL_TOP,
    CLK_SPEEDS_FRESH,
    PENDING_SHIFT,
    PG_PRESENT,
    PG_PROTNONE,
    PG_QUEUED,
)
from numaexp.sim.engine.events import next_access_list_at
from numaexp.sim.engine.jit import jit, jit_inline, jit_parallel
from numaexp.sim.engine.lists import list_push, list_remove, segment_of
from numaexp.sim.engine.segindex import page_segment

MASS_CHUNK = 1 << 16
"""Positions per partial sum of a mass row; a row of at most this many
positions is summed in position order, as a single loop would."""


@jit_inline
def _chunks(lo, hi):
    """Pending-count chunks overlapping global pages ``[lo, hi)``: first and end."""
    if hi <= lo:
        return 0, 0
    return lo >> PENDING_SHIFT, ((hi - 1) >> PENDING_SHIFT) + 1


@jit_inline
def _chunk_pages(lo, hi, c):
    """Pages of chunk ``c`` within ``[lo, hi)``: start and stop."""
    return max(lo, c << PENDING_SHIFT), min(hi, (c + 1) << PENDING_SHIFT)


@jit_inline
def _pending(flags):
    """A page with these flags waits for an access: not present, or PROT_NONE."""
    return (flags & PG_PRESENT) == 0 or (flags & PG_PROTNONE) != 0


@jit_parallel
def _count_queued(s, lo, hi):
    """Pending pages of global pages ``[lo, hi)`` that sit in a list."""
    pg = s.pg
    pending = s.pg_pending
    c_lo, c_hi = _chunks(lo, hi)
    queued = 0
    for c in prange(c_lo, c_hi):
        if pending[c] == 0:
            continue
        start, stop = _chunk_pages(lo, hi, c)
        for page in range(start, stop):
            f = pg.pflags[page]
            if _pending(f) and f & PG_QUEUED:
                queued += 1
    return queued


@jit
def _unqueue_range(s, lo, hi):
    """Take the pending pages of global pages ``[lo, hi)`` off their lists, in page order."""
    pg = s.pg
    c_lo, c_hi = _chunks(lo, hi)
    for c in range(c_lo, c_hi):
        if s.pg_pending[c] != 0:
            start, stop = _chunk_pages(lo, hi, c)
            for page in range(start, stop):
                f = pg.pflags[page]
                if _pending(f) and f & PG_QUEUED:
                    list_remove(s, page)


@jit_parallel
def _draw_lists(s, lo, hi, salt):
    """Store in ``pg.next`` the list each pending page of ``[lo, hi)`` waits in next (-1: none).

    The pages must be in no list. ``salt`` is that of
    :func:`~numaexp.sim.engine.events.next_access_list`. The chunks holding pending
    pages run in parallel, each walking the segments as its pages ascend.
    """
    pg = s.pg
    pending = s.pg_pending
    c_lo, c_hi = _chunks(lo, hi)
    for c in prange(c_lo, c_hi):
        if pending[c] == 0:
            continue
        start, stop = _chunk_pages(lo, hi, c)
        o = np.int64(0)
        seg = np.int64(0)
        seg_end = np.int64(-1)  # first global page past segment ``seg``
        for page in range(start, stop):
            if _pending(pg.pflags[page]):
                if page >= seg_end:
                    o, seg, seg_end = page_segment(s, page)
                pg.next[page] = next_access_list_at(s, page, page - s.ob.first[o], seg, salt, 0)


@jit_inline
def _count_for_segment(s, lst):
    """Count a drawn page bound for list ``lst`` if the list can take a segment (empty, not a
    sweep bucket); return 1 if counted."""
    seg = s.ls_seg
    if s.ls_heads[lst] < 0:
        j = segment_of(s, lst)
        if j >= 0 and seg[1, j] == seg[0, j]:
            seg[2, j] += 1
            return 1
    return 0


@jit_inline
def _link_page(s, page, lst):
    """Queue drawn ``page`` on list ``lst``: into the list's segment if it is being given
    one (:func:`_cut_segments`), else pushed on its linked pages."""
    seg = s.ls_seg
    j = segment_of(s, lst)
    if j >= 0 and seg[1, j] < seg[0, j] + seg[2, j]:
        slot = seg[1, j]
        s.ls_pool[slot] = page
        seg[1, j] = slot + 1
        s.pg.next[page] = -(slot + 2)
        s.pg.prev[page] = -(lst + 1)
        s.pg.pflags[page] |= PG_QUEUED
    else:
        list_push(s, lst, page)


@jit
def _walk_drawn(s, lo, hi, link):
    """Each drawn pending page of ``[lo, hi)`` (``pg.next`` holds its list), in page order:
    counted for a segment (``link`` false: returns the count, in ``s.ls_seg[2]``; the
    lists are judged before any page of the pass is queued) or queued (``link`` true)."""
    pg = s.pg
    total = 0
    c_lo, c_hi = _chunks(lo, hi)
    for c in range(c_lo, c_hi):
        if s.pg_pending[c] == 0:
            continue
        start, stop = _chunk_pages(lo, hi, c)
        for page in range(start, stop):
            if not _pending(pg.pflags[page]) or pg.next[page] < 0:
                continue
            if link:
                _link_page(s, page, pg.next[page])
            else:
                total += _count_for_segment(s, pg.next[page])
    return total


@jit
def _cut_segments(s, total):
    """Give each list counted by :func:`_walk_drawn` its slots in the pool.

    A list being filled has ``hi < lo + count``. If the pool lacks room the
    counts are dropped and every page is linked.
    """
    seg = s.ls_seg
    if s.clk[CLK_POOL_SEGS] == 0:
        s.clk[CLK_POOL_TOP] = 0
    top = s.clk[CLK_POOL_TOP]
    room = top + total <= len(s.ls_pool)
    for j in range(seg.shape[1]):
        if seg[1, j] == seg[0, j] and seg[2, j] > 0:
            if room:
                seg[0, j] = top
                seg[1, j] = top
                top += seg[2, j]
                s.clk[CLK_POOL_SEGS] += 1
            else:
                seg[2, j] = 0
    s.clk[CLK_POOL_TOP] = top


@jit
def _link_range(s, lo, hi):
    """Queue each drawn pending page of global pages ``[lo, hi)`` on its list, in page order.

    Lists that can take a segment get one for their pages when the pool has
    room (:func:`_cut_segments`); the others have their pages linked.
    """
    if hi <= lo:
        return
    total = _walk_drawn(s, lo, hi, False)
    if total > 0:
        _cut_segments(s, total)
    _walk_drawn(s, lo, hi, True)


@jit
def requeue_range(s, lo, hi, salt):
    """Re-draw the next access of every pending page in global pages ``[lo, hi)``.

    The lists come out as if each page, in page order, were taken off its
    list and queued again by :func:`~numaexp.sim.engine.events.schedule_page`
    (taking all the pages off first, then pushing them in page order, leaves
    the same lists). A page that no active stream covers stays in no list.
    """
    if _count_queued(s, lo, hi) > 0:
        _unqueue_range(s, lo, hi)
    _draw_lists(s, lo, hi, salt)
    _link_range(s, lo, hi)


@jit_parallel
def _mass_chunks(s, k):
    """Per-node mass of each ``MASS_CHUNK`` positions of stream ``k``, into ``s.tmp_mass``.

    Returns the number of chunks.
    """
    st = s.st
    n = st.n[k]
    nchunks = (n + MASS_CHUNK - 1) // MASS_CHUNK
    base = s.ob.first[st.obj[k]] + st.first[k]
    stride = st.stride[k]
    out = s.tmp_mass
    for c in prange(nchunks):
        for nid in range(s.p.nr_nodes):
            out[c, nid] = 0.0
        for i in range(c * MASS_CHUNK, min(n, (c + 1) * MASS_CHUNK)):
            node = s.pg.node[base + i * stride]
            if node >= 0:
                out[c, node] += stream_weight(st, k, i)
    return nchunks


@jit
def row_mass(s, k):
    """Recompute the mass row of stream ``k`` (``s.st_mass[s.st.mrow[k]]``) from the pages' nodes.

    Each node's mass is the sum of the weights of the stream's present
    positions on it, added per chunk in position order, then chunk by chunk.
    """
    nchunks = _mass_chunks(s, k)
    row = s.st.mrow[k]
    for nid in range(s.p.nr_nodes):
        total = 0.0
        for c in range(nchunks):
            total += s.tmp_mass[c, nid]
        s.st_mass[row, nid] = total
    s.clk[CLK_SPEEDS_FRESH] = 0
