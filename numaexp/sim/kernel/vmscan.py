"""kswapd and demotion (mm/vmscan.c, mm/migrate.c), as an LRU approximation.

kswapd of a node is woken when a promotion finds the node unbalanced (in
TIERING mode) or an allocation finds every allowed node below its LOW
watermark. It then reclaims until the node's free pages are above HIGH
(WMARK_PROMO in TIERING mode). Only demotion is modelled (no swap, no page
cache to drop): with ``demotion_enabled`` and a lower tier, the victims move
to a demotion target (``next_demotion_node``: a nearest node of the next
lower tier, then any lower-tier node).

Victims come from a CLOCK hand over the node's pages standing in for the
LRU (MGLRU's oldest generation): a page was referenced during the hand's
last lap with probability ``1 - exp(-rate * lap)``, where ``rate`` is its
current access rate from the workload's patterns; referenced pages get a
second chance, the others are demoted. kswapd's CPU time is not charged to
any task (it runs beside the workload); direct reclaim is charged to the
allocating task.
"""

from __future__ import annotations

import math

import numpy as np

from numaexp.sim.engine.access import stream_position
from numaexp.sim.engine.codes import (
    CLK_TICK,
    PAT_SWEEP,
    PG_CLEAR_PROTNONE,
    PG_PRESENT,
    PG_PROTNONE,
    PG_QUEUED,
    RNG_DEMOTE_TARGET,
    RNG_REFERENCED,
)
from numaexp.sim.engine.events import random_rate
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.lists import list_remove, pending_add
from numaexp.sim.engine.rng import rand_u01
from numaexp.sim.engine.segindex import find_segment, page_object, update_mass
from numaexp.sim.kernel.constants import (
    CPUPID_UNSET,
    HPAGE_PMD_NR,
    MC_PGDEMOTE_DIRECT,
    MC_PGDEMOTE_KSWAPD,
    NUMA_BALANCING_MEMORY_TIERING,
    PGDEMOTE_DIRECT,
    PGDEMOTE_KSWAPD,
    PGMIGRATE_FAIL,
    PGMIGRATE_SUCCESS,
    THP_MIGRATION_SUCCESS,
    VM_THP,
)

KSWAPD_SCAN_FACTOR = 8
"""Pages the hand may examine per page it is asked to reclaim, per call."""


@jit_inline
def page_access_rate(s, page):
    """Current access rate of ``page`` by every active stream, touches per ns."""
    o = page_object(s, page)
    off = page - s.ob.first[o]
    seg = find_segment(s, o, off)
    lam = random_rate(s, seg, off, 0)
    if s.sg_region[seg] != -1:
        for j in range(s.sg_list_first[seg], s.sg_list_first[seg + 1]):
            k = s.sg_streams[j]
            if s.st.kind[k] != PAT_SWEEP or stream_position(s.st, k, off) < 0:
                continue
            lam += s.tk.rate[s.st.task[k]] / s.st.n[k]
    return lam


@jit_inline
def pgdat_balanced(s, nid):
    """``pgdat_balanced``: free pages above HIGH (WMARK_PROMO with TIERING)."""
    if s.p.mode & NUMA_BALANCING_MEMORY_TIERING:
        return s.nd.free[nid] > s.nd.wmark_promo[nid]
    return s.nd.free[nid] > s.nd.wmark_high[nid]


@jit_inline
def can_demote(s, nid):
    """``can_demote``: demotion is on and the node has a lower tier."""
    return s.p.demotion_enabled != 0 and s.nd.demote_fallback[nid] != 0


@jit_inline
def next_demotion_node(s, nid, page, nr):
    """A demotion target with room for ``nr`` pages above its MIN watermark, or -1.

    First a random one of the preferred targets (``next_demotion_node``), then
    the other lower-tier nodes by distance (the fallback mask).
    """
    pref = s.nd.demote_pref[nid]
    count = 0
    for b in range(s.p.nr_nodes):
        if pref >> b & 1:
            count += 1
    if count > 0:
        pick = np.int64(rand_u01(s.p.seed_key, page, s.clk[CLK_TICK], RNG_DEMOTE_TARGET) * count)
        for b in range(s.p.nr_nodes):
            if pref >> b & 1:
                if pick == 0:
                    if s.nd.free[b] - nr > s.nd.wmark_min[b]:
                        return b
                    break
                pick -= 1
    order = s.nd_zonelist[nid]
    for k in range(len(order)):
        b = order[k]
        if b >= 0 and s.nd.demote_fallback[nid] >> b & 1 and s.nd.free[b] - nr > s.nd.wmark_min[b]:
            return b
    return -1


