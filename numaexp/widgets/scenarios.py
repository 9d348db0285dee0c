"""Dashboard settings and the scenario they describe (no widgets here).

:class:`DashboardSettings` holds what the mode-comparison dashboard lets a
user choose; :func:`build_scenario` turns it into a validated
:class:`~numaexp.model.scenario.Scenario` (one per mode is derived later).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model import presets
from numaexp.model.background import PRESET_BACKGROUND, described
from numaexp.model.cost_profiles import preset_costs
from numaexp.model.kernel import (
    MODE_NAMES,
    SIMULATED_MODES,
    KernelConfig,
    KernelVariant,
    comparison_runs,
)
from numaexp.model.machine import MACHINE_PRESETS, Machine
from numaexp.model.params import runtime_tunables
from numaexp.model.scenario import Scenario, Stop
from numaexp.model.workload import Cgroup, MemPolicy, Workload

MEMORY_OPTIONS = ("first_touch_node", "thp", "interleave")
"""Memory settings the built workloads read (first-touch node, THP, interleave policy)."""

WORKLOAD_PARAMS = {
    "numa01": ("memory_scale", "bind", *MEMORY_OPTIONS),
    "numa01_THREAD_ALLOC": ("memory_scale", "passes", "bind", *MEMORY_OPTIONS),
    "numa02": ("memory_scale", "passes", "bind", *MEMORY_OPTIONS),
    "numa02_SMT": ("memory_scale", "passes", "bind", *MEMORY_OPTIONS),
    "random_access": ("memory_scale", "duration_s", *MEMORY_OPTIONS),
}
"""Workloads the dashboard builds on its machine, and the settings each one reads."""

SCENARIO_PRESETS = ("default", "per_cgroup", "interleave_pair", "interleave_stride",
                    "pmbench_gaussian", "gups_moving_hotset", "kv_store")
"""Whole scenarios (machine, cgroups, actions, stop) the dashboard also offers, by their
catalog name (``numaexp presets``); a scenario file loaded into the dashboard is offered as
``file:<path>``."""

INTERLEAVE_CHOICES = ("none", "interleave", "interleave+NB")
"""VMA policy of the built workloads: as built, interleaved over every node, or interleaved
with ``MPOL_F_NUMA_BALANCING`` (RFC patch 3)."""

FILE_PREFIX = "file:"
"""Prefix of a loaded scenario file in :attr:`DashboardSettings.workload`."""

DASHBOARD_TUNABLES = runtime_tunables()
"""Kernel tunables the dashboard shows: the parameter table's run-time tunables."""

RANDOM_ACCESS_GIB = 1.0
"""Buffer of the ``random_access`` preset at ``memory_scale = 1``, GiB."""


