"""Preset scenarios of the RFC (per-cgroup control, interleave) and of memory tiering.

Each function returns a validated :class:`~numaexp.model.Scenario` small
enough to run in seconds here; sizes scale with ``memory_scale`` or the
machine arguments; its costs are the machine's cost profile
(:func:`~numaexp.model.cost_profiles.preset_costs`). :data:`RFC_PRESETS`
maps their names to the functions.
"""

from __future__ import annotations

from numaexp.model.actions import Action
from numaexp.model.background import PRESET_BACKGROUND, described
from numaexp.model.cost_profiles import preset_costs
from numaexp.model.kernel import KernelConfig
from numaexp.model.machine import Machine, four_node, tiered, two_socket
from numaexp.model.presets import numa01_thread_alloc
from numaexp.model.scenario import Scenario, Stop
from numaexp.model.workload import Cgroup, MemPolicy, Pattern, Phase, Process, Thread, Vma, Workload

GiB = 1 << 30


def _cpus(machine: Machine, nodes) -> tuple[int, ...]:
    return tuple(c for n in nodes for c in machine.node_cpus(n))


def per_cgroup(numa_balancing: int = 4, variant: str = "rfc-v2", cpus_per_node: int = 4,
               memory_scale: float = 1 / 16, late_memory: str = "768 MiB",
               enable_s: float = 5.1, duration_s: float = 15.0, seed: int = 0) -> Scenario:
    """The RFC's per-cgroup case (patch 2), with what tells its variants apart.

    A 4-node machine with ``cpus_per_node`` CPUs per node runs three cgroups:

    - ``/mytest`` (``cpu.numa_load_balance = 1``, nodes 0-1): numa01_THREAD_ALLOC
      sized for its CPUs: balanced in mode 4 under every RFC variant;
    - ``/other`` (left at 0, nodes 2-3): a process whose thread runs on node 3 with
      its memory on node 2: never balanced in mode 4;
    - ``/other/late`` (0, under ``/other``): single-threaded processes pinned by
      their cpuset to node 2, which zero-fill ``late_memory`` each halfway to
      ``enable_s``; at ``enable_s`` an action writes ``cpu.numa_load_balance = 1``
      and moves the cpuset to node 3, so their memory is now remote.

    After the enable, ``rfc-v1`` (gate in ``task_tick_numa``) sizes each task's
    scan period then, from the memory it has by now, and migrates it sooner;
    ``rfc-v2`` (gate in ``task_numa_work``) sized it at the task's first tick,
    while gated, when the task had little memory, so it scans more slowly at
    first; ``hierarchical`` never balances ``/other/late``: its parent ``/other``
    is at 0. In mode 1 every cgroup is balanced from the start.
    """
    machine = four_node(cpus_per_node=cpus_per_node, memory_per_node="8 GiB")
    half = two_socket(cpus_per_node=cpus_per_node)  # sizes numa01_THREAD_ALLOC for two nodes
    mine = numa01_thread_alloc(half, memory_scale=memory_scale, passes=1e6, cgroup="/mytest")
    batch = Process(name="batch", cgroup="/other", main_thread="sleeps",
                    vmas=(Vma(name="buf", size="256 MiB", first_touch_node=2),),
                    threads=(Thread(name="worker", cpus=_cpus(machine, (3,)), phases=(
                        Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0),)),
                    )),))
    late = tuple(Process(
        name=f"late{i}", cgroup="/other/late", main_thread="works",
        vmas=(Vma(name="init", size="4 MiB"), Vma(name="buf", size=late_memory)),
        threads=(Thread(name="main", phases=(
            Phase(patterns=(Pattern(vma="init", kind="sweep", write_fraction=1.0),),
                  duration_s=enable_s / 2),
            Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0),), passes=1),
            Phase(patterns=(Pattern(vma="buf", kind="uniform", write_fraction=0.3),)),
        )),)) for i in range(cpus_per_node - 1))
    workload = Workload(
        name="per_cgroup",
        cgroups=(Cgroup("/mytest", cpus=_cpus(machine, (0, 1)), mems=(0, 1), numa_load_balance=1),
                 Cgroup("/other", cpus=_cpus(machine, (2, 3)), mems=(2, 3)),
                 Cgroup("/other/late", cpus=_cpus(machine, (2,)), mems=(2, 3))),
        processes=(*mine.processes, batch, *late),
        description="numa01_THREAD_ALLOC in /mytest (balanced), a remote thread in /other (not), "
                    f"/other/late enabled and moved to node 3 at {enable_s:g} s")
    actions = (Action(at_s=enable_s, kind="numa_load_balance", cgroup="/other/late", value=1),
               Action(at_s=enable_s, kind="cpuset", cgroup="/other/late",
                      cpus=_cpus(machine, (3,))))
    return Scenario(name="per_cgroup", machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=numa_balancing, variant=variant),
                    costs=preset_costs(machine),
                    stop=Stop(kind="duration", duration_s=duration_s), seed=seed,
                    sample_interval_s=0.25, actions=actions, background=PRESET_BACKGROUND,
                    description=described("RFC patch 2: one cgroup balanced, one not, one "
                                          "enabled mid-run under a parent at 0"))


