"""Real kernel files as numaexp frames.

Parsers of ``/proc/vmstat``, ``/proc/<pid>/sched`` and ``task/*/sched``,
``numa_maps``, cgroup ``memory.stat`` / ``memory.numa_stat`` / ``cpu.stat`` and
node ``meminfo`` (:mod:`numaexp.io.parsers`), and :func:`read_snapshot`,
which turns what the shipped ``numaexp-collect`` script gathers on a machine
(``numaexp collect --script`` prints it) into the frames ``simulate`` returns.
Malformed files raise :class:`SnapshotError` naming the file and line.
"""

from numaexp.io.errors import SnapshotError
from numaexp.io.parsers import (
    parse_cpu_stat,
    parse_cpulist,
    parse_flat,
    parse_node_meminfo,
    parse_numa_maps,
    parse_numa_stat,
    parse_sched,
    parse_task_stat,
    parse_vmstat,
)


def read_snapshot(path):
    """See :func:`numaexp.io.snapshot.read_snapshot`."""
    from numaexp.io.snapshot import read_snapshot as _read

    return _read(path)


__all__ = ["SnapshotError", "parse_cpu_stat", "parse_cpulist", "parse_flat",
           "parse_node_meminfo", "parse_numa_maps", "parse_numa_stat", "parse_sched",
           "parse_task_stat", "parse_vmstat", "read_snapshot"]