@dataclass
class DashboardSettings:
    """Everything the mode-comparison dashboard lets a user set.

    Parameters
    ----------
    machine : {"2-socket", "4-node", "4-node-arm64", "tiered"}
        Machine preset (:data:`numaexp.model.machine.MACHINE_PRESETS`); the
        scenarios take its cost profile's costs
        (:func:`numaexp.model.cost_profiles.preset_costs`).
    cpus_per_node : int
        CPUs per node (per DRAM node on a tiered machine).
    memory_per_node_gib : float
        Memory per node (per DRAM node; slow nodes get four times as much), GiB.
    workload : str
        A key of :data:`WORKLOAD_PARAMS` (built on the chosen machine), a name of
        :data:`SCENARIO_PRESETS` or ``file:<path>`` of a scenario file (whole
        scenarios: their own machine, cgroups, actions and stop).
    memory_scale : float
        Size relative to the preset's (autonumabench: 3 GiB or 1 GiB per
        process; ``random_access``: 1 GiB).
    passes : int
        Passes of each thread over its memory (presets that sweep).
    bind : {None, "hard", "inverse"}
        autonumabench bind variant.
    duration_s : float
        Simulated seconds of ``random_access`` (its stop).
    first_touch_node : int, optional
        Node every page of the built workload starts on (None: where the
        touching thread runs).
    thp : bool
        Back the built workload's memory with 2 MiB THPs.
    interleave : {"none", "interleave", "interleave+NB"}
        VMA policy of the built workload (:data:`INTERLEAVE_CHOICES`).
    cgroup_per_process : bool
        Put each process in its own cgroup ``/<process name>``.
    numa_load_balance : tuple of str
        Cgroup paths with ``cpu.numa_load_balance = 1`` (read in mode 4).
    modes : tuple of int
        ``kernel.numa_balancing`` values to compare.
    cgroup_variants : tuple of str
        Patch 2 variants to compare (``mainline``, ``rfc-v1``, ``rfc-v2``,
        ``hierarchical``); each runs with every mode, except mode 4 with
        ``mainline``, as in :func:`numaexp.compare`.
    stats_variant, interleave_variant : {"fixed", "as-posted"}
        Patches 1 and 3, for every RFC variant.
    tunables : dict
        Value of each of :data:`DASHBOARD_TUNABLES` (the parameter table's
        run-time tunables, see :class:`~numaexp.model.kernel.KernelConfig`).
    seed : int
        Seed of every run.
    sample_interval_s : float
        Interval of the time series, simulated seconds.
    max_duration_s : float
        Limit of a run that stops when its work is done, simulated seconds.
    backends : tuple of str
        ``("sim",)`` (default), ``("kernel",)`` or both: each mode also runs on
        a real kernel in a QEMU guest (``numaexp.run_kernel``; the scenario must
        fit a guest).
    kernel : str
        The kernel backend's kernel (``"6.12"``, ``"6.1"`` or a bzImage path).
    profile : str, optional
        Cost profile for the simulator's runs (e.g. ``"qemu-tcg"`` beside a guest).
    """

    machine: str = "2-socket"
    cpus_per_node: int = 4
    memory_per_node_gib: float = 8.0
    workload: str = "numa01_THREAD_ALLOC"
    memory_scale: float = 0.1
    passes: int = 1000
    bind: str | None = None
    duration_s: float = 10.0
    first_touch_node: int | None = None
    thp: bool = False
    interleave: str = "none"
    cgroup_per_process: bool = True
    numa_load_balance: tuple[str, ...] = ()
    modes: tuple[int, ...] = (0, 1)
    cgroup_variants: tuple[str, ...] = ("rfc-v2",)
    stats_variant: str = "fixed"
    interleave_variant: str = "fixed"
    tunables: dict = field(default_factory=lambda: {
        name: p.default for name, p in DASHBOARD_TUNABLES.items()})
    seed: int = 0
    sample_interval_s: float = 0.5
    max_duration_s: float = 600.0
    backends: tuple[str, ...] = ("sim",)
    kernel: str = "6.12"
    profile: str | None = None


def mode_choices() -> list[tuple[int, str, bool]]:
    """Every ``kernel.numa_balancing`` mode as ``(mode, label, simulated)``."""
    return [(mode, f"{mode} {name}", mode in SIMULATED_MODES) for mode, name in MODE_NAMES.items()]


def build_variants(settings: DashboardSettings) -> list[KernelVariant]:
    """The kernel variants the settings compare (at least one)."""
    if not settings.cgroup_variants:
        raise ScenarioError("cgroup_variants", "no kernel variant selected",
                            "one or more of mainline, rfc-v1, rfc-v2, hierarchical")
    variants = []
    for name in dict.fromkeys(settings.cgroup_variants):
        rfc = name != "mainline"  # the patch forms apply to the RFC's kernels only
        try:
            variants.append(KernelVariant(
                cgroup=name, stats=settings.stats_variant if rfc else "fixed",
                interleave=settings.interleave_variant if rfc else "fixed"))
        except ScenarioError as err:
            raise err.under("variant") from None
    return variants


def check_settings(settings: DashboardSettings) -> None:
    """Refuse out-of-range settings by name (widgets do not clamp them).

    Raises
    ------
    ScenarioError
        Naming the setting, its value and what is allowed.
    """
    checks = (("cpus_per_node", 1, int, "an integer >= 1"),
              ("memory_per_node_gib", 0.0, float, "a number of GiB > 0"),
              ("memory_scale", 0.0, float, "a factor > 0"),
              ("passes", 1, int, "an integer >= 1"),
              ("duration_s", 0.0, float, "a number of seconds > 0"),
              ("seed", 0, int, "an integer >= 0"),
              ("sample_interval_s", 0.0, float, "a number of seconds > 0"))
    for name, low, kind, allowed in checks:
        value = getattr(settings, name)
        wrong_type = isinstance(value, bool) or not isinstance(value, (int, float)) or (
            kind is int and not float(value).is_integer())
        if wrong_type or (value < low if kind is int else not value > low):
            raise ScenarioError(name, f"{value!r} refused", allowed)
    if settings.interleave not in INTERLEAVE_CHOICES:
        raise ScenarioError("interleave", f"unknown policy {settings.interleave!r}",
                            ", ".join(INTERLEAVE_CHOICES))


