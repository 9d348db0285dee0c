"""Kernel time charged to tasks, by account (``codes.SYS_*``)."""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.codes import SYS_STOLEN
from numaexp.sim.engine.jit import jit_inline


@jit_inline
def charge(s, t, ns, account):
    """Charge ``ns`` of kernel time to task ``t`` under ``account`` (a ``codes.SYS_*``).

    It is system time, paid from the task's next ticks (``debt``).
    """
    cost = np.int64(ns)
    s.tk.stime[t] += cost
    s.tk.debt[t] += cost
    s.tk_sys[t, account] += cost


@jit_inline
def steal(s, t, ns):
    """Take ``ns`` from task ``t``'s next ticks for an interrupt it did not ask for.

    Paid like kernel work (``debt``) but not system time: it goes to the
    ``SYS_STOLEN`` account (``stolen_s``).
    """
    cost = np.int64(ns)
    s.tk.debt[t] += cost
    s.tk_sys[t, SYS_STOLEN] += cost
