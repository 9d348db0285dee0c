"""Slow, readable reference versions of the tiering and RFC decision functions.

Written from kernel/sched/fair.c (6.12) and the RFC's description, with plain
Python integers and a dict for a node's promotion state.
"""

from __future__ import annotations

UINT = 1 << 32
"""C ``unsigned int`` arithmetic is modulo this."""

ULONG = 1 << 64
"""C ``unsigned long`` arithmetic (64-bit) is modulo this."""


def adjust_threshold(state: dict, now: int, rate_limit: int, ref_th: int, period: int) -> None:
    """numa_promotion_adjust_threshold, with the kernel's C types.

    ``now``, ``start``, ``th_period``, ``unit_th`` and ``th`` are ``unsigned
    int``; ``nr_cand``, ``ref_cand`` and ``diff_cand`` are ``unsigned long``.
    """
    if (now - state["th_start"]) % UINT <= period:
        return
    state["th_start"] = now
    ref_cand = rate_limit * period // 1000 % ULONG
    diff_cand = (state["candidates"] - state["th_nr_cand"]) % ULONG
    unit_th = ref_th * 2 % UINT // 16
    th = state["threshold"] or ref_th
    if diff_cand > ref_cand * 11 % ULONG // 10:
        th = max((th - unit_th) % UINT, unit_th)
    elif diff_cand < ref_cand * 9 % ULONG // 10:
        th = min((th + unit_th) % UINT, ref_th * 2 % UINT)
    state["th_nr_cand"] = state["candidates"]
    state["threshold"] = th


def rate_limited(state: dict, now: int, rate_limit: int, nr: int) -> bool:
    """numa_promotion_rate_limit (``now`` and ``start`` are ``unsigned int``)."""
    state["candidates"] += nr
    if (now - state["rl_start"]) % UINT > 1000:
        state["rl_start"] = now
        state["rl_nr_cand"] = state["candidates"]
    return state["candidates"] - state["rl_nr_cand"] >= rate_limit


def should_promote(state: dict, enough: bool, now: int, stamp: int, def_th: int,
                   rate_limit: int, period: int, nr: int) -> tuple[bool, bool]:
    """The tiering branch of should_numa_migrate_memory: (promote, restamped)."""
    if enough:
        state["threshold"] = 0
        return True, False
    adjust_threshold(state, now, rate_limit, def_th, period)
    th = state["threshold"] or def_th
    latency = (now - stamp) % (1 << 21)
    if latency >= th:
        return False, True
    return not rate_limited(state, now, rate_limit, nr), True


def gate(mode: int, nlb: int, variant: str, site: str) -> bool:
    """tg_numa_balance_enabled where each variant checks it (site: tick, work or fault)."""
    checked_at = {"mainline": set(), "rfc-v1": {"tick", "fault"}, "rfc-v2": {"work", "fault"},
                  "hierarchical": {"work", "fault"}}[variant]
    if site not in checked_at:
        return True
    cgroup_mode = bool(mode & 4)
    return not (cgroup_mode and nlb == 0)
