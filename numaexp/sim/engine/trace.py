"""The events table: the simulator's tracepoints (``sched_move_numa``, ...)."""

from __future__ import annotations

from numaexp.sim.engine.jit import jit_inline


@jit_inline
def trace_event(s, time_ns, kind, task, a, b, c, d):
    """Append one event row; rows past the buffer's end are counted as dropped.

    The engine returns to Python to flush the buffer before it fills, so
    rows are dropped only if one tick alone overflows it.
    """
    ev = s.ev
    i = s.ev_count[0]
    if i >= len(ev):
        s.ev_count[1] += 1
        return
    ev.time[i] = time_ns
    ev.kind[i] = kind
    ev.task[i] = task
    ev.a[i] = a
    ev.b[i] = b
    ev.c[i] = c
    ev.d[i] = d
    s.ev_count[0] = i + 1
