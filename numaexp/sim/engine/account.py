"""Kernel time charged to tasks."""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.jit import jit_inline


@jit_inline
def charge(s, t, ns):
    """Charge ``ns`` of kernel time to task ``t`` (system time, paid from its next ticks)."""
    cost = np.int64(ns)
    s.tk.stime[t] += cost
    s.tk.debt[t] += cost
