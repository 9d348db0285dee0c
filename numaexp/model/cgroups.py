"""Cgroups (v2) of a workload: paths, cpusets, and the cpusets in effect.

:class:`Cgroup` is one group with its settings; :func:`check_cgroup_path`
checks a path as cgroupfs would; :func:`effective_cpusets` resolves the
``cpuset.cpus`` / ``cpuset.mems`` inheritance on a machine, and
:func:`check_cpusets` checks the listed cpusets against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from numaexp.errors import ScenarioError
from numaexp.model.checks import NAME_RE, check_ids

if TYPE_CHECKING:
    from numaexp.model.machine import Machine
    from numaexp.model.workload import Workload


def check_cgroup_path(path: str, name: str) -> None:
    """Require an absolute cgroup path whose parts are names cgroupfs accepts.

    ``.`` and ``..`` parts are refused, as ``mkdir`` in cgroupfs refuses them
    (``/a/../a`` would otherwise be a second name of ``/a``).
    """
    allowed = ('an absolute path like "/" or "/batch/job1" (parts: letters, digits and '
               '_ . : + -, not . or ..)')
    if not isinstance(path, str) or not path.startswith("/") or (
            path != "/" and (path.endswith("/") or "//" in path
                             or not all(NAME_RE.match(p) for p in path[1:].split("/")))):
        raise ScenarioError(name, f"invalid cgroup path {path!r}", allowed)
    if path != "/" and any(part in (".", "..") for part in path[1:].split("/")):
        raise ScenarioError(name, f"invalid cgroup path {path!r}: cgroupfs has no directory "
                                  "named . or .. to create", allowed)


@dataclass(frozen=True)
class Cgroup:
    """A cgroup-v2 group.

    Parameters
    ----------
    path : str
        Absolute path, e.g. ``"/mytest"``; parents are created implicitly.
    cpus : tuple of int, optional
        ``cpuset.cpus`` (``None``: inherit the parent's).
    mems : tuple of int, optional
        ``cpuset.mems`` (``None``: inherit the parent's).
    numa_load_balance : int
        ``cpu.numa_load_balance`` (RFC patch 2), 0 or 1; only read in
        ``kernel.numa_balancing`` mode 4.
    """

    path: str
    cpus: tuple[int, ...] | None = None
    mems: tuple[int, ...] | None = None
    numa_load_balance: int = 0

    def __post_init__(self):
        check_cgroup_path(self.path, "path")
        for name in ("cpus", "mems"):
            value = getattr(self, name)
            if value is not None:
                ids = check_ids(value, name)
                if not ids:
                    raise ScenarioError(name, f"empty cpuset.{name}", "a non-empty list of ids")
                object.__setattr__(self, name, ids)
        if self.numa_load_balance not in (0, 1) or isinstance(self.numa_load_balance, bool):
            raise ScenarioError("numa_load_balance",
                                f"must be 0 or 1 (got {self.numa_load_balance!r})", "0 or 1")

    @property
    def parent(self) -> str | None:
        """Path of the parent group (``None`` for the root)."""
        if self.path == "/":
            return None
        head = self.path.rsplit("/", 1)[0]
        return head or "/"


def effective_cpusets(workload: Workload,
                      machine: Machine) -> dict[str, tuple[frozenset, frozenset]]:
    """Effective (cpus, mems) of every cgroup, after inheritance from parents."""
    out: dict[str, tuple[frozenset, frozenset]] = {}
    for cg in workload.all_cgroups():
        if cg.parent is None:
            cpus = frozenset(range(machine.nr_cpus))
            mems = frozenset(range(machine.nr_nodes))
        else:
            cpus, mems = out[cg.parent]
        out[cg.path] = (frozenset(cg.cpus) if cg.cpus is not None else cpus,
                        frozenset(cg.mems) if cg.mems is not None else mems)
    return out


def check_cpusets(workload: Workload, machine: Machine) -> dict[str, tuple[frozenset, frozenset]]:
    """Check the listed cgroups' cpusets on ``machine``; return :func:`effective_cpusets`.

    Every CPU and node id must exist, and each cpuset must be a subset of its
    parent's effective one. Errors name the field from the scenario
    (``workload.cgroups[i].cpus``).
    """
    ncpu, nnode = machine.nr_cpus, machine.nr_nodes
    for i, cg in enumerate(workload.cgroups):
        where = f"workload.cgroups[{i}]"
        if cg.cpus is not None and max(cg.cpus) >= ncpu:
            raise ScenarioError(f"{where}.cpus", f"CPU {max(cg.cpus)} does not exist",
                                f"CPU ids 0..{ncpu - 1}")
        if cg.mems is not None and max(cg.mems) >= nnode:
            raise ScenarioError(f"{where}.mems", f"node {max(cg.mems)} does not exist",
                                f"node ids 0..{nnode - 1}")
    effective = effective_cpusets(workload, machine)
    for i, cg in enumerate(workload.cgroups):
        if cg.parent is None:
            continue
        pcpus, pmems = effective[cg.parent]
        if cg.cpus is not None and not set(cg.cpus) <= pcpus:
            raise ScenarioError(f"workload.cgroups[{i}].cpus",
                                f"{sorted(set(cg.cpus) - pcpus)} outside the parent's cpuset",
                                f"a subset of {sorted(pcpus)}")
        if cg.mems is not None and not set(cg.mems) <= pmems:
            raise ScenarioError(f"workload.cgroups[{i}].mems",
                                f"{sorted(set(cg.mems) - pmems)} outside the parent's cpuset",
                                f"a subset of {sorted(pmems)}")
    return effective
