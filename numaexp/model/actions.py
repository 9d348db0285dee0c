"""Run-time actions: changes applied at a given simulated time.

A scenario may carry a timeline of actions so that transitions can be
studied (e.g. enabling ``cpu.numa_load_balance`` of a cgroup at t = 30 s).
Actions are applied between ticks, in time order (ties in list order).
"""

from __future__ import annotations

from dataclasses import dataclass

from numaexp.errors import ScenarioError
from numaexp.model.cgroups import check_cgroup_path
from numaexp.model.checks import MAX_SECONDS, check_ids, check_number, check_text
from numaexp.model.params import runtime_tunables

ACTION_KINDS = ("numa_balancing", "numa_load_balance", "tunable", "move_task", "cpuset")
"""What an action may change."""

TUNABLES = tuple(runtime_tunables())
"""KernelConfig fields an action of kind ``tunable`` may set (the parameter table's
``runtime`` entries)."""


@dataclass(frozen=True)
class Action:
    """One change at simulated time ``at_s``.

    Parameters
    ----------
    at_s : float
        Simulated seconds from the start (>= 0).
    kind : str
        ``numa_balancing`` (write ``value`` to ``kernel.numa_balancing``),
        ``numa_load_balance`` (write ``value`` 0/1 to ``cgroup``'s
        ``cpu.numa_load_balance``), ``tunable`` (set KernelConfig field
        ``name`` to ``value``), ``move_task`` (move thread ``thread`` of
        process ``process`` to ``cgroup``; ``thread`` empty moves every thread
        of the process), ``cpuset`` (set ``cgroup``'s ``cpuset.cpus`` to
        ``cpus`` and/or ``cpuset.mems`` to ``mems``; tasks on CPUs no longer
        allowed are moved at once).
    cgroup : str
        Cgroup path (``numa_load_balance``, ``move_task``, ``cpuset``).
    process, thread : str
        Names of the process and thread (replica ``name.i``) for ``move_task``.
    name : str
        Tunable name for ``tunable``, one of :data:`TUNABLES`.
    value : int
        New value (mode, 0/1, tunable value within the tunable's bounds;
        ``demotion_enabled`` takes 0/1).
    cpus, mems : tuple of int
        New cpuset (empty: unchanged).
    """

    at_s: float
    kind: str
    cgroup: str = ""
    process: str = ""
    thread: str = ""
    name: str = ""
    value: int = 0
    cpus: tuple[int, ...] = ()
    mems: tuple[int, ...] = ()

    def __post_init__(self):
        check_number(self.at_s, "at_s", low=0, high=MAX_SECONDS, unit="s")
        object.__setattr__(self, "at_s", float(self.at_s))
        check_text(self, "kind", "cgroup", "process", "thread", "name")
        if self.kind not in ACTION_KINDS:
            raise ScenarioError("kind", f"unknown action {self.kind!r}", ", ".join(ACTION_KINDS))
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise ScenarioError("value", f"must be an integer (got {self.value!r})")
        object.__setattr__(self, "cpus", check_ids(self.cpus, "cpus"))
        object.__setattr__(self, "mems", check_ids(self.mems, "mems"))
        if self.kind == "numa_balancing" and not 0 <= self.value <= 4:
            raise ScenarioError("value", f"{self.value} is not a kernel.numa_balancing mode"
                                + (" (the sysctl rejects 5..7)" if 5 <= self.value <= 7 else ""),
                                "0, 1, 2, 3 or 4")
        if self.kind == "numa_load_balance" and self.value not in (0, 1):
            raise ScenarioError("value", f"cpu.numa_load_balance takes 0 or 1 (got {self.value})",
                                "0 or 1")
        if self.kind in ("numa_load_balance", "move_task", "cpuset") and not self.cgroup:
            raise ScenarioError("cgroup", f"a {self.kind} action needs a cgroup path",
                                'an absolute path such as "/mytest"')
        if self.cgroup:
            check_cgroup_path(self.cgroup, "cgroup")
        if self.kind == "move_task" and not self.process:
            raise ScenarioError("process", "a move_task action needs a process name",
                                "the name of a process of the workload")
        if self.kind == "tunable":
            if self.name not in TUNABLES:
                raise ScenarioError("name", f"unknown tunable {self.name!r}", ", ".join(TUNABLES))
            param = runtime_tunables()[self.name]
            if param.kind == "bool" and self.value not in (0, 1):
                raise ScenarioError("value", f"{self.name} takes 0 or 1 (got {self.value})",
                                    "0 or 1")
            param.check(bool(self.value) if param.kind == "bool" else self.value, "value")
        if self.kind == "cpuset" and not (self.cpus or self.mems):
            raise ScenarioError("cpus", "a cpuset action needs cpus and/or mems",
                                "non-empty lists of CPU or node ids")
