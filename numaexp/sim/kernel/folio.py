"""Folio helpers: the size, head and access-time use of the folio holding a page."""

from __future__ import annotations

from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.engine.segindex import page_object
from numaexp.sim.kernel.constants import HPAGE_PMD_NR, NUMA_BALANCING_MEMORY_TIERING, VM_THP


@jit_inline
def folio_nr_pages(s, page):
    """Pages of the folio holding ``page``: 512 in a THP VMA, else 1."""
    return HPAGE_PMD_NR if s.ob.vm_flags[page_object(s, page)] & VM_THP else 1


@jit_inline
def folio_head(s, page):
    """First page of the folio holding ``page`` (THP objects are 2 MiB aligned)."""
    o = page_object(s, page)
    if not s.ob.vm_flags[o] & VM_THP:
        return page
    first = s.ob.first[o]
    return first + (page - first) // HPAGE_PMD_NR * HPAGE_PMD_NR


@jit_inline
def folio_use_access_time(s, page):
    """``folio_use_access_time``: TIERING on and the folio not on a top-tier node."""
    return (s.p.mode & NUMA_BALANCING_MEMORY_TIERING) != 0 and not s.nd.toptier[s.pg.node[page]]
