"""``memset`` for the kernel structs the simulator keeps as rows of record arrays
(``struct sg_lb_stats``, ``struct numa_stats``, ...)."""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.jit import jit_inline


@jit_inline
def memset_row(rows, k):
    """``memset(&rows[k], 0, sizeof(rows[k]))``: every field of row ``k`` set to 0."""
    rows[k:k + 1].view(np.uint8)[:] = 0
