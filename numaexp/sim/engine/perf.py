"""Performance model: how fast each running task progresses this tick.

A task's touches land on node ``n`` with share ``share[t, n]`` (the
access mass of its streams on that node, kept incrementally as pages
move). From a CPU on node ``a``:

- a random touch costs ``think_ns + latency[a, n] / mlp``;
- a sweep touch (one 4 KiB page) costs ``4096 / (stream_bw * latency[a, a]
  / latency[a, n])``: a single thread's streaming bandwidth is bound by
  the latency of its outstanding misses.

Bandwidth contention: the demand of all running tasks on each node's
memory and on each inter-node link is compared with its bandwidth; where
demand exceeds it, the memory part of every touch to that node (or over
that link) is slowed by demand / bandwidth (proportional sharing).
"""

from __future__ import annotations

from numaexp.sim.engine.codes import CACHE_LINE, CLK_SPEEDS_FRESH
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import PAGE_SIZE


@jit_inline
def task_shares(s, t):
    """Fill ``share[t]``: the share of task ``t``'s touches on each node.

    A stream with no present page yet counts as local.
    """
    nn = s.p.nr_nodes
    ph = s.tk.phase[t]
    share = s.tk_share
    local = s.cpu.node[s.tk.cpu[t]]
    for n in range(nn):
        share[t, n] = 0.0
    for k in range(s.ph.stream_first[ph], s.ph.stream_first[ph] + s.ph.stream_count[ph]):
        total = 0.0
        row = s.st.mrow[k]
        for n in range(nn):
            total += s.st_mass[row, n]
        w = s.st.share[k]
        if total <= 0.0:
            share[t, local] += w
        else:
            for n in range(nn):
                share[t, n] += w * s.st_mass[row, n] / total


@jit_inline
def _memory_cost(s, t, a, n):
    """Memory part of one touch of task ``t`` on CPU node ``a`` to node ``n``, uncontended."""
    ph = s.tk.phase[t]
    if s.ph.sweep[ph]:
        lat = s.nd_latency
        return PAGE_SIZE / (s.ph.stream_bw[ph] * lat[a, a] / lat[a, n])
    return s.nd_latency[a, n] / s.ph.mlp[ph]


@jit_inline
def _speeds_unchanged(s):
    """Whether the speeds of the last :func:`compute_speeds` still hold, then note its inputs.

    They hold while no mass row changed (``CLK_SPEEDS_FRESH``, cleared by
    every mass update) and no task changed its running state, phase or CPU;
    the other inputs (latencies, bandwidths, phase parameters) are fixed
    for a run.
    """
    key = s.tmp_speed_key
    tk = s.tk
    same = s.clk[CLK_SPEEDS_FRESH] == 1
    for t in range(s.p.nr_tasks):
        if key[t, 0] != tk.running[t] or key[t, 1] != tk.phase[t] or key[t, 2] != tk.cpu[t]:
            same = False
            key[t, 0] = tk.running[t]
            key[t, 1] = tk.phase[t]
            key[t, 2] = tk.cpu[t]
    s.clk[CLK_SPEEDS_FRESH] = 1
    return same


