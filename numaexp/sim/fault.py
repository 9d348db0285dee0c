"""Page faults: first touch (allocation) and NUMA hinting faults (mm/memory.c).

``do_numa_page`` follows 6.12: ``numa_migrate_check`` counts the fault and
asks ``mpol_misplaced`` for a target; ``migrate_misplaced_folio_prepare``
refuses when the target node is not balanced (free pages not above its high
watermark plus the folio); ``migrate_misplaced_folio`` moves the page; then
``task_numa_fault`` records it. Costs are charged to the faulting task.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.account import charge
from numaexp.sim.constants import (
    ALLOC_FAILED,
    CLK_TICK,
    CPUPID_UNSET,
    HPAGE_PMD_NR,
    LAST_CPUPID_MASK,
    MC_NUMA_HINT_FAULTS,
    MC_NUMA_PAGES_MIGRATED,
    MC_PGPROMOTE_SUCCESS,
    MPOL_DEFAULT,
    MPOL_F_MOF,
    MPOL_F_MOFT,
    MPOL_F_MORON,
    MPOL_INTERLEAVE,
    MPOL_WEIGHTED_INTERLEAVE,
    NUMA_BALANCING_MEMORY_TIERING,
    NUMA_HINT_FAULTS,
    NUMA_HINT_FAULTS_LOCAL,
    NUMA_NO_NODE,
    NUMA_PAGES_MIGRATED,
    PG_CLEAR_PROTNONE,
    PG_DIRTY_FILE,
    PG_PRESENT,
    PG_QUEUED,
    PGFAULT_FIRST_TOUCH,
    PGMIGRATE_SUCCESS,
    PGPROMOTE_CANDIDATE,
    PGPROMOTE_SUCCESS,
    THP_MIGRATION_SUCCESS,
    TNF_FAULT_LOCAL,
    TNF_MIGRATE_FAIL,
    TNF_MIGRATED,
    TNF_NO_GROUP,
    TNF_SHARED,
    VM_EXEC,
    VM_FILE_LRU,
    VM_SHARED,
    VM_THP,
    VM_WRITE,
)
from numaexp.sim.cpupid import (
    cpu_pid_to_cpupid,
    cpupid_match_pid,
    cpupid_pid_unset,
    cpupid_to_cpu,
    cpupid_valid,
)
from numaexp.sim.jit import jit_inline
from numaexp.sim.lists import list_remove, pending_add
from numaexp.sim.mempolicy import (
    alloc_node,
    get_vma_policy,
    interleave_nid,
    mpol_policy_node,
    policy_ilx,
)
from numaexp.sim.placement import task_numa_fault
from numaexp.sim.segindex import page_object, update_mass_at
from numaexp.sim.tiering import NBP_CANDIDATES, numa_tiering_should_promote
from numaexp.sim.weights import group_faults, group_faults_cpu

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


@jit_inline
def jiffies_ms(s):
    """``jiffies_to_msecs(jiffies)``: the current tick in ms."""
    return (s.clk[CLK_TICK] * 1000) // s.p.hz


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
def pgdat_free_space_enough(s, nid):
    """``pgdat_free_space_enough``: free pages above WMARK_PROMO + max(1 GiB, present/16)."""
    return s.nd.free[nid] > s.nd.wmark_promo[nid] + s.nd.promo_enough[nid]


@jit_inline
def folio_use_access_time(s, page):
    """``folio_use_access_time``: TIERING on and the folio not on a top-tier node."""
    return (s.p.mode & NUMA_BALANCING_MEMORY_TIERING) != 0 and not s.nd.toptier[s.pg.node[page]]


@jit_inline
def should_numa_migrate_memory_decide(last_cpupid, pid, dst_nid, src_nid, tiering, src_toptier,
                                      nr_cpu_ids, preferred_nid, numa_scan_seq, has_group,
                                      gfc_dst, gfc_src, gf_dst, gf_src, cpu_node):
    """The NORMAL branch of ``should_numa_migrate_memory``.

    Parameters
    ----------
    last_cpupid : int
        The folio's previous ``last_cpupid`` (already exchanged for this
        fault's ``cpu_pid_to_cpupid(dst_cpu, pid)`` by the caller).
    pid : int
        Faulting task's pid.
    dst_nid, src_nid : int
        Node of the faulting CPU, node of the folio.
    tiering : bool
        ``kernel.numa_balancing`` has MEMORY_TIERING.
    src_toptier : bool
        ``node_is_toptier(src_nid)``.
    nr_cpu_ids : int
    preferred_nid : int
        ``p->numa_preferred_nid``.
    numa_scan_seq : int
        ``p->numa_scan_seq``.
    has_group : bool
    gfc_dst, gfc_src : int
        ``group_faults_cpu`` of the group on dst and src.
    gf_dst, gf_src : int
        ``group_faults`` on dst and src.
    cpu_node : int array
        Node of each CPU (``cpupid_to_nid``).

    Returns
    -------
    bool
    """
    if not tiering and not src_toptier and not cpupid_valid(last_cpupid, nr_cpu_ids):
        return False
    if (preferred_nid == NUMA_NO_NODE or numa_scan_seq <= 4) and (
            cpupid_pid_unset(last_cpupid) or cpupid_match_pid(pid, last_cpupid)):
        return True
    if not cpupid_pid_unset(last_cpupid):
        last_cpu = cpupid_to_cpu(last_cpupid)
        last_nid = cpu_node[last_cpu] if last_cpu < nr_cpu_ids else NUMA_NO_NODE
        if last_nid != dst_nid:
            return False
    if cpupid_match_pid(pid, last_cpupid):
        return True
    if not has_group:
        return True
    if gfc_dst > gfc_src * 3:
        return True
    return gfc_dst * gf_src * 3 > gfc_src * gf_dst * 4


@jit_inline
def should_numa_migrate_memory(s, t, page, src_nid, dst_cpu):
    """``should_numa_migrate_memory``: two-stage filter on the folio's last accessor."""
    dst_nid = s.cpu.node[dst_cpu]
    if s.nd.present[dst_nid] == 0:
        return False
    if folio_use_access_time(s, page):
        nbp = s.nd_nbp[dst_nid]
        cand0 = nbp[NBP_CANDIDATES]
        now_ms = jiffies_ms(s)
        promote, restamp = numa_tiering_should_promote(
            nbp, pgdat_free_space_enough(s, dst_nid), now_ms, np.int64(s.pg.last_cpupid[page]),
            s.p.hot_threshold_ms, s.p.promote_rate_limit_pages, s.p.scan_period_max_ms,
            folio_nr_pages(s, page))
        if restamp:
            s.pg.last_cpupid[page] = now_ms & LAST_CPUPID_MASK
        counted = nbp[NBP_CANDIDATES] - cand0
        s.cnt_vm[PGPROMOTE_CANDIDATE] += counted
        s.cnt_node_vm[dst_nid, PGPROMOTE_CANDIDATE] += counted
        return promote
    pid = s.tk.pid[t]
    this_cpupid = cpu_pid_to_cpupid(dst_cpu, pid)
    last = np.int64(s.pg.last_cpupid[page])
    s.pg.last_cpupid[page] = this_cpupid
    g = s.tk.numa_group[t]
    gfc_dst = gfc_src = gf_dst = gf_src = 0
    if g >= 0:
        gfc_dst = group_faults_cpu(s, g, dst_nid)
        gfc_src = group_faults_cpu(s, g, src_nid)
        gf_dst = group_faults(s, t, dst_nid)
        gf_src = group_faults(s, t, src_nid)
    return should_numa_migrate_memory_decide(
        last, pid, dst_nid, src_nid, (s.p.mode & NUMA_BALANCING_MEMORY_TIERING) != 0,
        s.nd.toptier[src_nid] != 0, s.p.nr_cpus, s.tk.numa_preferred_nid[t],
        s.tk.numa_scan_seq[t], g >= 0, gfc_dst, gfc_src, gf_dst, gf_src, s.cpu.node)


