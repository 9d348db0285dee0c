"""Pending-fault lists: doubly linked through the pages' ``next``/``prev`` arrays.

A page is in at most one list: a calendar bucket (one per tick of a ring of
``ring_size`` ticks), the far list (events beyond the ring), a sweep bucket
(``1 << sweep_shift`` consecutive positions of a sweep region), or a bucket of
a random mass row's ring (a span of that row's clock) or its far list. ``prev`` of
the first page of a list holds ``-(list id + 1)``. A bitmap marks non-empty
sweep buckets so that a sweeper finds marked pages ahead of it in O(words).
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.constants import PENDING_SHIFT, PG_CLEAR_QUEUED, PG_QUEUED
from numaexp.sim.jit import jit_inline
from numaexp.sim.prefetch import prefetch

_ONE = np.uint64(1)


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
def list_remove(s, page):
    """Unlink ``page`` from the list it is in."""
    pg = s.pg
    heads = s.ls_heads
    prv = pg.prev[page]
    nxt = pg.next[page]
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
    """Detach list ``lst`` and return its first page (-1 if empty).

    The pages keep their ``next`` links so the caller can walk them; each
    must have its PG_QUEUED flag cleared (or be pushed elsewhere) by the caller.
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
    record is prefetched while ``page`` is handled (:mod:`numaexp.sim.prefetch`).
    """
    nxt = s.pg.next[page]
    if nxt >= 0:
        prefetch(s.pg, nxt)
    return nxt


@jit_inline
def _lowest_bit(word):
    """Index of the lowest set bit of a non-zero uint64 (by halving, 6 steps)."""
    k = 0
    if (word & np.uint64(0xFFFFFFFF)) == 0:
        word >>= np.uint64(32)
        k += 32
    if (word & np.uint64(0xFFFF)) == 0:
        word >>= np.uint64(16)
        k += 16
    if (word & np.uint64(0xFF)) == 0:
        word >>= np.uint64(8)
        k += 8
    if (word & np.uint64(0xF)) == 0:
        word >>= np.uint64(4)
        k += 4
    if (word & np.uint64(0x3)) == 0:
        word >>= np.uint64(2)
        k += 2
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
