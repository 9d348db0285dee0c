"""Access patterns: which pages a stream touches and with what weight.

A stream covers ``n`` positions; position ``i`` is object page
``first + i * stride``. ``stream_weight`` gives the share of the stream's
touches that land on position ``i`` (weights of a stream sum to 1).

Kind parameters (``p1..p4`` in :class:`~numaexp.sim.engine.state.Streams`):

- uniform, sweep: ``p1`` = ``1/n``, the weight of every position (stored:
  a division per fault is slow);
- hotset: ``p1`` hot fraction, ``p2`` first hot position, ``p3`` hot positions;
- zipf: ``p1`` alpha, ``p2``/``p3`` multiplier/offset of the affine permutation
  that ranks positions, ``p4`` = 1 / H(n, alpha);
- gaussian: ``p1`` mean and ``p2`` sigma as fractions of the region, ``p3`` =
  1 / (Phi((1-mean)/sigma) - Phi(-mean/sigma)); a position's weight is the
  normal mass of its bin.
"""

from __future__ import annotations

import math

import numpy as np

from numaexp.sim.engine.codes import PAT_GAUSSIAN, PAT_HOTSET, PAT_ZIPF
from numaexp.sim.engine.jit import jit_inline


@jit_inline
def stream_position(st, s, off):
    """Position of object page ``off`` in stream ``s``, or -1 if not covered."""
    rel = off - st.first[s]
    if rel < 0:
        return -1
    stride = st.stride[s]
    if stride == 1:  # the common case, without the divisions
        return rel if rel < st.n[s] else -1
    if rel % stride != 0:
        return -1
    i = rel // stride
    if i >= st.n[s]:
        return -1
    return i


@jit_inline
def _phi(x):
    return 0.5 * (1.0 + math.erf(x * 0.7071067811865476))


@jit_inline
def stream_weight(st, s, i):
    """Share of stream ``s``'s touches that land on position ``i`` (0 <= i < n)."""
    n = st.n[s]
    kind = st.kind[s]
    if kind == PAT_HOTSET:
        hot_first = np.int64(st.p2[s])
        hot_n = np.int64(st.p3[s])
        frac = st.p1[s]
        if hot_first <= i < hot_first + hot_n:
            return frac / hot_n
        if n == hot_n:
            return 0.0
        return (1.0 - frac) / (n - hot_n)
    if kind == PAT_ZIPF:
        rank = (np.int64(st.p2[s]) * i + np.int64(st.p3[s])) % n
        return (rank + 1.0) ** (-st.p1[s]) * st.p4[s]
    if kind == PAT_GAUSSIAN:
        mean = st.p1[s]
        sigma = st.p2[s]
        lo = (i / n - mean) / sigma
        hi = ((i + 1.0) / n - mean) / sigma
        return (_phi(hi) - _phi(lo)) * st.p3[s]
    return st.p1[s]  # 1.0 / n


def zipf_norm(n: int, alpha: float) -> float:
    """H(n, alpha) = sum_{k=1..n} k^-alpha (exact below 2**22 terms, Euler-Maclaurin above)."""
    cut = min(n, 1 << 22)
    head = float(np.sum(np.arange(1, cut + 1, dtype=np.float64) ** -alpha))
    if n == cut:
        return head

    def integral(a: float, b: float) -> float:
        if abs(alpha - 1.0) < 1e-12:
            return math.log(b / a)
        return (b ** (1 - alpha) - a ** (1 - alpha)) / (1 - alpha)

    # sum_{k=cut+1..n} k^-a ~ integral + end corrections (Euler-Maclaurin, 2 terms)
    tail = integral(cut + 1, n) + 0.5 * ((cut + 1) ** -alpha + n ** -alpha)
    tail += alpha / 12 * ((cut + 1) ** (-alpha - 1) - n ** (-alpha - 1))
    return head + tail


def gaussian_norm(mean: float, sigma: float) -> float:
    """1 / (normal mass of [0, 1]) for the given mean and sigma."""
    def phi(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
    mass = phi((1.0 - mean) / sigma) - phi(-mean / sigma)
    return 1.0 / mass


def zipf_permutation(n: int, key: int) -> tuple[int, int]:
    """Multiplier and offset of an affine bijection of ``range(n)`` drawn from ``key``."""
    rng = np.random.default_rng(key)
    if n == 1:
        return 1, 0
    while True:
        a = int(rng.integers(1, n))
        if math.gcd(a, n) == 1:
            return a, int(rng.integers(0, n))
