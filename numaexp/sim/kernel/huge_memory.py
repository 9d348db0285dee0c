"""Hinting faults on PMD-mapped THPs (``do_huge_pmd_numa_page``, mm/huge_memory.c).

A THP VMA's folios are 512 pages on one node. The scanner makes all 512
PROT_NONE at once (``change_huge_pmd``) and queues each page for its next
access; the first access to any of them faults for the whole folio, which
restores every page and migrates 512 pages together.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import (
    EV_MISSING_NODE,
    PG_CLEAR_PROTNONE,
    PG_PROTNONE,
    PG_QUEUED,
    SYS_HINT_FAULT,
    SYS_LOCK_WAIT,
)
from numaexp.sim.engine.jit import jit
from numaexp.sim.engine.lists import list_remove, pending_add
from numaexp.sim.engine.locks import fault_lock_wait
from numaexp.sim.engine.segindex import page_object
from numaexp.sim.engine.trace import trace_event
from numaexp.sim.kernel.constants import AS_POSTED_MISSING_NODE, HPAGE_PMD_NR, NUMA_NO_NODE
from numaexp.sim.kernel.fault import (
    mpol_misplaced_of,
    numa_migrate_check,
    numa_migrate_folio,
    vma_of,
)
from numaexp.sim.kernel.folio import folio_head
from numaexp.sim.kernel.placement import task_numa_fault


@jit
def do_huge_pmd_numa_page(s, t, page, now_ns):
    """``do_huge_pmd_numa_page``: task ``t`` touches PROT_NONE ``page`` of a THP.

    Unlike ``do_numa_page``, the RFC's patch 3 did not teach this path about
    ``NUMA_TASK_MIG``: only NUMA_NO_NODE means "do not migrate", so as posted
    (``NUMA_TASK_MIG == 1``) a fault on task-only memory migrates the folio to
    node 1. With the fix, the (negative) NUMA_TASK_MIG is honoured here too.
    On a machine without node 1 the posted kernel would dereference
    ``NODE_DATA(1)``; the simulator counts that (``as_posted_missing_node``,
    an ``as_posted_missing_node`` event) and leaves the folio where it is.
    A target equal to the folio's node is not migrated (departure: the kernel
    would copy the folio within the node).
    """
    head = folio_head(s, page)
    pg = s.pg
    for q in range(head, head + HPAGE_PMD_NR):
        f = pg.pflags[q]
        if f & PG_QUEUED:
            list_remove(s, q)
        if f & PG_PROTNONE:
            pending_add(s, q, -1)
        pg.pflags[q] &= PG_CLEAR_PROTNONE
    o = page_object(s, head)
    v = vma_of(s, t, o)
    nid = np.int64(pg.node[head])
    flags, last_cpupid = numa_migrate_check(s, t, v, o, head, nid)
    charge(s, t, s.p.hint_fault_ns, SYS_HINT_FAULT)
    charge(s, t, fault_lock_wait(s, t, v), SYS_LOCK_WAIT)
    # the page number as the pending-fault lists hold it (int32), as do_numa_page passes
    # its page: one compile of mpol_misplaced_of and numa_migrate_folio, not two
    head32 = np.int32(head)
    target = mpol_misplaced_of(s, t, v, head32, head32 - s.ob.first[o], nid)
    if target != NUMA_NO_NODE and target >= 0 and target != nid:
        if target >= s.p.nr_nodes:
            # as posted, NUMA_TASK_MIG (1) is taken for a node: where node 1 does not exist
            # the posted kernel would go on to NODE_DATA(1), a bad pointer; not simulated
            s.cnt_vm[AS_POSTED_MISSING_NODE] += 1
            trace_event(s, now_ns, EV_MISSING_NODE, t, target, nid, 0, 0)
        else:
            nid, flags = numa_migrate_folio(s, t, v, head32, nid, target, HPAGE_PMD_NR, flags)
    task_numa_fault(s, t, last_cpupid, nid, HPAGE_PMD_NR, flags, now_ns)
