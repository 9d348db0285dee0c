"""Memory-tiering promotion decisions (kernel/sched/fair.c, 6.12).

In MEMORY_TIERING mode a fault on a slow-tier page is judged by its
hint-fault latency (time since the scanner stamped it) instead of by its
last accessor. Each target node keeps the promotion state the kernel keeps
in ``struct pglist_data``: one row of ``State.nd_nbp`` with the ``NBP_*``
columns below. Every function here takes that row (an int64 array) and
scalars, so each can be called from Python on its own.

Times are in ms as ``jiffies_to_msecs(jiffies)`` gives them, counted from the
start of the run (a run is at most 11.6 days, so the 32-bit clock never
wraps); differences of them are taken in 32 bits, as the kernel's
``unsigned int`` arithmetic does.
"""

from __future__ import annotations

import numpy as np

from numaexp.model.policy import PROMOTE_CANDIDATE, PROMOTE_NO, PROMOTE_NOW
from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.kernel.constants import (
    LAST_CPUPID_MASK,
    MB_TO_PAGES_SHIFT,
    MSEC_PER_SEC,
    U32_MASK,
)

NBP_THRESHOLD = 0  # pgdat->nbp_threshold, ms (0: use hot_threshold_ms)
NBP_TH_START = 1  # pgdat->nbp_th_start, ms
NBP_TH_NR_CAND = 2  # pgdat->nbp_th_nr_cand
NBP_RL_START = 3  # pgdat->nbp_rl_start, ms
NBP_RL_NR_CAND = 4  # pgdat->nbp_rl_nr_cand
NBP_CANDIDATES = 5  # node_page_state(pgdat, PGPROMOTE_CANDIDATE)
NBP_FIELDS = 6

NUMA_MIGRATION_ADJUST_STEPS = 16
PAGE_ACCESS_TIME_MASK = LAST_CPUPID_MASK  # LAST_CPUPID_SHIFT >= PAGE_SHIFT on Debian
PROMO_ENOUGH_MIN_BYTES = 1 << 30
"""``pgdat_free_space_enough``: at least 1 GiB free above WMARK_PROMO (or 1/16 of the node)."""


@jit_inline
def promote_rate_limit_pages(mbps):
    """``sysctl_numa_balancing_promote_rate_limit << (20 - PAGE_SHIFT)``: MB/s to pages/s.

    The shift happens in the sysctl's ``unsigned int``, so a limit of 16 TB/s
    or more wraps, as in the kernel.
    """
    return (mbps << MB_TO_PAGES_SHIFT) & U32_MASK


@jit_inline
def numa_promotion_adjust_threshold(nbp, now_ms, rate_limit, ref_th, th_period):
    """``numa_promotion_adjust_threshold``: move the hot threshold once per period.

    Parameters
    ----------
    nbp : int64 array of NBP_FIELDS
        The target node's promotion state (updated in place).
    now_ms : int
        Current time, ms.
    rate_limit : int
        Promotion rate limit, pages per second.
    ref_th : int
        ``hot_threshold_ms``, ms.
    th_period : int
        ``scan_period_max_ms``: the adjustment period, ms.

    Notes
    -----
    With ``ref_cand = rate_limit * th_period / 1000`` candidates expected per
    period, more than 110 % of them lowers the threshold by ``2 ref_th / 16``
    (not below one step), fewer than 90 % raises it (up to ``2 ref_th``).
    The thresholds are the kernel's ``unsigned int``: below one step (after
    ``hot_threshold_ms`` was raised) ``th - unit_th`` wraps to a huge
    threshold, and ``ref_th * 2`` wraps above 2**31 ms, as in the kernel. The
    candidate counts are ``unsigned long``.
    """
    start = nbp[NBP_TH_START]
    if (now_ms - start) & U32_MASK > th_period:
        nbp[NBP_TH_START] = now_ms
        ref_cand = np.uint64(rate_limit) * np.uint64(th_period) // np.uint64(MSEC_PER_SEC)
        nr_cand = nbp[NBP_CANDIDATES]
        diff_cand = np.uint64(nr_cand - nbp[NBP_TH_NR_CAND])
        unit_th = ((ref_th * 2) & U32_MASK) // NUMA_MIGRATION_ADJUST_STEPS
        th = nbp[NBP_THRESHOLD] if nbp[NBP_THRESHOLD] else ref_th
        if diff_cand > ref_cand * np.uint64(11) // np.uint64(10):
            th = max((th - unit_th) & U32_MASK, unit_th)
        elif diff_cand < ref_cand * np.uint64(9) // np.uint64(10):
            th = min((th + unit_th) & U32_MASK, (ref_th * 2) & U32_MASK)
        nbp[NBP_TH_NR_CAND] = nr_cand
        nbp[NBP_THRESHOLD] = th


