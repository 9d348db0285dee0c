"""The NUMA PTE scanner (kernel/sched/fair.c, mm/mprotect.c).

``task_tick_numa`` paces scanning by the task's CPU time; ``task_numa_work``
walks the mm's VMAs from ``numa_scan_offset`` with the skip rules of 6.12
and calls ``change_prot_numa`` on 2 MiB-aligned chunks until ``scan_size``
MB of range with updated PTEs (or 8 times that of range) is covered.
Virtual addresses are in pages; VMAs sit on 2 MiB boundaries.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import (
    CLK_TICK,
    EV_SKIP_VMA,
    PG_DIRTY_FILE,
    PG_PRESENT,
    PG_PROTNONE,
    PG_QUEUED,
    SCHED_MARKED,
    SYS_SCAN,
)
from numaexp.sim.engine.events import next_access_list_at, schedule_page
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.lists import list_push, list_remove, pending_add
from numaexp.sim.engine.segindex import find_segment
from numaexp.sim.engine.trace import trace_event
from numaexp.sim.kernel.cgroup_gate import gate_allows
from numaexp.sim.kernel.constants import (
    GATE_NONE,
    GATE_TICK,
    GATE_WORK,
    HPAGE_PMD_NR,
    LAST_CPUPID_MASK,
    MB_TO_PAGES_SHIFT,
    MC_NUMA_PTE_UPDATES,
    NUMA_BALANCING_CGROUP,
    NUMA_BALANCING_NORMAL,
    NUMA_HUGE_PTE_UPDATES,
    NUMA_PTE_UPDATES,
    NUMAB_SKIP_IGNORE_PID,
    NUMAB_SKIP_PID_INACTIVE,
    NUMAB_SKIP_SCAN_DELAY,
    NUMAB_SKIP_SEQ_COMPLETED,
    NUMAB_SKIP_SHARED_RO,
    NUMAB_SKIP_UNSUITABLE,
    U32_MASK,
    VM_FILE,
    VM_FILE_LRU,
    VM_SHARED,
    VM_THP,
    VM_WRITE,
)
from numaexp.sim.kernel.fault import hash_32
from numaexp.sim.kernel.folio import folio_use_access_time
from numaexp.sim.kernel.mempolicy import vma_policy_mof
from numaexp.sim.kernel.scan_period import (
    jiffies_ms,
    msecs_to_jiffies,
    task_scan_max_of,
    task_scan_start_of,
)
from numaexp.sim.kernel.tlb import flush_tlb_mm_range


@jit_inline
def task_tick_numa(s, t):
    """``task_tick_numa``: queue ``task_numa_work`` when the task's runtime is due.

    Returns True if the work was queued (it runs on return to user space,
    i.e. at once here).
    """
    tk = s.tk
    if tk.work_pending[t] or not gate_allows(s, t, GATE_TICK):
        return False
    now = tk.sum_exec_runtime[t]
    period = tk.numa_scan_period[t] * 1_000_000
    if now > tk.node_stamp[t] + period:
        if tk.node_stamp[t] == 0:
            tk.numa_scan_period[t] = task_scan_start_of(s, t)
        tk.node_stamp[t] += period
        if not s.clk[CLK_TICK] - s.mm.numa_next_scan[tk.mm[t]] < 0:
            tk.work_pending[t] = 1
            return True
    return False


@jit_inline
def reset_ptenuma_scan(s, mm):
    """``reset_ptenuma_scan``: a new pass over the address space."""
    s.mm.numa_scan_seq[mm] += 1
    s.mm.numa_scan_offset[mm] = 0


@jit_inline
def vma_is_accessed(s, t, v):
    """``vma_is_accessed``: may the scan of task ``t`` enter VMA ``v``?"""
    mm = s.tk.mm[t]
    seq = s.mm.numa_scan_seq[mm]
    if np.int32(seq - s.vm.start_scan_seq[v]) < 2:
        return True
    pids = s.vm.pids_active[v, 0] | s.vm.pids_active[v, 1]
    if (pids >> np.uint64(hash_32(s.tk.pid[t], 6))) & np.uint64(1):
        return True
    if s.mm.numa_scan_offset[mm] > s.vm.start[v]:
        trace_event(s, s.clk[CLK_TICK] * s.p.tick_ns, EV_SKIP_VMA, t, v, NUMAB_SKIP_IGNORE_PID, 0,
                    0)
        return True
    if seq > s.vm.prev_scan_seq[v] + s.mm.nr_threads[mm]:
        return True
    return False


@jit_inline
def change_huge_pmd(s, head, target_node, now_ms):
    """``change_huge_pmd`` for the PMD-mapped folio at ``head``: True if made PROT_NONE.

    Skips a folio already PROT_NONE, on ``target_node``, or on a top-tier
    node unless the NORMAL bit is set: unlike the PTE path, the RFC did not
    teach this test about mode 4, so top-tier THPs stay unscanned in mode 4.
    """
    pg = s.pg
    f = pg.pflags[head]
    if not f & PG_PRESENT or f & PG_PROTNONE:
        return False
    nid = pg.node[head]
    if nid == target_node:
        return False
    if s.nd.toptier[nid] and not s.p.mode & NUMA_BALANCING_NORMAL:
        return False
    if folio_use_access_time(s, head):
        pg.last_cpupid[head] = now_ms & LAST_CPUPID_MASK
    for page in range(head, head + HPAGE_PMD_NR):
        g = pg.pflags[page]
        pg.pflags[page] = g | PG_PROTNONE
        pending_add(s, page, 1)
        if g & PG_QUEUED:
            list_remove(s, page)
        schedule_page(s, np.int32(page), SCHED_MARKED, 0)  # as the lists hold it: one compile
    return True


@jit
def change_prot_numa(s, t, v, start, end):
    """``change_prot_numa`` on virtual pages ``[start, end)`` of VMA ``v``.

    Makes present pages PROT_NONE (the ``change_pte_range`` filter: skip
    already-protnone, dirty file pages, pages on ``target_node`` when the
    mapping is private and the mm has one user, and top-tier pages without
    the NORMAL mode bit), stamps access times on slow-tier pages in tiering
    mode, and queues each marked page for its next access. Counts
    ``numa_pte_updates`` (global and the mm owner's memcg).

    Returns
    -------
    int
        PTEs updated.
    """
    mm = s.tk.mm[t]
    o = s.vm.obj[v]
    base = s.ob.first[o] + (start - s.vm.start[v])
    target_node = -1
    if not s.vm.vm_flags[v] & VM_SHARED and s.mm.users[mm] == 1:
        target_node = s.cpu.node[s.tk.cpu[t]]
    # the RFC's change_pte_range scans the top tier in mode 4 too; mainline's takes 4
    # (its sysctl's range is 0..4) but only tests the NORMAL bit
    normal = (s.p.mode & NUMA_BALANCING_NORMAL) != 0 or (
        (s.p.mode & NUMA_BALANCING_CGROUP) != 0 and s.p.cgroup_gate != GATE_NONE)
    file_lru = (s.vm.vm_flags[v] & VM_FILE_LRU) != 0
    now_ms = jiffies_ms(s)
    pg = s.pg
    updated = 0
    if s.vm.vm_flags[v] & VM_THP:  # PMD-mapped: one entry per 2 MiB (VMAs are aligned)
        huge = 0
        for head in range(base, base + (end - start), HPAGE_PMD_NR):
            if change_huge_pmd(s, head, target_node, now_ms):
                huge += 1
        updated = huge * HPAGE_PMD_NR
        charge(s, t, s.p.pte_scan_ns * (end - start) // HPAGE_PMD_NR + s.p.pte_update_ns * huge,
               SYS_SCAN)
        if huge > 0:
            flush_tlb_mm_range(s, t, mm)
            s.cnt_vm[NUMA_PTE_UPDATES] += updated
            s.cnt_vm[NUMA_HUGE_PTE_UPDATES] += huge
            s.cnt_memcg[s.mm.cgroup[mm], MC_NUMA_PTE_UPDATES] += updated
        return updated
    # the range lies in one object: walk its segments along the range instead of
    # searching the object and the segment of every marked page
    o_first = s.ob.first[o]
    seg = -1
    seg_end = np.int64(-1)  # first object page past segment ``seg``
    seg_last = s.sg_obj_first[o + 1] - 1
    for page in range(base, base + (end - start)):
        f = pg.pflags[page]
        if not f & PG_PRESENT or f & PG_PROTNONE:
            continue
        if file_lru and f & PG_DIRTY_FILE:
            continue
        nid = pg.node[page]
        if nid == target_node:
            continue
        if s.nd.toptier[nid] and not normal:
            continue
        if folio_use_access_time(s, page):
            pg.last_cpupid[page] = now_ms & LAST_CPUPID_MASK
        pg.pflags[page] = f | PG_PROTNONE
        pending_add(s, page, 1)
        updated += 1
        if f & PG_QUEUED:
            list_remove(s, page)
        off = page - o_first
        if off >= seg_end:
            seg = find_segment(s, o, off)
            seg_end = s.sg_start[seg + 1] if seg < seg_last else np.int64(1) << 62
        # schedule_page_at, inlined: the loop then reads the state's arrays once
        lst = next_access_list_at(s, page, off, seg, SCHED_MARKED, 0)
        if lst >= 0:
            list_push(s, lst, page)
    charge(s, t, s.p.pte_scan_ns * (end - start) + s.p.pte_update_ns * updated, SYS_SCAN)
    if updated > 0:
        flush_tlb_mm_range(s, t, mm)
        s.cnt_vm[NUMA_PTE_UPDATES] += updated
        s.cnt_memcg[s.mm.cgroup[mm], MC_NUMA_PTE_UPDATES] += updated
    return updated


@jit_inline
def _first_vma_after(s, mm, addr):
    """First VMA of ``mm`` ending above ``addr`` (``vma_next`` after ``vma_iter_init``)."""
    first = s.mm.vma_first[mm]
    for v in range(first, first + s.mm.vma_count[mm]):
        if s.vm.start[v] + s.vm.npages[v] > addr:
            return v
    return -1


@jit_inline
def _skip(s, t, v, reason):
    trace_event(s, s.clk[CLK_TICK] * s.p.tick_ns, EV_SKIP_VMA, t, v, reason, 0, 0)


@jit
def task_numa_work(s, t):
    """``task_numa_work``: scan the next window of task ``t``'s address space."""
    tk = s.tk
    tk.work_pending[t] = 0
    if not gate_allows(s, t, GATE_WORK):
        return
    now = s.clk[CLK_TICK]
    mm = tk.mm[t]
    p = s.p
    if s.mm.numa_next_scan[mm] == 0:
        s.mm.numa_next_scan[mm] = now + msecs_to_jiffies(p.scan_delay_ms, p.hz)
    migrate = s.mm.numa_next_scan[mm]
    if now - migrate < 0:
        return
    if tk.numa_scan_period[t] == 0:
        tk.numa_scan_period_max[t] = task_scan_max_of(s, t)
        tk.numa_scan_period[t] = task_scan_start_of(s, t)
    s.mm.numa_next_scan[mm] = now + msecs_to_jiffies(tk.numa_scan_period[t], p.hz)
    tk.node_stamp[t] += 2 * p.tick_ns
    pages = np.int64(p.scan_size_mb) << MB_TO_PAGES_SHIFT
    virtpages = pages * 8
    if pages == 0:
        return
    stime0 = tk.stime[t]
    tk.numa_scans[t] += 1
    delay_j = msecs_to_jiffies(p.scan_delay_ms, p.hz)
    # VMA_PID_RESET_PERIOD is 4 * scan_delay ms, rounded up to ticks as a whole
    reset_j = msecs_to_jiffies((4 * p.scan_delay_ms) & U32_MASK, p.hz)
    vma_pids_skipped = False
    vma_pids_forced = False
    vfirst = s.mm.vma_first[mm]
    vend = vfirst + s.mm.vma_count[mm]
    start = np.int64(0)
    v = -1
    done = False
    while True:  # retry_pids
        start = s.mm.numa_scan_offset[mm]
        v = _first_vma_after(s, mm, start)
        if v < 0:
            reset_ptenuma_scan(s, mm)
            start = 0
            v = vfirst
        while v < vend:
            vf = s.vm.vm_flags[v]
            if not vma_policy_mof(s, t, v):
                _skip(s, t, v, NUMAB_SKIP_UNSUITABLE)
                v += 1
                continue
            if vf & VM_FILE and not vf & VM_WRITE:
                _skip(s, t, v, NUMAB_SKIP_SHARED_RO)
                v += 1
                continue
            seq = s.mm.numa_scan_seq[mm]
            if not s.vm.has_state[v]:
                s.vm.has_state[v] = 1
                s.vm.start_scan_seq[v] = seq
                s.vm.next_scan[v] = now + delay_j
                s.vm.pids_active_reset[v] = s.vm.next_scan[v] + reset_j
                s.vm.prev_scan_seq[v] = seq - 1
            if seq != 0 and now - s.vm.next_scan[v] < 0:
                _skip(s, t, v, NUMAB_SKIP_SCAN_DELAY)
                v += 1
                continue
            if seq != 0 and now - s.vm.pids_active_reset[v] > 0:
                s.vm.pids_active_reset[v] += reset_j
                s.vm.pids_active[v, 0] = s.vm.pids_active[v, 1]
                s.vm.pids_active[v, 1] = 0
            if s.vm.prev_scan_seq[v] == seq:
                s.mm.numa_scan_offset[mm] = s.vm.start[v] + s.vm.npages[v]
                _skip(s, t, v, NUMAB_SKIP_SEQ_COMPLETED)
                v += 1
                continue
            if not vma_pids_forced and not vma_is_accessed(s, t, v):
                vma_pids_skipped = True
                _skip(s, t, v, NUMAB_SKIP_PID_INACTIVE)
                v += 1
                continue
            vm_start = s.vm.start[v]
            vm_end = vm_start + s.vm.npages[v]
            while True:
                start = max(start, vm_start)
                end = (start + pages + HPAGE_PMD_NR - 1) // HPAGE_PMD_NR * HPAGE_PMD_NR
                end = min(end, vm_end)
                nr_pte_updates = change_prot_numa(s, t, v, start, end)
                if nr_pte_updates:
                    pages -= end - start
                virtpages -= end - start
                start = end
                if pages <= 0 or virtpages <= 0:
                    done = True
                    break
                if end == vm_end:
                    break
            if done:
                break
            s.vm.prev_scan_seq[v] = s.mm.numa_scan_seq[mm]
            if vma_pids_forced:
                break
            v += 1
        if done or v < vend:
            break
        if not vma_pids_forced and vma_pids_skipped:
            vma_pids_forced = True
            continue
        break
    if v < vend:
        s.mm.numa_scan_offset[mm] = start
    else:
        reset_ptenuma_scan(s, mm)
    # keep scanning overhead under ~3 % of the task's runtime
    tk.node_stamp[t] += 32 * (tk.stime[t] - stime0)