@jit_inline
def demote_folio(s, head, nr, src, dst, direct):
    """Move the folio at ``head`` from ``src`` to ``dst`` (MR_DEMOTION) and count it."""
    pg = s.pg
    for q in range(head, head + nr):
        f = pg.pflags[q]
        if f & PG_QUEUED:  # the new PTE is not PROT_NONE: no hinting fault pending
            list_remove(s, q)
        if f & PG_PROTNONE:
            pending_add(s, q, -1)
        pg.pflags[q] &= PG_CLEAR_PROTNONE
        pg.node[q] = dst
        update_mass(s, q, src, dst)
    if s.p.mode & NUMA_BALANCING_MEMORY_TIERING and s.nd.toptier[src] != s.nd.toptier[dst]:
        pg.last_cpupid[head] = CPUPID_UNSET
    s.nd.free[src] += nr
    s.nd.free[dst] -= nr
    cg = pg.memcg[head]
    s.cnt_cg_node_pages[cg, src] -= nr
    s.cnt_cg_node_pages[cg, dst] += nr
    item = PGDEMOTE_DIRECT if direct else PGDEMOTE_KSWAPD
    s.cnt_vm[item] += nr
    s.cnt_node_vm[src, item] += nr
    s.cnt_memcg[cg, MC_PGDEMOTE_DIRECT if direct else MC_PGDEMOTE_KSWAPD] += nr
    s.cnt_vm[PGMIGRATE_SUCCESS] += nr
    if nr > 1:
        s.cnt_vm[THP_MIGRATION_SUCCESS] += 1


@jit
def shrink_node(s, nid, want, direct, now_ns):
    """Demote up to ``want`` cold pages of node ``nid``; return the pages demoted.

    The node's CLOCK hand walks the page array (wrapping around); each
    present page of the node (each folio, for THP) is kept if referenced
    during the hand's last lap, else demoted.
    """
    n_pages = s.p.nr_pages
    hand = s.nd.kswapd_hand[nid]
    age = np.float64(max(s.nd.kswapd_lap_ns[nid], s.p.tick_ns))
    done = 0
    budget = want * KSWAPD_SCAN_FACTOR + HPAGE_PMD_NR
    pg = s.pg
    while done < want and budget > 0:
        budget -= 1
        page = hand
        hand += 1
        if hand >= n_pages:
            hand = 0
            s.nd.kswapd_lap_ns[nid] = now_ns - s.nd.kswapd_lap_start[nid]
            s.nd.kswapd_lap_start[nid] = now_ns
        if not pg.pflags[page] & PG_PRESENT or pg.node[page] != nid:
            continue
        nr = 1
        if s.ob.vm_flags[page_object(s, page)] & VM_THP:
            o = page_object(s, page)
            if (page - s.ob.first[o]) % HPAGE_PMD_NR != 0:
                continue  # the folio is judged at its first page
            nr = HPAGE_PMD_NR
        rate = page_access_rate(s, page) * nr
        referenced = 1.0 - math.exp(-rate * age)
        if rand_u01(s.p.seed_key, page, s.clk[CLK_TICK], RNG_REFERENCED) < referenced:
            continue
        dst = next_demotion_node(s, nid, page, nr)
        if dst < 0:
            s.cnt_vm[PGMIGRATE_FAIL] += nr
            continue
        demote_folio(s, page, nr, nid, dst, direct)
        done += nr
    s.nd.kswapd_hand[nid] = hand
    return done


@jit
def kswapd(s, now_ns):
    """Run every woken kswapd for one tick: demote until balanced, then sleep."""
    for nid in range(s.p.nr_nodes):
        if not s.nd.kswapd_wake[nid]:
            continue
        if pgdat_balanced(s, nid) or not can_demote(s, nid):
            s.nd.kswapd_wake[nid] = 0
            continue
        shrink_node(s, nid, s.p.kswapd_batch, False, now_ns)
