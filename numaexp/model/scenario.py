"""A complete experiment: machine + workload + kernel + costs + stop rule + seed.

:func:`validate_scenario` checks everything that involves more than one part
(CPU ids against the machine, VMAs named by patterns, memory against node
sizes, ...) and raises one :class:`~numaexp.errors.ScenarioError` naming the
field, before the simulator allocates anything.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model.actions import Action
from numaexp.model.checks import check_instance, check_items, check_number, check_seconds
from numaexp.model.costs import CostModel
from numaexp.model.kernel import KernelConfig
from numaexp.model.machine import Machine
from numaexp.model.memory import watermarks
from numaexp.model.units import PAGE_SIZE, format_size
from numaexp.model.workload import PID_MAX_LIMIT, Workload


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

    def __post_init__(self):
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


def validate_scenario(scenario: Scenario) -> None:
    """Cross-check the parts of a scenario.

    Raises
    ------
    ScenarioError
        Naming the first offending field with its full dotted path.
    """
    machine, workload = scenario.machine, scenario.workload
    ncpu, nnode = machine.nr_cpus, machine.nr_nodes
    cpu_range = f"CPU ids 0..{ncpu - 1}"
    node_range = f"node ids 0..{nnode - 1}"

    # cgroups and their cpusets
    for i, cg in enumerate(workload.cgroups):
        where = f"workload.cgroups[{i}]"
        if cg.cpus is not None and max(cg.cpus) >= ncpu:
            raise ScenarioError(f"{where}.cpus", f"CPU {max(cg.cpus)} does not exist", cpu_range)
        if cg.mems is not None and max(cg.mems) >= nnode:
            raise ScenarioError(f"{where}.mems", f"node {max(cg.mems)} does not exist", node_range)
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

    objects: dict[str, tuple[int, str, bool, str]] = {}
    tasks = 0
    for pi, proc in enumerate(workload.processes):
        where = f"workload.processes[{pi}]"
        cg_cpus, _ = effective[proc.cgroup]
        vma_by_name = {}
        for vi, vma in enumerate(proc.vmas):
            vwhere = f"{where}.vmas[{vi}]"
            if vma.name in vma_by_name:
                raise ScenarioError(f"{vwhere}.name",
                                    f"duplicate VMA name {vma.name!r} in the process",
                                    "a name no other VMA of the process has")
            vma_by_name[vma.name] = vma
            if vma.policy is not None:
                _check_policy_nodes(vma.policy, f"{vwhere}.policy", machine)
            if vma.first_touch_node is not None:
                if vma.first_touch_node >= nnode:
                    raise ScenarioError(f"{vwhere}.first_touch_node",
                                        f"node {vma.first_touch_node} does not exist", node_range)
            if vma.object is not None:
                shape = (vma.pages, vma.kind, vma.thp, vma.first_touch_node)
                seen = objects.setdefault(vma.object, (*shape, vwhere))
                if seen[:4] != shape:
                    raise ScenarioError(f"{vwhere}.object",
                                        f"object {vma.object!r} is mapped with a different size, "
                                        f"kind, thp or first_touch_node at {seen[4]}")
        names: set[str] = set()
        for ti, thread in enumerate(proc.threads):
            twhere = f"{where}.threads[{ti}]"
            tasks += thread.count
            if tasks > PID_MAX_LIMIT:
                raise ScenarioError(f"{twhere}.count", f"the workload would have {tasks:,} "
                                    f"threads or more, beyond PID_MAX_LIMIT ({PID_MAX_LIMIT:,})",
                                    f"at most {PID_MAX_LIMIT:,} threads in all")
            replica_names = [thread.name] if thread.count == 1 else \
                [f"{thread.name}.{k}" for k in range(thread.count)]
            for name in replica_names:
                if name in names:
                    raise ScenarioError(f"{twhere}.name", f"duplicate thread name {name!r}",
                                        "a name no other thread (or replica name.i) of the "
                                        "process has")
                names.add(name)
            if thread.cpus is not None:
                if max(thread.cpus) >= ncpu:
                    raise ScenarioError(f"{twhere}.cpus", f"CPU {max(thread.cpus)} does not exist",
                                        cpu_range)
                if not set(thread.cpus) & cg_cpus:
                    raise ScenarioError(f"{twhere}.cpus",
                                        f"no CPU in common with the cpuset of cgroup {proc.cgroup}",
                                        f"some of {sorted(cg_cpus)}")
            _check_policy_nodes(thread.policy, f"{twhere}.policy", machine)
            for phi, phase in enumerate(thread.phases):
                for pti, pat in enumerate(phase.patterns):
                    pwhere = f"{twhere}.phases[{phi}].patterns[{pti}]"
                    vma = vma_by_name.get(pat.vma)
                    if vma is None:
                        raise ScenarioError(f"{pwhere}.vma", f"no VMA named {pat.vma!r} in process "
                                                             f"{proc.name!r}",
                                            ", ".join(sorted(vma_by_name)))
                    start = pat.start // PAGE_SIZE
                    if start >= vma.pages:
                        raise ScenarioError(f"{pwhere}.start",
                                            f"start {format_size(pat.start)} is at or past the "
                                            f"end of VMA {vma.name!r} ({format_size(vma.size)})",
                                            "start + length <= the VMA size")
                    length = vma.pages - start if pat.length is None \
                        else -(-pat.length // PAGE_SIZE)
                    if start + length > vma.pages:
                        raise ScenarioError(f"{pwhere}.length",
                                            f"region [{format_size(pat.start)}, "
                                            f"+{format_size(length * PAGE_SIZE)}) runs past the "
                                            f"end of VMA {vma.name!r} ({format_size(vma.size)})",
                                            "start + length <= the VMA size")
                    per = length // thread.count if pat.slice_by_thread else length
                    if per < pat.stride:
                        raise ScenarioError(f"{pwhere}.stride" if pat.stride > 1
                                            else f"{pwhere}.length",
                                            f"the region per thread has {per} pages, fewer than "
                                            f"the stride {pat.stride}")

    # stop rule: a work-based run needs every thread to end
    if scenario.stop.kind == "work":
        for pi, proc in enumerate(workload.processes):
            for ti, thread in enumerate(proc.threads):
                for phi, phase in enumerate(thread.phases):
                    if phase.passes is None and phase.touches is None and phase.duration_s is None:
                        raise ScenarioError(
                            f"workload.processes[{pi}].threads[{ti}].phases[{phi}]",
                            'a phase without passes, touches or duration_s never ends, but '
                            'stop.kind = "work" waits for every thread to finish',
                            'an end for every phase, or stop.kind = "duration"')

    _check_variant_policies(scenario)
    _check_actions(scenario)
    _check_memory(scenario, effective)


def _check_variant_policies(scenario: Scenario) -> None:
    """``MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING`` exists only with the RFC's patch 3."""
    if scenario.kernel.variant.rfc:
        return
    for pi, proc in enumerate(scenario.workload.processes):
        places = [(f"workload.processes[{pi}].vmas[{vi}].policy", v.policy)
                  for vi, v in enumerate(proc.vmas)]
        places += [(f"workload.processes[{pi}].threads[{ti}].policy", t.policy)
                   for ti, t in enumerate(proc.threads)]
        for where, pol in places:
            if pol is not None and pol.mode == "interleave" and pol.numa_balancing:
                raise ScenarioError(f"{where}.numa_balancing",
                                    "mainline rejects MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING "
                                    "(EINVAL); it needs the RFC's patch 3",
                                    "kernel.variant rfc-v1, rfc-v2 or hierarchical, or "
                                    "numa_balancing = false")


