"""Built-in workloads and scenarios.

The autonumabench workloads (Andrea Arcangeli's numa01.c / numa02.c as run by
mmtests) are sized from the machine: ``NCPUS`` is the machine's CPU count, and
the two halves of the nodes are used by the bind variants.
"""

from __future__ import annotations

from numaexp.errors import ScenarioError
from numaexp.model.background import PRESET_BACKGROUND, described
from numaexp.model.cost_profiles import preset_costs
from numaexp.model.kernel import KernelConfig
from numaexp.model.machine import Machine, four_node, tiered
from numaexp.model.scenario import Scenario, Stop
from numaexp.model.units import PAGE_SIZE
from numaexp.model.workload import Cgroup, MemPolicy, Pattern, Phase, Process, Thread, Vma, Workload

BIND_VARIANTS = (None, "hard", "inverse")
"""``None`` (no binding), ``"hard"`` (HARD_BIND), ``"inverse"`` (INVERSE_BIND)."""

GiB = 1 << 30


def _halves(machine: Machine) -> tuple[tuple[int, ...], tuple[int, ...]]:
    cpu_nodes = [n for n, node in enumerate(machine.nodes) if node.cpus > 0]
    if len(cpu_nodes) < 2:
        raise ScenarioError("machine", "the bind variants need at least two nodes with CPUs")
    half = len(cpu_nodes) // 2
    return tuple(cpu_nodes[:half]), tuple(cpu_nodes[half:])


def _bind(machine: Machine, bind: str | None,
          half: int) -> tuple[tuple[int, ...] | None, MemPolicy]:
    """CPU affinity and task policy of a process (or thread group) in ``half`` 0 or 1."""
    if bind is None:
        return None, MemPolicy()
    if bind not in ("hard", "inverse"):
        raise ScenarioError("bind", f"unknown bind variant {bind!r}", '"hard", "inverse" or none')
    halves = _halves(machine)
    cpu_half = halves[half]
    mem_half = halves[half] if bind == "hard" else halves[1 - half]
    cpus = tuple(c for n in cpu_half for c in machine.node_cpus(n))
    return cpus, MemPolicy(mode="bind", nodes=mem_half)


def _scaled(size: int, scale: float, units: int) -> int:
    """``size * scale`` rounded to a multiple of ``units`` pages (at least one unit)."""
    if not scale > 0:
        raise ScenarioError("memory_scale", f"must be > 0 (got {scale!r})")
    pages = max(units, round(size * scale / PAGE_SIZE / units) * units)
    return pages * PAGE_SIZE


def _suffix(bind: str | None) -> str:
    return {None: "", "hard": "_HARD_BIND", "inverse": "_INVERSE_BIND"}[bind]


def numa01(machine: Machine, memory_scale: float = 1.0, bind: str | None = None,
           stream_gbps: float = 8.0, cgroup: str = "/") -> Workload:
    """numa01: 2 processes x NCPUS/2 threads, all threads of a process sweep one buffer.

    Each thread zero-fills the whole 3 GiB (x ``memory_scale``) buffer of its
    process once and then 50 more times: the adversarial all-shared case.
    """
    threads = max(1, machine.nr_cpus // 2)
    size = _scaled(3 * GiB, memory_scale, 1)
    procs = []
    for i in range(2):
        cpus, policy = _bind(machine, bind, i)
        procs.append(Process(
            name=f"numa01.{i}", cgroup=cgroup, main_thread="sleeps",
            vmas=(Vma(name="buf", size=size),),
            threads=(Thread(name="worker", count=threads, cpus=cpus, policy=policy, phases=(
                Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0),),
                      passes=51, stream_gbps=stream_gbps),)),)))
    return Workload(name="numa01" + _suffix(bind), processes=tuple(procs),
                    description=f"autonumabench numa01: 2 x {threads} threads, "
                                f"{size / GiB:.3g} GiB per process, all-shared sweeps")


def numa01_thread_alloc(machine: Machine, memory_scale: float = 1.0, bind: str | None = None,
                        passes: float = 1000, stream_gbps: float = 8.0, cgroup: str = "/",
                        stride: int = 1, policy: MemPolicy | None = None) -> Workload:
    """numa01_THREAD_ALLOC (mmtests NUMA01_THREADLOCAL).

    2 processes x NCPUS/2 threads; each thread zero-fills its process's whole
    3 GiB buffer once, then only its own 3 GiB/THREADS slice ``passes`` times.

    Parameters
    ----------
    stride : int
        Touch one page in ``stride`` (2: 4 KiB of every 8 KiB).
    policy : MemPolicy, optional
        VMA policy of the buffers (e.g. interleave).
    """
    threads = max(1, machine.nr_cpus // 2)
    size = _scaled(3 * GiB, memory_scale, threads * stride)
    procs = []
    for i in range(2):
        cpus, task_policy = _bind(machine, bind, i)
        procs.append(Process(
            name=f"numa01.{i}", cgroup=cgroup, main_thread="sleeps",
            vmas=(Vma(name="buf", size=size, policy=policy),),
            threads=(Thread(name="worker", count=threads, cpus=cpus, policy=task_policy, phases=(
                Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0,
                                        stride=stride),),
                      passes=1, stream_gbps=stream_gbps),
                Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0,
                                        slice_by_thread=True, stride=stride),),
                      passes=passes, stream_gbps=stream_gbps),
            )),)))
    return Workload(name="numa01_THREAD_ALLOC" + _suffix(bind), processes=tuple(procs),
                    description=f"autonumabench numa01_THREAD_ALLOC: 2 x {threads} threads, "
                                f"{size / GiB:.3g} GiB per process, private slices")


