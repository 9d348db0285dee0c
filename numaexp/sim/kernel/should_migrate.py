"""``should_numa_migrate_memory`` (kernel/sched/fair.c): may a hinting fault migrate the folio?

The NORMAL branch is a two-stage filter on the folio's last accessor
(``last_cpupid``) and the NUMA group's fault statistics; the MEMORY_TIERING
branch promotes slow-tier folios whose hint-fault latency is under the hot
threshold, within the promotion rate limit (:mod:`.tiering`). Either choice
can be handed to a policy (:mod:`numaexp.model.policy`).
"""

from __future__ import annotations

import numpy as np

from numaexp.model.policy import PROMOTE_NO, PROMOTE_NOW
from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.engine.policy_hooks import (
    POLICY_PROMOTE,
    POLICY_SHOULD_MIGRATE,
    checked_policy_result,
    fault_context,
    policy_decides,
)
from numaexp.sim.kernel.constants import (
    ACTIVE_NODE_FRACTION,
    LAST_CPUPID_MASK,
    NUMA_BALANCING_MEMORY_TIERING,
    NUMA_NO_NODE,
    PGPROMOTE_CANDIDATE,
)
from numaexp.sim.kernel.cpupid import (
    cpu_pid_to_cpupid,
    cpupid_match_pid,
    cpupid_pid_unset,
    cpupid_to_cpu,
    cpupid_valid,
)
from numaexp.sim.kernel.folio import folio_nr_pages, folio_use_access_time
from numaexp.sim.kernel.scan_period import jiffies_ms
from numaexp.sim.kernel.tiering import (
    NBP_CANDIDATES,
    numa_tiering_hotness,
    promote_after_rate_limit,
    promote_rate_limit_pages,
)
from numaexp.sim.kernel.weights import group_faults, group_faults_cpu


@jit_inline
def pgdat_free_space_enough(s, nid):
    """``pgdat_free_space_enough``: free pages above WMARK_PROMO + max(1 GiB, present/16)."""
    return s.nd.free[nid] > s.nd.wmark_promo[nid] + s.nd.promo_enough[nid]