def _check_actions(scenario: Scenario) -> None:
    """Every action names things that exist, and happens before the run stops."""
    machine, workload = scenario.machine, scenario.workload
    paths = {cg.path for cg in workload.all_cgroups()}
    procs = {p.name: p for p in workload.processes}
    limit = scenario.stop.limit_s
    for i, action in enumerate(scenario.actions):
        where = f"actions[{i}]"
        if action.at_s > limit:
            raise ScenarioError(f"{where}.at_s", f"{action.at_s} s is after the run stops "
                                f"({limit} s)", f"a time in [0, {limit}]")
        if action.cgroup and action.cgroup not in paths:
            raise ScenarioError(f"{where}.cgroup", f"no cgroup {action.cgroup!r}",
                                ", ".join(sorted(paths)))
        if action.kind == "move_task":
            proc = procs.get(action.process)
            if proc is None:
                raise ScenarioError(f"{where}.process", f"no process {action.process!r}",
                                    ", ".join(sorted(procs)))
            names = {name for t in proc.threads for name in
                     ([t.name] if t.count == 1 else [f"{t.name}.{k}" for k in range(t.count)])}
            if action.thread and action.thread not in names:
                raise ScenarioError(f"{where}.thread", f"no thread {action.thread!r} in process "
                                    f"{action.process!r}", ", ".join(sorted(names)))
        if action.kind == "cpuset":
            for name, ids, count in (("cpus", action.cpus, machine.nr_cpus),
                                     ("mems", action.mems, machine.nr_nodes)):
                if ids and (min(ids) < 0 or max(ids) >= count):
                    raise ScenarioError(f"{where}.{name}", f"{name} {list(ids)} outside the "
                                        "machine", f"ids 0..{count - 1}")


