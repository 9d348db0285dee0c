"""Scan-period arithmetic of kernel/sched/fair.c.

Pure functions of their integer arguments (callable from Python), each named
after its kernel original, plus ``*_of(s, t)`` helpers that read the inputs
from the simulator state. All periods are in ms, sizes in MB or pages.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import CLK_TICK
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import (
    INT_MAX,
    MAX_JIFFY_OFFSET,
    MAX_SCAN_WINDOW,
    MB_TO_PAGES_SHIFT,
    NUMA_MEM,
    NUMA_PERIOD_SLOTS,
    NUMA_PERIOD_THRESHOLD,
    U32_MASK,
)


@jit_inline
def task_nr_scan_windows(rss, scan_size_mb):
    """``task_nr_scan_windows``: scan windows needed to cover the RSS.

    Parameters
    ----------
    rss : int
        ``get_mm_rss`` in pages (0 counts as one window).
    scan_size_mb : int
        ``scan_size_mb`` tunable.
    """
    nr_scan_pages = (scan_size_mb << MB_TO_PAGES_SHIFT) & U32_MASK  # unsigned int shift
    if rss == 0:
        rss = nr_scan_pages
    # round_up() of include/linux/math.h: exact only for powers of two, as in the kernel
    rss = ((rss - 1) | (nr_scan_pages - 1)) + 1
    return rss // nr_scan_pages


@jit_inline
def task_scan_min(scan_size_mb, scan_period_min_ms, rss):
    """``task_scan_min``: lower bound of the scan period, ms.

    ``max(1000 / (2560 / scan_size), scan_period_min / windows)`` where the
    floor keeps the scanner under ``MAX_SCAN_WINDOW`` (2560 MB/s).
    """
    windows = 1
    if scan_size_mb < MAX_SCAN_WINDOW:
        windows = MAX_SCAN_WINDOW // scan_size_mb
    floor = 1000 // windows
    scan = scan_period_min_ms // task_nr_scan_windows(rss, scan_size_mb)
    return max(floor, scan)


@jit_inline
def task_scan_start(smin, has_group, refcount, shared, private):
    """``task_scan_start``: initial scan period, ms.

    Parameters
    ----------
    smin : int
        ``task_scan_min`` of the task.
    has_group : bool
        The task belongs to a NUMA group.
    refcount : int
        The group's reference count (its number of tasks).
    shared, private : int
        ``group_faults_shared`` / ``group_faults_priv`` (decayed MEM faults).
    """
    period = np.uint64(smin)  # unsigned long
    if has_group:
        period = period * np.uint64(refcount)
        period = period * np.uint64(shared + 1)
        period = period // np.uint64(private + shared + 1)
    return np.int64(max(np.uint64(smin), period) & np.uint64(U32_MASK))  # unsigned int result


@jit_inline
def task_scan_max(smin, scan_period_max_ms, rss, scan_size_mb, has_group, refcount, shared,
                  private):
    """``task_scan_max``: upper bound of the scan period, ms.

    ``scan_period_max / windows``, scaled up by the group's share of shared
    faults and its size, and never below ``smin``.
    """
    smax = np.uint64(scan_period_max_ms // task_nr_scan_windows(rss, scan_size_mb))
    if has_group:
        period = smax * np.uint64(refcount)  # unsigned long
        period = period * np.uint64(shared + 1)
        period = period // np.uint64(private + shared + 1)
        smax = max(smax, period)
    return np.int64(max(np.uint64(smin), smax) & np.uint64(U32_MASK))  # unsigned int result


@jit
def update_task_scan_period(period, period_max, smin, smax, remote, local, failed, shared,
                            private):
    """``update_task_scan_period``: the next scan period, ms.

    Parameters
    ----------
    period : int
        Current ``numa_scan_period``.
    period_max : int
        ``numa_scan_period_max`` (used by the slow path).
    smin, smax : int
        Fresh ``task_scan_min`` / ``task_scan_max`` (clamp of the fast path).
    remote, local, failed : int
        ``numa_faults_locality[0..2]``.
    shared, private : int
        Faults of the last window by type (``fault_types[0]``, ``[1]``).

    Returns
    -------
    (new_period, slow) : (int, bool)
        ``slow`` is true on the slow path (no local/shared faults, or failed
        migrations): the caller then pushes ``mm->numa_next_scan`` out by the
        new period.
    """
    if local + shared == 0 or failed != 0:
        return min(period_max, period << 1), True
    period_slot = (period + NUMA_PERIOD_SLOTS - 1) // NUMA_PERIOD_SLOTS
    lr_ratio = (local * NUMA_PERIOD_SLOTS) // (local + remote)
    ps_ratio = (private * NUMA_PERIOD_SLOTS) // (private + shared)
    if ps_ratio >= NUMA_PERIOD_THRESHOLD:
        slot = ps_ratio - NUMA_PERIOD_THRESHOLD
        if slot == 0:
            slot = 1
        diff = slot * period_slot
    elif lr_ratio >= NUMA_PERIOD_THRESHOLD:
        slot = lr_ratio - NUMA_PERIOD_THRESHOLD
        if slot == 0:
            slot = 1
        diff = slot * period_slot
    else:
        ratio = max(lr_ratio, ps_ratio)
        diff = -(NUMA_PERIOD_THRESHOLD - ratio) * period_slot
    # numa_scan_period is an unsigned int: a decrease past zero wraps, and the
    # clamp then returns the maximum, as in the kernel
    new = (period + diff) & U32_MASK
    if new < smin:
        new = smin
    if new > smax:
        new = smax
    return new, False


# ---- state wrappers ------------------------------------------------------

@jit_inline
def group_faults_shared_priv(s, g):
    """``group_faults_shared`` and ``group_faults_priv`` of group ``g``."""
    shared = 0
    private = 0
    for nid in range(s.p.nr_nodes):
        shared += s.ng_faults[g, 2 * (NUMA_MEM * s.p.nr_nodes + nid)]
        private += s.ng_faults[g, 2 * (NUMA_MEM * s.p.nr_nodes + nid) + 1]
    return shared, private


@jit
def task_scan_min_of(s, t):
    """``task_scan_min(p)`` from the state."""
    return task_scan_min(s.p.scan_size_mb, s.p.scan_period_min_ms, s.mm.rss[s.tk.mm[t]])


@jit_inline
def numa_group_scan_inputs(s, t):
    """What the scan period scales with: ``(has_group, refcount, shared, private)`` of task
    ``t``'s NUMA group (zeros without one)."""
    g = s.tk.numa_group[t]
    if g < 0:
        return False, 0, 0, 0
    shared, private = group_faults_shared_priv(s, g)
    return True, s.ng.nr_tasks[g], shared, private


