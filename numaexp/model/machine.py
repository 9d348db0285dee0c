"""The simulated machine: NUMA nodes, CPUs, distances, latencies, bandwidths.

CPUs are numbered node by node: node 0 owns CPUs ``0 .. cpus0-1``, node 1 the
next ones, and so on (a departure from machines that interleave CPU ids across
sockets; the kernel's algorithms do not depend on the numbering).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from functools import cached_property

from numaexp.errors import ScenarioError
from numaexp.model.checks import check_items, check_number, check_text
from numaexp.model.units import MAX_NODE_MEMORY, PAGE_SIZE, parse_size

NR_CPUS = 8192
"""Most CPUs a machine may have: ``CONFIG_NR_CPUS`` of Debian's amd64 kernels (the cpu
field of ``last_cpupid`` is ``log2(NR_CPUS)`` = 13 bits wide)."""

LOCAL_DISTANCE = 10
"""SLIT distance of a node to itself (``LOCAL_DISTANCE`` in the kernel)."""

DRAM_ADISTANCE = 576
"""Abstract distance of DRAM (``MEMTIER_ADISTANCE_DRAM``, mm/memory-tiers.c)."""

KMEM_ADISTANCE = 2880
"""Default abstract distance of dax/kmem memory (``MEMTIER_DEFAULT_DAX_ADISTANCE``)."""

MEMTIER_CHUNK_BITS = 7
"""A memory tier spans ``1 << MEMTIER_CHUNK_BITS`` abstract-distance units."""

ARCHES = ("x86", "arm64")
"""Architectures a machine may have, by the kernel's ``arch/`` directory names. The
simulator treats them alike; they differ in the machine's cost profile (x86 flushes
remote TLBs by IPI, arm64 by broadcast TLBI: ``costs.tlb_broadcast``), which
:func:`numaexp.model.cost_profiles.profile_for` picks from this."""

NUMA_DIRECT, NUMA_GLUELESS_MESH, NUMA_BACKPLANE = 0, 1, 2
"""``sched_numa_topology_type`` values (kernel/sched/topology.c)."""


@dataclass(frozen=True)
class Node:
    """One NUMA node.

    Parameters
    ----------
    cpus : int
        Number of CPUs on the node (0 for a memory-only node such as CXL).
    memory : int or str
        Memory size; bytes or a string like ``"64 GiB"``, at most 4 PiB (52-bit
        physical addresses). Stored in bytes.
    bandwidth_gbps : float
        Peak memory bandwidth of the node, GB/s (all readers together).
    adistance : int
        Abstract distance used to build memory tiers (DRAM 576, dax/kmem
        default 2880); nodes in the same ``adistance >> 7`` chunk share a tier.
    """

    cpus: int
    memory: int | str
    bandwidth_gbps: float = 100.0
    adistance: int = DRAM_ADISTANCE

    def __post_init__(self):
        if isinstance(self.cpus, bool) or not isinstance(self.cpus, int) or \
                not 0 <= self.cpus <= NR_CPUS:
            raise ScenarioError("cpus", f"must be an integer in [0, {NR_CPUS}] (got "
                                f"{self.cpus!r:.40})", f"0 to {NR_CPUS} (NR_CPUS of Debian's "
                                "kernels, for the whole machine)")
        object.__setattr__(self, "memory", parse_size(self.memory, "memory",
                                                      maximum=MAX_NODE_MEMORY,
                                                      why="52-bit physical addresses"))
        check_number(self.bandwidth_gbps, "bandwidth_gbps", low=0, low_open=True, unit="GB/s")
        if isinstance(self.adistance, bool) or not isinstance(self.adistance, int) \
                or self.adistance <= 0:
            raise ScenarioError("adistance", f"must be a positive integer (got {self.adistance!r})",
                                "DRAM 576, dax/kmem 2880, or another positive integer")

    @property
    def pages(self) -> int:
        """Memory size in 4 KiB pages."""
        return self.memory // PAGE_SIZE


@dataclass(frozen=True)
class Machine:
    """A NUMA machine.

    Parameters
    ----------
    name : str
        Label used in results.
    nodes : tuple of Node
        The nodes, indexed 0..N-1.
    distance : tuple of tuple of int
        SLIT distance matrix (N x N), 10 on the diagonal, > 10 elsewhere.
    local_latency_ns : float
        Load latency of local DRAM, ns (Intel MLC: ~80-100 ns).
    latency_ns : tuple of tuple of float, optional
        Load latency from CPUs of node i to memory of node j, ns. Derived as
        ``local_latency_ns * distance / 10`` when not given.
    link_bandwidth_gbps : float
        Bandwidth of the interconnect between any two nodes, GB/s per direction.
    description : str
        Free text (not compared).
    arch : {"x86", "arm64"}
        Instruction set architecture (:data:`ARCHES`); it selects the machine
        presets' cost profile (:func:`numaexp.model.cost_profiles.profile_for`).
    """

    name: str
    nodes: tuple[Node, ...]
    distance: tuple[tuple[int, ...], ...]
    local_latency_ns: float = 90.0
    latency_ns: tuple[tuple[float, ...], ...] | None = None
    link_bandwidth_gbps: float = 40.0
    description: str = field(default="", compare=False)
    arch: str = "x86"

    def __post_init__(self):
        check_text(self, "name", "description")
        if self.arch not in ARCHES:
            raise ScenarioError("arch", f"unknown architecture {self.arch!r:.40}",
                                " or ".join(f'"{a}"' for a in ARCHES))
        nodes = check_items(self.nodes, "nodes", Node)
        object.__setattr__(self, "nodes", nodes)
        n = len(nodes)
        if n < 1:
            raise ScenarioError("nodes", "a machine needs at least one node")
        if n > 64:
            raise ScenarioError("nodes", f"{n} nodes is more than supported", "1 to 64 nodes")
        if sum(node.cpus for node in nodes) < 1:
            raise ScenarioError("nodes", "the machine has no CPU",
                                "at least one node with cpus > 0")
        if sum(node.cpus for node in nodes) > NR_CPUS:
            raise ScenarioError("nodes", f"{sum(node.cpus for node in nodes)} CPUs in all: more "
                                f"than Debian's kernels are built for (NR_CPUS {NR_CPUS})",
                                f"at most {NR_CPUS} CPUs on all nodes together")
        distance_help = (f"{n}x{n} integers (one row and column per node): 10 on the "
                         "diagonal, 11..254 elsewhere")
        distance = _square(self.distance, n, "distance", distance_help)
        for i in range(n):
            for j in range(n):
                d = distance[i][j]
                if isinstance(d, bool) or not (isinstance(d, numbers.Integral) or (
                        isinstance(d, float) and d.is_integer())):
                    raise ScenarioError(f"distance[{i}][{j}]", f"must be an integer (got {d!r})",
                                        "10 on the diagonal, 11..254 elsewhere")
                d = int(d)
                if i == j and d != LOCAL_DISTANCE:
                    raise ScenarioError(f"distance[{i}][{j}]",
                                        f"must be 10 on the diagonal (got {d})", "10")
                if i != j and not LOCAL_DISTANCE < d <= 254:
                    raise ScenarioError(f"distance[{i}][{j}]",
                                        f"remote distance must be in 11..254 (got {d})", "11..254")
        object.__setattr__(self, "distance",
                           tuple(tuple(int(d) for d in row) for row in distance))
        check_number(self.local_latency_ns, "local_latency_ns", low=0, low_open=True, unit="ns")
        if self.latency_ns is not None:
            lat = _square(self.latency_ns, n, "latency_ns",
                          f"{n}x{n} finite numbers > 0 (ns; one row and column per node)")
            for i in range(n):
                for j in range(n):
                    check_number(lat[i][j], f"latency_ns[{i}][{j}]", low=0, low_open=True,
                                 unit="ns")
            object.__setattr__(self, "latency_ns",
                               tuple(tuple(float(x) for x in row) for row in lat))
        check_number(self.link_bandwidth_gbps, "link_bandwidth_gbps", low=0, low_open=True,
                     unit="GB/s")

    # ----- derived facts -------------------------------------------------
    @property
    def nr_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def nr_cpus(self) -> int:
        """Number of CPUs."""
        return sum(node.cpus for node in self.nodes)

    @property
    def memory(self) -> int:
        """Total memory in bytes."""
        return sum(node.memory for node in self.nodes)

    @cached_property
    def cpu_node(self) -> tuple[int, ...]:
        """Node id of each CPU."""
        out: list[int] = []
        for nid, node in enumerate(self.nodes):
            out.extend([nid] * node.cpus)
        return tuple(out)

    def node_cpus(self, nid: int) -> range:
        """CPU ids of node ``nid``."""
        first = sum(node.cpus for node in self.nodes[:nid])
        return range(first, first + self.nodes[nid].cpus)

    @cached_property
    def latency_matrix(self) -> tuple[tuple[float, ...], ...]:
        """Load latency (ns) from CPUs of node i to memory of node j."""
        if self.latency_ns is not None:
            return self.latency_ns
        return tuple(tuple(self.local_latency_ns * d / LOCAL_DISTANCE for d in row)
                     for row in self.distance)

    @cached_property
    def tiers(self) -> tuple[int, ...]:
        """Memory tier rank of each node (0 = fastest), from ``adistance >> 7``."""
        chunks = sorted({node.adistance >> MEMTIER_CHUNK_BITS for node in self.nodes})
        return tuple(chunks.index(node.adistance >> MEMTIER_CHUNK_BITS) for node in self.nodes)

    @cached_property
    def toptier(self) -> tuple[bool, ...]:
        """``node_is_toptier`` for each node.

        True for nodes in tiers up to and including the slowest tier that holds
        a node with CPUs (mm/memory-tiers.c, ``top_tier_adistance``).
        """
        cpu_tiers = [t for t, node in zip(self.tiers, self.nodes, strict=True) if node.cpus > 0]
        top = max(cpu_tiers)
        return tuple(t <= top for t in self.tiers)

    @cached_property
    def numa_distances(self) -> tuple[int, ...]:
        """``sched_domains_numa_distance``: the distinct distances between nodes with CPUs,
        sorted (CPU-less nodes count for none, as in ``sched_init_numa``)."""
        cpu_nodes = [i for i, node in enumerate(self.nodes) if node.cpus > 0]
        return tuple(sorted({self.distance[a][b] for a in cpu_nodes for b in cpu_nodes}))

    @property
    def sched_max_numa_distance(self) -> int:
        """``sched_max_numa_distance``: the largest distance between two nodes with CPUs."""
        return self.numa_distances[-1]

    @cached_property
    def numa_topology_type(self) -> int:
        """``sched_numa_topology_type`` (``init_numa_topology_type``).

        NUMA_DIRECT with at most two distance levels among CPU nodes, else
        NUMA_GLUELESS_MESH when the two furthest nodes have a node between them,
        else NUMA_BACKPLANE. As in ``sched_init_numa`` (``for_each_cpu_node_but``),
        CPU-less nodes count neither for the levels nor for the furthest distance.
        """
        cpu_nodes = [i for i, node in enumerate(self.nodes) if node.cpus > 0]
        levels = {self.distance[a][b] for a in cpu_nodes for b in cpu_nodes}
        if len(levels) <= 2:
            return NUMA_DIRECT
        far = max(levels)
        for a in cpu_nodes:
            for b in cpu_nodes:
                if self.distance[a][b] < far:
                    continue
                for c in cpu_nodes:
                    if self.distance[a][c] < far and self.distance[b][c] < far:
                        return NUMA_GLUELESS_MESH
                return NUMA_BACKPLANE
        return NUMA_DIRECT


def _square(matrix, n: int, name: str, allowed: str) -> tuple[tuple, ...]:
    """``matrix`` as a tuple of row tuples, if it is N x N (elements are checked by the caller)."""
    try:
        if isinstance(matrix, (str, bytes)) or any(isinstance(row, (str, bytes))
                                                   for row in matrix):
            raise TypeError
        rows = tuple(tuple(row) for row in matrix)
    except TypeError:
        raise ScenarioError(name, f"must be a {n}x{n} matrix of numbers (got {matrix!r:.60})",
                            allowed) from None
    if len(rows) != n or any(len(row) != n for row in rows):
        shape = f"{len(rows)} rows of " + "/".join(sorted({str(len(r)) for r in rows}) or ["0"])
        raise ScenarioError(name, f"must be a {n}x{n} matrix for {n} nodes (got {shape})",
                            allowed)
    return rows


# ----- presets -------------------------------------------------------------

def two_socket(cpus_per_node: int = 24, memory_per_node: int | str = "64 GiB",
               remote_distance: int = 21) -> Machine:
    """Two sockets, one node each, SLIT 10/21 (10/32 on some servers).

    Parameters
    ----------
    cpus_per_node : int
        CPUs per node.
    memory_per_node : int or str
        Memory per node.
    remote_distance : int
        SLIT distance between the sockets.
    """
    node = Node(cpus=cpus_per_node, memory=memory_per_node, bandwidth_gbps=120.0)
    return Machine(
        name=f"2-socket {2 * cpus_per_node} CPUs",
        nodes=(node, node),
        distance=((10, remote_distance), (remote_distance, 10)),
        link_bandwidth_gbps=60.0,
        description=f"2 sockets x 1 node, SLIT 10/{remote_distance}",
    )


def four_node(cpus_per_node: int = 24, memory_per_node: int | str = "64 GiB",
              layout: str = "snc", arch: str = "x86") -> Machine:
    """Four nodes: a 4-node x86 server, or with ``arch="arm64"`` a 4-node arm64 server.

    Parameters
    ----------
    cpus_per_node : int
        CPUs per node (default 4 x 24 = 96 CPUs).
    memory_per_node : int or str
        Memory per node.
    layout : {"snc", "4-socket"}
        ``"snc"``: two sockets with two sub-NUMA clusters each, SLIT 12 inside
        a socket and 21 across (a NUMA_BACKPLANE topology for the scheduler);
        ``"4-socket"``: four fully connected sockets, SLIT 21 between all
        (NUMA_DIRECT). Either shape on either architecture.
    arch : {"x86", "arm64"}
        The machine's :attr:`Machine.arch`: the same nodes, distances and
        bandwidths, another cost profile (arm64: TLBs flushed by broadcast,
        no IPIs).
    """
    if layout == "snc":
        near, far = 12, 21
        distance = tuple(
            tuple(10 if a == b else (near if a // 2 == b // 2 else far) for b in range(4))
            for a in range(4))
    elif layout == "4-socket":
        distance = tuple(tuple(10 if a == b else 21 for b in range(4)) for a in range(4))
    else:
        raise ScenarioError("layout", f"unknown layout {layout!r}", '"snc" or "4-socket"')
    node = Node(cpus=cpus_per_node, memory=memory_per_node, bandwidth_gbps=60.0)
    arm64 = arch == "arm64"
    return Machine(
        name=f"4-node{' arm64' if arm64 else ''} {4 * cpus_per_node} CPUs",
        nodes=(node,) * 4,
        distance=distance,
        link_bandwidth_gbps=40.0,
        description=f"4 nodes x {cpus_per_node} CPUs, layout {layout}"
                    + (", arm64" if arm64 else ""),
        arch=arch,
    )


def tiered(dram_nodes: int = 2, slow_nodes: int = 2, cpus_per_node: int = 24,
           dram_per_node: int | str = "32 GiB", slow_per_node: int | str = "128 GiB",
           slow_latency_factor: float = 2.5) -> Machine:
    """DRAM nodes with CPUs plus CPU-less slow-tier nodes (CXL or PMEM).

    Parameters
    ----------
    dram_nodes, slow_nodes : int
        Number of DRAM nodes (with CPUs) and of memory-only slow nodes.
    cpus_per_node : int
        CPUs per DRAM node.
    dram_per_node, slow_per_node : int or str
        Memory of each DRAM and slow node.
    slow_latency_factor : float
        Latency of a slow node seen from its nearest DRAM node, relative to
        local DRAM (CXL ~2-3x: TPP paper; Optane PMEM ~3x: Yang et al. FAST'20).

    Notes
    -----
    Slow node ``k`` hangs off DRAM node ``k % dram_nodes`` (SLIT 14 to it, 24
    to the others); DRAM nodes are 21 apart. Slow nodes get the dax/kmem
    default abstract distance 2880, so they form a lower tier.
    """
    if dram_nodes < 1 or slow_nodes < 1:
        raise ScenarioError("nodes", "a tiered machine needs >= 1 DRAM and >= 1 slow node")
    n = dram_nodes + slow_nodes
    local = 90.0
    nodes = [Node(cpus=cpus_per_node, memory=dram_per_node, bandwidth_gbps=100.0)
             for _ in range(dram_nodes)]
    nodes += [Node(cpus=0, memory=slow_per_node, bandwidth_gbps=30.0, adistance=KMEM_ADISTANCE)
              for _ in range(slow_nodes)]

    def home(node: int) -> int:
        return node if node < dram_nodes else (node - dram_nodes) % dram_nodes

    distance, latency = [], []
    for a in range(n):
        drow, lrow = [], []
        for b in range(n):
            if a == b:
                d, lat = 10, local
            elif a < dram_nodes and b < dram_nodes:
                d, lat = 21, local * 2.1
            elif home(a) == home(b):
                d, lat = 14, local * slow_latency_factor
            else:
                d, lat = 24, local * (slow_latency_factor + 1.1)
            drow.append(d)
            lrow.append(lat)
        distance.append(tuple(drow))
        latency.append(tuple(lrow))
    return Machine(
        name=f"tiered {dram_nodes}+{slow_nodes} nodes",
        nodes=tuple(nodes),
        distance=tuple(distance),
        local_latency_ns=local,
        latency_ns=tuple(latency),
        link_bandwidth_gbps=40.0,
        description=f"{dram_nodes} DRAM nodes x {cpus_per_node} CPUs + {slow_nodes} CPU-less "
                    f"slow nodes ({slow_latency_factor}x latency)",
    )


def four_node_arm64(cpus_per_node: int = 24, memory_per_node: int | str = "64 GiB",
                    layout: str = "snc") -> Machine:
    """A 4-node arm64 server: :func:`four_node` with ``arch="arm64"`` (same parameters)."""
    return four_node(cpus_per_node, memory_per_node, layout, arch="arm64")


MACHINE_PRESETS = {
    "2-socket": two_socket,
    "4-node": four_node,
    "4-node-arm64": four_node_arm64,
    "tiered": tiered,
}
"""Machine preset constructors by name (each has its cost profile:
:func:`numaexp.model.cost_profiles.profile_for`)."""
