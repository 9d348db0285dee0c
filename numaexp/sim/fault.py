"""Page faults: first touch (allocation) and NUMA hinting faults (mm/memory.c).

``do_numa_page`` follows 6.12: ``numa_migrate_check`` counts the fault and
asks ``mpol_misplaced`` for a target; ``migrate_misplaced_folio_prepare``
refuses when the target node is not balanced (free pages not above its high
watermark plus the folio); ``migrate_misplaced_folio`` moves the page; then
``task_numa_fault`` records it. Costs are charged to the faulting task.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.constants import (
    CPUPID_UNSET,
    MC_NUMA_HINT_FAULTS,
    MC_NUMA_PAGES_MIGRATED,
    MC_PGPROMOTE_SUCCESS,
    MPOL_DEFAULT,
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
    PGFAULT_FIRST_TOUCH,
    PGMIGRATE_SUCCESS,
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
from numaexp.sim.mempolicy import (
    alloc_node,
    get_vma_policy,
    interleave_nid,
    mpol_policy_node,
    policy_ilx,
)
from numaexp.sim.placement import task_numa_fault
from numaexp.sim.segindex import page_object, update_mass
from numaexp.sim.weights import group_faults, group_faults_cpu

GOLDEN_RATIO_32 = 0x61C88647


@jit_inline
def hash_32(val, bits):
    """``hash_32``: multiplicative hash of a 32-bit value to ``bits`` bits."""
    return (((val & 0xFFFFFFFF) * GOLDEN_RATIO_32) & 0xFFFFFFFF) >> (32 - bits)


@jit_inline
def charge(s, t, ns):
    """Charge ``ns`` of kernel time to task ``t`` (system time, paid from its next ticks)."""
    cost = np.int64(ns)
    s.tk.stime[t] += cost
    s.tk.debt[t] += cost


@jit_inline
def vma_of(s, t, o):
    """The VMA of task ``t``'s mm that maps object ``o``."""
    mm = s.tk.mm[t]
    first = s.mm.vma_first[mm]
    for v in range(first, first + s.mm.vma_count[mm]):
        if s.vm.obj[v] == o:
            return v
    return -1


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
    the kernel reaches it: with MPOL_F_MORON after the policy switch.
    """
    cpu = s.tk.cpu[t]
    thisnid = s.cpu.node[cpu]
    mode, nodes, flags = get_vma_policy(s, t, v)
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
    return s.nd.free[target] > s.nd.wmark_high[target] + nr


@jit_inline
def migrate_misplaced_folio(s, page, nr, src, dst):
    """``migrate_misplaced_folio``: move ``nr`` pages from ``src`` to ``dst`` and count it."""
    for i in range(nr):
        s.pg.node[page + i] = dst
        update_mass(s, page + i, src, dst)
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
def do_numa_page(s, t, page, now_ns):
    """``do_numa_page``: a hinting fault of task ``t`` on PROT_NONE ``page``."""
    o = page_object(s, page)
    v = vma_of(s, t, o)
    off = page - s.ob.first[o]
    s.pg.pflags[page] &= PG_CLEAR_PROTNONE
    vflags = s.vm.vm_flags[v]
    nid = np.int64(s.pg.node[page])
    nr = 1
    flags = 0
    # numa_migrate_check
    if not vflags & VM_WRITE:
        flags |= TNF_NO_GROUP
    if s.ob.mapcount[o] > 1 and vflags & VM_SHARED:
        flags |= TNF_SHARED
    if folio_use_access_time(s, page):
        last_cpupid = CPUPID_UNSET
    else:
        last_cpupid = np.int64(s.pg.last_cpupid[page])
    if s.vm.has_state[v]:
        s.vm.pids_active[v, 1] |= np.uint64(1) << np.uint64(hash_32(s.tk.pid[t], 6))
    s.cnt_vm[NUMA_HINT_FAULTS] += 1
    s.cnt_node_vm[nid, NUMA_HINT_FAULTS] += 1
    s.cnt_memcg[s.pg.memcg[page], MC_NUMA_HINT_FAULTS] += 1
    thisnid = s.cpu.node[s.tk.cpu[t]]
    if nid == thisnid:
        s.cnt_vm[NUMA_HINT_FAULTS_LOCAL] += 1
        s.cnt_node_vm[nid, NUMA_HINT_FAULTS_LOCAL] += 1
        flags |= TNF_FAULT_LOCAL
    cost = s.p.hint_fault_ns
    target = mpol_misplaced_of(s, t, v, page, off, nid)
    if target != NUMA_NO_NODE:
        if not migrate_misplaced_folio_prepare(s, page, v, target, nr):
            flags |= TNF_MIGRATE_FAIL
        else:
            migrate_misplaced_folio(s, page, nr, nid, target)
            cost += s.p.migrate_folio_ns + nr * s.p.migrate_copy_ns
            nid = target
            flags |= TNF_MIGRATED
    task_numa_fault(s, t, last_cpupid, nid, nr, flags, now_ns)
    charge(s, t, cost)


@jit_inline
def do_anonymous_page(s, t, page, writes):
    """First touch of ``page`` by task ``t``: allocate it by policy (``alloc_pages_mpol``).

    ``writes`` tells whether the touching stream writes (a written page of a
    regular file is dirty, which keeps it from NUMA scanning and migration).
    Returns False if no allowed node has a free page.
    """
    o = page_object(s, page)
    v = vma_of(s, t, o)
    off = page - s.ob.first[o]
    nr = 1
    nid = alloc_node(s, t, v, off, nr)
    if nid < 0:
        return False
    s.pg.node[page] = nid
    s.pg.pflags[page] |= PG_PRESENT
    if writes and s.vm.vm_flags[v] & VM_FILE_LRU:
        s.pg.pflags[page] |= PG_DIRTY_FILE
    cg = s.mm.cgroup[s.tk.mm[t]]
    s.pg.memcg[page] = cg
    s.nd.free[nid] -= nr
    s.cnt_cg_node_pages[cg, nid] += nr
    if s.ob.mapcount[o] == 1:
        s.mm.rss[s.tk.mm[t]] += nr
    else:
        for w in range(len(s.vm)):
            if s.vm.obj[w] == o:
                s.mm.rss[s.vm.mm[w]] += nr
    update_mass(s, page, -1, nid)
    s.cnt_vm[PGFAULT_FIRST_TOUCH] += 1
    charge(s, t, s.p.first_touch_ns)
    return True
