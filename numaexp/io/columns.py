"""Column names of the frames, derived from the readout table (:mod:`numaexp.readout`).

The kernel backend and the snapshot readers fill the same frames as
:func:`numaexp.simulate`; the names come from the one declaration, which
imports nothing of the simulator.
"""

from __future__ import annotations

from numaexp.readout import FRAMES, MEMCG_SPECS, TASK_LABELS, VMSTAT_SPECS


def _names(frame: str, *, skip=()) -> tuple[str, ...]:
    return tuple(c.name for c in FRAMES[frame].columns if c not in skip and not c.per_node)


VMSTAT = tuple(name for name, _, _ in VMSTAT_SPECS)
"""``vmstat`` columns (the last three are the simulator's own: NA from a kernel)."""

NODE_VMSTAT = tuple(c.name for c in FRAMES["timeseries"].columns
                    if c.per_node and c.source.startswith("cnt_node_vm["))
"""Per-node counters of ``timeseries`` (``/sys/devices/system/node/nodeN/vmstat``)."""

MEMCG = tuple(name for name, _, _ in MEMCG_SPECS)
"""``memory_stat`` counter columns (``memory.stat`` names)."""

SCHED = _names("sched", skip=TASK_LABELS)
"""``sched`` columns after ``process, thread, pid, cgroup`` (then per-node fault columns)."""

TASK_TIMESERIES = _names("task_timeseries")
"""``task_timeseries`` columns."""

EVENTS = _names("events")
"""``events`` columns."""

TIMES = _names("times")
"""``times`` columns."""


def node_name(node: int) -> str:
    """Column suffix of a node, ``N0``, ``N1``, ..."""
    return f"N{node}"


def fault_columns(nodes) -> list[str]:
    """Per-node ``numa_faults`` columns of ``sched``, in the readout table's order."""
    names = [node_name(n) for n in nodes]
    return [name for c in FRAMES["sched"].columns if c.per_node for name in c.names(names)]
