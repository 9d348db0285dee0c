"""Per-node watermarks, computed like ``mm/page_alloc.c`` does.

Departure: one zone per node (the kernel splits low memory into DMA/DMA32
zones; on large machines those hold a negligible share).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from numaexp.model.kernel import KernelConfig
from numaexp.model.machine import Machine
from numaexp.model.units import PAGE_SIZE


@dataclass(frozen=True)
class Watermarks:
    """Watermarks of each node, in pages.

    Attributes
    ----------
    min, low, high, promo : tuple of int
        ``WMARK_MIN``, ``WMARK_LOW``, ``WMARK_HIGH``, ``WMARK_PROMO`` per node.
    """

    min: tuple[int, ...]
    low: tuple[int, ...]
    high: tuple[int, ...]
    promo: tuple[int, ...]


def min_free_kbytes(machine: Machine) -> int:
    """``calculate_min_free_kbytes``: ``int_sqrt(lowmem_kbytes * 16)`` in [128, 262144]."""
    lowmem_kbytes = machine.memory // 1024
    return max(128, min(262144, math.isqrt(lowmem_kbytes * 16)))


def watermarks(machine: Machine, kernel: KernelConfig) -> Watermarks:
    """``__setup_per_zone_wmarks`` for one zone per node.

    ``min`` is the node's share of ``min_free_kbytes``; LOW, HIGH and PROMO
    are spaced by ``max(min / 4, managed * watermark_scale_factor / 10000)``.
    """
    kbytes = kernel.min_free_kbytes or min_free_kbytes(machine)
    pages_min = kbytes // (PAGE_SIZE // 1024)
    total = sum(node.pages for node in machine.nodes)
    mins, lows, highs, promos = [], [], [], []
    for node in machine.nodes:
        wmin = pages_min * node.pages // total
        step = max(wmin // 4, node.pages * kernel.watermark_scale_factor // 10000)
        mins.append(wmin)
        lows.append(wmin + step)
        highs.append(wmin + 2 * step)
        promos.append(wmin + 3 * step)
    return Watermarks(tuple(mins), tuple(lows), tuple(highs), tuple(promos))
