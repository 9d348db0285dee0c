"""The load balancer (kernel/sched/fair.c): periodic, newly idle and active balancing.

``sched_balance_trigger`` runs at every CPU's tick; when the CPU's
``next_balance`` is due, ``sched_balance_domains`` walks its domains bottom
up and runs ``sched_balance_rq`` on each whose balance interval has passed.
``sched_balance_rq`` finds the busiest group and runqueue, detaches tasks
(``can_migrate_task``: affinity, not running, not cache hot, NUMA locality
with ``migrate_degrades_locality`` until ``nr_balance_failed`` exceeds
``cache_nice_tries``) and, after repeated failures, pushes the running task
with active balancing. A CPU whose last task leaves runs
``sched_balance_newidle`` at once. The statistics are in ``lb_stats``, the
decisions on them in ``lb_decide``, the choice of tasks in ``lb_migrate``.

Departures: nohz idle balancing is replaced by every idle CPU balancing at
its own interval, as with ``nohz=off``; active balancing moves the task at
once (the stopper runs immediately); ``sched_balance_newidle`` does not weigh
the CPU's average idle time against the cost of balancing (``avg_idle``,
``max_newidle_lb_cost``); the serialisation of NUMA-level balancing
(``SD_SERIALIZE``) has no effect because CPUs balance one at a time.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import (
    CLK_RD_OVERLOADED,
    CLK_TICK,
    MOVE_ACTIVE,
    MOVE_LB,
    MOVE_NEWIDLE,
    RNG_NEWIDLE,
)
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.engine.rng import rand_u64
from numaexp.sim.kernel.constants import (
    CPU_IDLE,
    CPU_NEWLY_IDLE,
    CPU_NOT_IDLE,
    FBQ_ALL,
    LBF_ACTIVE_LB,
    LBF_ALL_PINNED,
    LBF_DST_PINNED,
    LBF_NEED_BREAK,
    LBF_SOME_PINNED,
    MAX_PINNED_INTERVAL,
    MIGRATE_LOAD,
    MIGRATE_TASK,
    SCHED_NR_MIGRATE_BREAK,
    SD_BALANCE_NEWIDLE,
    SYSCTL_SCHED_NR_MIGRATE,
)
from numaexp.sim.kernel.lb_migrate import can_migrate_task, detach_tasks
from numaexp.sim.kernel.lb_stats import sched_balance_find_src_group, sched_balance_find_src_rq
from numaexp.sim.kernel.scan_period import msecs_to_jiffies
from numaexp.sim.kernel.sched import idle_cpu, set_task_cpu
from numaexp.sim.kernel.topology import span_cpus_of, span_test


@jit
def should_we_balance(s, env):
    """``should_we_balance``: only the first idle CPU of the local group (else its first CPU)
    balances a domain; every newly idle CPU may."""
    if not s.tmp_lb_cpus[env.dst_cpu]:
        return False
    if env.idle == CPU_NEWLY_IDLE:
        return s.cpu.nr_running[env.dst_cpu] == 0
    k = s.sd.group_first[env.sd]  # the local group comes first
    group = s.sd_grp[k]
    for cpu in span_cpus_of(s, s.grp.span[group]):
        if s.tmp_lb_cpus[cpu] and idle_cpu(s, cpu):
            return cpu == env.dst_cpu
    return s.grp.balance_cpu[group] == env.dst_cpu


@jit_inline
def need_active_balance(s, env):
    """``need_active_balance``: balancing failed too often while tasks should move."""
    return env.migration_type == MIGRATE_TASK and \
        s.sd.nr_balance_failed[env.sd] > s.sd.cache_nice_tries[env.sd] + 2


@jit
def active_load_balance(s, busiest, target, now_ns):
    """``active_load_balance_cpu_stop``: push one task (the running one included) from
    ``busiest`` to ``target``, at once. Returns True if one moved."""
    if s.cpu.nr_running[busiest] <= 1:
        return False
    sd = s.cpu.sd[target]
    while sd >= 0 and not span_test(s, s.sd.span[sd], busiest):
        sd = s.sd.parent[sd]
    if sd < 0:
        return False
    env = s.tmp_lb_env[1]
    env.sd = sd
    env.dst_cpu = target
    env.src_cpu = busiest
    env.idle = CPU_IDLE
    env.lbf = LBF_ACTIVE_LB
    env.now_ns = now_ns
    p = s.cpu.rq_tail[busiest]
    while p >= 0:
        if can_migrate_task(s, p, env):
            set_task_cpu(s, p, target, now_ns, MOVE_ACTIVE, s.sd.level[sd])
            s.sd.nr_balance_failed[sd] = 0
            return True
        p = s.tk.rq_prev[p]
    return False


@jit
def _env_cpus(s, sd, value):
    """Set ``env->cpus`` (``State.tmp_lb_cpus``) over the domain's span to ``value``."""
    for cpu in span_cpus_of(s, s.sd.span[sd]):
        s.tmp_lb_cpus[cpu] = value


