"""Cross-checks of a scenario: what involves more than one of its parts.

:func:`validate_scenario` checks CPU ids against the machine, VMAs named by
patterns, regions against VMA sizes, policies against the kernel variant,
actions against what exists, and memory against node sizes, and raises one
:class:`~numaexp.errors.ScenarioError` naming the field (by its full dotted
path), before the simulator allocates anything. Each part checks itself when
it is built (its dataclass's ``__post_init__``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from numaexp.errors import ScenarioError
from numaexp.model.cgroups import check_cpusets
from numaexp.model.machine import Machine
from numaexp.model.memory import min_free_kbytes, watermarks
from numaexp.model.process import PID_MAX_LIMIT
from numaexp.model.units import PAGE_SIZE, format_size

if TYPE_CHECKING:
    from numaexp.model.scenario import Scenario


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
    effective = check_cpusets(workload, machine)

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
            for name in thread.replica_names:
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
            names = {name for t in proc.threads for name in t.replica_names}
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
    _check_min_free(scenario, wm.min)
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
    reserve = (f" (kernel.min_free_kbytes = {scenario.kernel.min_free_kbytes} KiB)"
               if scenario.kernel.min_free_kbytes is not None else "")
    if total > capacity_total:
        raise ScenarioError("workload",
                            f"needs {format_size(total * PAGE_SIZE)} of memory but the machine "
                            f"{machine.name!r} has {format_size(capacity_total * PAGE_SIZE)} "
                            f"above the min watermarks{reserve}",
                            "a smaller workload (memory scale) or a machine with more memory")
    for nodes in need:
        inside = sum(p for s, p in need.items() if s <= nodes)
        cap = sum(usable[n] for n in nodes)
        if inside > cap:
            raise ScenarioError("workload",
                                f"memory restricted to nodes {sorted(nodes)} (policy bind, "
                                f"cpuset.mems or first_touch_node) needs "
                                f"{format_size(inside * PAGE_SIZE)} but those nodes have "
                                f"{format_size(cap * PAGE_SIZE)} above the min watermarks"
                                f"{reserve}",
                                "less memory on those nodes, or more nodes in the mask")


def _check_min_free(scenario: Scenario, mins: tuple[int, ...]) -> None:
    """Refuse a ``kernel.min_free_kbytes`` that leaves a node no memory above its min watermark."""
    kbytes = scenario.kernel.min_free_kbytes
    machine = scenario.machine
    for n, (node, wmin) in enumerate(zip(machine.nodes, mins, strict=True)):
        if kbytes is not None and wmin >= node.pages:
            raise ScenarioError("kernel.min_free_kbytes",
                                f"{kbytes} KiB puts node {n}'s min watermark at "
                                f"{format_size(wmin * PAGE_SIZE)}, which leaves none of its "
                                f"{format_size(node.pages * PAGE_SIZE)} free for the workload",
                                f"fewer KiB than the machine's {machine.memory // 1024} KiB of "
                                f"memory; the kernel's own value here is "
                                f"{min_free_kbytes(machine)} KiB")