@jit_inline
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


@jit_inline
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


@jit_inline
def numa_migrate_folio(s, t, v, page, nid, target, nr, flags):
    """Try to move a faulting folio to ``target``; return (node, flags, cost in ns)."""
    cost = 0.0
    if not migrate_misplaced_folio_prepare(s, page, v, target, nr):
        flags |= TNF_MIGRATE_FAIL
    else:
        migrate_misplaced_folio(s, page, nr, nid, target)
        cost = s.p.migrate_folio_ns + nr * s.p.migrate_copy_ns
        nid = target
        flags |= TNF_MIGRATED
    return nid, flags, cost


@jit_inline
def do_numa_page(s, t, page, o, now_ns):
    """``do_numa_page``: a hinting fault of task ``t`` on PROT_NONE ``page`` of object ``o``."""
    v = vma_of(s, t, o)
    off = page - s.ob.first[o]
    s.pg.pflags[page] &= PG_CLEAR_PROTNONE
    pending_add(s, page, -1)
    nid = np.int64(s.pg.node[page])
    flags, last_cpupid = numa_migrate_check(s, t, v, o, page, nid)
    cost = s.p.hint_fault_ns
    target = mpol_misplaced_of(s, t, v, page, off, nid)
    # RFC patch 3: NUMA_TASK_MIG means "no page migration" (as posted it is 1,
    # so no page ever migrates to node 1 here)
    if target != NUMA_NO_NODE and target != s.p.numa_task_mig:
        nid, flags, extra = numa_migrate_folio(s, t, v, page, nid, target, 1, flags)
        cost += extra
    task_numa_fault(s, t, last_cpupid, nid, 1, flags, now_ns)
    charge(s, t, cost)


@jit_inline
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
    charge(s, t, nr * s.p.first_touch_ns)
    return True