def build_machine(settings: DashboardSettings) -> Machine:
    """The machine preset at the chosen size (or the whole scenario's own machine)."""
    if is_whole_scenario(settings.workload):
        return whole_scenario(settings).machine
    check_settings(settings)
    if settings.machine not in MACHINE_PRESETS:
        raise ScenarioError("machine", f"unknown machine preset {settings.machine!r}",
                            ", ".join(MACHINE_PRESETS))
    memory = f"{settings.memory_per_node_gib} GiB"
    if settings.machine == "tiered":
        return MACHINE_PRESETS["tiered"](cpus_per_node=settings.cpus_per_node,
                                         dram_per_node=memory,
                                         slow_per_node=f"{4 * settings.memory_per_node_gib} GiB")
    return MACHINE_PRESETS[settings.machine](cpus_per_node=settings.cpus_per_node,
                                             memory_per_node=memory)


def is_whole_scenario(workload: str) -> bool:
    """``workload`` names a whole scenario (a preset of :data:`SCENARIO_PRESETS` or a file)."""
    return workload in SCENARIO_PRESETS or workload.startswith(FILE_PREFIX)


def whole_scenario(settings: DashboardSettings) -> Scenario:
    """The preset or file scenario the settings name, as it is (before modes and tunables)."""
    from numaexp.model.catalog import scenario_from
    from numaexp.model.toml_io import load_scenario

    if settings.workload.startswith(FILE_PREFIX):
        return load_scenario(settings.workload[len(FILE_PREFIX):])
    return scenario_from(settings.workload, field="workload")


def _memory_options(workload: Workload, settings: DashboardSettings, machine: Machine):
    """The built workload's VMAs with the first-touch node, THP and interleave settings."""
    node = settings.first_touch_node
    if node is not None and not 0 <= node < machine.nr_nodes:
        raise ScenarioError("first_touch_node", f"no node {node} on {machine.name}",
                            f"0 to {machine.nr_nodes - 1}, or none")
    policy = None if settings.interleave == "none" else MemPolicy(
        mode="interleave", nodes=tuple(range(machine.nr_nodes)),
        numa_balancing=settings.interleave == "interleave+NB")

    def vma(v):
        return dataclasses.replace(v, first_touch_node=node if node is not None
                                   else v.first_touch_node, thp=settings.thp or v.thp,
                                   policy=policy or v.policy)

    return dataclasses.replace(workload, processes=tuple(
        dataclasses.replace(p, vmas=tuple(vma(v) for v in p.vmas)) for p in workload.processes))


def build_workload(settings: DashboardSettings, machine: Machine) -> Workload:
    """The workload with its parameters, cgroups and ``cpu.numa_load_balance``."""
    name = settings.workload
    if is_whole_scenario(name):
        workload = whole_scenario(settings).workload
        own = workload.cgroups
    elif name not in WORKLOAD_PARAMS:
        raise ScenarioError("workload", f"unknown workload preset {name!r}",
                            ", ".join([*WORKLOAD_PARAMS, *SCENARIO_PRESETS]))
    else:
        workload, own = _memory_options(_built(settings, machine), settings, machine), ()
    paths = [c.path for c in workload.all_cgroups()]
    for path in settings.numa_load_balance:
        if path not in paths:
            raise ScenarioError("numa_load_balance", f"no cgroup {path!r} in the workload",
                                ", ".join(paths))
    keep = tuple(dataclasses.replace(c, numa_load_balance=int(c.path in settings.numa_load_balance))
                 for c in own)
    listed = tuple(Cgroup(path=p, numa_load_balance=1) for p in settings.numa_load_balance
                   if p not in {c.path for c in own})
    return dataclasses.replace(workload, cgroups=keep + listed)


