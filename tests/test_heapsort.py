"""The one heap sort the jitted code uses (``sim/engine/heapsort.py``) against ``np.sort``."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from numaexp.sim.engine.heapsort import heapsort

VALUES = st.lists(st.integers(-50, 50), max_size=60)


@settings(deadline=None)
@given(values=VALUES, tail=st.integers(0, 5))
def test_sorts_the_first_n_ascending_and_leaves_the_rest(values, tail):
    a = np.array(values + [99] * tail, dtype=np.int64)
    heapsort(a, len(values))
    assert list(a[:len(values)]) == sorted(values)
    assert list(a[len(values):]) == [99] * tail


@settings(deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6), max_size=60))
def test_carried_indices_follow_their_keys(values):
    key = np.array(values, dtype=np.float64)
    idx = np.arange(len(values), dtype=np.int64)
    heapsort(key, len(values), idx)
    assert list(key) == sorted(values)
    assert sorted(idx) == list(range(len(values)))
    assert all(values[i] == k for i, k in zip(idx, key, strict=True))
