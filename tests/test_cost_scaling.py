"""What NUMA balancing costs grows with the machine (issue 21's acceptance).

The shipped sweep ``data/sweeps/thread_scaling_costs.toml`` (threads sharing
one mm, 4 to 96 on the 4-node x86 preset, uniform random access: nothing to
gain) runs whole; the figures come from the cost model's sourced defaults,
not from a knob fitted here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import numaexp
from numaexp.readout import SYSTEM_TIME_SPECS

SPEC = Path(__file__).parents[1] / "data" / "sweeps" / "thread_scaling_costs.toml"


@pytest.fixture(scope="module")
def scaling():
    """The sweep's frame, one row per (mode, threads), sorted by threads."""
    with ThreadPoolExecutor(1) as pool:
        frame = numaexp.sweep(str(SPEC), executor=pool, progress=False)
    assert (frame["status"] == "ok").all(), frame[["status", "error"]]
    counts = [c for c in frame.columns if c.startswith('workload.processes["random"].threads[')]
    frame["threads"] = frame[counts].sum(axis=1)
    frame = frame.sort_values("threads")
    return {mode: part.set_index("threads") for mode, part in
            frame.groupby("kernel.numa_balancing")}


def test_cost_per_hint_fault_and_per_migrated_page_grow_with_the_threads(scaling):
    """Per hinting fault: NUMA balancing's system time plus the time its shootdowns stole
    from the interrupted CPUs (the machine's cost). Per migrated page: the migrating task's
    isolation, copy and shootdown, and apart the time stolen from the others."""
    on = scaling[1]
    assert (on["numa_hint_faults"] > 0).all() and (on["numa_pages_migrated"] > 0).all()
    per_fault = (on["autonuma_cost_s"] + on["stolen_s"]) / on["numa_hint_faults"]
    per_page = (on["migrate_s"] + on["migrate_copy_s"] + on["shootdown_s"]) / \
        on["numa_pages_migrated"]
    stolen_per_page = on["stolen_s"] / on["numa_pages_migrated"]
    for figure in (per_fault, per_page, stolen_per_page):
        assert np.all(np.diff(figure.to_numpy()) > 0), figure


def test_mode_1_loses_more_throughput_as_threads_grow(scaling):
    loss = 1.0 - scaling[1]["throughput_per_s"] / scaling[0]["throughput_per_s"]
    assert np.all(np.diff(loss.to_numpy()) > 0), loss
    assert loss.loc[96] > 0.03, loss


def test_mode_0_pays_no_numa_balancing_cost(scaling):
    off = scaling[0]
    assert (off["autonuma_cost_s"] == 0).all() and (off["stolen_s"] == 0).all()
    accounts = [name for name, _, _ in SYSTEM_TIME_SPECS]
    np.testing.assert_allclose(off[accounts].sum(axis=1), off["system_s"], rtol=1e-9)
