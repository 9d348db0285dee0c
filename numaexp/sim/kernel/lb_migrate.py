"""Which task the load balancer may take, and taking it (kernel/sched/fair.c).

``can_migrate_task`` (affinity, running, cache hot, NUMA locality with
``migrate_degrades_locality`` until ``nr_balance_failed`` exceeds
``cache_nice_tries``) and ``detach_tasks``, which walks the busiest
runqueue's ``cfs_tasks`` from the oldest and takes tasks until the imbalance
is gone (``loop_max``, ``shr_bound`` of the load by failures).
"""

from __future__ import annotations

from numaexp.sim.engine.codes import (
    TK_KTHREAD,
)
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import (
    CPU_IDLE,
    CPU_NEWLY_IDLE,
    CPU_NOT_IDLE,
    LBF_ACTIVE_LB,
    LBF_ALL_PINNED,
    LBF_DST_PINNED,
    LBF_NEED_BREAK,
    LBF_SOME_PINNED,
    MIGRATE_LOAD,
    MIGRATE_UTIL,
    SCHED_NR_MIGRATE_BREAK,
    SD_NUMA,
    SYSCTL_SCHED_MIGRATION_COST_NS,
)
from numaexp.sim.kernel.pelt import task_h_load, task_util
from numaexp.sim.kernel.sched import rq_list_move, set_task_cpu
from numaexp.sim.kernel.topology import span_cpus_of
from numaexp.sim.kernel.weights import group_weight, task_weight


@jit_inline
def locality_verdict(numa_enabled, has_faults, sd_numa, src_nid, dst_nid, preferred,
                     src_nr_running, src_nr_preferred_running, idle, src_weight, dst_weight):
    """The tests of ``migrate_degrades_locality``, in the kernel's order: 1 degrades,
    0 improves, -1 no opinion (``src_weight``/``dst_weight``: the task's or its group's
    weight on each node)."""
    if not numa_enabled:
        return -1
    if not has_faults or not sd_numa:
        return -1
    if src_nid == dst_nid:
        return -1
    if src_nid == preferred:  # migrating away from the preferred node is always bad
        return 1 if src_nr_running > src_nr_preferred_running else -1
    if dst_nid == preferred:  # encourage migration to the preferred node
        return 0
    if idle == CPU_IDLE:  # leaving a core idle is often worse than degrading locality
        return -1
    return 1 if dst_weight < src_weight else 0


@jit
def migrate_degrades_locality(s, p, src_cpu, dst_cpu, sd_flags, idle):
    """``migrate_degrades_locality`` of task ``p`` moving from ``src_cpu`` to ``dst_cpu``."""
    numa_enabled = s.p.mode != 0
    sd_numa = sd_flags & SD_NUMA != 0
    src_nid = s.cpu.node[src_cpu]
    dst_nid = s.cpu.node[dst_cpu]
    src_w = 0
    dst_w = 0
    if numa_enabled and s.tk.has_faults[p] and sd_numa and src_nid != dst_nid:
        dist = s.nd_distance[src_nid, dst_nid]
        if s.tk.numa_group[p] >= 0:
            src_w = group_weight(s, p, src_nid, dist)
            dst_w = group_weight(s, p, dst_nid, dist)
        else:
            src_w = task_weight(s, p, src_nid, dist)
            dst_w = task_weight(s, p, dst_nid, dist)
    return locality_verdict(numa_enabled, s.tk.has_faults[p] != 0, sd_numa, src_nid, dst_nid,
                            s.tk.numa_preferred_nid[p], s.cpu.nr_running[src_cpu],
                            s.cpu.nr_preferred_running[src_cpu], idle, src_w, dst_w)


@jit_inline
def migrate_verdict(kthread_per_cpu, allowed_on_dst, running, active_lb, degrades,
                    since_ran_ns, nr_balance_failed, cache_nice_tries):
    """The decision of ``can_migrate_task`` (without throttling and core scheduling), in the
    kernel's order; ``degrades`` is :func:`migrate_degrades_locality`'s answer and
    ``since_ran_ns`` ``task_hot``'s delta."""
    if kthread_per_cpu:
        return False
    if not allowed_on_dst:
        return False
    if running:
        return False
    if active_lb:
        return True
    hot = degrades
    if hot == -1:  # task_hot
        hot = 1 if since_ran_ns < SYSCTL_SCHED_MIGRATION_COST_NS else 0
    return hot <= 0 or nr_balance_failed > cache_nice_tries