@jit_inline
def should_numa_migrate_memory_decide(last_cpupid, pid, dst_nid, src_nid, tiering, src_toptier,
                                      nr_cpu_ids, preferred_nid, numa_scan_seq, has_group,
                                      gfc_dst, gfc_src, gf_dst, gf_src, last_nid):
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
    last_nid : int
        ``cpupid_to_nid(last_cpupid)``: the node of the last accessor's CPU
        (NUMA_NO_NODE when unset or not a CPU of the machine).

    Returns
    -------
    bool
    """
    if not tiering and not src_toptier and not cpupid_valid(last_cpupid, nr_cpu_ids):
        return False
    if (preferred_nid == NUMA_NO_NODE or numa_scan_seq <= 4) and (
            cpupid_pid_unset(last_cpupid) or cpupid_match_pid(pid, last_cpupid)):
        return True
    if not cpupid_pid_unset(last_cpupid) and last_nid != dst_nid:
        return False
    if cpupid_match_pid(pid, last_cpupid):
        return True
    if not has_group:
        return True
    if gfc_dst > gfc_src * ACTIVE_NODE_FRACTION:
        return True
    return gfc_dst * gf_src * 3 > gfc_src * gf_dst * 4


@jit_inline
def last_cpupid_nid(s, last_cpupid):
    """``cpupid_to_nid``: node of the CPU in ``last_cpupid`` (NUMA_NO_NODE when unset or
    not a CPU of the machine)."""
    if cpupid_pid_unset(last_cpupid):
        return NUMA_NO_NODE
    last_cpu = cpupid_to_cpu(last_cpupid)
    return s.cpu.node[last_cpu] if last_cpu < s.p.nr_cpus else NUMA_NO_NODE


@jit_inline
def should_promote(s, t, page, src_nid, dst_nid):
    """The MEMORY_TIERING branch of ``should_numa_migrate_memory`` (or a ``promote`` policy)."""
    nbp = s.nd_nbp[dst_nid]
    cand0 = nbp[NBP_CANDIDATES]
    now_ms = jiffies_ms(s)
    rate_limit = promote_rate_limit_pages(s.p.promote_rate_limit_mbps)
    nr = folio_nr_pages(s, page)
    enough = pgdat_free_space_enough(s, dst_nid)
    decision, restamp, latency, th = numa_tiering_hotness(
        nbp, enough, now_ms, np.int64(s.pg.last_cpupid[page]), s.p.hot_threshold_ms,
        rate_limit, s.p.scan_period_max_ms)
    if policy_decides(s, POLICY_PROMOTE):
        c = fault_context(s, t, page, nr, src_nid, dst_nid, s.tk.cpu[t], now_ms)
        c.free_space_enough = enough
        c.latency_ms = latency
        c.threshold_ms = th
        c.hot_threshold_ms = s.p.hot_threshold_ms
        c.rate_limit_pages = rate_limit
        decision = checked_policy_result(s, POLICY_PROMOTE, s.pol[POLICY_PROMOTE](
            s.pol_ctx, s.pol_mem), PROMOTE_NO, PROMOTE_NOW, decision)
    promote = promote_after_rate_limit(decision, nbp, now_ms, rate_limit, nr)
    if restamp:
        s.pg.last_cpupid[page] = now_ms & LAST_CPUPID_MASK
    counted = nbp[NBP_CANDIDATES] - cand0
    s.cnt_vm[PGPROMOTE_CANDIDATE] += counted
    s.cnt_node_vm[dst_nid, PGPROMOTE_CANDIDATE] += counted
    return promote


@jit_inline
def should_numa_migrate_memory(s, t, page, src_nid, dst_cpu):
    """``should_numa_migrate_memory``: two-stage filter on the folio's last accessor.

    A ``should_migrate`` policy, if the run has one, decides after the
    ``last_cpupid`` exchange, from what the kernel's filter reads.
    """
    dst_nid = s.cpu.node[dst_cpu]
    if s.nd.present[dst_nid] == 0:
        return False
    if folio_use_access_time(s, page):
        return should_promote(s, t, page, src_nid, dst_nid)
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
    tiering = (s.p.mode & NUMA_BALANCING_MEMORY_TIERING) != 0
    last_nid = last_cpupid_nid(s, last)
    if policy_decides(s, POLICY_SHOULD_MIGRATE):
        c = fault_context(s, t, page, folio_nr_pages(s, page), src_nid, dst_nid, dst_cpu,
                          jiffies_ms(s))
        c.last_cpupid = last
        c.last_cpu = -1 if cpupid_pid_unset(last) else cpupid_to_cpu(last)
        c.last_nid = last_nid
        c.last_pid_matches = cpupid_match_pid(pid, last)
        c.last_pid_unset = cpupid_pid_unset(last)
        c.cpupid_valid = cpupid_valid(last, s.p.nr_cpus)
        c.preferred_nid = s.tk.numa_preferred_nid[t]
        c.numa_scan_seq = s.tk.numa_scan_seq[t]
        c.has_group = g >= 0
        c.group_faults_cpu_src = gfc_src
        c.group_faults_cpu_dst = gfc_dst
        c.group_faults_src = gf_src
        c.group_faults_dst = gf_dst
        c.tiering = tiering
        c.src_toptier = s.nd.toptier[src_nid] != 0
        return s.pol[POLICY_SHOULD_MIGRATE](s.pol_ctx, s.pol_mem) != 0
    return should_numa_migrate_memory_decide(
        last, pid, dst_nid, src_nid, tiering, s.nd.toptier[src_nid] != 0, s.p.nr_cpus,
        s.tk.numa_preferred_nid[t], s.tk.numa_scan_seq[t], g >= 0, gfc_dst, gfc_src, gf_dst,
        gf_src, last_nid)
