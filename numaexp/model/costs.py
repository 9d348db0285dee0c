"""Kernel-time costs charged to tasks: hinting faults, migrations, scanning, moves.

Every field, its default, unit, bounds and meaning are declared in the
parameter table (:data:`numaexp.model.params.PARAMS`, the ``costs.*``
entries); sources of the defaults are in
``shared/reference/workloads-and-costs.md``. All times are nanoseconds of CPU
time charged as system time to the task that caused them.
"""

from __future__ import annotations

from dataclasses import dataclass

from numaexp.model.params import MAX_COST_NS, check_fields, declare_fields

__all__ = ["MAX_COST_NS", "CostModel"]


@dataclass(frozen=True)
@declare_fields("costs")
class CostModel:
    """Costs of NUMA balancing work, ns of CPU time (one field per ``costs.*`` parameter).

    Parameters
    ----------"""

    def __post_init__(self):
        check_fields(self, "costs")
