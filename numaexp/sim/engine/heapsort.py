"""In-place heap sort for jitted code (numba's ``np.sort`` needs its runtime, which the
kernels go without, and allocates)."""

from __future__ import annotations

from numaexp.sim.engine.jit import jit, jit_inline


@jit
def heapsort(key, n, idx=None):
    """Sort ``key[:n]`` ascending in place, carrying ``idx[:n]`` along when it is given.

    The sort is not stable: equal keys come out in the heap's order, the same for the
    same input. To sort descending, negate the keys.
    """
    for root in range(n // 2 - 1, -1, -1):
        _sift_down(key, idx, root, n)
    for end in range(n - 1, 0, -1):
        key[0], key[end] = key[end], key[0]
        if idx is not None:
            idx[0], idx[end] = idx[end], idx[0]
        _sift_down(key, idx, 0, end)


@jit_inline
def _sift_down(key, idx, root, n):
    """Restore the max-heap below ``root`` in ``key[:n]`` (``idx`` follows ``key``)."""
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and key[child + 1] > key[child]:
            child += 1
        if key[root] >= key[child]:
            return
        key[root], key[child] = key[child], key[root]
        if idx is not None:
            idx[root], idx[child] = idx[child], idx[root]
        root = child
