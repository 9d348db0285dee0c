"""What the kernel mirrors call at a decision point a policy may take over.

The slots follow :data:`numaexp.model.policy.DECISIONS`. A kernel mirror
asks :func:`policy_decides`; if so it fills the context record (the common
fields with :func:`decision_context` or :func:`fault_context`, then its
own), calls ``s.pol[slot](s.pol_ctx, s.pol_mem)`` and checks the result
with :func:`checked_policy_result` where only some values are allowed. A
value out of range is recorded (``clk[CLK_POLICY_ERROR]``) and replaced by
the kernel's own choice; the run stops at the end of the tick and Python
raises an error naming the policy and the value.
"""

from __future__ import annotations

from numaexp.model.policy import DECISIONS
from numaexp.sim.engine.codes import CLK_POLICY_ERROR, CLK_POLICY_TICK, CLK_POLICY_VALUE, CLK_TICK
from numaexp.sim.engine.jit import jit_inline

_SLOTS = [d.name for d in DECISIONS]
POLICY_PROMOTE = _SLOTS.index("promote")
POLICY_SHOULD_MIGRATE = _SLOTS.index("should_migrate")
POLICY_SCAN_PERIOD = _SLOTS.index("scan_period")
POLICY_PLACE_TASK = _SLOTS.index("place_task")


@jit_inline
def policy_decides(s, slot):
    """A user's policy holds ``slot`` in this run."""
    return (s.p.policy_mask >> slot) & 1 == 1


@jit_inline
def decision_context(s, t, now_ms):
    """The context record with the fields every decision has (task ``t`` at ``now_ms``)."""
    c = s.pol_ctx[0]
    c.now_ms = now_ms
    c.task = t
    c.pid = s.tk.pid[t]
    c.nr_nodes = s.p.nr_nodes
    c.nr_cpus = s.p.nr_cpus
    return c


@jit_inline
def fault_context(s, t, page, nr, src_nid, dst_nid, dst_cpu, now_ms):
    """The context record of a fault of task ``t`` on the folio at ``page`` (``nr`` pages)."""
    c = decision_context(s, t, now_ms)
    c.page = page
    c.nr_pages = nr
    c.src_nid = src_nid
    c.dst_nid = dst_nid
    c.dst_cpu = dst_cpu
    return c


@jit_inline
def policy_error(s, slot, value):
    """Record that the policy of ``slot`` returned ``value``, which it may not (first one kept)."""
    if s.clk[CLK_POLICY_ERROR] == 0:
        s.clk[CLK_POLICY_ERROR] = slot + 1
        s.clk[CLK_POLICY_VALUE] = value
        s.clk[CLK_POLICY_TICK] = s.clk[CLK_TICK]


@jit_inline
def checked_policy_result(s, slot, value, low, high, fallback):
    """``value`` if within ``[low, high]``, else ``fallback`` with the error recorded."""
    if value < low or value > high:
        policy_error(s, slot, value)
        return fallback
    return value
