"""Named cost profiles: a :class:`CostModel` plus the access rates of a machine.

A profile is a TOML file (``numaexp/data/costs/<name>.toml``, shipped inside
the package and found through :mod:`importlib.resources`, or any path) with
a ``[costs]`` table giving every :class:`CostModel` field (ns, and the bool
``tlb_broadcast``), a ``[rates]`` table: ``stream_gbps`` (per-thread sweep
bandwidth, GB/s) and optionally ``think_ns`` (random accesses, ns), and a
``[sources]`` table with one line per ``[costs]`` and ``[rates]`` key: the
public source or the measurement behind that figure (``"estimate: ..."``
with the reasoning where there is neither). ``flat_latency = true`` says
that where memory is makes no difference to speed on that machine (a QEMU
TCG guest: remote accesses cost what local ones do), so the simulated
machine gets one latency for every pair of nodes.

Shipped: ``x86-2socket``, ``x86-4node`` (whose costs are the parameter
table's defaults), ``arm64-4node`` and ``dram-cxl`` for the machine presets
(:func:`profile_for` picks one for a machine; the scenario builders take
its costs), and ``qemu-tcg``, which ``numaexp calibrate`` fitted to a QEMU
TCG guest. :func:`apply_profile` puts a whole profile (costs and rates) on
a scenario.
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
from numaexp.model.checks import check_number
from numaexp.model.costs import CostModel
from numaexp.model.machine import Machine
from numaexp.model.scenario import Scenario

PROFILE_PACKAGE = ("numaexp", "data/costs")
"""Where the named profiles live: package data of ``numaexp`` (``numaexp/data/costs``,
listed in ``pyproject.toml``'s ``package-data``, so that an installed wheel has them)."""

COST_FIELDS = tuple(f.name for f in dataclasses.fields(CostModel))
"""The keys a profile's ``[costs]`` table must give: every :class:`CostModel` field."""

RATE_KEYS = ("stream_gbps", "think_ns")
"""The keys of a profile's ``[rates]`` table (``think_ns`` optional)."""

TOP_KEYS = ("name", "description", "flat_latency", "costs", "rates", "sources", "fit")
"""The top-level keys of a profile file."""

SOURCE_ALLOWED = "a non-empty line: the public source or the measurement behind the figure"
"""What a ``[sources]`` entry must be (for error messages)."""


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
    """A cost model and access rate, each figure with its source.

    Attributes
    ----------
    name : str
    costs : CostModel
        Per-event kernel costs, ns.
    stream_gbps : float
        Per-thread sweep bandwidth, GB/s.
    sources : dict of str to str
        For every figure (each :class:`CostModel` field, ``stream_gbps`` and,
        when given, ``think_ns``), the public source or the measurement
        behind it; nothing else.
    think_ns : float, optional
        CPU time per random access besides the memory stall, ns.
    flat_latency : bool
        Remote memory costs what local memory does (QEMU TCG).
    description : str
    fit : dict
        How it was fitted (kernel, probes, residuals).

    Raises
    ------
    ScenarioError
        A rate out of range (``rates.stream_gbps``, ``rates.think_ns``), a
        figure without a source line or a source line for no figure
        (``sources.<key>``).
    """

    name: str
    costs: CostModel
    stream_gbps: float
    sources: dict
    think_ns: float | None = None
    flat_latency: bool = False
    description: str = ""
    fit: dict = field(default_factory=dict)

    def __post_init__(self):
        check_number(self.stream_gbps, "rates.stream_gbps", low=0, low_open=True, unit="GB/s")
        if self.think_ns is not None:
            check_number(self.think_ns, "rates.think_ns", low=0, unit="ns")
        if not isinstance(self.sources, dict):
            raise ScenarioError("sources", f"must be a table (got {self.sources!r:.40})",
                                "one line per [costs] and [rates] key")
        figures = self.figures()
        for key in figures:
            line = self.sources.get(key)
            if line is None or (isinstance(line, str) and not line.strip()):
                raise ScenarioError(f"sources.{key}", "no source line for this figure",
                                    SOURCE_ALLOWED)
            if not isinstance(line, str):
                raise ScenarioError(f"sources.{key}", f"not a line of text ({line!r:.40})",
                                    SOURCE_ALLOWED)
        for key in self.sources:
            if key not in figures:
                raise ScenarioError(f"sources.{key}", "names no figure of [costs] or [rates]",
                                    ", ".join(figures))

    def figures(self) -> tuple[str, ...]:
        """The keys that need a source line: the cost fields, then the rates given."""
        return COST_FIELDS + RATE_KEYS[:1 if self.think_ns is None else 2]

    def to_toml(self) -> str:
        """The profile as TOML text (what :func:`load_profile` reads)."""
        data = {"name": self.name, "description": self.description,
                "flat_latency": self.flat_latency,
                "costs": dataclasses.asdict(self.costs),
                "rates": {"stream_gbps": self.stream_gbps}}
        if self.think_ns is not None:
            data["rates"]["think_ns"] = self.think_ns
        data["sources"] = {key: self.sources[key] for key in self.figures()}
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
        Unknown name (the shipped ones are listed), a file that is not TOML,
        or a malformed profile, naming the offending key (``costs.<field>``
        for a :class:`CostModel` field missing, unknown or out of range,
        ``sources.<key>`` for a figure without a source line, ...).
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
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ScenarioError("profile", f"{path}: not a TOML file ({err})",
                            "[costs], [rates] and [sources] tables") from None
    try:
        return _profile(data, stem)
    except ScenarioError as err:
        raise ScenarioError(err.field, f"{path}: {err.problem}", err.allowed) from None


def _table(data: dict, key: str, allowed: tuple[str, ...]) -> dict:
    """The ``[key]`` table of ``data``, refused if missing or holding a key not in ``allowed``."""
    table = data.get(key)
    if not isinstance(table, dict):
        raise ScenarioError(key, "missing" if table is None else "must be a table",
                            f"a [{key}] table of " + ", ".join(allowed))
    for name in table:
        if name not in allowed:
            raise ScenarioError(f"{key}.{name}", "unknown key", ", ".join(allowed))
    return table


def _profile(data: dict, stem: str) -> CostProfile:
    """The profile a TOML file's ``data`` describes (``stem``: its name when it gives none)."""
    for key in data:
        if key not in TOP_KEYS:
            raise ScenarioError(key, "unknown key", ", ".join(TOP_KEYS))
    costs = _table(data, "costs", COST_FIELDS)
    for name in COST_FIELDS:
        if name not in costs:
            raise ScenarioError(f"costs.{name}", "missing: a profile gives every CostModel "
                                "field, each with its source line", ", ".join(COST_FIELDS))
    try:
        model = CostModel(**costs)
    except ScenarioError as err:
        raise err.under("costs") from None
    rates = _table(data, "rates", RATE_KEYS)
    if "stream_gbps" not in rates:
        raise ScenarioError("rates.stream_gbps", "missing", "per-thread sweep bandwidth, GB/s")
    flat = data.get("flat_latency", False)
    if not isinstance(flat, bool):
        raise ScenarioError("flat_latency", f"must be true or false (got {flat!r:.40})",
                            "true or false")
    sources = data.get("sources", {})
    fit = data.get("fit", {})
    if not isinstance(fit, dict):
        raise ScenarioError("fit", "must be a table", "a [fit] table (how it was fitted)")
    return CostProfile(name=str(data.get("name", stem)), costs=model,
                       stream_gbps=rates["stream_gbps"], think_ns=rates.get("think_ns"),
                       sources=sources, flat_latency=flat,
                       description=str(data.get("description", "")), fit=fit)


def profile_name(machine: Machine) -> str:
    """The shipped profile of the machine preset that ``machine`` is built like.

    ``arm64-4node`` for an arm64 machine (:attr:`Machine.arch
    <numaexp.model.machine.Machine.arch>`, the only arm64 profile); else
    ``dram-cxl`` for a machine with a lower memory tier (``tiered``);
    ``x86-2socket`` for at most two nodes (``two_socket``); ``x86-4node``
    (``four_node``, the parameter table's defaults) for any other.
    """
    if machine.arch == "arm64":
        return "arm64-4node"
    if max(machine.tiers) > 0:
        return "dram-cxl"
    if machine.nr_nodes <= 2:
        return "x86-2socket"
    return "x86-4node"


def profile_for(machine: Machine) -> CostProfile:
    """The shipped profile for ``machine`` (see :func:`profile_name`)."""
    return load_profile(profile_name(machine))


def preset_costs(machine: Machine) -> CostModel:
    """The costs the scenario builders give a scenario on ``machine``: its profile's.

    Only the costs: the profile's ``[rates]`` are for comparisons with the
    kernel backend and are put on a scenario by :func:`apply_profile` alone.
    """
    return profile_for(machine).costs


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
