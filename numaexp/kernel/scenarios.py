"""Small scenarios sized for a QEMU guest (the test suite, notebook 08, calibration).

A TCG guest is slow (each vCPU sweeps memory at a few hundred MB/s), so
these use a few hundred MiB, a few vCPUs and scan tunables that let NUMA
balancing act within seconds: ``scan_delay_ms = scan_period_min_ms = 100`` and
``scan_size_mb = 512`` (the whole buffer in one scan).
The simulator runs the same scenarios (with the ``qemu-tcg`` cost profile
applied) to compare.
"""

from __future__ import annotations

import dataclasses

from numaexp.model.kernel import KernelConfig
from numaexp.model.machine import KMEM_ADISTANCE, Machine, Node
from numaexp.model.presets import numa01_thread_alloc, numa02
from numaexp.model.scenario import Scenario, Stop
from numaexp.model.workload import Pattern, Phase, Process, Thread, Vma, Workload

QUICK_TUNABLES = {"scan_delay_ms": 100, "scan_period_min_ms": 100, "scan_size_mb": 512}
"""Scan tunables of the guest-sized scenarios (the kernel's defaults are 1000 ms)."""


def guest_machine(nodes: int = 2, cpus_per_node: int = 2, memory_per_node: str = "1 GiB",
                  cpuless: int = 0, kmem: int = 0, kmem_memory: str = "1 GiB") -> Machine:
    """A small machine: CPU nodes (SLIT 21 apart), then CPU-less DRAM nodes, then kmem nodes.

    Parameters
    ----------
    nodes, cpus_per_node, memory_per_node
        The nodes with CPUs.
    cpuless : int
        CPU-less DRAM nodes (top tier, like the CPU nodes' memory).
    kmem : int
        CPU-less lower-tier nodes (dax/kmem, abstract distance 2880).
    kmem_memory : str
        Memory of each kmem node (a multiple of 128 MiB).
    """
    specs = [Node(cpus=cpus_per_node, memory=memory_per_node) for _ in range(nodes)]
    specs += [Node(cpus=0, memory=memory_per_node) for _ in range(cpuless)]
    specs += [Node(cpus=0, memory=kmem_memory, adistance=KMEM_ADISTANCE) for _ in range(kmem)]
    n = len(specs)

    def dist(a: int, b: int) -> int:
        if a == b:
            return 10
        if a >= nodes or b >= nodes:  # a memory-only node hangs off node 0
            other = b if a >= nodes else a
            return 14 if other == 0 else 24
        return 21

    kinds = f"{nodes} x {cpus_per_node} CPUs" + (f" + {cpuless} CPU-less" if cpuless else "") \
        + (f" + {kmem} kmem" if kmem else "")
    return Machine(name=f"guest {kinds}", nodes=tuple(specs),
                   distance=tuple(tuple(dist(a, b) for b in range(n)) for a in range(n)),
                   description=f"QEMU-sized machine: {kinds}")


def numa02_guest(mode: int = 1, *, first_touch_node: int | None = 0, duration_s: float = 25.0,
                 machine: Machine | None = None, buffer_mib: int = 512,
                 interval_s: float = 1.0, seed: int = 0, hot_size: float | None = None,
                 pinned: bool = False, **kernel) -> Scenario:
    """numa02 on a guest: a ``buffer_mib`` buffer, one thread per CPU sweeping its own slice.

    Parameters
    ----------
    mode : int
        ``kernel.numa_balancing``.
    first_touch_node : int, optional
        Every page first touched on this node (``None``: each thread's first
        pass places its own slice).
    duration_s : float
        The run's length (``stop.kind = "duration"``), seconds.
    machine : Machine, optional
        Default: 2 nodes x 2 vCPUs, 1 GiB each.
    buffer_mib : int
        Buffer size, MiB.
    interval_s : float
        Sampling interval, seconds.
    pinned : bool
        Give each thread its own CPU (thread ``k`` on CPU ``k``): the scheduler
        then moves no thread, and only pages move.
    hot_size : float, optional
        Instead of sweeping, each thread accesses a hot set of this fraction
        of its slice at random (half reads, half writes): the scanner still
        marks the whole buffer but few pages fault (calibration's probe of
        the PTE-update cost).
    **kernel
        ``KernelConfig`` fields besides :data:`QUICK_TUNABLES`.
    """
    machine = machine or guest_machine()
    scale = buffer_mib / 1024
    workload = numa02(machine, memory_scale=scale, passes=1e9, first_touch_node=first_touch_node)
    # run for the duration: the phases end only when the run does
    proc = workload.processes[0]
    threads = []
    for t in proc.threads:
        phases = []
        for p in t.phases:
            p = dataclasses.replace(p, passes=None)
            if hot_size is not None:
                pat = dataclasses.replace(p.patterns[0], kind="hotset", hot_fraction=1.0,
                                          hot_size=hot_size, write_fraction=0.5)
                p = dataclasses.replace(p, patterns=(pat,))
            phases.append(p)
        threads.append(dataclasses.replace(t, phases=tuple(phases)))
    if pinned:
        size = proc.vmas[0].pages * 4096
        threads = [_pin(threads[0], k, machine.nr_cpus, size) for k in range(machine.nr_cpus)]
    proc = dataclasses.replace(proc, threads=tuple(threads))
    workload = dataclasses.replace(workload, processes=(proc,))
    cfg = KernelConfig(numa_balancing=mode, **{**QUICK_TUNABLES, **kernel})
    where = f"first touched on node {first_touch_node}" if first_touch_node is not None \
        else "placed by first touch"
    if hot_size is not None:
        where += f", hot set of {hot_size:g} of each slice"
    if pinned:
        where += ", each thread pinned to its own CPU"
    name = f"numa02-guest-{buffer_mib}M" + ("-hotset" if hot_size else "")
    return Scenario(name=name, machine=machine, workload=workload,
                    kernel=cfg, stop=Stop(kind="duration", duration_s=duration_s),
                    sample_interval_s=interval_s, seed=seed,
                    description=f"numa02, {buffer_mib} MiB {where}, {machine.nr_cpus} threads, "
                                f"{machine.description}")


