"""RFC patch 2: the per-cgroup NUMA balancing gate (``tg_numa_balance_enabled``).

In ``kernel.numa_balancing`` mode 4 (NUMA_BALANCING_CGROUP) only tasks whose
cgroup has ``cpu.numa_load_balance = 1`` are balanced. The variants differ in
where the gate sits: rfc-v1 in ``task_tick_numa`` and ``task_numa_fault``,
rfc-v2 (and the hierarchical option) in ``task_numa_work`` and
``task_numa_fault``. The hierarchical option folds the ancestors' values into
``State.cg_nlb`` when the state is built or an action changes a value.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.kernel.constants import GATE_FAULT, GATE_NONE, NUMA_BALANCING_CGROUP


@jit_inline
def numa_balance_gate(mode, nlb_enabled, gate_site, site):
    """Does the RFC's gate let a task through at call site ``site``?

    Parameters
    ----------
    mode : int
        ``kernel.numa_balancing``.
    nlb_enabled : int
        The task's group's effective ``cpu.numa_load_balance`` (0 or 1).
    gate_site : int
        Where the variant checks it besides ``task_numa_fault``: GATE_NONE
        (mainline), GATE_TICK (rfc-v1) or GATE_WORK (rfc-v2, hierarchical).
    site : int
        The call site asking: GATE_TICK, GATE_WORK, or GATE_FAULT
        (``task_numa_fault``, gated in every RFC variant).

    Returns
    -------
    bool
        False when the variant gates ``site``, mode 4 is on and the group is off.
    """
    if gate_site == GATE_NONE or (site != GATE_FAULT and site != gate_site):
        return True
    return not (mode & NUMA_BALANCING_CGROUP and nlb_enabled == 0)


@jit_inline
def gate_allows(s, t, site):
    """:func:`numa_balance_gate` for task ``t`` at ``site`` (``tg_numa_balance_enabled``)."""
    return numa_balance_gate(s.p.mode, s.cg_nlb[s.tk.cgroup[t]], s.p.cgroup_gate, site)


def effective_numa_load_balance(cgroups, variant) -> np.ndarray:
    """``cpu.numa_load_balance`` as the gate sees it, per cgroup of ``cgroups``.

    ``cgroups`` is ``Workload.all_cgroups()`` (every path with its parents).

    The RFC reads each group's own value; the ``hierarchical`` variant also
    needs every ancestor below the root at 1 (the root's own value only
    governs the root's tasks).
    """
    own = {cg.path: cg.numa_load_balance for cg in cgroups}
    out = np.zeros(len(cgroups), dtype=np.int64)
    for i, cg in enumerate(cgroups):
        value = own[cg.path]
        if variant.cgroup == "hierarchical":
            parent = cg.parent
            while parent is not None and parent != "/":
                value &= own[parent]
                parent = parent.rsplit("/", 1)[0] or "/"
        out[i] = value
    return out
