"""The simulator's parameter record: the scenario's parameters plus what the build derives.

The record (``State.p``) has one field per :class:`~numaexp.model.params.Param`
that names a ``record`` field, taken from the scenario as the table says,
and one per :class:`Derived` below, computed by its ``derive`` function from
the scenario and the sizes the other builders found. The dtype, the build
step and the run-time ``tunable`` action all come from these two tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from numaexp.model.params import PARAMS, Param, runtime_tunables
from numaexp.sim.engine.rng import seed_key
from numaexp.sim.kernel.constants import (
    GATE_NONE,
    GATE_TICK,
    GATE_WORK,
    NUMA_TASK_MIG_AS_POSTED,
    NUMA_TASK_MIG_FIXED,
)
from numaexp.sim.kernel.pelt import pelt_decay

if TYPE_CHECKING:
    from numaexp.model.scenario import Scenario

NSEC_PER_SEC = 1_000_000_000

RING_SIZE = 4096
"""Ticks in the calendar ring (16.4 s at HZ 250); later events wait in the far list."""

SWEEP_SHIFT = 6
"""Sweep buckets hold 64 consecutive positions."""

ROW_RING = 1024
"""Buckets in the ring of each random mass row (one bucket ~ one tick at full rate)."""

class Facts(NamedTuple):
    """What the derivations may read: the scenario and the sizes the builders found."""

    scenario: Scenario
    nr_tasks: int
    nr_pages: int
    nr_cgroups: int
    row_list_base: int
    nr_work_tasks: int


@dataclass(frozen=True)
class Derived:
    """A record field the build computes: ``field`` of the record, its ``dtype``, one line
    of ``doc`` (with the kernel's name for it), and ``derive(facts)``, which computes it
    from the scenario and the sizes the builders found (:class:`Facts`)."""

    field: str
    dtype: type
    doc: str
    derive: Callable[[Facts], object]


def _cgroup_gate(facts: Facts) -> int:
    return {"mainline": GATE_NONE, "rfc-v1": GATE_TICK}.get(
        facts.scenario.kernel.variant.cgroup, GATE_WORK)


def _numa_task_mig(facts: Facts) -> int:
    variant = facts.scenario.kernel.variant
    return NUMA_TASK_MIG_AS_POSTED if variant.rfc and variant.interleave == "as-posted" \
        else NUMA_TASK_MIG_FIXED


def kswapd_batch(facts: Facts) -> int:
    """Pages kswapd can demote per tick per node: a tick's time over one page's migration cost.

    No limit is above every page of the scenario (``nr_pages``, at least 1):
    that is the batch of a cost model whose migrations cost nothing, or so
    little that a tick's worth of them would not fit an int64.
    """
    costs = facts.scenario.costs
    every_page = max(1, facts.nr_pages)
    per_page = costs.migrate_folio_ns + costs.migrate_copy_ns_per_page
    if per_page <= 0:
        return every_page
    return max(1, int(min(tick_ns(facts.scenario.kernel.hz) // per_page, every_page)))


def tick_ns(hz: int) -> int:
    """``TICK_NSEC``: ns per tick (truncated at HZ 300)."""
    return NSEC_PER_SEC // hz


def _machine(attr):
    return lambda facts: getattr(facts.scenario.machine, attr)


i64, u64, f64 = np.int64, np.uint64, np.float64

DERIVED: tuple[Derived, ...] = (
    Derived("tick_ns", i64, "TICK_NSEC, ns", lambda f: tick_ns(f.scenario.kernel.hz)),
    Derived("nr_nodes", i64, "nodes of the machine", _machine("nr_nodes")),
    Derived("nr_cpus", i64, "CPUs of the machine (nr_cpu_ids)", _machine("nr_cpus")),
    Derived("nr_tasks", i64, "threads of the workload", lambda f: f.nr_tasks),
    Derived("nr_pages", i64, "pages of all memory objects", lambda f: f.nr_pages),
    Derived("nr_cgroups", i64, "cgroups, parents included", lambda f: f.nr_cgroups),
    Derived("topology_type", i64, "sched_numa_topology_type", _machine("numa_topology_type")),
    Derived("max_distance", i64, "sched_max_numa_distance: the largest distance between "
            "two nodes with CPUs", lambda f: f.scenario.machine.sched_max_numa_distance),
    Derived("max_load_balance_interval", i64, "max_load_balance_interval: HZ * CPUs / 10, "
            "jiffies", lambda f: f.scenario.kernel.hz * f.scenario.machine.nr_cpus // 10),
    Derived("pelt_decay", f64, "PELT decay of one tick: y^(TICK_NSEC / 1024 us), y^32 = 1/2",
            lambda f: pelt_decay(tick_ns(f.scenario.kernel.hz))),
    Derived("nr_work_tasks", i64, "the workload's listed threads (the first task rows)",
            lambda f: f.nr_work_tasks),
    Derived("seed_key", u64, "rng.seed_key(seed): the first round of every draw's hash",
            lambda f: seed_key(f.scenario.seed)),
    Derived("ring_size", i64, "calendar ticks (power of two)", lambda f: RING_SIZE),
    Derived("far_list", i64, "list id of events beyond the ring", lambda f: RING_SIZE),
    Derived("sweep_list_base", i64, "list id of the first sweep bucket",
            lambda f: RING_SIZE + 1),
    Derived("sweep_shift", i64, "log2 of positions per sweep bucket", lambda f: SWEEP_SHIFT),
    Derived("row_list_base", i64, "list id of the first mass-row ring (after the sweep "
            "buckets)", lambda f: f.row_list_base),
    Derived("row_ring", i64, "buckets in each mass row's ring (power of two)",
            lambda f: ROW_RING),
    Derived("min_latency_ns", f64, "lowest local latency of the machine, ns", lambda f: min(
        f.scenario.machine.latency_matrix[a][a]
        for a, node in enumerate(f.scenario.machine.nodes) if node.cpus > 0)),
    Derived("cgroup_gate", i64, "GATE_*: where tg_numa_balance_enabled is checked "
            "(RFC patch 2 variant)", _cgroup_gate),
    Derived("stats_vmstat", i64, "1: numa_task_migrated/swapped reach /proc/vmstat "
            "(0 as posted)", lambda f: int(f.scenario.kernel.variant.stats == "fixed")),
    Derived("numa_task_mig", i64, "value of NUMA_TASK_MIG (1 as posted, colliding with "
            "node 1)", _numa_task_mig),
    Derived("kswapd_batch", i64, "pages kswapd can demote per tick per node", kswapd_batch),
    Derived("policy_mask", i64, "bit i set when a user's policy takes decision i "
            "(model.policy.DECISIONS)", lambda f: f.scenario.kernel.policy.mask),
)
"""Record fields the build computes, with their derivations."""

_DTYPES = {"int": i64, "bool": i64, "float": f64}

PARAMS_DTYPE = np.dtype([(p.record, _DTYPES[p.kind]) for p in PARAMS if p.record]
                        + [(d.field, d.dtype) for d in DERIVED])
"""Scalars of a run; the state holds one record of this type as ``p``."""


def build_params(facts: Facts) -> np.void:
    """The parameter record of a run: the scenario's values, then the derived ones."""
    record = np.zeros(1, dtype=PARAMS_DTYPE)[0]
    for param in PARAMS:
        if param.record:
            record[param.record] = param.to_record(_value_of(facts.scenario, param))
    for derived in DERIVED:
        record[derived.field] = derived.derive(facts)
    return record


def _value_of(scenario: Scenario, param: Param):
    section, name = param.path.split(".")
    return getattr(getattr(scenario, section), name)


def set_tunable(record: np.void, name: str, value) -> None:
    """A ``tunable`` action: write ``value`` of tunable ``name`` into the running record."""
    param = runtime_tunables()[name]
    record[param.record] = param.to_record(value)