@jit_inline
def numa_promotion_rate_limit(nbp, now_ms, rate_limit, nr):
    """``numa_promotion_rate_limit``: count ``nr`` candidates; True if over the limit.

    ``nbp``, ``now_ms`` and ``rate_limit`` (pages per second) are those of
    :func:`numa_promotion_adjust_threshold`; ``nr`` is the pages of the folio.

    Returns
    -------
    bool
        True when the candidates counted since the window (of one second)
        began reach ``rate_limit``: the promotion is refused.
    """
    nbp[NBP_CANDIDATES] += nr
    nr_cand = nbp[NBP_CANDIDATES]
    if (now_ms - nbp[NBP_RL_START]) & U32_MASK > MSEC_PER_SEC:
        nbp[NBP_RL_START] = now_ms
        nbp[NBP_RL_NR_CAND] = nr_cand
    return nr_cand - nbp[NBP_RL_NR_CAND] >= rate_limit


@jit_inline
def numa_tiering_hotness(nbp, free_space_enough, now_ms, stamp, def_th, rate_limit, th_period):
    """The MEMORY_TIERING branch of ``should_numa_migrate_memory`` up to the rate limit.

    Parameters
    ----------
    nbp : int64 array of NBP_FIELDS
        Promotion state of the destination node (updated in place: the
        threshold's reset or adjustment).
    free_space_enough : bool
        ``pgdat_free_space_enough(dst)``.
    now_ms : int
        Current time, ms.
    stamp : int
        The folio's access-time stamp (``last_cpupid`` field), ms masked.
    def_th : int
        ``hot_threshold_ms``.
    rate_limit : int
        ``promote_rate_limit_MBps`` in pages per second.
    th_period : int
        ``scan_period_max_ms``.

    Returns
    -------
    decision : int
        ``PROMOTE_NOW`` (room enough: no threshold, no rate limit),
        ``PROMOTE_NO`` (latency at or above the threshold) or
        ``PROMOTE_CANDIDATE`` (hot: the rate limit decides).
    restamp : bool
        ``numa_hint_fault_latency`` ran: the folio's stamp becomes ``now_ms``.
    latency : int
        The hint-fault latency, ms (0 when there was room enough).
    th : int
        The threshold it was held against, ms.
    """
    if free_space_enough:
        nbp[NBP_THRESHOLD] = 0  # the workload changed: reset the hot threshold
        return PROMOTE_NOW, False, 0, def_th
    numa_promotion_adjust_threshold(nbp, now_ms, rate_limit, def_th, th_period)
    th = nbp[NBP_THRESHOLD] if nbp[NBP_THRESHOLD] else def_th
    latency = (now_ms - stamp) & PAGE_ACCESS_TIME_MASK
    if latency >= th:
        return PROMOTE_NO, True, latency, th
    return PROMOTE_CANDIDATE, True, latency, th


@jit_inline
def promote_after_rate_limit(decision, nbp, now_ms, rate_limit, nr):
    """Whether a folio of ``nr`` pages is promoted, given the hotness ``decision``.

    A candidate is counted by ``numa_promotion_rate_limit``, which refuses it
    over the limit; ``PROMOTE_NOW`` bypasses the limit, ``PROMOTE_NO`` is not
    counted.
    """
    if decision == PROMOTE_NOW:
        return True
    if decision == PROMOTE_CANDIDATE:
        return not numa_promotion_rate_limit(nbp, now_ms, rate_limit, nr)
    return False


@jit_inline
def numa_tiering_should_promote(nbp, free_space_enough, now_ms, stamp, def_th, rate_limit,
                                th_period, nr):
    """The MEMORY_TIERING branch of ``should_numa_migrate_memory``, whole.

    :func:`numa_tiering_hotness` then :func:`promote_after_rate_limit` (see
    their parameters; ``nr`` is the folio's pages).

    Returns
    -------
    promote : bool
        Migrate the folio to the destination node.
    restamp : bool
        ``numa_hint_fault_latency`` ran: the folio's stamp becomes ``now_ms``.
    """
    decision, restamp, _, _ = numa_tiering_hotness(nbp, free_space_enough, now_ms, stamp,
                                                  def_th, rate_limit, th_period)
    return promote_after_rate_limit(decision, nbp, now_ms, rate_limit, nr), restamp


@jit_inline
def reset_memory_tiering(nbp, now_ms):
    """``reset_memory_tiering`` for one node: run when TIERING is switched on."""
    nbp[NBP_THRESHOLD] = 0
    nbp[NBP_TH_NR_CAND] = nbp[NBP_CANDIDATES]
    nbp[NBP_TH_START] = now_ms