@jit
def sched_balance_rq(s, this_cpu, sd, idle, now_ns):
    """``sched_balance_rq``: balance ``this_cpu``'s domain ``sd``.

    Returns (tasks moved, continue_balancing).
    """
    env = s.tmp_lb_env[0]
    env.sd = sd
    env.dst_cpu = this_cpu
    env.src_cpu = -1
    env.new_dst_cpu = -1
    env.dst_group = s.sd_grp[s.sd.group_first[sd]]
    env.idle = idle
    env.imbalance = 0
    env.lbf = 0
    env.loop = 0
    env.loop_break = SCHED_NR_MIGRATE_BREAK
    env.loop_max = 0
    env.fbq_type = FBQ_ALL
    env.migration_type = MIGRATE_LOAD
    env.now_ns = now_ns
    env.reason = MOVE_NEWIDLE if idle == CPU_NEWLY_IDLE else MOVE_LB
    _env_cpus(s, sd, 1)
    moved, cont = _balance(s, env, this_cpu, sd, idle, now_ns)
    _env_cpus(s, sd, 0)
    return moved, cont


OUT_DONE, OUT_BALANCED, OUT_ALL_PINNED, OUT_ONE_PINNED = 0, 1, 2, 3
"""Where ``sched_balance_rq`` leaves: its ``out``, ``out_balanced``, ``out_all_pinned`` and
``out_one_pinned`` labels."""


@jit
def _balance(s, env, this_cpu, sd, idle, now_ns):
    """The body of ``sched_balance_rq`` once ``env`` is set up."""
    parent = s.sd.parent[sd]
    ld_moved = 0
    cont = True
    exit_at = OUT_DONE
    busiest = -1
    while True:  # redo
        if not should_we_balance(s, env):
            cont = False
            exit_at = OUT_BALANCED
            break
        group = sched_balance_find_src_group(s, env)
        if group < 0:
            exit_at = OUT_BALANCED
            break
        busiest = sched_balance_find_src_rq(s, env, group)
        if busiest < 0:
            exit_at = OUT_BALANCED
            break
        env.src_cpu = busiest
        ld_moved = 0
        env.lbf |= LBF_ALL_PINNED
        if s.cpu.nr_running[busiest] > 1:
            env.loop_max = min(SYSCTL_SCHED_NR_MIGRATE, s.cpu.nr_running[busiest])
            while True:  # more_balance
                ld_moved += detach_tasks(s, env)
                if env.lbf & LBF_NEED_BREAK:
                    env.lbf &= ~LBF_NEED_BREAK
                    continue
                if env.lbf & LBF_DST_PINNED and env.imbalance > 0:
                    s.tmp_lb_cpus[env.dst_cpu] = 0
                    env.dst_cpu = env.new_dst_cpu
                    env.lbf &= ~LBF_DST_PINNED
                    env.loop = 0
                    env.loop_break = SCHED_NR_MIGRATE_BREAK
                    continue
                break
            if parent >= 0 and env.lbf & LBF_SOME_PINNED and env.imbalance > 0:
                s.grp.imbalance[s.sd_grp[s.sd.group_first[parent]]] = 1
            if env.lbf & LBF_ALL_PINNED:
                s.tmp_lb_cpus[busiest] = 0
                if _cpus_beyond_group(s, env, sd):
                    env.loop = 0
                    env.loop_break = SCHED_NR_MIGRATE_BREAK
                    continue
                exit_at = OUT_ALL_PINNED
        break
    if exit_at == OUT_DONE:
        active = False
        need = False
        if ld_moved == 0:
            if idle != CPU_NEWLY_IDLE:
                s.sd.nr_balance_failed[sd] += 1
            need = need_active_balance(s, env)
            if need:
                curr = s.cpu.curr[busiest]
                if curr >= 0 and not s.tk_allowed[curr, this_cpu]:
                    exit_at = OUT_ONE_PINNED
                else:
                    env.lbf &= ~LBF_ALL_PINNED
                    active = True
        else:
            s.sd.nr_balance_failed[sd] = 0
        if exit_at == OUT_DONE:
            if not active or need:
                s.sd.balance_interval[sd] = s.sd.min_interval[sd]
            if active:  # the stopper runs on the busiest CPU right away
                active_load_balance(s, busiest, this_cpu, now_ns)
            return ld_moved, cont
    if exit_at == OUT_BALANCED:
        if parent >= 0 and not env.lbf & LBF_ALL_PINNED:
            s.grp.imbalance[s.sd_grp[s.sd.group_first[parent]]] = 0
    if exit_at != OUT_ONE_PINNED:
        s.sd.nr_balance_failed[sd] = 0
    if env.idle == CPU_NEWLY_IDLE:
        return 0, cont
    if (env.lbf & LBF_ALL_PINNED and s.sd.balance_interval[sd] < MAX_PINNED_INTERVAL) or \
            s.sd.balance_interval[sd] < s.sd.max_interval[sd]:
        s.sd.balance_interval[sd] *= 2
    return 0, cont


