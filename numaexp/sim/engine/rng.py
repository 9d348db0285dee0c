"""Counter-based random numbers: a draw is a pure function of its key.

``rand_u01(key, a, b, c)`` hashes ``(seed, a, b, c)`` with the splitmix64
finaliser, so a draw never depends on how many draws came before it or on
which thread made it: results are identical for a given seed whatever the
thread count or processing order. ``key`` is :func:`seed_key` of the seed,
the hash's first round, computed once per run (``p.seed_key``) rather than
in every draw.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.jit import jit_inline

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1


def seed_key(seed: int) -> int:
    """The first round of every draw's hash, ``mix64(seed + golden)``, as a Python int.

    Parameters
    ----------
    seed : int
        The scenario's seed (>= 0).

    Returns
    -------
    int
        The key that :func:`rand_u64` and :func:`rand_u01` take, in [0, 2**64).
    """
    z = (seed + int(_GOLDEN)) & _MASK64
    z = ((z ^ (z >> 30)) * int(_M1)) & _MASK64
    z = ((z ^ (z >> 27)) * int(_M2)) & _MASK64
    return z ^ (z >> 31)


@jit_inline
def mix64(z):
    """splitmix64 finaliser of a uint64."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@jit_inline
def rand_u64(key, a, b, c):
    """Random uint64 keyed by the seed (its :func:`seed_key`) and three integers."""
    h = mix64(np.uint64(key) ^ (np.uint64(a) * _GOLDEN))
    h = mix64(h ^ (np.uint64(b) + _GOLDEN * np.uint64(3)))
    return mix64(h ^ (np.uint64(c) * _M2))


@jit_inline
def rand_u01(key, a, b, c):
    """Random float in (0, 1), keyed by the seed (its :func:`seed_key`) and three integers."""
    return (np.float64(rand_u64(key, a, b, c) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