@jit
def task_scan_start_of(s, t):
    """``task_scan_start(p)`` from the state."""
    has_group, refcount, shared, private = numa_group_scan_inputs(s, t)
    return task_scan_start(task_scan_min_of(s, t), has_group, refcount, shared, private)


@jit
def task_scan_max_of(s, t):
    """``task_scan_max(p)`` from the state."""
    has_group, refcount, shared, private = numa_group_scan_inputs(s, t)
    return task_scan_max(task_scan_min_of(s, t), s.p.scan_period_max_ms, s.mm.rss[s.tk.mm[t]],
                         s.p.scan_size_mb, has_group, refcount, shared, private)


@jit_inline
def msecs_to_jiffies(ms, hz):
    """``msecs_to_jiffies``: ms (an ``unsigned int``) rounded up to whole ticks.

    A value that is negative as an ``int`` (2**31 ms or more) gives
    ``MAX_JIFFY_OFFSET``, as in the kernel.
    """
    if ms > INT_MAX:
        return MAX_JIFFY_OFFSET
    return (ms * hz + 999) // 1000


@jit_inline
def jiffies_to_msecs(j, hz):
    """``jiffies_to_msecs``: ticks to ms, rounded up (exact when HZ divides 1000; at HZ 300
    the 64-bit kernel computes ``DIV_ROUND_UP(j * 10, 3)``)."""
    return (j * 1000 + hz - 1) // hz


@jit_inline
def jiffies_ms(s):
    """``jiffies_to_msecs(jiffies)``: the current tick in ms."""
    return jiffies_to_msecs(s.clk[CLK_TICK], s.p.hz)
