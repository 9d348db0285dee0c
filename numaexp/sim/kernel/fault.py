"""Page faults: first touch (allocation) and NUMA hinting faults (mm/memory.c).

``do_numa_page`` follows 6.12: ``numa_migrate_check`` counts the fault and
asks ``mpol_misplaced`` for a target; ``migrate_misplaced_folio_prepare``
refuses when the target node is not balanced (free pages not above its high
watermark plus the folio); ``migrate_misplaced_folio`` moves the page; then
``task_numa_fault`` records it. Costs are charged to the faulting task, by
account (``codes.SYS_*``): the fault, its lock waits, and a migration's
isolation, shootdown and copy (:func:`numa_migrate_folio`).
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import (
    PG_CLEAR_PROTNONE,
    PG_DIRTY_FILE,
    PG_PRESENT,
    PG_QUEUED,
    SYS_FIRST_TOUCH,
    SYS_HINT_FAULT,
    SYS_LOCK_WAIT,
    SYS_MIGRATE,
    SYS_MIGRATE_COPY,
)
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.lists import list_remove, pending_add
from numaexp.sim.engine.locks import fault_lock_wait, lru_lock_wait
from numaexp.sim.engine.perf import copy_slowdown
from numaexp.sim.engine.segindex import update_mass_at
from numaexp.sim.kernel.constants import (
    ALLOC_FAILED,
    CPUPID_UNSET,
    HPAGE_PMD_NR,
    MC_NUMA_HINT_FAULTS,
    MPOL_DEFAULT,
    MPOL_F_MOF,
    MPOL_F_MOFT,
    MPOL_F_MORON,
    MPOL_INTERLEAVE,
    MPOL_WEIGHTED_INTERLEAVE,
    NUMA_HINT_FAULTS,
    NUMA_HINT_FAULTS_LOCAL,
    NUMA_NO_NODE,
    PGFAULT_FIRST_TOUCH,
    TNF_FAULT_LOCAL,
    TNF_MIGRATE_FAIL,
    TNF_MIGRATED,
    TNF_NO_GROUP,
    TNF_SHARED,
    VM_FILE_LRU,
    VM_SHARED,
    VM_THP,
    VM_WRITE,
)
from numaexp.sim.kernel.folio import folio_use_access_time
from numaexp.sim.kernel.mempolicy import (
    alloc_node,
    get_vma_policy,
    interleave_nid,
    mpol_policy_node,
    policy_ilx,
)
from numaexp.sim.kernel.migrate import migrate_misplaced_folio, migrate_misplaced_folio_prepare
from numaexp.sim.kernel.placement import task_numa_fault
from numaexp.sim.kernel.should_migrate import should_numa_migrate_memory
from numaexp.sim.kernel.tlb import flush_tlb_mm_range

GOLDEN_RATIO_32 = 0x61C88647


@jit_inline
def hash_32(val, bits):
    """``hash_32``: multiplicative hash of a 32-bit value to ``bits`` bits."""
    return (((val & 0xFFFFFFFF) * GOLDEN_RATIO_32) & 0xFFFFFFFF) >> (32 - bits)


@jit_inline
def vma_of(s, t, o):
    """The VMA of task ``t``'s mm that maps object ``o``.

    An object mapped once has its VMA noted (``ob.vma``); a shared one is
    looked up among the mm's VMAs.
    """
    if s.ob.mapcount[o] == 1:
        return s.ob.vma[o]
    mm = s.tk.mm[t]
    first = s.mm.vma_first[mm]
    for v in range(first, first + s.mm.vma_count[mm]):
        if s.vm.obj[v] == o:
            return v
    return -1


@jit
def mpol_misplaced_of(s, t, v, page, off, curnid):
    """``mpol_misplaced`` for a fault of task ``t`` on ``page`` (offset ``off`` in VMA ``v``).

    ``should_numa_migrate_memory`` (which has side effects) runs only where
    the kernel reaches it: with MPOL_F_MORON after the policy switch. With
    the RFC's MPOL_F_MOFT (interleave + MPOL_F_NUMA_BALANCING) it returns
    ``NUMA_TASK_MIG`` right after the MOF test (``s.p.numa_task_mig``: 1 as
    posted, a value no node has when fixed); where the patch puts that test
    is inferred from its description.
    """
    cpu = s.tk.cpu[t]
    thisnid = s.cpu.node[cpu]
    mode, nodes, flags = get_vma_policy(s, t, v)
    if flags & MPOL_F_MOF and flags & MPOL_F_MOFT:
        return s.p.numa_task_mig  # RFC patch 3: place the task, keep the page
    ilx_nid = NUMA_NO_NODE
    if mode == MPOL_INTERLEAVE or mode == MPOL_WEIGHTED_INTERLEAVE:
        ilx_nid = interleave_nid(nodes, policy_ilx(s, v, off))
    polnid = mpol_policy_node(mode, nodes, flags, curnid, thisnid, ilx_nid,
                              s.nd_zonelist[thisnid])
    if polnid == NUMA_NO_NODE:
        return NUMA_NO_NODE
    if mode == MPOL_DEFAULT or flags & MPOL_F_MORON:
        polnid = thisnid
        if not should_numa_migrate_memory(s, t, page, curnid, cpu):
            return NUMA_NO_NODE
    if curnid != polnid:
        return polnid
    return NUMA_NO_NODE


@jit
def numa_migrate_check(s, t, v, o, page, nid):
    """``numa_migrate_check``: TNF flags and last accessor of a fault; counts it.

    ``page`` is the folio's first page; ``nid`` its node. Counts
    ``numa_hint_faults`` (once per fault, whatever the folio size) and
    ``numa_hint_faults_local``, and marks the task in the VMA's active pids.

    Returns
    -------
    flags : int
        TNF_NO_GROUP, TNF_SHARED, TNF_FAULT_LOCAL as they apply.
    last_cpupid : int
        The folio's ``last_cpupid``, or CPUPID_UNSET when it holds an access time.
    """
    vflags = s.vm.vm_flags[v]
    flags = 0
    if not vflags & VM_WRITE:
        flags |= TNF_NO_GROUP
    if s.ob.mapcount[o] > 1 and vflags & VM_SHARED:
        flags |= TNF_SHARED
    if folio_use_access_time(s, page):
        last_cpupid = np.int64(CPUPID_UNSET)
    else:
        last_cpupid = np.int64(s.pg.last_cpupid[page])
    if s.vm.has_state[v]:
        s.vm.pids_active[v, 1] |= np.uint64(1) << np.uint64(hash_32(s.tk.pid[t], 6))
    s.cnt_vm[NUMA_HINT_FAULTS] += 1
    s.cnt_node_vm[nid, NUMA_HINT_FAULTS] += 1
    s.cnt_memcg[s.pg.memcg[page], MC_NUMA_HINT_FAULTS] += 1
    if nid == s.cpu.node[s.tk.cpu[t]]:
        s.cnt_vm[NUMA_HINT_FAULTS_LOCAL] += 1
        s.cnt_node_vm[nid, NUMA_HINT_FAULTS_LOCAL] += 1
        flags |= TNF_FAULT_LOCAL
    return flags, last_cpupid


@jit
def numa_migrate_folio(s, t, v, page, nid, target, nr, flags):
    """Try to move a faulting folio to ``target`` and charge ``t`` for it; return (node, flags).

    A migration costs the faulting task: the wait for the source node's LRU
    lock (isolation), ``migrate_folio_ns`` (isolation, unmap, remap), the
    unmap's TLB shootdown, and the copy at the bandwidth left on the way
    (``perf.copy_slowdown``).
    """
    if not migrate_misplaced_folio_prepare(s, page, v, target, nr):
        return nid, flags | TNF_MIGRATE_FAIL
    charge(s, t, lru_lock_wait(s, t, nid), SYS_LOCK_WAIT)
    migrate_misplaced_folio(s, page, nr, nid, target)
    charge(s, t, s.p.migrate_folio_ns, SYS_MIGRATE)
    flush_tlb_mm_range(s, t, s.vm.mm[v])
    charge(s, t, nr * s.p.migrate_copy_ns_per_page * copy_slowdown(s, nid, target),
           SYS_MIGRATE_COPY)
    return target, flags | TNF_MIGRATED


@jit
def do_numa_page(s, t, page, o, now_ns):
    """``do_numa_page``: a hinting fault of task ``t`` on PROT_NONE ``page`` of object ``o``."""
    v = vma_of(s, t, o)
    off = page - s.ob.first[o]
    s.pg.pflags[page] &= PG_CLEAR_PROTNONE
    pending_add(s, page, -1)
    nid = np.int64(s.pg.node[page])
    flags, last_cpupid = numa_migrate_check(s, t, v, o, page, nid)
    charge(s, t, s.p.hint_fault_ns, SYS_HINT_FAULT)
    charge(s, t, fault_lock_wait(s, t, v), SYS_LOCK_WAIT)
    target = mpol_misplaced_of(s, t, v, page, off, nid)
    # RFC patch 3: NUMA_TASK_MIG means "no page migration" (as posted it is 1,
    # so no page ever migrates to node 1 here)
    if target != NUMA_NO_NODE and target != s.p.numa_task_mig:
        nid, flags = numa_migrate_folio(s, t, v, page, nid, target, 1, flags)
    task_numa_fault(s, t, last_cpupid, nid, 1, flags, now_ns)


@jit
def do_anonymous_page(s, t, page, o, writes):
    """First touch of ``page`` by task ``t``: allocate its folio by policy (``alloc_pages_mpol``).

    In a THP VMA the whole 2 MiB folio is allocated on one node
    (``do_huge_pmd_anonymous_page``); its other pages stop waiting for a
    first touch. ``writes`` tells whether the touching stream writes (a
    written page of a regular file is dirty, which keeps it from NUMA scanning
    and migration). Returns False if no allowed node has room for the folio.
    ``o`` is the page's memory object.
    """
    v = vma_of(s, t, o)
    first = s.ob.first[o]
    head = page
    nr = 1
    if s.ob.vm_flags[o] & VM_THP:  # folio_head, folio_nr_pages
        head = first + (page - first) // HPAGE_PMD_NR * HPAGE_PMD_NR
        nr = HPAGE_PMD_NR
    off = head - first
    nid = alloc_node(s, t, v, off, nr)
    if nid < 0:  # the kernel would OOM-kill (no swap); here the access is dropped, counted
        s.cnt_vm[ALLOC_FAILED] += 1
        return False
    cg = s.mm.cgroup[s.tk.mm[t]]
    dirty = PG_DIRTY_FILE if writes and s.vm.vm_flags[v] & VM_FILE_LRU else 0
    pg = s.pg
    for q in range(head, head + nr):
        f = pg.pflags[q]
        if f & PG_QUEUED:
            list_remove(s, q)
        if not f & PG_PRESENT:
            pending_add(s, q, -1)
        pg.node[q] = nid
        pg.pflags[q] |= PG_PRESENT | dirty
        pg.memcg[q] = cg
        update_mass_at(s, o, q - first, -1, nid)
    s.nd.free[nid] -= nr
    s.cnt_cg_node_pages[cg, nid] += nr
    if s.ob.mapcount[o] == 1:
        s.mm.rss[s.tk.mm[t]] += nr
    else:
        for w in range(len(s.vm)):
            if s.vm.obj[w] == o:
                s.mm.rss[s.vm.mm[w]] += nr
    s.cnt_vm[PGFAULT_FIRST_TOUCH] += 1
    charge(s, t, nr * s.p.first_touch_ns + fault_lock_wait(s, t, v), SYS_FIRST_TOUCH)
    return True