def interleave_pair(variant: str = "rfc-v2", numa_balancing_flag: bool = True,
                    numa_balancing: int = 1, cpus_per_node: int = 2, memory: str = "256 MiB",
                    private: str = "64 MiB", release_s: float = 2.0, duration_s: float = 20.0,
                    seed: int = 0) -> Scenario:
    """Patch 3's motivating case: two groups of tasks, each with the other node's memory.

    On a 2-node machine, process ``t1`` (cpuset: node 0) has its ``memory``
    interleaved over node 1 only, and ``t2`` (cpuset: node 1) over node 0; each
    runs one thread per CPU of its node, with 80 % of its accesses at random in
    that memory and 20 % in a ``private`` heap (default policy) that it
    zero-fills first, on its own node. At ``release_s`` both cpusets are
    widened to the whole machine. With ``MPOL_INTERLEAVE |
    MPOL_F_NUMA_BALANCING`` (patch 3) the faults let the scheduler swap the
    tasks onto their interleaved memory's node, no interleaved page moving;
    each private heap is then remote and migrates after its task. Without the
    flag the interleaved memory is never scanned and the tasks stay.

    As posted (``interleave-as-posted``), ``NUMA_TASK_MIG`` is 1: ``t1``'s heap,
    whose migration target is node 1, never moves.
    """
    machine = two_socket(cpus_per_node=cpus_per_node, memory_per_node="4 GiB")
    procs = []
    for name, other in (("t1", 1), ("t2", 0)):
        policy = MemPolicy(mode="interleave", nodes=(other,), numa_balancing=numa_balancing_flag)
        procs.append(Process(
            name=name, cgroup=f"/{name}",
            vmas=(Vma(name="buf", size=memory, policy=policy), Vma(name="private", size=private)),
            threads=(Thread(name="worker", count=cpus_per_node, phases=(
                Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0),),
                      passes=1),
                Phase(patterns=(Pattern(vma="private", kind="sweep", write_fraction=1.0,
                                        slice_by_thread=True),), passes=1),
                Phase(patterns=(Pattern(vma="buf", kind="uniform", write_fraction=0.5,
                                        share=0.8),
                                Pattern(vma="private", kind="uniform", write_fraction=0.5,
                                        share=0.2, slice_by_thread=True)),
                      duration_s=duration_s),)),)))
    cgroups = tuple(Cgroup(f"/{name}", cpus=_cpus(machine, (node,)))
                    for name, node in (("t1", 0), ("t2", 1)))
    actions = tuple(Action(at_s=release_s, kind="cpuset", cgroup=f"/{name}",
                           cpus=_cpus(machine, (0, 1))) for name in ("t1", "t2"))
    flag = "interleave+NB" if numa_balancing_flag else "interleave"
    return Scenario(name=f"interleave_pair ({flag})", machine=machine,
                    workload=Workload(name="interleave_pair", cgroups=cgroups,
                                      processes=tuple(procs)),
                    kernel=KernelConfig(numa_balancing=numa_balancing, variant=variant),
                    costs=preset_costs(machine),
                    stop=Stop(kind="duration", duration_s=duration_s), seed=seed,
                    sample_interval_s=0.5, actions=actions, background=PRESET_BACKGROUND,
                    description=described("RFC patch 3: tasks bound away from their interleaved "
                                          f"memory, released at {release_s} s; private heaps "
                                          "follow the tasks"))


def interleave_stride(variant: str = "rfc-v2", numa_balancing_flag: bool = True,
                      numa_balancing: int = 1, cpus_per_node: int = 4,
                      memory_scale: float = 1 / 16, passes: float = 3000,
                      seed: int = 0) -> Scenario:
    """numa01_THREAD_ALLOC touching 4 KiB of every 8 KiB of memory interleaved over all nodes.

    Interleaving page by page puts every touched (even) page on the even
    nodes, so the tasks' faults all point to nodes 0 and 2: patch 3 can move
    tasks there but never migrates pages.
    """
    machine = four_node(cpus_per_node=cpus_per_node, memory_per_node="8 GiB")
    policy = MemPolicy(mode="interleave", nodes=tuple(range(machine.nr_nodes)),
                       numa_balancing=numa_balancing_flag)
    workload = numa01_thread_alloc(machine, memory_scale=memory_scale, passes=passes, stride=2,
                                   policy=policy)
    return Scenario(name="interleave_stride", machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=numa_balancing, variant=variant),
                    costs=preset_costs(machine),
                    stop=Stop(kind="work", max_duration_s=600.0), seed=seed,
                    sample_interval_s=0.5, background=PRESET_BACKGROUND,
                    description=described("RFC patch 3: numa01_THREAD_ALLOC, stride 2, "
                                          "interleaved memory"))