def numa02(machine: Machine, memory_scale: float = 1.0, bind: str | None = None, smt: bool = False,
           passes: float = 800, stream_gbps: float = 8.0, first_touch_node: int | None = None,
           cgroup: str = "/") -> Workload:
    """numa02 (and numa02_SMT with ``smt=True``).

    One process with NCPUS threads (NCPUS/2 for SMT); each thread zero-fills
    its own 1 GiB/THREADS slice ``passes`` times. With ``first_touch_node``
    every page starts on that node (NO_BIND_FORCE_SAME_NODE). Bind variants
    bind the first half of the threads to the first half of the nodes.
    """
    threads = max(1, machine.nr_cpus // (2 if smt else 1))
    size = _scaled(GiB, memory_scale, threads)
    groups = []
    if bind is None:
        groups.append(Thread(name="worker", count=threads, phases=(
            Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0,
                                    slice_by_thread=True),),
                  passes=passes, stream_gbps=stream_gbps),)))
    else:
        # Two thread groups; each group's slices are its half of the buffer.
        half = threads // 2
        for g, (count, start) in enumerate(((half, 0), (threads - half, half))):
            cpus, policy = _bind(machine, bind, g)
            slice_pages = size // PAGE_SIZE // threads
            groups.append(Thread(name=f"worker{g}", count=count, cpus=cpus, policy=policy, phases=(
                Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0,
                                        start=start * slice_pages * PAGE_SIZE,
                                        length=count * slice_pages * PAGE_SIZE,
                                        slice_by_thread=True),),
                      passes=passes, stream_gbps=stream_gbps),)))
    name = ("numa02_SMT" if smt else "numa02") + _suffix(bind)
    return Workload(
        name=name,
        processes=(Process(name="numa02", cgroup=cgroup, main_thread="sleeps",
                           vmas=(Vma(name="buf", size=size, first_touch_node=first_touch_node),),
                           threads=tuple(groups)),),
        description=f"autonumabench {name}: {threads} threads, {size / GiB:.3g} GiB, private slices"
                    + (f", first touched on node {first_touch_node}"
                       if first_touch_node is not None else ""))


def random_access(machine: Machine, memory: int | str = "64 GiB", threads: int | None = None,
                  touches_per_thread: float | None = None, duration_s: float | None = None,
                  cgroup: str = "/") -> Workload:
    """A process whose threads access one big buffer uniformly at random.

    Parameters
    ----------
    memory : int or str
        Buffer size.
    threads : int, optional
        Number of threads (default: one per CPU).
    touches_per_thread : float, optional
        Accesses per thread before it exits (default: run until the stop).
    duration_s : float, optional
        Alternative end of the thread's only phase.
    """
    threads = threads or machine.nr_cpus
    return Workload(
        name="random_access",
        processes=(Process(name="random", cgroup=cgroup, vmas=(Vma(name="heap", size=memory),),
                           threads=(Thread(name="worker", count=threads, phases=(
                               Phase(patterns=(Pattern(vma="heap", kind="uniform",
                                                       write_fraction=0.3),),
                                     touches=touches_per_thread, duration_s=duration_s),)),)),),
        description=f"{threads} threads accessing {memory} uniformly at random")


AUTONUMABENCH = {
    "numa01": numa01,
    "numa01_THREAD_ALLOC": numa01_thread_alloc,
    "numa02": numa02,
    "numa02_SMT": lambda machine, **kw: numa02(machine, smt=True, **kw),
}
"""autonumabench workload constructors by name; each takes ``bind`` too."""


