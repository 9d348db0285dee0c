"""Engine mechanisms against plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numaexp.model import Scenario, Stop, two_socket
from numaexp.model.presets import random_access
from numaexp.sim.engine.codes import GUIDE_CELLS
from numaexp.sim.engine.delivery import build_row_guide, pick_row_stream
from numaexp.sim.engine.runner import Runner

THREADS = 8


@pytest.fixture(scope="module")
def runner():
    machine = two_socket(cpus_per_node=4, memory_per_node="1 GiB")
    workload = random_access(machine, memory="64 MiB", threads=THREADS, duration_s=1000)
    r = Runner(Scenario(name="pick", machine=machine, workload=workload,
                        stop=Stop(kind="duration", duration_s=1.0)))
    r.advance(0.01)
    return r


def _reference_pick(sums, last, streams, x, default):
    """The first stream whose running sum exceeds ``x``, by a linear scan."""
    for q, total in enumerate(sums):
        if total > x:
            return streams[q]
    return last[-1] if last[-1] >= 0 else default


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(st.sampled_from([0.0, 0.25, 1.0, 3.0]) | st.floats(0.0, 10.0),
                        min_size=THREADS, max_size=THREADS),
       fraction=st.floats(-0.1, 1.1), pick_a_sum=st.booleans(),
       stale_guide=st.none() | st.lists(st.integers(0, THREADS - 1), min_size=GUIDE_CELLS * THREADS,
                                         max_size=GUIDE_CELLS * THREADS))
def test_pick_row_stream_is_the_first_running_sum_above_x(runner, weights, fraction,
                                                          pick_a_sum, stale_guide):
    """Whatever the guide table says (even a stale one), the pick is the linear scan's."""
    a = runner.arrays
    row = 0
    lo = int(a.mr["first"][row])
    count = int(a.mr["count"][row])
    assert count == THREADS  # the threads share one mass row
    streams = a.mr_streams[lo:lo + count].copy()
    sums = np.zeros(count)
    last = np.full(count, -1, dtype=np.int64)
    acc, prev = 0.0, -1
    for q, w in enumerate(weights):
        if w > 0.0:
            acc += w
            prev = int(streams[q])
        sums[q] = acc
        last[q] = prev
    a.tmp_pick[0, lo:lo + count] = sums
    a.tmp_pick[1, lo:lo + count] = last
    build_row_guide(runner.state, row)
    if stale_guide is not None:
        a.tmp_guide[GUIDE_CELLS * lo:GUIDE_CELLS * (lo + count)] = lo + np.array(stale_guide)
    x = float(sums[int(fraction * (count - 1)) % count]) if pick_a_sum else fraction * acc
    expected = _reference_pick(sums, last, streams, x, -7)
    assert pick_row_stream(runner.state, row, x, -7) == expected