@jit
def compute_speeds(s):
    """Set ``speed`` (touches per ns of user time) of every running task.

    Skipped when its inputs did not change since the last call
    (:func:`_speeds_unchanged`): the speeds are then those it would compute.
    """
    if _speeds_unchanged(s):
        return
    nn = s.p.nr_nodes
    tk = s.tk
    demand = s.tmp_node_f[0]
    node_factor = s.tmp_node_f[1]
    link_demand = s.tmp_link_f[0]
    link_factor = s.tmp_link_f[1]
    mem_cost = s.tmp_task_f  # [t, n]: _memory_cost of the first pass, reused by the second
    for n in range(nn):
        demand[n] = 0.0
        for m in range(nn):
            link_demand[n, m] = 0.0
    # uncontended speeds and bandwidth demand
    for t in range(s.p.nr_tasks):
        if not tk.running[t] or tk.phase[t] < 0:
            continue
        task_shares(s, t)
        a = s.cpu.node[tk.cpu[t]]
        ph = tk.phase[t]
        cost = 0.0 if s.ph.sweep[ph] else s.ph.think_ns[ph]
        for n in range(nn):
            if s.tk_share[t, n] > 0.0:
                mem = _memory_cost(s, t, a, n)
                mem_cost[t, n] = mem
                cost += s.tk_share[t, n] * mem
        speed = 1.0 / cost
        nbytes = PAGE_SIZE if s.ph.sweep[ph] else CACHE_LINE
        for n in range(nn):
            d = speed * s.tk_share[t, n] * nbytes
            demand[n] += d
            if n != a:
                link_demand[a, n] += d
    for n in range(nn):
        node_factor[n] = 1.0
        if demand[n] > s.nd.bandwidth[n]:
            node_factor[n] = demand[n] / s.nd.bandwidth[n]
        for m in range(nn):
            link_factor[n, m] = 1.0
            if link_demand[n, m] > s.nd_link_bw[n, m]:
                link_factor[n, m] = link_demand[n, m] / s.nd_link_bw[n, m]
    # contended speeds
    for t in range(s.p.nr_tasks):
        if not tk.running[t] or tk.phase[t] < 0:
            tk.speed[t] = 0.0
            continue
        a = s.cpu.node[tk.cpu[t]]
        ph = tk.phase[t]
        cost = 0.0 if s.ph.sweep[ph] else s.ph.think_ns[ph]
        for n in range(nn):
            if s.tk_share[t, n] > 0.0:
                slow = max(node_factor[n], link_factor[a, n] if n != a else 1.0)
                cost += s.tk_share[t, n] * mem_cost[t, n] * slow
        tk.speed[t] = 1.0 / cost


@jit
def measure_demand(s):
    """Record the bandwidth the tasks drew over the tick just run, bytes per ns of wall time:
    from each node (``nd.demand``) and over each link (``nd_link_demand[a, n]``, CPUs of
    ``a`` reading node ``n``). Migrations copy with what is left (:func:`copy_slowdown`)."""
    nn = s.p.nr_nodes
    tk = s.tk
    for n in range(nn):
        s.nd.demand[n] = 0.0
        for m in range(nn):
            s.nd_link_demand[n, m] = 0.0
    for t in range(s.p.nr_tasks):
        ph = tk.phase[t]
        if ph < 0 or tk.rate[t] <= 0.0:
            continue
        a = s.cpu.node[tk.cpu[t]]
        nbytes = PAGE_SIZE if s.ph.sweep[ph] else CACHE_LINE
        for n in range(nn):
            d = tk.rate[t] * s.tk_share[t, n] * nbytes
            s.nd.demand[n] += d
            if n != a:
                s.nd_link_demand[a, n] += d


@jit_inline
def copy_slowdown(s, src, dst):
    """How much slower than uncontended a migration copies from node ``src`` to ``dst``.

    The copy is one more stream, at ``PAGE_SIZE / migrate_copy_ns_per_page``
    bytes per ns, sharing each resource it crosses (the source node, the
    destination node, the link between them) in proportion to demand, as the
    tasks' touches do: the factor is the largest ``(demand + copy) /
    bandwidth`` of the three, at least 1.
    """
    if s.p.migrate_copy_ns_per_page <= 0.0:
        return 1.0
    copy = PAGE_SIZE / s.p.migrate_copy_ns_per_page
    slow = max(1.0, (s.nd.demand[src] + copy) / s.nd.bandwidth[src],
               (s.nd.demand[dst] + copy) / s.nd.bandwidth[dst])
    if src != dst:
        slow = max(slow, (s.nd_link_demand[dst, src] + copy) / s.nd_link_bw[dst, src])
    return slow
