"""The state-dependent cost model (issue 21): shootdowns, lock waits, copies at leftover
bandwidth, and the accounts of system time.

Runs use ``data/scenarios/shared_random_pinned.toml`` (threads pinned evenly to the four
nodes of the x86 preset, sharing one buffer at random), shortened.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from numaexp import simulate
from numaexp.model import load_scenario
from numaexp.sim.engine.locks import RHO_MAX, queue_wait_ns
from numaexp.sweep.paths import set_paths

BASE = Path(__file__).parents[1] / "data" / "scenarios" / "shared_random_pinned.toml"
NODES = 4


def pinned(per_node: int, duration_s: float = 4.0, **costs):
    """The pinned shared-random scenario with ``per_node`` threads on each node, mode 1."""
    sc = load_scenario(BASE)
    values = {f'workload.processes["random"].threads["node{n}"].count': per_node
              for n in range(NODES)}
    values['workload.processes["random"].vmas["heap"].size'] = f"{24 * NODES * per_node} MiB"
    values["stop"] = {"kind": "duration", "duration_s": duration_s}
    sc = set_paths(sc, values)
    return dataclasses.replace(sc, costs=dataclasses.replace(sc.costs, **costs))


def total(result):
    times = result.times
    return times[times["level"] == "total"].iloc[0]


def test_a_migration_costs_its_shootdown_to_every_other_cpu_running_the_mm():
    """Every CPU runs a thread of the mm: a migrated page costs the faulting task
    migrate_folio_ns + the copy + tlb_flush_ns + tlb_flush_per_cpu_ns x (CPUs - 1), and
    each other CPU's task tlb_ipi_recv_ns (the scan's few flushes add a little)."""
    for per_node in (1, 6):
        sc = pinned(per_node)
        c = sc.costs
        cpus = NODES * per_node
        res = simulate(sc, progress=False)
        row, pages = total(res), int(res.vmstat["numa_pages_migrated"].iloc[0])
        assert pages > 1000
        per_page = (row["migrate_s"] + row["migrate_copy_s"] + row["shootdown_s"]) * 1e9 / pages
        expected = c.migrate_folio_ns + c.migrate_copy_ns_per_page + c.tlb_flush_ns + \
            c.tlb_flush_per_cpu_ns * (cpus - 1)
        assert per_page == pytest.approx(expected, rel=0.01)
        assert row["stolen_s"] * 1e9 / pages == pytest.approx(c.tlb_ipi_recv_ns * (cpus - 1),
                                                              rel=0.01)


def test_arm64_broadcasts_interrupt_no_one_and_cost_per_node():
    sc = pinned(2, tlb_broadcast=True)
    c = sc.costs
    res = simulate(sc, progress=False)
    row, pages = total(res), int(res.vmstat["numa_pages_migrated"].iloc[0])
    assert pages > 1000 and row["stolen_s"] == 0
    assert row["shootdown_s"] * 1e9 / pages == pytest.approx(
        c.tlb_flush_ns + c.tlb_flush_per_node_ns * (NODES - 1), rel=0.01)


def test_the_copy_slows_down_when_the_nodes_bandwidth_is_taken():
    """With every node's memory bandwidth cut to 2 GB/s, the threads' own accesses fill it:
    a page's copy takes longer than migrate_copy_ns_per_page."""
    fast = simulate(pinned(2), progress=False)
    sc = pinned(2)
    nodes = tuple(dataclasses.replace(node, bandwidth_gbps=2.0) for node in sc.machine.nodes)
    slow = simulate(dataclasses.replace(sc, machine=dataclasses.replace(sc.machine, nodes=nodes)),
                    progress=False)
    per_page = {name: total(r)["migrate_copy_s"] * 1e9 /
                int(r.vmstat["numa_pages_migrated"].iloc[0])
                for name, r in (("fast", fast), ("slow", slow))}
    assert per_page["fast"] == pytest.approx(sc.costs.migrate_copy_ns_per_page, rel=1e-3)
    assert per_page["slow"] > 1.5 * sc.costs.migrate_copy_ns_per_page


def test_mode_0_charges_only_first_touches_and_clones():
    res = simulate(set_paths(pinned(2), {"kernel.numa_balancing": 0}), progress=False)
    row = total(res)
    assert row["autonuma_cost_s"] == 0 and row["stolen_s"] == 0
    assert row["system_s"] == pytest.approx(row["first_touch_s"] + row["clone_s"], rel=1e-12)


def m_m_1_wait(others, tick_ns, hold_ns):
    """The textbook M/M/1 queueing delay, utilisation capped as the model caps it."""
    rho = min(others / tick_ns * hold_ns, RHO_MAX)
    return 0.0 if others <= 0 else rho / (1 - rho) * hold_ns


@pytest.mark.parametrize("hold", [0.0, 100.0, 300.0, 2000.0])
def test_lock_waits_follow_m_m_1_and_grow_with_the_contenders(hold):
    tick = 4_000_000
    arrivals = [0, 1, 10, 100, 1000, 5000, 20000, 10**6]
    waits = [queue_wait_ns(a, tick, hold) for a in arrivals]
    np.testing.assert_allclose(waits, [m_m_1_wait(a, tick, hold) for a in arrivals], rtol=1e-12)
    if hold > 0:  # more contenders, longer waits, up to the cap
        below_cap = [w for a, w in zip(arrivals, waits, strict=True) if a * hold < RHO_MAX * tick]
        assert waits[0] == 0 and all(b > a for a, b in itertools.pairwise(below_cap))
        assert max(waits) == pytest.approx(hold * RHO_MAX / (1 - RHO_MAX))
