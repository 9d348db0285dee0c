"""Per-entity load tracking (kernel/sched/pelt.c) at tick granularity, and what reads it.

Each task keeps ``util_avg`` (time running) and ``load_avg`` (time runnable,
weighted by its load: 1024 for a nice-0 task), geometric averages whose
weight halves every 32 ms (``y^32 = 1/2`` per 1024 us period). The kernel
updates them at every enqueue, dequeue and tick; here once per tick from
the time each task ran and was runnable in it. A CPU's sums cover the tasks
whose CPU it is, asleep ones included (the kernel's blocked load stays on
the runqueue until the task wakes up elsewhere).

Departures: every task is nice 0 and in one flat runqueue (no cgroup
hierarchy: ``task_h_load`` is the task's ``load_avg``, ``runnable_avg``
equals ``load_avg``), there is no ``util_est``, and CPU capacity is
``SCHED_CAPACITY_SCALE``.
"""

from __future__ import annotations

import math

import numpy as np

from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import NICE_0_LOAD, SCHED_CAPACITY_SCALE

PELT_HALFLIFE_US = 32 * 1024
"""The averages halve every 32 periods of 1024 us (``LOAD_AVG_PERIOD``)."""


def pelt_decay(tick_ns: int) -> float:
    """Factor of one tick: ``y ** (tick_ns / 1024 us)`` with ``y ** 32 = 1/2``."""
    return math.pow(0.5, tick_ns / 1000.0 / PELT_HALFLIFE_US)


@jit
def update_load_avg_tick(s, tick_ns):
    """Decay and accumulate every live task's averages for the tick (from its ``ran_ns``,
    which starts over); sum them per CPU."""
    d = s.p.pelt_decay
    gain = (1.0 - d) * NICE_0_LOAD
    tk = s.tk
    for c in range(s.p.nr_cpus):
        s.cpu.load_avg[c] = 0.0
        s.cpu.util_avg[c] = 0.0
    for t in range(s.p.nr_tasks):
        if not tk.alive[t]:
            continue
        running = min(tk.ran_ns[t] / tick_ns, 1.0)
        tk.ran_ns[t] = 0
        runnable = 1.0 if tk.on_rq[t] else running
        tk.util_avg[t] = tk.util_avg[t] * d + gain * running
        tk.load_avg[t] = tk.load_avg[t] * d + gain * runnable
        c = tk.cpu[t]
        s.cpu.load_avg[c] += tk.load_avg[t]
        s.cpu.util_avg[c] += tk.util_avg[t]


@jit_inline
def cpu_load(s, c):
    """``cpu_load``: the CPU's runnable load (nice-0 tasks: its runnable average)."""
    return np.int64(s.cpu.load_avg[c])


cpu_runnable = cpu_load
"""``cpu_runnable``: the CPU's runnable average, equal to its load here (nice-0 tasks whose
load is their runnable time)."""


@jit_inline
def cpu_util_cfs(s, c):
    """``cpu_util_cfs``: utilization, capped at the CPU's capacity."""
    return min(np.int64(s.cpu.util_avg[c]), SCHED_CAPACITY_SCALE)


@jit_inline
def task_h_load(s, t):
    """``task_h_load``: the task's load as its runqueue's root sees it (flat: its load)."""
    return np.int64(s.tk.load_avg[t])


@jit_inline
def task_util(s, t):
    """``task_util_est`` without util_est: the task's utilization."""
    return np.int64(s.tk.util_avg[t])


@jit_inline
def cpu_load_without(s, c, t):
    """``cpu_load_without``: the CPU's load without task ``t`` (if it is the CPU's)."""
    load = s.cpu.load_avg[c]
    if s.tk.cpu[t] == c:
        load = max(load - s.tk.load_avg[t], 0.0)
    return np.int64(load)


@jit_inline
def cpu_util_without(s, c, t):
    """``cpu_util_without``: the CPU's utilization without task ``t``, capped."""
    util = s.cpu.util_avg[c]
    if s.tk.cpu[t] == c:
        util = max(util - s.tk.util_avg[t], 0.0)
    return min(np.int64(util), SCHED_CAPACITY_SCALE)


@jit_inline
def post_init_entity_util_avg(s, t, c):
    """``post_init_entity_util_avg`` (and ``init_entity_runnable_average``): a new task's
    averages on CPU ``c``: full load, and half of the CPU's spare utilization
    (in proportion to its share of the load when the CPU has some)."""
    s.tk.load_avg[t] = NICE_0_LOAD
    util = s.cpu.util_avg[c]
    cap = (SCHED_CAPACITY_SCALE - util) / 2
    if cap <= 0:
        s.tk.util_avg[t] = 0.0
        return
    if util > 0:
        share = util * NICE_0_LOAD / (s.cpu.load_avg[c] + 1)
        s.tk.util_avg[t] = min(share, cap)
    else:
        s.tk.util_avg[t] = cap
