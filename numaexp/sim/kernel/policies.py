"""The kernel's own decisions, written as policies (:mod:`numaexp.model.policy`).

Each reads only the context record and returns what the kernel's code would
choose from it, so that a run with these policies gives the same frames as
a run without (a test holds the seam to that), and a user's policy can start
from a copy of one. They are registered as ``kernel_promote``,
``kernel_should_migrate``, ``kernel_scan_period`` and ``kernel_place_task``.
"""

from __future__ import annotations

from numaexp.model.policy import PROMOTE_CANDIDATE, PROMOTE_NO, PROMOTE_NOW, register_policy
from numaexp.sim.kernel.constants import NUMA_NO_NODE
from numaexp.sim.kernel.scan_period import update_task_scan_period
from numaexp.sim.kernel.should_migrate import should_numa_migrate_memory_decide


def kernel_promote(ctx, mem):
    """``should_numa_migrate_memory`` on a slow-tier folio: room enough, or hot enough."""
    c = ctx[0]
    if c.free_space_enough:
        return PROMOTE_NOW
    if c.latency_ms >= c.threshold_ms:
        return PROMOTE_NO
    return PROMOTE_CANDIDATE


def kernel_should_migrate(ctx, mem):
    """``should_numa_migrate_memory``'s two-stage filter and group test."""
    c = ctx[0]
    migrate = should_numa_migrate_memory_decide(
        c.last_cpupid, c.pid, c.dst_nid, c.src_nid, c.tiering != 0, c.src_toptier != 0,
        c.nr_cpus, c.preferred_nid, c.numa_scan_seq, c.has_group != 0, c.group_faults_cpu_dst,
        c.group_faults_cpu_src, c.group_faults_dst, c.group_faults_src, c.last_nid)
    return 1 if migrate else 0


def kernel_scan_period(ctx, mem):
    """``update_task_scan_period``'s new period."""
    c = ctx[0]
    period, _slow = update_task_scan_period(
        c.period_ms, c.period_max_ms, c.scan_min_ms, c.scan_max_ms, c.faults_remote,
        c.faults_local, c.faults_failed, c.faults_shared, c.faults_private)
    return period


def kernel_place_task(ctx, mem):
    """``task_numa_placement``: the node with the most faults, if there were any."""
    c = ctx[0]
    return c.max_nid if c.max_faults else NUMA_NO_NODE


for _decision, _function in (("promote", kernel_promote),
                             ("should_migrate", kernel_should_migrate),
                             ("scan_period", kernel_scan_period),
                             ("place_task", kernel_place_task)):
    register_policy(f"kernel_{_decision}", _decision, _function)