def _tiering_scenario(name: str, process: str, thread: str, vma: str, memory: str,
                      access: tuple[Phase, ...], *, threads: int, dram: str, slow: str,
                      numa_balancing: int, demotion_enabled: bool, duration_s: float,
                      seed: int, description: str) -> Scenario:
    """One process on a DRAM + slow-tier machine (one node each, the CPUs on DRAM) whose
    threads first zero-fill their slices of one buffer (spilling onto the slow tier), then
    run the ``access`` phases; stopped after ``duration_s``."""
    machine = tiered(dram_nodes=1, slow_nodes=1, cpus_per_node=threads, dram_per_node=dram,
                     slow_per_node=slow)
    load = Phase(patterns=(Pattern(vma=vma, kind="sweep", write_fraction=1.0,
                                   slice_by_thread=True),), passes=1)
    workload = Workload(name=name, processes=(Process(
        name=process, vmas=(Vma(name=vma, size=memory),),
        threads=(Thread(name=thread, count=threads, phases=(load, *access)),)),))
    return Scenario(name=name, machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=numa_balancing,
                                        demotion_enabled=demotion_enabled),
                    costs=preset_costs(machine),
                    stop=Stop(kind="duration", duration_s=duration_s), seed=seed,
                    sample_interval_s=1.0, background=PRESET_BACKGROUND,
                    description=described(description))


def pmbench_gaussian(numa_balancing: int = 2, demotion_enabled: bool = True, threads: int = 4,
                     dram: str = "2 GiB", slow: str = "8 GiB", memory: str = "3 GiB",
                     sigma: float = 0.12, duration_s: float = 60.0, seed: int = 0) -> Scenario:
    """A pmbench-like Gaussian workload larger than the fast tier.

    One DRAM node with CPUs and one CPU-less slow node; the threads first
    zero-fill ``memory`` (so it spills onto the slow tier), then access it
    with a Gaussian address distribution whose hot centre does not fit where
    the first touch left it. Tiering should raise the share of hot pages in
    DRAM over time.
    """
    access = Phase(patterns=(Pattern(vma="heap", kind="gaussian", mean=0.75, sigma=sigma,
                                     write_fraction=0.3),), duration_s=duration_s)
    return _tiering_scenario(
        "pmbench_gaussian", "pmbench", "worker", "heap", memory, (access,), threads=threads,
        dram=dram, slow=slow, numa_balancing=numa_balancing, demotion_enabled=demotion_enabled,
        duration_s=duration_s, seed=seed,
        description="tiered 1+1 nodes: Gaussian accesses over more than the fast tier")


def gups_moving_hotset(numa_balancing: int = 2, demotion_enabled: bool = True, threads: int = 4,
                       dram: str = "2 GiB", slow: str = "8 GiB", memory: str = "3 GiB",
                       duration_s: float = 60.0, seed: int = 0) -> Scenario:
    """A GUPS-like hot set that moves halfway.

    Random updates, 90 % of them to a hot set of 10 % of the buffer; at
    ``duration_s / 2`` the hot set moves to another part of the buffer (first
    touched on the slow tier), so tiering must demote the old hot set and
    promote the new one.
    """
    half = duration_s / 2
    access = tuple(Phase(patterns=(Pattern(vma="table", kind="hotset", hot_fraction=0.9,
                                           hot_size=0.1, hot_offset=offset,
                                           write_fraction=0.5),), duration_s=half)
                   for offset in (0.05, 0.85))
    return _tiering_scenario(
        "gups_moving_hotset", "gups", "worker", "table", memory, access, threads=threads,
        dram=dram, slow=slow, numa_balancing=numa_balancing, demotion_enabled=demotion_enabled,
        duration_s=duration_s, seed=seed,
        description="tiered 1+1 nodes: a GUPS hot set that moves at half time")


def kv_store(numa_balancing: int = 2, demotion_enabled: bool = True, threads: int = 4,
             dram: str = "2 GiB", slow: str = "8 GiB", memory: str = "6 GiB",
             zipf_alpha: float = 1.1, duration_s: float = 30.0, seed: int = 0) -> Scenario:
    """A key-value-store-like workload on a 1:4 fast:slow machine, memory mostly idle.

    The store is loaded once (a sweep over it), then served with Zipf-popular
    random reads and writes: a small share of the memory takes most accesses.
    """
    access = Phase(patterns=(Pattern(vma="store", kind="zipf", zipf_alpha=zipf_alpha,
                                     write_fraction=0.2),), duration_s=duration_s)
    return _tiering_scenario(
        "kv_store", "kv", "server", "store", memory, (access,), threads=threads, dram=dram,
        slow=slow, numa_balancing=numa_balancing, demotion_enabled=demotion_enabled,
        duration_s=duration_s, seed=seed,
        description="tiered 1:4 fast:slow: Zipf key-value store, mostly idle memory")


RFC_PRESETS = {
    "per_cgroup": per_cgroup,
    "interleave_pair": interleave_pair,
    "interleave_stride": interleave_stride,
    "pmbench_gaussian": pmbench_gaussian,
    "gups_moving_hotset": gups_moving_hotset,
    "kv_store": kv_store,
}
"""Scenario constructors of the RFC and tiering presets, by name."""