def _check_policy_nodes(policy, where: str, machine: Machine) -> None:
    for n in policy.nodes:
        if n >= machine.nr_nodes:
            raise ScenarioError(f"{where}.nodes", f"node {n} does not exist",
                                f"node ids 0..{machine.nr_nodes - 1}")


def _check_memory(scenario: Scenario, effective) -> None:
    """Refuse workloads that cannot fit: in total, and per set of allowed nodes."""
    machine, workload = scenario.machine, scenario.workload
    wm = watermarks(machine, scenario.kernel)
    usable = [node.pages - wmin for node, wmin in zip(machine.nodes, wm.min, strict=True)]
    all_nodes = frozenset(range(machine.nr_nodes))
    need: dict[frozenset, int] = defaultdict(int)
    seen_objects: set[str] = set()
    total = 0
    for proc in workload.processes:
        _, mems = effective[proc.cgroup]
        for vma in proc.vmas:
            if vma.object is not None:
                if vma.object in seen_objects:
                    continue
                seen_objects.add(vma.object)
            allowed = mems
            policies = [vma.policy] if vma.policy is not None else [t.policy for t in proc.threads]
            for pol in policies:
                if pol.mode == "bind":
                    allowed = allowed & frozenset(pol.nodes)
            if vma.first_touch_node is not None:
                allowed = frozenset({vma.first_touch_node})
            need[allowed or all_nodes] += vma.pages
            total += vma.pages
    capacity_total = sum(usable)
    if total > capacity_total:
        raise ScenarioError("workload",
                            f"needs {format_size(total * PAGE_SIZE)} of memory but the machine "
                            f"{machine.name!r} has {format_size(capacity_total * PAGE_SIZE)} "
                            "above the min watermarks",
                            "a smaller workload (memory scale) or a machine with more memory")
    for nodes in need:
        inside = sum(p for s, p in need.items() if s <= nodes)
        cap = sum(usable[n] for n in nodes)
        if inside > cap:
            raise ScenarioError("workload",
                                f"memory restricted to nodes {sorted(nodes)} (policy bind, "
                                f"cpuset.mems or first_touch_node) needs "
                                f"{format_size(inside * PAGE_SIZE)} but those nodes have "
                                f"{format_size(cap * PAGE_SIZE)} above the min watermarks",
                                "less memory on those nodes, or more nodes in the mask")