@jit
def _cpus_beyond_group(s, env, sd):
    """``!cpumask_subset(env->cpus, env->dst_grpmask)``: CPUs left outside the local group."""
    for c in span_cpus_of(s, s.sd.span[sd]):
        if s.tmp_lb_cpus[c] and not span_test(s, s.grp.span[env.dst_group], c):
            return True
    return False


@jit_inline
def get_sd_balance_interval(s, sd, cpu_busy):
    """``get_sd_balance_interval``: jiffies between balances of ``sd``."""
    interval = s.sd.balance_interval[sd]
    if cpu_busy:
        interval *= s.sd.busy_factor[sd]
    interval = msecs_to_jiffies(interval, s.p.hz)
    if cpu_busy:
        interval -= 1
    return min(max(interval, 1), s.p.max_load_balance_interval)


@jit
def sched_balance_domains(s, cpu, idle, jiffies, now_ns):
    """``sched_balance_domains``: balance every domain of ``cpu`` whose interval has passed."""
    cont = True
    busy = idle != CPU_IDLE
    next_balance = jiffies + 60 * s.p.hz
    update = False
    sd = s.cpu.sd[cpu]
    while sd >= 0:
        if not cont:
            break
        interval = get_sd_balance_interval(s, sd, busy)
        if jiffies >= s.sd.last_balance[sd] + interval:
            moved, cont = sched_balance_rq(s, cpu, sd, idle, now_ns)
            if moved:
                idle = CPU_IDLE if idle_cpu(s, cpu) else CPU_NOT_IDLE
                busy = idle != CPU_IDLE
            s.sd.last_balance[sd] = jiffies
            interval = get_sd_balance_interval(s, sd, busy)
        if next_balance > s.sd.last_balance[sd] + interval:
            next_balance = s.sd.last_balance[sd] + interval
            update = True
        sd = s.sd.parent[sd]
    if update:
        s.cpu.next_balance[cpu] = next_balance


@jit_inline
def update_newidle_stats(s, sd, success):
    """``update_newidle_stats``: the success ratio NI_RANDOM throws its dice against."""
    s.sd.newidle_call[sd] += 1
    s.sd.newidle_success[sd] += success
    if s.sd.newidle_call[sd] >= 1024:
        s.sd.newidle_ratio[sd] = s.sd.newidle_success[sd]
        s.sd.newidle_call[sd] //= 2
        s.sd.newidle_success[sd] //= 2


@jit
def _next_balance_of(s, sd, next_balance):
    """``update_next_balance``: the earlier of ``next_balance`` and the domain's next idle
    balance."""
    return min(next_balance, s.sd.last_balance[sd] + get_sd_balance_interval(s, sd, False))


@jit
def sched_balance_newidle(s, cpu, jiffies, now_ns):
    """``sched_balance_newidle``: a CPU that just went idle pulls a task if it can.

    NI_RANDOM skips a domain at random, less often the more often pulling from it
    succeeded (``newidle_ratio``). Returns True if it pulled one.
    """
    s.cpu.idle_stamp[cpu] = max(now_ns, 1)
    next_balance = jiffies + s.p.hz
    sd = s.cpu.sd[cpu]
    pulled = False
    if sd >= 0 and not s.clk[CLK_RD_OVERLOADED]:
        next_balance = _next_balance_of(s, sd, next_balance)
    elif sd >= 0:
        k = 0
        while sd >= 0:
            next_balance = _next_balance_of(s, sd, next_balance)
            cont = True
            skipped = False
            if s.sd.sd_flags[sd] & SD_BALANCE_NEWIDLE:
                draw = rand_u64(s.p.seed_key, s.clk[CLK_TICK], cpu * 64 + k, RNG_NEWIDLE)
                d1k = np.int64(draw & np.uint64(1023))
                weight = 1 + s.sd.newidle_ratio[sd]
                if d1k > weight:
                    update_newidle_stats(s, sd, 0)
                    skipped = True
                else:
                    weight = (1024 + weight // 2) // weight
                    moved, cont = sched_balance_rq(s, cpu, sd, CPU_NEWLY_IDLE, now_ns)
                    pulled = moved > 0
                    update_newidle_stats(s, sd, weight * (1 if pulled else 0))
            if not skipped and (pulled or not cont):
                break
            sd = s.sd.parent[sd]
            k += 1
        if s.cpu.nr_running[cpu] > 0:
            pulled = True
    if s.cpu.next_balance[cpu] > next_balance:
        s.cpu.next_balance[cpu] = next_balance
    if pulled:
        s.cpu.idle_stamp[cpu] = 0
    return pulled


@jit
def sched_balance_trigger(s, cpu, jiffies, now_ns):
    """``sched_balance_trigger`` and the softirq it raises: periodic balancing when due."""
    if s.cpu.sd[cpu] < 0 or jiffies < s.cpu.next_balance[cpu]:
        return
    idle = CPU_IDLE if idle_cpu(s, cpu) else CPU_NOT_IDLE
    sched_balance_domains(s, cpu, idle, jiffies, now_ns)

