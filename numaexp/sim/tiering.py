"""Memory-tiering promotion decisions (kernel/sched/fair.c, 6.12).

In MEMORY_TIERING mode a fault on a slow-tier page is judged by its
hint-fault latency (time since the scanner stamped it) instead of by its
last accessor. Each target node keeps the promotion state the kernel keeps
in ``struct pglist_data``: one row of ``State.nd_nbp`` with the ``NBP_*``
columns below. Every function here takes that row (an int64 array) and
scalars, so each can be called from Python on its own.

Times are in ms as ``jiffies_to_msecs(jiffies)`` gives them, counted from the
start of the run; the kernel's 32-bit wrap-around (49 days) is not modelled.
"""

from __future__ import annotations

from numaexp.sim.constants import LAST_CPUPID_MASK
from numaexp.sim.jit import jit_inline

NBP_THRESHOLD = 0  # pgdat->nbp_threshold, ms (0: use hot_threshold_ms)
NBP_TH_START = 1  # pgdat->nbp_th_start, ms
NBP_TH_NR_CAND = 2  # pgdat->nbp_th_nr_cand
NBP_RL_START = 3  # pgdat->nbp_rl_start, ms
NBP_RL_NR_CAND = 4  # pgdat->nbp_rl_nr_cand
NBP_CANDIDATES = 5  # node_page_state(pgdat, PGPROMOTE_CANDIDATE)
NBP_FIELDS = 6

NUMA_MIGRATION_ADJUST_STEPS = 16
MSEC_PER_SEC = 1000
PAGE_ACCESS_TIME_MASK = LAST_CPUPID_MASK  # LAST_CPUPID_SHIFT >= PAGE_SHIFT on Debian


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
    """
    start = nbp[NBP_TH_START]
    if now_ms - start > th_period:
        nbp[NBP_TH_START] = now_ms
        ref_cand = rate_limit * th_period // MSEC_PER_SEC
        nr_cand = nbp[NBP_CANDIDATES]
        diff_cand = nr_cand - nbp[NBP_TH_NR_CAND]
        unit_th = ref_th * 2 // NUMA_MIGRATION_ADJUST_STEPS
        th = nbp[NBP_THRESHOLD] if nbp[NBP_THRESHOLD] else ref_th
        if diff_cand > ref_cand * 11 // 10:
            th = max(th - unit_th, unit_th)
        elif diff_cand < ref_cand * 9 // 10:
            th = min(th + unit_th, ref_th * 2)
        nbp[NBP_TH_NR_CAND] = nr_cand
        nbp[NBP_THRESHOLD] = th


@jit_inline
def numa_promotion_rate_limit(nbp, now_ms, rate_limit, nr):
    """``numa_promotion_rate_limit``: count ``nr`` candidates; True if over the limit.

    Parameters
    ----------
    nbp : int64 array of NBP_FIELDS
        The target node's promotion state (updated in place).
    now_ms : int
        Current time, ms.
    rate_limit : int
        Pages per second.
    nr : int
        Pages of the folio.

    Returns
    -------
    bool
        True when the candidates counted since the window (of one second)
        began reach ``rate_limit``: the promotion is refused.
    """
    nbp[NBP_CANDIDATES] += nr
    nr_cand = nbp[NBP_CANDIDATES]
    if now_ms - nbp[NBP_RL_START] > MSEC_PER_SEC:
        nbp[NBP_RL_START] = now_ms
        nbp[NBP_RL_NR_CAND] = nr_cand
    return nr_cand - nbp[NBP_RL_NR_CAND] >= rate_limit


@jit_inline
def numa_tiering_should_promote(nbp, free_space_enough, now_ms, stamp, def_th, rate_limit,
                                th_period, nr):
    """The MEMORY_TIERING branch of ``should_numa_migrate_memory``.

    Parameters
    ----------
    nbp : int64 array of NBP_FIELDS
        Promotion state of the destination node (updated in place).
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
    nr : int
        Pages of the folio.

    Returns
    -------
    promote : bool
        Migrate the folio to the destination node.
    restamp : bool
        ``numa_hint_fault_latency`` ran: the folio's stamp becomes ``now_ms``.
    """
    if free_space_enough:
        nbp[NBP_THRESHOLD] = 0  # the workload changed: reset the hot threshold
        return True, False
    numa_promotion_adjust_threshold(nbp, now_ms, rate_limit, def_th, th_period)
    th = nbp[NBP_THRESHOLD] if nbp[NBP_THRESHOLD] else def_th
    latency = (now_ms - stamp) & PAGE_ACCESS_TIME_MASK
    if latency >= th:
        return False, True
    return not numa_promotion_rate_limit(nbp, now_ms, rate_limit, nr), True


@jit_inline
def reset_memory_tiering(nbp, now_ms):
    """``reset_memory_tiering`` for one node: run when TIERING is switched on."""
    nbp[NBP_THRESHOLD] = 0
    nbp[NBP_TH_NR_CAND] = nbp[NBP_CANDIDATES]
    nbp[NBP_TH_START] = now_ms
