"""Builders of small machines and scenarios that simulate in well under a second."""

from __future__ import annotations

from numaexp.model import (
    KernelConfig,
    Machine,
    MemPolicy,
    Node,
    Pattern,
    Phase,
    Process,
    Scenario,
    Stop,
    Thread,
    Vma,
    Workload,
)


def small_machine(nodes: int = 2, cpus: int = 4, memory: str = "2 GiB") -> Machine:
    """A small machine: ``nodes`` nodes of ``cpus`` CPUs, SLIT 10/21."""
    return Machine(
        name=f"test {nodes}x{cpus}",
        nodes=tuple(Node(cpus=cpus, memory=memory) for _ in range(nodes)),
        distance=tuple(tuple(10 if a == b else 21 for b in range(nodes)) for a in range(nodes)),
    )


def sweep_workload(machine: Machine, size: str = "64 MiB", threads: int | None = None,
                   passes: float = 400, first_touch_node: int | None = None,
                   policy: MemPolicy | None = None) -> Workload:
    """numa02-like: one process, each thread sweeps its own slice of one buffer."""
    threads = threads or machine.nr_cpus
    return Workload(
        name="sweeps",
        processes=(Process(
            name="p", main_thread="sleeps",
            vmas=(Vma(name="buf", size=size, first_touch_node=first_touch_node, policy=policy),),
            threads=(Thread(name="w", count=threads, phases=(
                Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0,
                                        slice_by_thread=True),), passes=passes),)),)),),
    )


def scenario(workload: Workload, machine: Machine, mode: int = 1, seed: int = 1,
             duration: float | None = None, **kernel) -> Scenario:
    """A scenario with a fixed-work stop (or a fixed duration)."""
    stop = Stop(kind="duration", duration_s=duration) if duration else Stop(max_duration_s=120)
    return Scenario(name=workload.name, machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=mode, **kernel), stop=stop, seed=seed,
                    sample_interval_s=0.25)