def _pin(thread, k: int, count: int, vma_bytes: int):
    """Replica ``k`` of ``count`` of a slice-by-thread ``thread``, as a thread of its own on
    CPU ``k`` that uses the ``k``-th slice of a ``vma_bytes`` VMA."""
    per = vma_bytes // 4096 // count * 4096
    phases = []
    for phase in thread.phases:
        pats = tuple(dataclasses.replace(p, slice_by_thread=False, start=k * per, length=per)
                     for p in phase.patterns)
        phases.append(dataclasses.replace(phase, patterns=pats))
    return dataclasses.replace(thread, name=f"{thread.name}.{k}", count=1, cpus=(k,),
                               phases=tuple(phases))


def lifecycle_guest(mode: int = 1, *, buffer_mib: int = 256, workers: int = 4,
                    barrier: str = "pass", duration_s: float = 20.0,
                    machine: Machine | None = None, interval_s: float = 1.0, seed: int = 0,
                    **kernel) -> Scenario:
    """A main thread fills a buffer, then creates the workers that share it out.

    The main thread (``main_thread = "works"``) zero-fills the whole buffer
    once (phase 0), then creates ``workers`` threads (``created_after_phase =
    0``), back to back; each sweeps its own slice until the run stops, waiting
    for the others after each pass (``barrier``), and the main thread exits.

    Parameters
    ----------
    mode : int
        ``kernel.numa_balancing``.
    buffer_mib : int
        Buffer size, MiB.
    workers : int
        Threads the main thread creates.
    barrier : {"none", "pass", "phase"}
        The workers' barrier.
    duration_s : float
        The run's length, seconds.
    machine : Machine, optional
        Default: :func:`guest_machine` (2 nodes x 2 vCPUs).
    **kernel
        ``KernelConfig`` fields besides :data:`QUICK_TUNABLES`.
    """
    machine = machine or guest_machine()
    fill = Pattern(vma="buf", kind="sweep", write_fraction=1.0)
    own = Pattern(vma="buf", kind="sweep", write_fraction=1.0, slice_by_thread=True)
    proc = Process(name="lifecycle", vmas=(Vma(name="buf", size=f"{buffer_mib} MiB"),),
                   threads=(Thread(name="main", phases=(Phase(patterns=(fill,), passes=1),)),
                            Thread(name="worker", count=workers, created_after_phase=0,
                                   phases=(Phase(patterns=(own,), barrier=barrier),))))
    workload = Workload(name="fill-then-workers", processes=(proc,),
                        description=f"main thread fills {buffer_mib} MiB, then creates "
                                    f"{workers} workers sweeping their slices")
    return Scenario(name=f"lifecycle-guest-{buffer_mib}M", machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=mode, **{**QUICK_TUNABLES, **kernel}),
                    stop=Stop(kind="duration", duration_s=duration_s),
                    sample_interval_s=interval_s, seed=seed,
                    description=f"{workload.description}, barrier {barrier!r}, "
                                f"{machine.description}")


def fork_guest(mode: int = 1, *, process_mib: int = 256, passes: float = 16,
               machine: Machine | None = None, interval_s: float = 1.0, seed: int = 0,
               max_duration_s: float = 120.0, **kernel) -> Scenario:
    """numa01_THREAD_ALLOC on a guest: 2 processes x NCPUS/2 threads, forked at the start.

    Each process (``main_thread = "sleeps"``) has a ``process_mib`` buffer;
    each of its threads zero-fills the whole buffer once, then sweeps its own
    slice ``passes`` times. The run ends when every thread is done (at most
    ``max_duration_s``). With the defaults (256 MiB, 16 passes) a run lasts
    about 20-30 s of guest time on a 2-core host without KVM.
    """
    machine = machine or guest_machine()
    workload = numa01_thread_alloc(machine, memory_scale=process_mib / 3072, passes=passes)
    return Scenario(name=f"numa01-thread-alloc-guest-{process_mib}M", machine=machine,
                    workload=workload,
                    kernel=KernelConfig(numa_balancing=mode, **{**QUICK_TUNABLES, **kernel}),
                    stop=Stop(kind="work", max_duration_s=max_duration_s),
                    sample_interval_s=interval_s, seed=seed,
                    description=f"{workload.description}, {machine.description}")
