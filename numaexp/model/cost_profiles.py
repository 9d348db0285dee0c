"""Named cost profiles: a :class:`CostModel` plus the access rates of a machine.

A profile is a TOML file (``numaexp/data/costs/<name>.toml``, shipped inside
the package and found through :mod:`importlib.resources`, or any path) with a
``[costs]`` table of :class:`CostModel` fields (ns) and a ``[rates]`` table:
``stream_gbps`` (per-thread sweep bandwidth, GB/s) and optionally ``think_ns``
(random accesses). ``flat_latency = true`` says that where memory is makes no
difference to speed on that machine (a QEMU TCG guest: remote accesses cost
what local ones do), so the simulated machine gets one latency for every pair
of nodes.

``numaexp calibrate`` writes profiles; :func:`apply_profile` puts one on a
scenario.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import tomli_w

from numaexp.errors import ScenarioError
from numaexp.model.costs import CostModel
from numaexp.model.scenario import Scenario

PROFILE_PACKAGE = ("numaexp", "data/costs")
"""Where the named profiles live: package data of ``numaexp`` (``numaexp/data/costs``,
listed in ``pyproject.toml``'s ``package-data``, so that an installed wheel has them)."""


def _shipped() -> dict:
    """The shipped profiles: name -> importlib.resources Traversable of its TOML file."""
    package, sub = PROFILE_PACKAGE
    root = resources.files(package)
    for part in sub.split("/"):
        root = root / part
    if not root.is_dir():
        return {}
    return {f.name[:-len(".toml")]: f for f in root.iterdir()
            if f.name.endswith(".toml") and f.is_file()}


@dataclass(frozen=True)
class CostProfile:
    """A fitted cost model and access rate.

    Attributes
    ----------
    name : str
    costs : CostModel
        Per-event kernel costs, ns.
    stream_gbps : float
        Per-thread sweep bandwidth, GB/s.
    think_ns : float, optional
        CPU time per random access besides the memory stall, ns.
    flat_latency : bool
        Remote memory costs what local memory does (QEMU TCG).
    description : str
    fit : dict
        How it was fitted (kernel, probes, residuals).
    """

    name: str
    costs: CostModel
    stream_gbps: float
    think_ns: float | None = None
    flat_latency: bool = False
    description: str = ""
    fit: dict = field(default_factory=dict)

    def to_toml(self) -> str:
        """The profile as TOML text."""
        data = {"name": self.name, "description": self.description,
                "flat_latency": self.flat_latency,
                "costs": dataclasses.asdict(self.costs),
                "rates": {"stream_gbps": self.stream_gbps}}
        if self.think_ns is not None:
            data["rates"]["think_ns"] = self.think_ns
        if self.fit:
            data["fit"] = self.fit
        return tomli_w.dumps(data)

    def save(self, path: str | Path) -> Path:
        """Write the profile to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_toml())
        return path


def available_profiles() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(_shipped())


def load_profile(name_or_path: str | Path) -> CostProfile:
    """A profile by name (``"qemu-tcg"``) or path.

    Raises
    ------
    ScenarioError
        Unknown name (the shipped ones are listed) or a malformed file.
    """
    path = Path(name_or_path)
    if not path.is_file():
        shipped = _shipped()
        if str(name_or_path) not in shipped:
            raise ScenarioError("profile", f"no cost profile {str(name_or_path)!r}",
                                ", ".join(sorted(shipped)) + " or a .toml path")
        path = shipped[str(name_or_path)]  # a Traversable: read_text and name, like a Path
    stem = path.name[:-len(".toml")] if path.name.endswith(".toml") else path.name
    try:
        data = tomllib.loads(path.read_text())
        costs = CostModel(**data["costs"])
        rates = data["rates"]
        return CostProfile(name=data.get("name", stem), costs=costs,
                           stream_gbps=float(rates["stream_gbps"]),
                           think_ns=rates.get("think_ns"),
                           flat_latency=bool(data.get("flat_latency", False)),
                           description=data.get("description", ""), fit=data.get("fit", {}))
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as err:
        raise ScenarioError("profile", f"{path}: not a cost profile ({err})",
                            "[costs] CostModel fields and [rates] stream_gbps") from None


def apply_profile(scenario: Scenario, profile: CostProfile | str | Path) -> Scenario:
    """``scenario`` with the profile's costs, rates and (if flat) one latency for all nodes.

    Every sweep phase gets ``stream_gbps``; random phases get ``think_ns``
    when the profile has one. Everything else is unchanged.
    """
    if not isinstance(profile, CostProfile):
        profile = load_profile(profile)
    machine = scenario.machine
    if profile.flat_latency:
        n = machine.nr_nodes
        lat = machine.local_latency_ns
        machine = dataclasses.replace(machine, latency_ns=tuple((lat,) * n for _ in range(n)))
    procs = []
    for proc in scenario.workload.processes:
        threads = []
        for thread in proc.threads:
            phases = []
            for phase in thread.phases:
                if phase.is_sweep:
                    phase = dataclasses.replace(phase, stream_gbps=profile.stream_gbps)
                elif profile.think_ns is not None:
                    phase = dataclasses.replace(phase, think_ns=profile.think_ns)
                phases.append(phase)
            threads.append(dataclasses.replace(thread, phases=tuple(phases)))
        procs.append(dataclasses.replace(proc, threads=tuple(threads)))
    workload = dataclasses.replace(scenario.workload, processes=tuple(procs))
    return dataclasses.replace(scenario, machine=machine, workload=workload, costs=profile.costs)