def autonumabench(name: str, machine: Machine, **kwargs) -> Workload:
    """Build an autonumabench workload by its mmtests name.

    Parameters
    ----------
    name : str
        ``numa01``, ``numa01_THREAD_ALLOC``, ``numa02``, ``numa02_SMT``,
        optionally suffixed ``_HARD_BIND`` or ``_INVERSE_BIND``.
    machine : Machine
        Sizes the workload (NCPUS, node halves).
    **kwargs
        Passed to the constructor (``memory_scale``, ``passes``, ...).
    """
    bind = None
    for suffix, variant in (("_HARD_BIND", "hard"), ("_INVERSE_BIND", "inverse")):
        if name.endswith(suffix):
            name, bind = name[: -len(suffix)], variant
    if name not in AUTONUMABENCH:
        raise ScenarioError("workload", f"unknown autonumabench workload {name!r}",
                            ", ".join(f"{n}[_HARD_BIND|_INVERSE_BIND]" for n in AUTONUMABENCH))
    return AUTONUMABENCH[name](machine, bind=bind, **kwargs)


def default_scenario(numa_balancing: int = 1, seed: int = 0, duration_s: float = 30.0,
                     cpus_per_node: int = 8, app_memory: int | str = "1 GiB",
                     batch_memory: int | str = "1 GiB") -> Scenario:
    """The built-in scenario of ``make run``: two cgroups on a DRAM + CXL machine.

    A tiered machine (two DRAM nodes with ``cpus_per_node`` CPUs each, one
    CPU-less CXL node) runs two cgroups for ``duration_s`` simulated seconds:

    - ``/app`` (``cpu.numa_load_balance = 1``, cpuset: DRAM node 1): one
      thread per CPU of a node, each sweeping its own slice of ``app_memory``,
      which was filled on DRAM node 0 before the job was moved to node 1 (its
      pages sit on node 0 however the scheduler places its threads);
    - ``/batch`` (left at 0, cpuset: DRAM node 0): as many threads, each
      reading and writing a hot quarter of its slice of a ``batch_memory``
      table first placed on the CXL node.

    Each mode does something else: 0 nothing; 1 (NORMAL) pulls both cgroups'
    memory next to their threads; 2 (MEMORY_TIERING) promotes only the CXL
    pages of ``/batch``; 4 (CGROUP, RFC) balances only ``/app``.

    The costs are the ``dram-cxl`` profile's
    (:func:`~numaexp.model.cost_profiles.preset_costs`).
    """
    machine = tiered(dram_nodes=2, slow_nodes=1, cpus_per_node=cpus_per_node,
                     dram_per_node="8 GiB", slow_per_node="16 GiB")
    app = Process(name="app", cgroup="/app", main_thread="sleeps",
                  vmas=(Vma(name="buf", size=app_memory, first_touch_node=0),),
                  threads=(Thread(name="worker", count=cpus_per_node, phases=(
                      Phase(patterns=(Pattern(vma="buf", kind="sweep", write_fraction=1.0,
                                              slice_by_thread=True),)),)),))
    slow = machine.nr_nodes - 1
    batch = Process(name="batch", cgroup="/batch", main_thread="sleeps",
                    vmas=(Vma(name="table", size=batch_memory, first_touch_node=slow),),
                    threads=(Thread(name="worker", count=cpus_per_node, phases=(
                        Phase(patterns=(Pattern(vma="table", kind="hotset", hot_fraction=0.9,
                                                hot_size=0.25, write_fraction=0.3,
                                                slice_by_thread=True),)),)),))
    workload = Workload(
        name="app_and_batch",
        cgroups=(Cgroup("/app", cpus=tuple(machine.node_cpus(1)), numa_load_balance=1),
                 Cgroup("/batch", cpus=tuple(machine.node_cpus(0)))),
        processes=(app, batch),
        description=f"/app (on node 1): {cpus_per_node} threads sweeping slices of "
                    f"{app_memory} filled on node 0; /batch (on node 0): {cpus_per_node} "
                    f"threads on hot sets of {batch_memory} placed on the CXL node")
    return Scenario(
        name="default",
        machine=machine,
        workload=workload,
        kernel=KernelConfig(numa_balancing=numa_balancing),
        costs=preset_costs(machine),
        stop=Stop(kind="duration", duration_s=duration_s),
        seed=seed,
        sample_interval_s=0.5,
        background=PRESET_BACKGROUND,
        description=described("two cgroups on 2 DRAM nodes + 1 CXL node: /app "
                              "(cpu.numa_load_balance = 1) moved away from its memory, /batch "
                              "with its hot data on CXL"),
    )


def autonumabench_scenario(name: str, machine: Machine | None = None, numa_balancing: int = 1,
                           seed: int = 0, **kwargs) -> Scenario:
    """A scenario running one autonumabench workload (default machine: 4-node, 96 CPUs),
    with the machine's cost profile (:func:`~numaexp.model.cost_profiles.preset_costs`)."""
    machine = machine or four_node()
    workload = autonumabench(name, machine, **kwargs)
    return Scenario(name=workload.name, machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=numa_balancing),
                    costs=preset_costs(machine),
                    stop=Stop(kind="work", max_duration_s=3600.0), seed=seed,
                    background=PRESET_BACKGROUND, description=described(workload.description))
