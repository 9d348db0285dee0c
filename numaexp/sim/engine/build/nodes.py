"""Build the machine's arrays: nodes (watermarks, tiers), distances, zonelists, CPUs."""

from __future__ import annotations

import numpy as np

from numaexp.model.memory import watermarks
from numaexp.model.scenario import Scenario
from numaexp.model.units import PAGE_SIZE
from numaexp.sim.engine.dtypes import CPU_DTYPE, NODE_DTYPE
from numaexp.sim.kernel.tiering import NBP_FIELDS, PROMO_ENOUGH_MIN_BYTES


def node_mask(nodes) -> int:
    """Bit mask of node ids as the int64 the state keeps (node 63 is the sign bit).

    The kernels test bits with shifts and ``&``, which two's complement
    leaves exact for all 64 nodes.
    """
    m = 0
    for n in nodes:
        m |= 1 << n
    return m - (1 << 64) if m >= 1 << 63 else m


def demotion_targets(machine) -> tuple[list[int], list[int]]:
    """``establish_demotion_targets``: (preferred, fallback) node masks per node.

    Preferred: the nodes of the next lower tier (that has memory) at the
    smallest distance; fallback: every node of every lower tier.
    """
    tiers = machine.tiers
    pref, fallback = [], []
    for a, tier in enumerate(tiers):
        lower = [b for b in range(machine.nr_nodes)
                 if tiers[b] > tier and machine.nodes[b].memory > 0]
        if not lower:
            pref.append(0)
            fallback.append(0)
            continue
        nxt = min(tiers[b] for b in lower)
        cand = [b for b in lower if tiers[b] == nxt]
        best = min(machine.distance[a][b] for b in cand)
        pref.append(node_mask(b for b in cand if machine.distance[a][b] == best))
        fallback.append(node_mask(lower))
    return pref, fallback


def build_nodes(scenario: Scenario) -> np.ndarray:
    """``NODE_DTYPE`` rows: CPUs, memory and watermarks, tier, demotion targets, bandwidth."""
    machine = scenario.machine
    wm = watermarks(machine, scenario.kernel)
    nodes = np.zeros(machine.nr_nodes, dtype=NODE_DTYPE)
    nodes["cpus"] = [node.cpus for node in machine.nodes]
    nodes["first_cpu"] = np.concatenate([[0], np.cumsum(nodes["cpus"])[:-1]])
    nodes["present"] = [node.pages for node in machine.nodes]
    nodes["free"] = nodes["present"]
    nodes["wmark_min"] = wm.min
    nodes["wmark_low"] = wm.low
    nodes["wmark_high"] = wm.high
    nodes["wmark_promo"] = wm.promo
    nodes["toptier"] = machine.toptier
    # pgdat_free_space_enough: max(1 GiB, node_present_pages / 16) above WMARK_PROMO
    nodes["promo_enough"] = np.maximum(PROMO_ENOUGH_MIN_BYTES // PAGE_SIZE, nodes["present"] >> 4)
    nodes["demote_pref"], nodes["demote_fallback"] = demotion_targets(machine)
    nodes["kswapd_lap_ns"] = 1_000_000_000  # until a first lap is measured
    nodes["bandwidth"] = [node.bandwidth_gbps for node in machine.nodes]  # GB/s = bytes/ns
    return nodes


def build_promotion_state(scenario: Scenario) -> np.ndarray:
    """Each node's promotion state (``tiering.NBP_*`` columns), all zero at the start."""
    return np.zeros((scenario.machine.nr_nodes, NBP_FIELDS), dtype=np.int64)


def build_distance(scenario: Scenario) -> np.ndarray:
    """The SLIT table, int64[N, N]."""
    return np.array(scenario.machine.distance, dtype=np.int64)


def build_zonelist(scenario: Scenario) -> np.ndarray:
    """Per node, the nodes with memory by distance (then id), -1 padded: int64[N, N]."""
    machine = scenario.machine
    nn = machine.nr_nodes
    has_mem = [node.pages > 0 for node in machine.nodes]
    zonelist = np.full((nn, nn), -1, dtype=np.int64)
    for a in range(nn):
        order = sorted((b for b in range(nn) if has_mem[b]),
                       key=lambda b: (machine.distance[a][b], b))
        zonelist[a, : len(order)] = order
    return zonelist


def build_latency(scenario: Scenario) -> np.ndarray:
    """ns from a CPU node to a memory node, float64[N, N]."""
    return np.array(scenario.machine.latency_matrix, dtype=np.float64)


def build_link_bandwidth(scenario: Scenario) -> np.ndarray:
    """Bytes per ns of each node-to-node link, float64[N, N]."""
    nn = scenario.machine.nr_nodes
    return np.full((nn, nn), scenario.machine.link_bandwidth_gbps, dtype=np.float64)


def build_cpus(scenario: Scenario) -> np.ndarray:
    """``CPU_DTYPE`` rows: each CPU's node, empty runqueues."""
    cpus = np.zeros(scenario.machine.nr_cpus, dtype=CPU_DTYPE)
    cpus["node"] = scenario.machine.cpu_node
    cpus["curr"] = -1
    cpus["last"] = -1
    cpus["rq_head"] = -1
    cpus["rq_tail"] = -1
    cpus["idle_stamp"] = 1  # idle since the start: before any CPU that idles later
    return cpus
