"""Check the topology a guest reports (``@@topo`` lines) against the scenario's machine."""

from __future__ import annotations

from numaexp.kernel.guest import is_kmem
from numaexp.model.machine import MEMTIER_CHUNK_BITS, Machine

MIN_MEMORY_SHARE = 0.80
"""Least share of a node's memory the guest must report as ``MemTotal``: the kernel
keeps some for itself (struct pages, reserved ranges)."""

KMEM_RESERVED = 128 << 20
"""What a kmem node loses besides: one memory block (the dax device's alignment and
reserve; measured on 6.12: 896 of 1024 MiB, 384 of 512 MiB online)."""


def expected_tiers(machine: Machine) -> dict[int, list[int]]:
    """Memory tier id -> nodes, as the kernel names them (``memory_tier<adistance >> 7>``)."""
    tiers: dict[int, list[int]] = {}
    for nid, node in enumerate(machine.nodes):
        tiers.setdefault(node.adistance >> MEMTIER_CHUNK_BITS, []).append(nid)
    return tiers


def topology_mismatches(machine: Machine, topo: dict) -> list[str]:
    """What differs between ``machine`` and a guest's reported topology (empty: nothing).

    Parameters
    ----------
    machine : Machine
    topo : dict
        :func:`numaexp.kernel.records.parse_topology` of the guest's lines.

    Returns
    -------
    list of str
        One line per difference: node count, CPUs per node, memory per node
        (at least :data:`MIN_MEMORY_SHARE` of it, less :data:`KMEM_RESERVED` on a
        kmem node, at most all), SLIT rows, memory tiers.
    """
    out = []
    nodes = topo.get("nodes", {})
    if sorted(nodes) != list(range(machine.nr_nodes)):
        out.append(f"nodes: guest has {sorted(nodes)}, machine 0..{machine.nr_nodes - 1}")
        return out
    for nid, node in enumerate(machine.nodes):
        got = nodes[nid]
        want_cpus = list(machine.node_cpus(nid))
        if got["cpus"] != want_cpus:
            out.append(f"node {nid} cpus: guest {got['cpus']}, machine {want_cpus}")
        usable = node.memory - (KMEM_RESERVED if is_kmem(node) else 0)
        share = got["memtotal_bytes"] / usable
        if not MIN_MEMORY_SHARE <= share <= 1.0:
            out.append(f"node {nid} memory: guest {got['memtotal_bytes']} bytes, machine "
                       f"{node.memory} ({share:.1%} of the {usable} bytes expected)")
        if got["distance"] != list(machine.distance[nid]):
            out.append(f"node {nid} distance: guest {got['distance']}, machine "
                       f"{list(machine.distance[nid])}")
    tiers = {k: sorted(v) for k, v in topo.get("tiers", {}).items()}
    if tiers != expected_tiers(machine):
        out.append(f"memory tiers: guest {tiers}, machine {expected_tiers(machine)}")
    return out
