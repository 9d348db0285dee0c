"""Sched-group statistics and their classification (kernel/sched/fair.c).

``struct sg_lb_stats`` rows (``SG_LB_STATS_DTYPE``) and the pure functions on
them that both the load balancer and fork/wake-up placement use:
``group_has_capacity``, ``group_is_overloaded``, ``group_classify``.
``State.tmp_sgs`` holds three rows: the local group, the busiest (or idlest)
group, and the group being examined.
"""

from __future__ import annotations

from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.engine.rows import memset_row
from numaexp.sim.kernel.constants import (
    GROUP_FULLY_BUSY,
    GROUP_HAS_SPARE,
    GROUP_IMBALANCED,
    GROUP_OVERLOADED,
)

SGS_LOCAL, SGS_BUSIEST, SGS_TMP = 0, 1, 2
"""Rows of ``State.tmp_sgs``."""


@jit_inline
def group_has_capacity(imbalance_pct, sum_nr_running, group_weight, group_capacity,
                       group_util, group_runnable):
    """``group_has_capacity``: fewer tasks than CPUs, or utilization clearly below capacity."""
    if sum_nr_running < group_weight:
        return True
    if group_capacity * imbalance_pct < group_runnable * 100:
        return False
    if group_capacity * 100 > group_util * imbalance_pct:
        return True
    return False


@jit_inline
def group_is_overloaded(imbalance_pct, sum_nr_running, group_weight, group_capacity,
                        group_util, group_runnable):
    """``group_is_overloaded``: more tasks than CPUs and utilization or runnable too high."""
    if sum_nr_running <= group_weight:
        return False
    if group_capacity * 100 < group_util * imbalance_pct:
        return True
    if group_capacity * imbalance_pct < group_runnable * 100:
        return True
    return False


@jit_inline
def group_classify(imbalance_pct, sum_nr_running, group_weight, group_capacity, group_util,
                   group_runnable, imbalanced):
    """``group_classify`` (no asymmetric packing, SMT balance or misfit on these machines)."""
    if group_is_overloaded(imbalance_pct, sum_nr_running, group_weight, group_capacity,
                           group_util, group_runnable):
        return GROUP_OVERLOADED
    if imbalanced:
        return GROUP_IMBALANCED
    if not group_has_capacity(imbalance_pct, sum_nr_running, group_weight, group_capacity,
                              group_util, group_runnable):
        return GROUP_FULLY_BUSY
    return GROUP_HAS_SPARE


@jit_inline
def classify_sgs(imbalance_pct, sgs, imbalanced):
    """``group_classify`` of a statistics row."""
    return group_classify(imbalance_pct, sgs.sum_nr_running, sgs.group_weight,
                          sgs.group_capacity, sgs.group_util, sgs.group_runnable, imbalanced)


@jit_inline
def sgs_clear(s, row):
    """``memset(sgs, 0, sizeof(*sgs))`` of row ``row`` of ``State.tmp_sgs`` (and no group;
    a zero ``group_type`` is ``group_has_spare``)."""
    memset_row(s.tmp_sgs, row)
    s.tmp_sgs[row].group = -1


@jit_inline
def sgs_begin(s, idle_cpus, avg_load, group_type):
    """The local row zeroed, and the busiest (or idlest) row zeroed but for the fields the
    kernel's designated initialisers set: ``update_sd_lb_stats`` starts from
    ``.busiest_stat = { .idle_cpus = UINT_MAX, .group_type = group_has_spare }`` and
    ``sched_balance_find_dst_group`` from
    ``idlest_sgs = { .avg_load = UINT_MAX, .group_type = group_overloaded }``."""
    sgs_clear(s, SGS_LOCAL)
    sgs_clear(s, SGS_BUSIEST)
    other = s.tmp_sgs[SGS_BUSIEST]
    other.idle_cpus = idle_cpus
    other.avg_load = avg_load
    other.group_type = group_type


@jit_inline
def sgs_keep_examined(s):
    """``*busiest = *sgs`` (or ``*idlest = *tmp``): the examined row becomes the busiest
    (or idlest) one."""
    s.tmp_sgs[SGS_BUSIEST] = s.tmp_sgs[SGS_TMP]
