"""The QEMU guest that stands for a scenario's :class:`~numaexp.model.machine.Machine`.

One ``-numa node`` per node with its own RAM backend, CPUs and SLIT
distances (``-numa dist``); one socket per node with CPUs (QEMU's default
single socket gives the scheduler wrong domains); CPU-less nodes as nodes
with memory and no CPUs; and lower-tier nodes (CPU-less, dax/kmem abstract
distance 2880) as RAM that the kernel sees as legacy pmem (``memmap=``) and
that the guest's ``/run/setup.sh`` turns into a kmem node through sysfs.

Facts (``shared/reference/qemu-numa-guest.md``): q35, TCG with one host
thread per vCPU, the CPU model ``max``; the kmem range must sit above 4 GiB,
so the DRAM nodes are put below it with ``max-ram-below-4g``.
"""

from __future__ import annotations

from dataclasses import dataclass

from numaexp.errors import ScenarioError
from numaexp.model.machine import DRAM_ADISTANCE, KMEM_ADISTANCE, Machine

MiB = 1 << 20
GiB = 1 << 30
MEMORY_BLOCK = 128 * MiB
"""x86-64 memory block size: a kmem node is onlined block by block."""

MAX_LOW_RAM = 2 * GiB
"""Most DRAM below 4 GiB on q35 (above it the PCI hole starts)."""


@dataclass(frozen=True)
class GuestPlan:
    """How the machine maps onto QEMU.

    Attributes
    ----------
    qemu_args : tuple of str
        Arguments after ``qemu-system-x86_64`` (without ``-kernel``/``-initrd``/``-append``).
    cmdline : tuple of str
        Kernel command line words that the topology needs.
    kmem_nodes : tuple of int
        Nodes made into kmem nodes by the guest.
    memory_bytes : int
        Guest RAM in all.
    """

    qemu_args: tuple[str, ...]
    cmdline: tuple[str, ...]
    kmem_nodes: tuple[int, ...]
    memory_bytes: int


def is_kmem(node) -> bool:
    """A lower-tier node: CPU-less with an abstract distance beyond DRAM's tier."""
    return node.cpus == 0 and node.adistance >> 7 > DRAM_ADISTANCE >> 7


def untranslatable_machine(machine: Machine, prefix: str = "machine") -> list[str]:
    """Fields of ``machine`` that QEMU cannot build, each with the reason (empty if none)."""
    problems = []
    if machine.arch != "x86":
        problems.append(f"{prefix}.arch: the guest is an x86 (amd64) kernel under "
                        f"qemu-system-x86_64 (got {machine.arch!r})")
    cpu_nodes = [n for n in machine.nodes if n.cpus > 0]
    if len({n.cpus for n in cpu_nodes}) > 1:
        problems.append(f"{prefix}.nodes[*].cpus: nodes with CPUs must have the same number of "
                        f"CPUs (one socket per node; got {[n.cpus for n in cpu_nodes]})")
    seen_kmem = False
    for i, node in enumerate(machine.nodes):
        where = f"{prefix}.nodes[{i}]"
        if node.memory % MiB:
            problems.append(f"{where}.memory: must be a whole number of MiB for QEMU")
        if is_kmem(node):
            seen_kmem = True
            if node.adistance != KMEM_ADISTANCE:
                problems.append(f"{where}.adistance: a kmem node has the kernel's dax/kmem "
                                f"abstract distance {KMEM_ADISTANCE} (got {node.adistance})")
            if node.memory % MEMORY_BLOCK:
                problems.append(f"{where}.memory: a kmem node must be a multiple of 128 MiB "
                                "(the memory block size)")
        else:
            if node.adistance != DRAM_ADISTANCE:
                problems.append(f"{where}.adistance: QEMU RAM is DRAM ({DRAM_ADISTANCE}); only "
                                f"a CPU-less node can be a kmem node ({KMEM_ADISTANCE})")
            if seen_kmem:
                problems.append(f"{where}: DRAM nodes must come before every kmem node")
    dram = sum(n.memory for n in machine.nodes if not is_kmem(n))
    if seen_kmem and dram > MAX_LOW_RAM:
        problems.append(f"{prefix}.nodes: with a kmem node the DRAM nodes must fit below 4 GiB "
                        f"(at most 2 GiB in all; got {dram / GiB:.3g} GiB)")
    return problems


def plan_guest(machine: Machine) -> GuestPlan:
    """QEMU arguments and kernel command line words for ``machine``.

    Raises
    ------
    ScenarioError
        Listing every field QEMU cannot build.
    """
    problems = untranslatable_machine(machine)
    if problems:
        raise ScenarioError("machine", "cannot be built as a QEMU guest:\n  "
                            + "\n  ".join(problems), "see docs/kernel-backend.md")
    nodes = machine.nodes
    ncpu = machine.nr_cpus
    cpu_nodes = [n for n in nodes if n.cpus > 0]
    total = machine.memory
    args = ["-machine", "q35", "-accel", "tcg,thread=multi", "-cpu", "max",
            "-smp", f"{ncpu},sockets={len(cpu_nodes)},cores={cpu_nodes[0].cpus},threads=1",
            "-m", f"{total // MiB}M"]
    kmem = tuple(i for i, n in enumerate(nodes) if is_kmem(n))
    cmdline: list[str] = []
    if kmem:
        dram = sum(n.memory for n in nodes if not is_kmem(n))
        args[1] = f"q35,max-ram-below-4g={dram // MiB}M"
        base = 4 * GiB
        for i in kmem:
            size = nodes[i].memory
            cmdline.append(f"memmap={size // MiB}M!{base // MiB}M")
            base += size
        cmdline.append("memhp_default_state=offline")
    for i, node in enumerate(nodes):
        args += ["-object", f"memory-backend-ram,id=m{i},size={node.memory // MiB}M"]
        spec = f"node,nodeid={i},memdev=m{i}"
        if node.cpus:
            cpus = machine.node_cpus(i)
            spec += f",cpus={cpus.start}-{cpus.stop - 1}"
        args += ["-numa", spec]
    for i in range(len(nodes)):
        for j in range(len(nodes)):
            if i != j:
                args += ["-numa", f"dist,src={i},dst={j},val={machine.distance[i][j]}"]
    return GuestPlan(qemu_args=tuple(args), cmdline=tuple(cmdline), kmem_nodes=kmem,
                     memory_bytes=total)