@jit
def can_migrate_task(s, p, env):
    """``can_migrate_task``: may ``p`` move from ``env.src_cpu`` to ``env.dst_cpu``?

    Also records what the kernel records on the way: ``LBF_SOME_PINNED`` and,
    outside newly idle and active balancing, another CPU of the local group the
    task may run on (``LBF_DST_PINNED``); ``LBF_ALL_PINNED`` cleared once a
    task could run on the destination.
    """
    kthread = s.tk.kind[p] == TK_KTHREAD  # kthread_is_per_cpu
    allowed = s.tk_allowed[p, env.dst_cpu] != 0
    if not kthread and not allowed:
        env.lbf |= LBF_SOME_PINNED
        if not (env.idle == CPU_NEWLY_IDLE or env.lbf & (LBF_DST_PINNED | LBF_ACTIVE_LB)):
            span = s.grp.span[env.dst_group]
            for cpu in span_cpus_of(s, span):
                if s.tmp_lb_cpus[cpu] and s.tk_allowed[p, cpu]:
                    env.lbf |= LBF_DST_PINNED
                    env.new_dst_cpu = cpu
                    break
    if not kthread and allowed:
        env.lbf &= ~LBF_ALL_PINNED
    running = s.cpu.curr[env.src_cpu] == p  # task_on_cpu
    active = env.lbf & LBF_ACTIVE_LB != 0
    degrades = -1
    if not kthread and allowed and not running and not active:
        degrades = migrate_degrades_locality(s, p, env.src_cpu, env.dst_cpu,
                                             s.sd.sd_flags[env.sd], env.idle)
    return migrate_verdict(kthread, allowed, running, active, degrades,
                           env.now_ns - s.tk.exec_start[p], s.sd.nr_balance_failed[env.sd],
                           s.sd.cache_nice_tries[env.sd])


@jit_inline
def shr_bound(value, shift):
    """``shr_bound``: ``value >> shift`` with the shift capped below the word size."""
    return value >> min(shift, 63)


@jit
def detach_tasks(s, env):
    """``detach_tasks``: move up to ``env.imbalance`` load, utilization or tasks from the
    source to the destination CPU, oldest first. Returns the number moved."""
    src = env.src_cpu
    if s.cpu.nr_running[src] <= 1:
        env.lbf &= ~LBF_ALL_PINNED
        return 0
    if env.imbalance <= 0:
        return 0
    level = s.sd.level[env.sd]
    detached = 0
    while s.cpu.rq_tail[src] >= 0:
        if env.idle != CPU_NOT_IDLE and s.cpu.nr_running[src] <= 1:
            break
        env.loop += 1
        if env.loop > env.loop_max:
            break
        if env.loop > env.loop_break:
            env.loop_break += SCHED_NR_MIGRATE_BREAK
            env.lbf |= LBF_NEED_BREAK
            break
        p = s.cpu.rq_tail[src]
        move = can_migrate_task(s, p, env)
        if move:
            if env.migration_type == MIGRATE_LOAD:
                load = max(task_h_load(s, p), 1)
                if shr_bound(load, s.sd.nr_balance_failed[env.sd]) > env.imbalance:
                    move = False
                else:
                    env.imbalance -= load
            elif env.migration_type == MIGRATE_UTIL:
                util = task_util(s, p)
                if shr_bound(util, s.sd.nr_balance_failed[env.sd]) > env.imbalance:
                    move = False
                else:
                    env.imbalance -= util
            else:
                env.imbalance -= 1
        if not move:
            # list_move to the head: the next candidate is the new tail
            if s.cpu.rq_head[src] == p:
                break  # the only one left
            rq_list_move(s, src, p)
            continue
        set_task_cpu(s, p, env.dst_cpu, env.now_ns, env.reason, level)
        detached += 1
        if env.idle == CPU_NEWLY_IDLE:
            break  # CONFIG_PREEMPTION: newidle stops after the first task
        if env.imbalance <= 0:
            break
    return detached
