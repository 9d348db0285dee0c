"""How much memory a scenario's simulator state will take, before allocating it."""

from __future__ import annotations

from numaexp.model.scenario import Scenario
from numaexp.sim.engine.build import EVENTS_CAPACITY
from numaexp.sim.engine.dtypes import (
    BYTES_PER_PAGE,
    EVENT_DTYPE,
    GROUP_DTYPE,
    POOL_BYTES_PER_PAGE,
    TASK_DTYPE,
)
from numaexp.sim.engine.params import RING_SIZE, ROW_RING, SWEEP_SHIFT


def estimate_bytes(scenario: Scenario) -> int:
    """Bytes the simulator state of ``scenario`` will take (pages dominate).

    ``BYTES_PER_PAGE`` (17) per page, ``POOL_BYTES_PER_PAGE`` (4) more per
    page of a VMA that a random pattern covers (its slot in the lists'
    segments), the per-task rows, 4 bytes per pending-fault list (the
    calendar ring, a head per 64 positions of each distinct sweep, a ring per
    distinct random pattern) and 24 more per non-sweep list (its segment),
    the events buffer and a margin for the small arrays. Patterns are told
    apart by their fields, so the count of lists is an upper bound.
    """
    pages = scenario.memory_pages
    tasks = sum(p.nr_threads for p in scenario.workload.processes)
    n = scenario.machine.nr_nodes
    per_task = TASK_DTYPE.itemsize + GROUP_DTYPE.itemsize + scenario.machine.nr_cpus + 104 * n
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
            + 4 * lists + 24 * seg_lists
            + EVENTS_CAPACITY * EVENT_DTYPE.itemsize + (1 << 22))
