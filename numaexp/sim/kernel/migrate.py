"""Misplaced-folio migration (mm/migrate.c): ``migrate_misplaced_folio_prepare`` refuses
a migration to a node that is not balanced (or a dirty or shared-executable page-cache
folio); ``migrate_misplaced_folio`` moves the folio and counts it."""

from __future__ import annotations

from numaexp.sim.engine.codes import PG_DIRTY_FILE
from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.engine.segindex import page_object, update_mass_at
from numaexp.sim.kernel.constants import (
    CPUPID_UNSET,
    MC_NUMA_PAGES_MIGRATED,
    MC_PGPROMOTE_SUCCESS,
    NUMA_BALANCING_MEMORY_TIERING,
    NUMA_PAGES_MIGRATED,
    PGMIGRATE_SUCCESS,
    PGPROMOTE_SUCCESS,
    THP_MIGRATION_SUCCESS,
    VM_EXEC,
    VM_FILE_LRU,
)


@jit_inline
def migrate_misplaced_folio_prepare(s, page, v, target, nr):
    """``migrate_misplaced_folio_prepare``: False refuses the migration (TNF_MIGRATE_FAIL)."""
    o = s.vm.obj[v]
    vflags = s.vm.vm_flags[v]
    if vflags & VM_FILE_LRU:
        if s.ob.mapcount[o] > 1 and vflags & VM_EXEC:
            return False
        if s.pg.pflags[page] & PG_DIRTY_FILE:
            return False
    # migrate_balanced_pgdat: free pages above the high watermark plus the folio
    if s.nd.free[target] > s.nd.wmark_high[target] + nr:
        return True
    if s.p.mode & NUMA_BALANCING_MEMORY_TIERING:
        s.nd.kswapd_wake[target] = 1  # make room for promotions
    return False


@jit_inline
def folio_migrate_flags(s, page, src, dst):
    """``folio_migrate_flags``: with TIERING, a move across the top-tier boundary
    resets ``last_cpupid`` (the access-time stamp) to all ones."""
    if s.p.mode & NUMA_BALANCING_MEMORY_TIERING and s.nd.toptier[src] != s.nd.toptier[dst]:
        s.pg.last_cpupid[page] = CPUPID_UNSET


@jit_inline
def migrate_misplaced_folio(s, page, nr, src, dst):
    """``migrate_misplaced_folio``: move ``nr`` pages from ``src`` to ``dst`` and count it."""
    o = page_object(s, page)
    off = page - s.ob.first[o]
    for i in range(nr):
        s.pg.node[page + i] = dst
        update_mass_at(s, o, off + i, src, dst)
    folio_migrate_flags(s, page, src, dst)
    s.nd.free[src] += nr
    s.nd.free[dst] -= nr
    cg = s.pg.memcg[page]
    s.cnt_cg_node_pages[cg, src] -= nr
    s.cnt_cg_node_pages[cg, dst] += nr
    vm = s.cnt_vm
    vm[NUMA_PAGES_MIGRATED] += nr
    vm[PGMIGRATE_SUCCESS] += nr
    s.cnt_node_vm[dst, NUMA_PAGES_MIGRATED] += nr
    s.cnt_memcg[cg, MC_NUMA_PAGES_MIGRATED] += nr
    if nr > 1:
        vm[THP_MIGRATION_SUCCESS] += 1
    if (s.p.mode & NUMA_BALANCING_MEMORY_TIERING) and not s.nd.toptier[src] and \
            s.nd.toptier[dst]:
        vm[PGPROMOTE_SUCCESS] += nr
        s.cnt_node_vm[dst, PGPROMOTE_SUCCESS] += nr
        s.cnt_memcg[cg, MC_PGPROMOTE_SUCCESS] += nr
