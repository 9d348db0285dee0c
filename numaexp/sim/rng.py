"""Counter-based random numbers: a draw is a pure function of its key.

``rand_u01(seed, a, b, c)`` hashes ``(seed, a, b, c)`` with the splitmix64
finaliser, so a draw never depends on how many draws came before it or on
which thread made it: results are identical for a given seed whatever the
thread count or processing order.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.jit import jit_inline

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@jit_inline
def mix64(z):
    """splitmix64 finaliser of a uint64."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@jit_inline
def rand_u64(seed, a, b, c):
    """Random uint64 keyed by the seed and three integers."""
    h = mix64(np.uint64(seed) + _GOLDEN)
    h = mix64(h ^ (np.uint64(a) * _GOLDEN))
    h = mix64(h ^ (np.uint64(b) + _GOLDEN * np.uint64(3)))
    return mix64(h ^ (np.uint64(c) * _M2))


@jit_inline
def rand_u01(seed, a, b, c):
    """Random float in (0, 1), keyed by the seed and three integers."""
    return (np.float64(rand_u64(seed, a, b, c) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
