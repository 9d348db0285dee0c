"""How much memory a scenario's simulator state will take, and how long it will run, before
allocating anything."""

from __future__ import annotations

from numaexp.model.scenario import Scenario
from numaexp.sim.engine.build import EVENTS_CAPACITY
from numaexp.sim.engine.dtypes import (
    BYTES_PER_PAGE,
    CPU_DTYPE,
    EVENT_DTYPE,
    GROUP_DTYPE,
    POOL_BYTES_PER_PAGE,
    SD_DTYPE,
    SG_DTYPE,
    TASK_DTYPE,
)
from numaexp.sim.engine.params import RING_SIZE, ROW_RING, SWEEP_SHIFT


def task_rows(scenario: Scenario) -> int:
    """Task rows ``build_tasks`` makes: the workload's threads, hidden main threads, and the
    background's per-CPU kernel threads, daemons and tenants."""
    machine, background = scenario.machine, scenario.background
    tasks = sum(p.nr_threads + (p.main_thread == "sleeps") for p in scenario.workload.processes)
    return tasks + (machine.nr_cpus if background.kthread_wakeups_per_s > 0 else 0) \
        + background.daemons + background.tenants(machine.nr_cpus)


def estimate_bytes(scenario: Scenario) -> int:
    """Bytes the simulator state of ``scenario`` will take (pages dominate).

    ``BYTES_PER_PAGE`` (17) per page, ``POOL_BYTES_PER_PAGE`` (4) more per
    page of a VMA that a random pattern covers (its slot in the lists'
    segments), the per-task rows (the workload's threads, hidden main threads and
    the background's tasks, with their per-CPU and per-node arrays), the per-CPU
    rows (runqueue, sched domains and groups), 4 bytes per pending-fault list (the
    calendar ring, a head per 64 positions of each distinct sweep, a ring per
    distinct random pattern) and 24 more per non-sweep list (its segment),
    the events buffer and a margin for the small arrays. Patterns are told
    apart by their fields, so the count of lists is an upper bound.
    """
    pages = scenario.memory_pages
    machine = scenario.machine
    nc, n = machine.nr_cpus, machine.nr_nodes
    tasks = task_rows(scenario)
    # the task and group rows, the allowed-CPU row, the fault statistics (8 + 4 per node,
    # int64), the access shares and scratch per node, the sort scratch of the CPU-time turns
    per_task = (TASK_DTYPE.itemsize + GROUP_DTYPE.itemsize + nc + 8 * (8 + 4 + 1 + 1) * n
                + 3 * 8 + 5 * 8)
    # per CPU: its row; per topology level (at most one per node distance, plus MC) a domain
    # row, a group row and the domain's group list (index and flags, int64: as many groups
    # as the widest level has, a node's CPUs at MC); the span lists, the balancer's CPU mask
    levels = len(set(d for row in machine.distance for d in row)) + 1
    groups = max(max(node.cpus for node in machine.nodes), n)
    per_cpu = CPU_DTYPE.itemsize + levels * (SD_DTYPE.itemsize + SG_DTYPE.itemsize + 8
                                             + 16 * groups) + 1
    lists = RING_SIZE + 1
    seg_lists = RING_SIZE + 1
    seen = set()
    random_objects = {}
    for proc in scenario.workload.processes:
        vmas = {v.name: v for v in proc.vmas}
        for thread in proc.threads:
            for pat in (pat for phase in thread.phases for pat in phase.patterns):
                for k in range(thread.count if pat.slice_by_thread else 1):
                    key = (vmas[pat.vma].object or (proc.name, pat.vma), pat, k)
                    if key not in seen:
                        seen.add(key)
                        if pat.kind == "sweep":
                            lists += (vmas[pat.vma].pages // pat.stride >> SWEEP_SHIFT) + 1
                        else:
                            lists += ROW_RING + 1
                            seg_lists += ROW_RING + 1
                            random_objects[key[0]] = vmas[pat.vma].pages
    pool = sum(random_objects.values())
    return (pages * BYTES_PER_PAGE + pool * POOL_BYTES_PER_PAGE + tasks * per_task
            + nc * per_cpu
            + 4 * lists + 24 * seg_lists
            + EVENTS_CAPACITY * EVENT_DTYPE.itemsize + (1 << 22))


TICK_SECONDS_BASE = 1.5e-6
"""Wall seconds of a tick of the smallest machine (``bench/bench_tick.py``)."""
TICK_SECONDS_PER_CPU = 1e-7
"""Wall seconds a tick costs per CPU: its scheduler tick."""
TICK_SECONDS_PER_CPU_PAIR = 3e-10
"""Wall seconds a tick costs per pair of CPUs: load balancing, whose domains span more CPUs
the larger the machine."""
TICK_SECONDS_PER_TASK = 7e-8
"""Wall seconds a tick costs per task row: its accounting, phase and rate updates."""
TICK_SECONDS_PER_CROWDED_TASK = 1e-6
"""Wall seconds a tick costs more per task when :data:`CROWDED_TASKS_PER_CPU` or more share
each CPU (runqueue walks), less in proportion below."""
CROWDED_TASKS_PER_CPU = 1000
BUILD_SECONDS_PER_CPU_PAIR = 1.5e-6
"""Wall seconds of building the sched domains, per pair of CPUs (6.2 s at 2,048 CPUs)."""
BUILD_SECONDS_PER_TASK = 2e-5
"""Wall seconds of building one task row (about 1.5 s for 65,536 threads)."""
SAMPLE_SECONDS = 1e-3
"""Wall seconds of one sample (the frames' rows read from the state): 1.1 ms measured for a
2-CPU scenario sampled every 12.3 ms over 3,600 s (292,684 samples in 324 s)."""
BUILD_SECONDS_PER_PAGE = 1e-7
"""Wall seconds of building and first-touching one page (issue 19: 74-114 ns measured)."""


def estimate_tick_seconds(scenario: Scenario) -> float:
    """Wall seconds one tick of ``scenario`` is expected to take on one core.

    A cost per CPU and per pair of CPUs, and per task, more when many tasks
    share each CPU, fitted by ``bench/bench_tick.py`` (within about 2x of its
    measurements from 8 to 1,024 CPUs and 8 to 65,536 threads). Pages do not
    enter: their events are the run's useful work, bounded by its events per
    second, not by its ticks.
    """
    nc = scenario.machine.nr_cpus
    tasks = task_rows(scenario)
    crowding = min(1.0, tasks / nc / CROWDED_TASKS_PER_CPU)
    return (TICK_SECONDS_BASE + TICK_SECONDS_PER_CPU * nc + TICK_SECONDS_PER_CPU_PAIR * nc * nc
            + (TICK_SECONDS_PER_TASK + TICK_SECONDS_PER_CROWDED_TASK * crowding) * tasks)


def estimate_run_seconds(scenario: Scenario) -> float:
    """Wall seconds ``scenario`` is expected to take at least, up to its time limit.

    The build (sched domains, tasks, pages), the ticks and the samples up to
    ``stop.limit_s`` (a ``"work"`` run may end sooner). A lower bound for
    page-heavy runs, whose access events add to it.
    """
    limit = scenario.stop.limit_s
    nc = scenario.machine.nr_cpus
    return (BUILD_SECONDS_PER_CPU_PAIR * nc * nc + BUILD_SECONDS_PER_TASK * task_rows(scenario)
            + BUILD_SECONDS_PER_PAGE * scenario.memory_pages
            + limit * scenario.kernel.hz * estimate_tick_seconds(scenario)
            + limit / scenario.sample_interval_s * SAMPLE_SECONDS)
