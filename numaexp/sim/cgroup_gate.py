"""RFC patch 2: the per-cgroup NUMA balancing gate (``tg_numa_balance_enabled``).

In ``kernel.numa_balancing`` mode 4 (NUMA_BALANCING_CGROUP) only tasks whose
cgroup has ``cpu.numa_load_balance = 1`` are balanced. The variants differ in
where the gate sits: rfc-v1 in ``task_tick_numa`` and ``task_numa_fault``,
rfc-v2 (and the hierarchical option) in ``task_numa_work`` and
``task_numa_fault``. The hierarchical option folds the ancestors' values into
``State.cg_nlb`` when the state is built or an action changes a value.
"""

from __future__ import annotations

from numaexp.sim.constants import NUMA_BALANCING_CGROUP
from numaexp.sim.jit import jit_inline


@jit_inline
def tg_numa_balance_enabled(s, t):
    """``tg_numa_balance_enabled``: False when mode 4 is on and ``t``'s group is off."""
    if s.p.mode & NUMA_BALANCING_CGROUP and s.cg_nlb[s.tk.cgroup[t]] == 0:
        return False
    return True


@jit_inline
def gate_allows(s, t, site):
    """The gate of variant ``s.p.cgroup_gate`` at call site ``site`` (a GATE_* value)."""
    if s.p.cgroup_gate != site:
        return True
    return tg_numa_balance_enabled(s, t)
