"""What runs on the machine: cgroups and processes.

A workload is a set of processes (one ``mm`` each) placed in cgroups. Each
process maps VMAs and runs threads; each thread runs a list of phases, and each
phase is a set of access patterns over the process's VMAs. Those parts are
declared in their own modules and importable from here too:
:mod:`~numaexp.model.cgroups` (:class:`Cgroup`), :mod:`~numaexp.model.process`
(:class:`Process`, :class:`Thread`), :mod:`~numaexp.model.mappings`
(:class:`Vma`, :class:`MemPolicy`) and :mod:`~numaexp.model.phases`
(:class:`Phase`, :class:`Pattern`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model.cgroups import Cgroup
from numaexp.model.checks import check_text, store_items
from numaexp.model.mappings import MemPolicy, Vma
from numaexp.model.phases import Pattern, Phase
from numaexp.model.process import Process, Thread

__all__ = [
    "Cgroup",
    "MemPolicy",
    "Pattern",
    "Phase",
    "Process",
    "Thread",
    "Vma",
    "Workload",
]


@dataclass(frozen=True)
class Workload:
    """Everything that runs: cgroups and processes.

    Parameters
    ----------
    name : str
        Label used in results.
    processes : tuple of Process
        The processes.
    cgroups : tuple of Cgroup
        Cgroups with settings; a process's cgroup that is not listed is created
        with defaults, as are missing parents.
    description : str
        Free text.
    """

    name: str
    processes: tuple[Process, ...]
    cgroups: tuple[Cgroup, ...] = ()
    description: str = field(default="", compare=False)

    def __post_init__(self):
        check_text(self, "name", "description")
        processes, cgroups = store_items(
            self, processes=(Process, "a workload needs at least one process"),
            cgroups=(Cgroup, None))
        names = [p.name for p in processes]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ScenarioError(f"processes[{i}].name", f"duplicate process name {name!r}",
                                    "a name no other process has")
        paths = [c.path for c in cgroups]
        for i, path in enumerate(paths):
            if paths.index(path) != i:
                raise ScenarioError(f"cgroups[{i}].path", f"duplicate cgroup {path!r}",
                                    "each cgroup path listed once")

    def all_cgroups(self) -> tuple[Cgroup, ...]:
        """Every cgroup, parents first: the listed ones plus implicit ones."""
        by_path = {c.path: c for c in self.cgroups}
        wanted = set(by_path) | {p.cgroup for p in self.processes} | {"/"}
        for path in list(wanted):
            while path != "/":
                path = path.rsplit("/", 1)[0] or "/"
                wanted.add(path)
        ordered = sorted(wanted, key=lambda p: (0 if p == "/" else p.count("/"), p))
        return tuple(by_path.get(p, Cgroup(path=p)) for p in ordered)
