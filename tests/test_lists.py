"""Segments of the pending-fault lists change no result (:mod:`numaexp.sim.engine.lists`).

A re-queue pass writes the pages bound for empty non-sweep lists into
segments of ``ls_pool`` instead of linking them; walks read a segment after
the linked pages. Run with an empty pool, every pass falls back to
linking, as before segments existed: each scenario below must then leave
exactly the same state (pages, counters, tasks, events) as with the pool.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_scale import wide_scenario

from numaexp.model import rfc_presets
from numaexp.sim.engine.codes import CLK_POOL_SEGS, CLK_POOL_TOP
from numaexp.sim.engine.runner import Runner

LIST_FIELDS = ("ls_heads", "ls_pool", "ls_seg")
"""Where the two runs differ by design (segments against links)."""


def _thp(scenario):
    procs = tuple(dataclasses.replace(p, vmas=tuple(dataclasses.replace(v, thp=True)
                                                    for v in p.vmas))
                  for p in scenario.workload.processes)
    return dataclasses.replace(scenario, workload=dataclasses.replace(scenario.workload,
                                                                      processes=procs))


SCENARIOS = {
    # random region whose pattern changes (re-queue of queued pages), beside sweeps
    "random+sweeps": lambda: wide_scenario(),
    # a hot set that moves (re-draws) on a tiered machine with demotion (kswapd unqueues)
    "moving hotset, tiering": lambda: rfc_presets.gups_moving_hotset(duration_s=3.0),
    # huge pages: a fault unqueues the folio's other pages
    "interleave pair, THP": lambda: _thp(rfc_presets.interleave_pair(
        variant="rfc-v2+interleave-as-posted", duration_s=4.0)),
}


def _run(scenario, pool_slots: int | None) -> Runner:
    runner = Runner(scenario)
    if pool_slots is not None:
        runner.arrays = runner.arrays._replace(ls_pool=np.full(pool_slots, -1, dtype=np.int32))
        runner.refresh_state()
    runner.advance(scenario.stop.limit_s)
    return runner


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_segments_leave_the_results_of_linked_lists(name):
    scenario = SCENARIOS[name]()
    with_pool = _run(scenario, None)
    linked = _run(scenario, 0)
    assert int(linked.arrays.clk[CLK_POOL_TOP]) == int(linked.arrays.clk[CLK_POOL_SEGS]) == 0
    assert len(with_pool.arrays.ls_pool) > 1
    a, b = with_pool.arrays, linked.arrays
    for field in a._fields:
        x, y = getattr(a, field), getattr(b, field)
        if field in LIST_FIELDS:
            continue
        if field == "pg":
            for col in x.dtype.names:
                if col not in ("next", "prev"):
                    np.testing.assert_array_equal(x[col], y[col], err_msg=f"pg.{col}")
        elif field == "clk":
            np.testing.assert_array_equal(x[:CLK_POOL_TOP], y[:CLK_POOL_TOP], err_msg="clk")
        else:
            np.testing.assert_array_equal(x, y, err_msg=field)


def _check_segments(a) -> int:
    """The segment bookkeeping agrees with the pool; returns the pages held."""
    attached = np.flatnonzero(a.ls_seg[1] > a.ls_seg[0])
    assert int(a.clk[CLK_POOL_SEGS]) == len(attached)
    held = 0
    for j in attached:
        lo, hi, live = (int(x) for x in a.ls_seg[:, j])
        assert 0 <= lo < hi <= int(a.clk[CLK_POOL_TOP]) <= len(a.ls_pool)
        assert live == np.count_nonzero(a.ls_pool[lo:hi] >= 0) > 0
        held += live
    return held


def test_first_draw_fills_segments_that_walks_and_redraws_empty():
    runner = Runner(wide_scenario())  # 160 K pages of a random region, drawn at the start
    runner.advance(1e-4)  # the threads start a clone apart: all drawn
    held = [_check_segments(runner.arrays)]
    for until in (0.1, 0.3, 0.7, 1.2):  # the pattern changes at 0.6 s (a re-draw)
        runner.advance(until)
        held.append(_check_segments(runner.arrays))
    assert held[0] > 100_000 and held[-1] < held[0]
