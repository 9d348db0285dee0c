"""The counter-based random numbers: values fixed by the seed and the key alone."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from numaexp.sim.engine.rng import rand_u01, rand_u64, seed_key

MASK = (1 << 64) - 1
GOLDEN, M1, M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def mix64_reference(z: int) -> int:
    """splitmix64's finaliser on Python ints."""
    z &= MASK
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def rand_u64_reference(seed: int, a: int, b: int, c: int) -> int:
    """The hash of (seed, a, b, c), all four rounds, as the simulator has always drawn it."""
    h = mix64_reference(seed + GOLDEN)
    h = mix64_reference(h ^ ((a * GOLDEN) & MASK))
    h = mix64_reference(h ^ ((b + GOLDEN * 3) & MASK))
    return mix64_reference(h ^ ((c * M2) & MASK))


counters = st.integers(min_value=0, max_value=2**40)


@settings(deadline=None)  # the first call compiles rand_u64 for Python callers
@given(seed=st.integers(min_value=0, max_value=2**62), a=counters, b=counters, c=counters)
def test_draws_from_the_seed_key_equal_the_four_round_hash(seed, a, b, c):
    key = seed_key(seed)
    assert 0 <= key <= MASK
    assert int(rand_u64(np.uint64(key), a, b, c)) == rand_u64_reference(seed, a, b, c)
    u = rand_u01(np.uint64(key), a, b, c)
    assert 0.0 < u < 1.0
    assert u == ((rand_u64_reference(seed, a, b, c) >> 11) + 0.5) / 2.0**53


def test_a_run_stores_the_key_of_its_seed():
    from numaexp.model.presets import default_scenario
    from numaexp.sim.engine.runner import Runner

    sc = default_scenario()
    p = Runner(sc).arrays.p
    assert int(p["seed_key"]) == seed_key(sc.seed)
