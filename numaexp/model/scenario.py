"""A complete experiment: machine + workload + kernel + costs + stop rule + seed.

:class:`Scenario` checks each of its fields, then calls
:func:`~numaexp.model.validate.validate_scenario` for everything that involves
more than one part (CPU ids against the machine, VMAs named by patterns,
memory against node sizes, ...), which raises one
:class:`~numaexp.errors.ScenarioError` naming the field, before the simulator
allocates anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model.actions import Action
from numaexp.model.background import Background
from numaexp.model.background import background as background_of
from numaexp.model.cgroups import effective_cpusets
from numaexp.model.checks import (
    check_instance,
    check_items,
    check_number,
    check_seconds,
    check_text,
)
from numaexp.model.costs import CostModel
from numaexp.model.kernel import KernelConfig
from numaexp.model.machine import Machine
from numaexp.model.validate import validate_scenario
from numaexp.model.workload import Workload

__all__ = ["Scenario", "Stop", "effective_cpusets"]


@dataclass(frozen=True)
class Stop:
    """When a run ends.

    Parameters
    ----------
    kind : {"work", "duration"}
        ``"work"``: when every thread has finished its phases (mmtests style:
        elapsed time is the result). ``"duration"``: after ``duration_s`` of
        simulated time (throughput is the result).
    duration_s : float, optional
        Simulated seconds, for ``kind = "duration"`` (at most 1e6).
    max_duration_s : float
        Safety limit for ``"work"`` runs: the run stops there and reports the
        threads that had not finished (at most 1e6 s).
    """

    kind: str = "work"
    duration_s: float | None = None
    max_duration_s: float = 3600.0

    def __post_init__(self):
        if self.kind not in ("work", "duration"):
            raise ScenarioError("kind", f"unknown stop kind {self.kind!r}", '"work" or "duration"')
        if self.kind == "duration":
            check_seconds(self.duration_s, "duration_s")
        elif self.duration_s is not None:
            raise ScenarioError("duration_s", 'only used with kind = "duration"')
        check_seconds(self.max_duration_s, "max_duration_s")

    @property
    def limit_s(self) -> float:
        """The simulated time at which the run stops at the latest."""
        return self.duration_s if self.kind == "duration" else self.max_duration_s


@dataclass(frozen=True)
class Scenario:
    """Everything one simulation run needs.

    Parameters
    ----------
    name : str
        Label used in results.
    machine : Machine
    workload : Workload
    kernel : KernelConfig
    costs : CostModel
    stop : Stop
    seed : int
        Seed of every random draw; same scenario and seed give identical results.
    sample_interval_s : float
        Interval of the counter time series, simulated seconds; at least one
        tick (``1 / kernel.hz``: 4 ms at HZ 250).
    description : str
        Free text.
    actions : tuple of Action
        Changes applied during the run (see :mod:`numaexp.model.actions`).
    background : Background or str
        What else runs on the machine (:mod:`numaexp.model.background`): a
        preset name (``"quiet"``, the default; ``"busy"``; ``"none"``) or a
        :class:`~numaexp.model.background.Background`.
    """

    name: str
    machine: Machine
    workload: Workload
    kernel: KernelConfig = field(default_factory=KernelConfig)
    costs: CostModel = field(default_factory=CostModel)
    stop: Stop = field(default_factory=Stop)
    seed: int = 0
    sample_interval_s: float = 1.0
    description: str = field(default="", compare=False)
    actions: tuple[Action, ...] = ()
    background: Background | str = "quiet"

    def __post_init__(self):
        check_text(self, "name", "description")
        object.__setattr__(self, "background", background_of(self.background))
        for name, kind in (("machine", Machine), ("workload", Workload), ("kernel", KernelConfig),
                           ("costs", CostModel), ("stop", Stop)):
            check_instance(getattr(self, name), name, kind)
        object.__setattr__(self, "actions", check_items(self.actions, "actions", Action))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) \
                or not 0 <= self.seed < 2**63:
            raise ScenarioError("seed", f"must be an integer in [0, 2**63) (got {self.seed!r})")
        # One sample per tick at most: the run advances tick by tick, so a
        # shorter interval repeats rows (and 1e-7 s takes forever).
        tick_s = 1 / self.kernel.hz
        tick = f"one tick, {tick_s * 1000:g} ms at kernel.hz = {self.kernel.hz}"
        check_number(self.sample_interval_s, "sample_interval_s", low=0, low_open=True, unit="s",
                     allowed=f"a finite number of seconds >= {tick}")
        if self.sample_interval_s < tick_s:
            raise ScenarioError("sample_interval_s",
                                f"{self.sample_interval_s!r} s is shorter than {tick}: the run "
                                "advances tick by tick, so samples would repeat",
                                f"a finite number of seconds >= {tick}")
        validate_scenario(self)

    @property
    def memory_pages(self) -> int:
        """Distinct pages the workload maps (shared objects counted once)."""
        return sum(pages for pages in _object_pages(self.workload).values())


def _object_pages(workload: Workload) -> dict[str, int]:
    objects: dict[str, int] = {}
    for p in workload.processes:
        for v in p.vmas:
            key = f"obj:{v.object}" if v.object else f"{p.name}:{v.name}"
            objects[key] = v.pages
    return objects
