"""When is a page touched next? Exact first-access sampling.

A page that is not present, or was made PROT_NONE, faults at its next
access. Random streams touch a page as a Poisson process of rate
``rate(task) * share * weight``: the next access is drawn once, from the
upper bound ``max_rate`` of each task's rate, and accepted at its time with
probability ``rate / max_rate`` (thinning, exact for time-varying rates).
Sweeps touch pages deterministically: the page waits in the sweep bucket of
its position and faults when a sweeper passes it.
"""

from __future__ import annotations

import math

import numpy as np

from numaexp.sim.access import stream_position, stream_weight
from numaexp.sim.constants import CLK_TICK, PAT_SWEEP, RNG_FAULT_TIME
from numaexp.sim.jit import jit, jit_inline
from numaexp.sim.lists import list_push
from numaexp.sim.rng import rand_u01
from numaexp.sim.segindex import find_segment, page_object


@jit_inline
def sweep_position(s, t, n):
    """Next position task ``t``'s sweep will touch, in a region of ``n`` positions."""
    return np.int64(s.tk.progress[t]) % n


@jit
def schedule_page(s, page, salt):
    """Queue ``page`` for its next access (it must not be queued).

    Parameters
    ----------
    s : State
    page : int
        Global page index (not present, or PROT_NONE).
    salt : int
        Distinguishes draws made for the same page in the same tick.

    Returns
    -------
    bool
        False if no active stream covers the page (it waits unqueued until a
        phase change covers it).
    """
    o = page_object(s, page)
    off = page - s.ob.first[o]
    seg = find_segment(s, o, off)
    region = s.sg_region[seg]
    if not s.sg_random[seg] and region >= 0:
        # only sweeps of one region cover the page: its bucket, if on a touched position
        rel = off - s.rg.first[region]
        if rel % s.rg.stride[region] != 0:
            return False
        i = rel // s.rg.stride[region]
        lst = s.p.sweep_list_base + s.rg.bucket_first[region] + (i >> s.p.sweep_shift)
        list_push(s, lst, page)
        return True
    lam_max = 0.0
    best_t = math.inf
    best_region = -1
    best_pos = 0
    for k in range(s.sg_list_first[seg], s.sg_list_first[seg + 1]):
        st = s.sg_streams[k]
        i = stream_position(s.st, st, off)
        if i < 0:
            continue
        t = s.st.task[st]
        if s.st.kind[st] == PAT_SWEEP:
            n = s.st.n[st]
            d = (i - sweep_position(s, t, n)) % n
            rate = s.tk.rate[t]
            if rate <= 0.0:
                rate = s.tk.max_rate[t]
            est = d / rate
            if est < best_t:
                best_t = est
                best_region = s.st.region[st]
                best_pos = i
        else:
            lam_max += s.tk.max_rate[t] * s.st.share[st] * stream_weight(s.st, st, i)
    tick = s.clk[CLK_TICK]
    dt = math.inf
    if lam_max > 0.0:
        u = rand_u01(s.p.seed, page, tick, RNG_FAULT_TIME * 1024 + salt)
        dt = -math.log(u) / lam_max
    if dt == math.inf and best_region < 0:
        return False
    if dt <= best_t:
        due = tick + 1 + np.int64(dt / s.p.tick_ns)
        if due - tick >= s.p.ring_size:
            list_push(s, s.p.far_list, page)
        else:
            list_push(s, due & (s.p.ring_size - 1), page)
    else:
        lst = s.p.sweep_list_base + s.rg.bucket_first[best_region] + (best_pos >> s.p.sweep_shift)
        list_push(s, lst, page)
    return True