def _built(settings: DashboardSettings, machine: Machine) -> Workload:
    """A workload of :data:`WORKLOAD_PARAMS` on ``machine``, one cgroup per process if set."""
    name = settings.workload
    if name == "random_access":
        workload = presets.random_access(
            machine, memory=f"{round(RANDOM_ACCESS_GIB * settings.memory_scale * 1024)} MiB",
            duration_s=settings.duration_s)
    else:
        kwargs = {"memory_scale": settings.memory_scale}
        if "passes" in WORKLOAD_PARAMS[name]:
            kwargs["passes"] = settings.passes
        suffix = {None: "", "hard": "_HARD_BIND", "inverse": "_INVERSE_BIND"}.get(settings.bind)
        if suffix is None:
            raise ScenarioError("bind", f"unknown bind variant {settings.bind!r}",
                                '"hard", "inverse" or none')
        workload = presets.autonumabench(name + suffix, machine, **kwargs)
    if settings.cgroup_per_process:
        workload = dataclasses.replace(workload, processes=tuple(
            dataclasses.replace(p, cgroup=f"/{p.name}") for p in workload.processes))
    return workload


def build_scenarios(settings: DashboardSettings) -> list[tuple[str, int, str, Scenario]]:
    """One scenario per selected mode and kernel variant, labelled as :func:`numaexp.compare` does.

    Their costs are a whole scenario's own, else the machine preset's cost
    profile's (:func:`numaexp.model.cost_profiles.preset_costs`).

    Returns
    -------
    list of (label, mode, variant label, Scenario)
        Labels are ``"mode M"`` with one variant, ``"mode M VARIANT"`` with
        several (mode 4 on ``mainline`` too: its sysctl takes 4).

    Raises
    ------
    ScenarioError
        For any invalid setting, naming it.
    """
    if not settings.modes:
        raise ScenarioError("modes", "no mode selected", "one or more of 0, 1, 2, 3, 4")
    check_settings(settings)
    machine = build_machine(settings)
    workload = build_workload(settings, machine)
    variants = build_variants(settings)
    whole = whole_scenario(settings) if is_whole_scenario(settings.workload) else None
    if whole is not None:
        stop = whole.stop
    elif settings.workload == "random_access":
        stop = Stop(kind="duration", duration_s=settings.duration_s)
    else:
        stop = Stop(kind="work", max_duration_s=settings.max_duration_s)
    modes = list(dict.fromkeys(settings.modes))
    for mode in modes:
        if mode not in SIMULATED_MODES:
            raise ScenarioError("modes", f"mode {mode} ({MODE_NAMES.get(mode, '?')}) is not "
                                "simulated yet", ", ".join(str(m) for m in SIMULATED_MODES))
    out = []
    for label, _index, mode, variant in comparison_runs(modes, variants):
        try:
            kernel = dataclasses.replace(whole.kernel if whole else KernelConfig(),
                                         numa_balancing=mode, variant=variant,
                                         **settings.tunables)
        except ScenarioError as err:
            raise err.under("kernel") from None
        scenario = Scenario(name=whole.name if whole else workload.name, machine=machine,
                            workload=workload, kernel=kernel,
                            costs=whole.costs if whole else preset_costs(machine),
                            stop=stop, seed=settings.seed,
                            sample_interval_s=settings.sample_interval_s,
                            actions=whole.actions if whole else (),
                            background=whole.background if whole else PRESET_BACKGROUND,
                            description=whole.description if whole else
                            described(f"{workload.description} on {machine.name}"))
        out.append((label, mode, variant.label, scenario))
    return out


def settings_for(settings: DashboardSettings, scenario: Scenario) -> DashboardSettings:
    """``settings`` with what a whole scenario sets itself: its tunables, seed, sample
    interval and enabled cgroups (the view shows them when the scenario is chosen)."""
    return dataclasses.replace(
        settings, tunables={name: getattr(scenario.kernel, name) for name in settings.tunables},
        seed=scenario.seed, sample_interval_s=scenario.sample_interval_s,
        numa_load_balance=tuple(c.path for c in scenario.workload.cgroups
                                if c.numa_load_balance))


def build_scenario(settings: DashboardSettings) -> Scenario:
    """The scenario of the first selected mode and variant (see :func:`build_scenarios`)."""
    return build_scenarios(settings)[0][3]
