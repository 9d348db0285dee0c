"""The kernels' state: Python owns it, compiled kernels borrow it."""

from __future__ import annotations

import dataclasses as dc
import gc
import weakref

import numba
import pytest

from numaexp.model.presets import default_scenario
from numaexp.sim.engine.runner import Runner
from numaexp.sim.engine.state import KERNEL_STATE_TYPE

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="compiled kernels only")


def _scenario():
    sc = default_scenario()
    return dc.replace(sc, kernel=dc.replace(sc.kernel, numa_balancing=1))


def test_kernel_calls_leave_the_state_reference_count_alone():
    runner = Runner(_scenario())
    assert numba.typeof(runner.state) == KERNEL_STATE_TYPE
    meminfo = runner.state._owner._meminfo
    before = meminfo.refcount
    runner.advance(1.5)  # hundreds of ticks, each calling many kernels; scanning from 1 s
    assert runner.arrays.cnt_vm.sum() > 0
    assert meminfo.refcount == before


def test_state_and_its_arrays_are_freed_with_the_runner():
    runner = Runner(_scenario())
    runner.advance(0.05)
    pages = weakref.ref(runner.arrays.pg)
    owner = weakref.ref(runner.state._owner)
    del runner
    gc.collect()
    assert pages() is None
    assert owner() is None
