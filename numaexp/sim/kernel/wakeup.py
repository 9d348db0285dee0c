"""The wake-up fast path of ``select_task_rq_fair`` (fair.c): ``wake_affine`` and
``select_idle_sibling``.

``wake_affine`` (``wake_affine_idle``, then ``wake_affine_weight``) picks between the
waker's CPU and the task's previous one; ``select_idle_sibling`` then looks for an idle
CPU in the target's LLC, scanning as many CPUs as ``update_idle_cpu_scan`` (SIS_UTIL)
allows. ``wake_wide`` sends M:N waker/wakee relations wider than the LLC to the slow
path (:mod:`numaexp.sim.kernel.select`).

Departures: no idle-core or SMT search (no SMT on these machines).
"""

from __future__ import annotations

from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import SCHED_CAPACITY_SCALE
from numaexp.sim.kernel.pelt import cpu_load, task_h_load
from numaexp.sim.kernel.sched import idle_cpu
from numaexp.sim.kernel.topology import cpus_share_cache, span_wrap_start

NO_CPU = -1  # nr_cpumask_bits: no CPU found


@jit_inline
def record_wakee(s, waker, p, jiffies):
    """``record_wakee``: the waker's flips (halved once per second) count a new wakee."""
    if waker < 0:
        return
    if jiffies - s.tk.wakee_flip_decay_ts[waker] > s.p.hz:
        s.tk.wakee_flips[waker] >>= 1
        s.tk.wakee_flip_decay_ts[waker] = jiffies
    if s.tk.last_wakee[waker] != p:
        s.tk.last_wakee[waker] = p
        s.tk.wakee_flips[waker] += 1


@jit_inline
def wake_wide(s, waker, p, this_cpu):
    """``wake_wide``: an M:N waker/wakee relation wider than the LLC spreads out."""
    master = s.tk.wakee_flips[waker] if waker >= 0 else 0
    slave = s.tk.wakee_flips[p]
    factor = s.cpu.llc_size[this_cpu]
    if master < slave:
        master, slave = slave, master
    if slave < factor or master < slave * factor:
        return 0
    return 1


@jit_inline
def wake_affine_idle(s, this_cpu, prev_cpu, sync):
    """``wake_affine_idle``: an idle waking CPU sharing the cache, or an idle previous one."""
    if idle_cpu(s, this_cpu) and cpus_share_cache(s, this_cpu, prev_cpu):
        return prev_cpu if idle_cpu(s, prev_cpu) else this_cpu
    if sync and s.cpu.nr_running[this_cpu] == 1:
        return this_cpu
    if idle_cpu(s, prev_cpu):
        return prev_cpu
    return NO_CPU


@jit_inline
def wake_affine_weight(this_load, prev_load, task_load, current_load, sync, imbalance_pct):
    """``wake_affine_weight``: pull to the waking CPU if its load (plus the task's) is below
    the previous CPU's (without it), biased by half the domain's imbalance_pct.

    Pure function of the loads (CPU capacities are equal here); returns True for
    the waking CPU.
    """
    this_eff_load = this_load
    if sync:
        if current_load > this_eff_load:
            return True
        this_eff_load -= current_load
    this_eff_load += task_load
    this_eff_load *= 100  # WA_BIAS
    this_eff_load *= SCHED_CAPACITY_SCALE
    prev_eff_load = prev_load - task_load
    prev_eff_load *= 100 + (imbalance_pct - 100) // 2
    prev_eff_load *= SCHED_CAPACITY_SCALE
    if sync:
        prev_eff_load += 1
    return this_eff_load < prev_eff_load


@jit
def wake_affine(s, sd, p, waker, this_cpu, prev_cpu, sync):
    """``wake_affine``: the waking CPU if it is the better of the two, else the previous one."""
    target = wake_affine_idle(s, this_cpu, prev_cpu, sync)
    if target == NO_CPU:
        current_load = task_h_load(s, waker) if waker >= 0 else 0
        if wake_affine_weight(cpu_load(s, this_cpu), cpu_load(s, prev_cpu), task_h_load(s, p),
                              current_load, sync, s.sd.imbalance_pct[sd]):
            target = this_cpu
    if target != this_cpu:
        return prev_cpu
    return target


@jit
def update_idle_cpu_scan(s, span, sum_util, llc_weight, imbalance_pct):
    """``update_idle_cpu_scan`` (SIS_UTIL): how many CPUs of the LLC a wake-up scans, fewer
    as the LLC's utilization rises (none from 85 %)."""
    x = sum_util // llc_weight
    tmp = x * x * imbalance_pct * imbalance_pct // (10000 * SCHED_CAPACITY_SCALE)
    tmp = min(tmp, SCHED_CAPACITY_SCALE)
    y = (SCHED_CAPACITY_SCALE - tmp) * llc_weight // SCHED_CAPACITY_SCALE
    s.spans.nr_idle_scan[span] = y


@jit
def select_idle_cpu(s, p, sd, target):
    """``select_idle_cpu`` (no idle-core search): the first idle allowed CPU of the LLC after
    ``target``, scanning at most ``nr_idle_scan`` of them."""
    span = s.sd.span[sd]
    nr = s.spans.nr_idle_scan[span] + 1
    if nr == 1:
        return NO_CPU
    sp = s.spans[span]
    start = span_wrap_start(s, span, target + 1)
    for k in range(sp.count):
        cpu = s.span_cpus[sp.first + (start + k) % sp.count]
        if not s.tk_allowed[p, cpu]:
            continue
        nr -= 1
        if nr <= 0:
            return NO_CPU
        if idle_cpu(s, cpu):
            return cpu
    return NO_CPU


@jit
def select_idle_sibling(s, p, prev, target):
    """``select_idle_sibling``: an idle CPU sharing the target's cache, else the target."""
    if idle_cpu(s, target):
        return target
    if prev != target and cpus_share_cache(s, prev, target) and idle_cpu(s, prev):
        return prev
    recent = s.tk.recent_used_cpu[p]
    s.tk.recent_used_cpu[p] = prev
    if recent >= 0 and recent != prev and recent != target and \
            cpus_share_cache(s, recent, target) and idle_cpu(s, recent) and \
            s.tk_allowed[p, recent]:
        return recent
    sd = s.cpu.sd_llc[target]
    if sd < 0:
        return target
    i = select_idle_cpu(s, p, sd, target)
    if i != NO_CPU:
        return i
    return target
