"""Pending-fault lists: doubly linked through the pages' ``next``/``prev`` arrays,
plus one bulk segment of page ids per list.

A page is in at most one list: a calendar bucket (one per tick of a ring of
``ring_size`` ticks), the far list (events beyond the ring), a sweep bucket
(``1 << sweep_shift`` consecutive positions of a sweep region), or a bucket of
a random mass row's ring (a span of that row's clock) or its far list. ``prev`` of
the first page of a list holds ``-(list id + 1)``. A bitmap marks non-empty
sweep buckets so that a sweeper finds marked pages ahead of it in O(words).

**Bulk segments.** Walking a linked list costs a dependent cache miss per
page when its pages are scattered (a random row's bucket holds pages from
all over the buffer): the next page is known only once the current record
has arrived. When a re-queue pass (:func:`numaexp.sim.engine.parallel.requeue_range`)
pushes many pages, in page order, into lists that are empty, it instead
writes each such list's pages as one contiguous run of ``s.ls_pool``, a
*segment* (``s.ls_seg[0:2, j]``: its slots; ``s.ls_seg[2, j]``: pages still
in it). A walk reads a segment downward, prefetching records a few slots
ahead, so the misses overlap. The lists' contents and walk order are those
the linked pushes would have made: the segment holds the list's oldest
pages (it is attached only to an empty list), pushes made later are linked
and walked first, and a segment read downward is the page order reversed,
as a list pushed in page order is walked from its head.

A page in a segment has ``prev = -(list id + 1)`` and ``next = -(slot + 2)``
(a linked page's ``next`` is ``>= -1``). Taking it off its list writes -1
into its slot, which walks skip. Sweep buckets hold neighbouring pages and
have no segments. Segments are cut from the pool by a bump pointer
(``s.clk[CLK_POOL_TOP]``), reset once no list holds a segment
(``s.clk[CLK_POOL_SEGS]`` counts them); a pass that would not fit links its
pages as before.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import (
    CLK_POOL_SEGS,
    CLK_POOL_TOP,
    PENDING_SHIFT,
    PG_CLEAR_QUEUED,
    PG_QUEUED,
)
from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.engine.prefetch import prefetch

_ONE = np.uint64(1)

SEGMENT_PREFETCH = 16
"""Slots ahead of a segment walk whose page records are prefetched."""


@jit_inline
def pending_add(s, page, delta):
    """``page`` became pending (``delta`` 1: made PROT_NONE) or stopped being (-1).

    A page is pending while it is not present or PROT_NONE: its next access
    faults. ``s.pg_pending`` counts them per chunk of ``1 << PENDING_SHIFT``
    pages, so that passes over a page range skip the chunks with none.
    """
    s.pg_pending[page >> PENDING_SHIFT] += delta


@jit_inline
def list_push(s, lst, page):
    """Insert ``page`` at the head of list ``lst``."""
    pg = s.pg
    heads = s.ls_heads
    head = heads[lst]
    pg.next[page] = head
    pg.prev[page] = -(lst + 1)
    if head >= 0:
        pg.prev[head] = page
    heads[lst] = page
    pg.pflags[page] |= PG_QUEUED
    base = s.p.sweep_list_base
    if base <= lst < s.p.row_list_base:
        b = lst - base
        s.ls_sweep_bits[b >> 6] |= _ONE << np.uint64(b & 63)


@jit_inline
def segment_of(s, lst):
    """Column of ``s.ls_seg`` for list ``lst``; -1 for a sweep bucket (never a segment)."""
    if lst < s.p.sweep_list_base:
        return lst
    if lst >= s.p.row_list_base:
        return lst - s.p.row_list_base + s.p.sweep_list_base
    return -1


@jit_inline
def segment_release(s, j):
    """List column ``j`` no longer holds a segment; the pool restarts when none does."""
    seg = s.ls_seg
    seg[0, j] = 0
    seg[1, j] = 0
    seg[2, j] = 0
    s.clk[CLK_POOL_SEGS] -= 1
    if s.clk[CLK_POOL_SEGS] == 0:
        s.clk[CLK_POOL_TOP] = 0


@jit_inline
def segment_take(s, lst):
    """Detach list ``lst``'s segment and return its slots ``lo, hi`` (``0, 0`` if none).

    Walk it with :func:`segment_page` from ``hi - 1`` down to ``lo``.
    """
    j = segment_of(s, lst)
    if j < 0:
        return 0, 0
    lo = s.ls_seg[0, j]
    hi = s.ls_seg[1, j]
    if hi > lo:
        segment_release(s, j)
    return lo, hi


@jit_inline
def segment_page(s, i, lo):
    """The page in slot ``i`` of a taken segment walked downward to ``lo`` (-1: taken off).

    Clears the page's PG_QUEUED flag (the caller handles it or pushes it
    elsewhere) and prefetches the record of the page ``SEGMENT_PREFETCH``
    slots further down.
    """
    pool = s.ls_pool
    ahead = i - SEGMENT_PREFETCH
    if ahead >= lo:
        q = pool[ahead]
        if q >= 0:  # both lines of a record that straddles two (17-byte records)
            prefetch(s.pg, q)
            prefetch(s.pg, q + 1 if q + 1 < len(s.pg) else q)
    page = pool[i]
    if page >= 0:
        s.pg.pflags[page] &= PG_CLEAR_QUEUED
    return page


@jit_inline
def list_remove(s, page):
    """Take ``page`` off the list it is in."""
    pg = s.pg
    heads = s.ls_heads
    prv = pg.prev[page]
    nxt = pg.next[page]
    if nxt <= -2:  # in a segment: leave a hole, which walks skip
        slot = -nxt - 2
        s.ls_pool[slot] = -1
        j = segment_of(s, -prv - 1)
        seg = s.ls_seg
        if seg[0, j] <= slot < seg[1, j]:  # not taken yet
            seg[2, j] -= 1
            if seg[2, j] == 0:
                segment_release(s, j)
        pg.pflags[page] &= PG_CLEAR_QUEUED
        return
    if prv >= 0:
        pg.next[prv] = nxt
    else:
        lst = -prv - 1
        heads[lst] = nxt
        if nxt < 0:
            base = s.p.sweep_list_base
            if base <= lst < s.p.row_list_base:
                b = lst - base
                s.ls_sweep_bits[b >> 6] &= ~(_ONE << np.uint64(b & 63))
    if nxt >= 0:
        pg.prev[nxt] = prv
    pg.pflags[page] &= PG_CLEAR_QUEUED


@jit_inline
def list_take(s, lst):
    """Detach list ``lst``'s linked pages and return the first (-1 if none).

    The pages keep their ``next`` links so the caller can walk them; each
    must have its PG_QUEUED flag cleared (or be pushed elsewhere) by the caller.
    The list's segment, if any, is older: walk it next (:func:`segment_take`).
    """
    heads = s.ls_heads
    head = heads[lst]
    heads[lst] = -1
    base = s.p.sweep_list_base
    if base <= lst < s.p.row_list_base:
        b = lst - base
        s.ls_sweep_bits[b >> 6] &= ~(_ONE << np.uint64(b & 63))
    return head


@jit_inline
def list_next(s, page):
    """The page after ``page`` in its list (-1 at the end), its record already being fetched.

    Walks of a taken list read each link through this: the next page's
    record is prefetched while ``page`` is handled (:mod:`numaexp.sim.engine.prefetch`).
    """
    nxt = s.pg.next[page]
    if nxt >= 0:
        prefetch(s.pg, nxt)
    return nxt


@jit_inline
def _lowest_bit(word):
    """Index of the lowest set bit of a non-zero uint64 (by halving, 6 steps)."""
    k = 0
    half = np.uint64(32)
    while half > _ONE:
        if (word & ((_ONE << half) - _ONE)) == 0:
            word >>= half
            k += np.int64(half)
        half >>= _ONE
    if (word & _ONE) == 0:
        k += 1
    return k


@jit_inline
def next_sweep_bucket(s, lo, hi):
    """First non-empty global sweep bucket in ``[lo, hi)``, or -1."""
    bits = s.ls_sweep_bits
    b = lo
    while b < hi:
        w = b >> 6
        word = bits[w] >> np.uint64(b & 63)
        if word != 0:
            found = b + _lowest_bit(word)
            return found if found < hi else -1
        b = (w + 1) << 6
    return -1
