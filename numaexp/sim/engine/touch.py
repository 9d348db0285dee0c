"""A task touches a pending page: first touch or hinting fault; sweeps touch the pages they
pass (each sweep bucket holds the pending pages of 64 consecutive positions)."""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.access import stream_position
from numaexp.sim.engine.codes import PG_CLEAR_QUEUED, PG_PRESENT, PG_PROTNONE
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.lists import list_push, list_take, next_sweep_bucket
from numaexp.sim.engine.segindex import page_object
from numaexp.sim.kernel.constants import VM_THP
from numaexp.sim.kernel.fault import do_anonymous_page, do_numa_page
from numaexp.sim.kernel.huge_memory import do_huge_pmd_numa_page


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
