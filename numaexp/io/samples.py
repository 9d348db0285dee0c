"""Parsed guest or machine state at one instant, the input of :mod:`numaexp.io.frames`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Task:
    """A task (thread) the frames describe.

    Attributes
    ----------
    process, thread : str
        Names (the scenario's, or ``comm`` and the tid for a real machine).
    tgid, tid : int
        Process and thread ids.
    cgroup : str
        cgroup v2 path.
    """

    process: str
    thread: str
    tgid: int
    tid: int
    cgroup: str


@dataclass(frozen=True)
class Mapping:
    """A VMA of a process, located by its start address in ``numa_maps``."""

    process: str
    vma: str
    tgid: int
    start: int
    bytes: int


@dataclass
class Sample:
    """Everything read at one instant.

    Attributes
    ----------
    time_s : float
        Seconds since the first sample.
    vmstat : dict of str to int
        ``/proc/vmstat``.
    meminfo : dict of int to dict
        Node -> ``nodeN/meminfo`` fields (bytes).
    node_vmstat : dict of int to dict
        Node -> ``nodeN/vmstat`` counters.
    numa_maps : dict of int to list of dict
        tgid -> parsed ``numa_maps``.
    task_stat : dict of int to dict
        tid -> parsed ``task/<tid>/stat``.
    work : dict of int to tuple
        tid -> (touches, done, finish time s or -1): the executor's counters.
    cgroups : dict of str to dict
        cgroup path -> file name (``memory.stat``, ``memory.numa_stat``,
        ``cpu.stat``) -> parsed content.
    """

    time_s: float
    vmstat: dict = field(default_factory=dict)
    meminfo: dict = field(default_factory=dict)
    node_vmstat: dict = field(default_factory=dict)
    numa_maps: dict = field(default_factory=dict)
    task_stat: dict = field(default_factory=dict)
    work: dict = field(default_factory=dict)
    cgroups: dict = field(default_factory=dict)
