"""The machine's sched domains and groups, built as 6.12 builds them (kernel/sched/topology.c).

Topology levels, bottom up, for each CPU (``build_sched_domains``):

- ``MC``: the CPUs sharing the last-level cache (``SD_SHARE_LLC``). The model
  has one LLC per node (x86 restricts the LLC to the node with sub-NUMA
  clustering too); ``PKG`` would span the same CPUs (or, with several nodes
  in a package, is left out by x86's topology), so it is not built.
- ``NODE``: the node (NUMA level 0, no ``SD_NUMA``).
- ``NUMA``: one level per distinct SLIT distance between nodes with CPUs
  (``sched_init_numa``), spanning the nodes at most that far; ``SD_NUMA``,
  overlapping groups.

A CPU's levels stop at the first that spans every CPU. ``imb_numa_nr`` is set
as ``build_sched_domains`` sets it, then ``cpu_attach_domain`` drops the
degenerate domains (a span of one CPU, or a parent spanning the same CPUs as
its child with no flag of its own).

Departures: no SMT level (the machine model has no hardware threads); a
group's balance mask is its span (the kernel narrows overlapping groups to
the CPUs whose child domain spans the group; equal on the symmetric machines
of the presets); CPU capacity is ``SCHED_CAPACITY_SCALE`` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from numaexp.model.machine import LOCAL_DISTANCE, Machine
from numaexp.sim.engine.build.nodes import node_mask
from numaexp.sim.engine.dtypes import SD_DTYPE, SG_DTYPE, SPAN_DTYPE
from numaexp.sim.kernel.constants import (
    RECLAIM_DISTANCE,
    SCHED_CAPACITY_SCALE,
    SD_BALANCE_EXEC,
    SD_BALANCE_FORK,
    SD_BALANCE_NEWIDLE,
    SD_DEGENERATE_GROUPS_MASK,
    SD_NUMA,
    SD_OVERLAP,
    SD_PREFER_SIBLING,
    SD_SERIALIZE,
    SD_SHARE_CPUCAPACITY,
    SD_SHARE_LLC,
    SD_WAKE_AFFINE,
)

LEVEL_MC, LEVEL_NODE = 0, 1
"""Topology levels before the NUMA ones (level ``LEVEL_NODE + k`` is NUMA level ``k``)."""

BUSY_FACTOR = 16  # sd->busy_factor
IMBALANCE_PCT = 117  # sd->imbalance_pct (110 for SMT)


@dataclass
class _Domain:
    """One ``struct sched_domain`` while the build runs (plain Python)."""

    cpu: int
    level: int
    span: frozenset
    flags: int
    distance: int = 0  # NUMA levels: sched_domains_numa_distance[level]
    child: _Domain | None = None
    parent: _Domain | None = None
    groups: list = field(default_factory=list)  # [(span, flags)], the local group first
    imb_numa_nr: int = 0
    imbalance_pct: int = IMBALANCE_PCT
    cache_nice_tries: int = 0


def level_name(level: int) -> str:
    """The kernel's name of a topology level: ``MC``, ``NODE``, ``NUMA`` (debugfs ``name``)."""
    return ("MC", "NODE")[level] if level <= LEVEL_NODE else "NUMA"


def level_names(machine: Machine) -> tuple[str, ...]:
    """A name for each topology level: ``MC``, ``NODE``, then ``NUMA-<distance>``."""
    return ("MC", "NODE", *(f"NUMA-{d}" for d in machine.numa_distances[1:]))


def _sd_init(cpu: int, level: int, span: frozenset, tl_flags: int, distance: int) -> _Domain:
    """``sd_init``: a domain's flags and tunables from its topology level."""
    flags = (SD_BALANCE_NEWIDLE | SD_BALANCE_EXEC | SD_BALANCE_FORK | SD_WAKE_AFFINE
             | SD_PREFER_SIBLING | tl_flags)
    sd = _Domain(cpu=cpu, level=level, span=span, flags=flags, distance=distance)
    if flags & SD_SHARE_CPUCAPACITY:
        sd.imbalance_pct = 110
    elif flags & SD_SHARE_LLC:
        sd.cache_nice_tries = 1
    elif flags & SD_NUMA:
        sd.cache_nice_tries = 2
        sd.flags &= ~SD_PREFER_SIBLING
        sd.flags |= SD_SERIALIZE
        if distance > RECLAIM_DISTANCE:
            sd.flags &= ~(SD_BALANCE_EXEC | SD_BALANCE_FORK | SD_WAKE_AFFINE)
    else:
        sd.cache_nice_tries = 1
    return sd


def _level_spans(machine: Machine) -> list[list[frozenset]]:
    """Per topology level, the span of each CPU's domain at that level."""
    cpu_node = machine.cpu_node
    node_cpus = [frozenset(machine.node_cpus(n)) for n in range(machine.nr_nodes)]
    cpu_nodes = [n for n, node in enumerate(machine.nodes) if node.cpus > 0]
    levels = [[node_cpus[cpu_node[c]] for c in range(machine.nr_cpus)]]  # MC
    for d in machine.numa_distances:  # NODE (d = 10), then the NUMA levels
        near = {n: frozenset().union(*(node_cpus[k] for k in cpu_nodes
                                       if machine.distance[n][k] <= d)) for n in cpu_nodes}
        levels.append([near[cpu_node[c]] for c in range(machine.nr_cpus)])
    return levels


def _build_chains(machine: Machine) -> list[_Domain | None]:
    """Every CPU's domains before degeneration, with their groups (lowest domain per CPU)."""
    everything = frozenset(range(machine.nr_cpus))
    spans = _level_spans(machine)
    distances = machine.numa_distances
    per_level: list[dict[int, _Domain]] = [{} for _ in spans]
    lowest: list[_Domain | None] = []
    for cpu in range(machine.nr_cpus):
        child = None
        first = None
        for level, level_spans in enumerate(spans):
            if level == LEVEL_MC:
                tl_flags, distance = SD_SHARE_LLC, 0
            elif level == LEVEL_NODE:
                tl_flags, distance = 0, LOCAL_DISTANCE
            else:
                tl_flags, distance = SD_NUMA | SD_OVERLAP, distances[level - LEVEL_NODE]
            sd = _sd_init(cpu, level, level_spans[cpu], tl_flags, distance)
            sd.child = child
            if child is not None:
                child.parent = sd
            per_level[level][cpu] = sd
            first = first or sd
            child = sd
            if sd.span == everything:
                break
        lowest.append(first)
    for cpu in range(machine.nr_cpus):
        sd = lowest[cpu]
        while sd is not None:
            sd.groups = _groups(sd, per_level[sd.level], cpu)
            sd = sd.parent
    return lowest


def _wrap(span: frozenset, cpu: int) -> list[int]:
    """``for_each_cpu_wrap(i, span, cpu)``: the span's CPUs from ``cpu`` on, wrapping."""
    ordered = sorted(span)
    return [c for c in ordered if c >= cpu] + [c for c in ordered if c < cpu]


def _groups(sd: _Domain, level: dict[int, _Domain], cpu: int) -> list[tuple[frozenset, int]]:
    """``build_sched_groups`` / ``build_overlap_sched_groups``: (span, flags) of each group."""
    covered: set[int] = set()
    groups = []
    for i in _wrap(sd.span, cpu):
        if i in covered:
            continue
        sibling = level.get(i)
        if sibling is None or i not in sibling.span:
            continue
        if sd.flags & SD_OVERLAP:
            if sibling.child is not None and not sibling.child.span <= sd.span:
                sibling = _find_descended_sibling(sd, sibling)
            source = sibling.child if sibling.child is not None else sibling
            span, flags = source.span, (sibling.child.flags if sibling.child is not None else 0)
        elif sibling.child is not None:
            span, flags = sibling.child.span, sibling.child.flags
        else:
            span, flags = frozenset((i,)), 0
        covered |= span
        groups.append((span, flags))
    return groups


def _find_descended_sibling(sd: _Domain, sibling: _Domain) -> _Domain:
    """``find_descended_sibling``: the sibling's descendant whose child stays inside ``sd``."""
    while sibling.child is not None and not sibling.child.span <= sd.span:
        sibling = sibling.child
    while sibling.child is not None and sibling.child.span == sibling.span:
        sibling = sibling.child
    return sibling


def _set_imb_numa_nr(lowest: _Domain | None) -> None:
    """``build_sched_domains``: the NUMA imbalance each domain allows (``sd->imb_numa_nr``)."""
    imb, imb_span = 0, 1
    sd = lowest
    while sd is not None:
        child = sd.child
        if not sd.flags & SD_SHARE_LLC and child is not None and child.flags & SD_SHARE_LLC:
            nr_llcs = len(sd.span) // len(child.span)
            imb = max(1, len(sd.span) >> 3 if nr_llcs == 1 else nr_llcs)
            sd.imb_numa_nr = imb
            top = sd.parent
            while top is not None and not top.flags & SD_NUMA:
                top = top.parent
            imb_span = len(top.span) if top is not None else len(sd.span)
        else:
            sd.imb_numa_nr = imb * max(1, len(sd.span) // imb_span)
        sd = sd.parent


def _sd_degenerate(sd: _Domain) -> bool:
    if len(sd.span) == 1:
        return True
    if sd.flags & SD_DEGENERATE_GROUPS_MASK and len(sd.groups) > 1:
        return False
    return not sd.flags & SD_WAKE_AFFINE


def _sd_parent_degenerate(sd: _Domain, parent: _Domain) -> bool:
    if _sd_degenerate(parent):
        return True
    if sd.span != parent.span:
        return False
    pflags = parent.flags
    if len(parent.groups) == 1:
        pflags &= ~SD_DEGENERATE_GROUPS_MASK
    return not ~sd.flags & pflags


def _attach(sd: _Domain | None) -> _Domain | None:
    """``cpu_attach_domain``: drop degenerate domains; returns the CPU's lowest domain."""
    tmp = sd
    while tmp is not None and tmp.parent is not None:
        parent = tmp.parent
        if _sd_parent_degenerate(tmp, parent):
            tmp.parent = parent.parent
            if parent.parent is not None:
                parent.parent.child = tmp
                span, _ = parent.parent.groups[0]
                parent.parent.groups[0] = (span, tmp.flags)
            if parent.flags & SD_PREFER_SIBLING:
                tmp.flags |= SD_PREFER_SIBLING
        else:
            tmp = tmp.parent
    if sd is not None and _sd_degenerate(sd):
        sd = sd.parent
        if sd is not None:
            sd.groups = [(span, 0) for span, _ in sd.groups]
            sd.child = None
    return sd


@dataclass
class Domains:
    """A machine's attached sched domains as arrays (the kernels' ``sd``, ``sg``, spans).

    Attributes
    ----------
    sd : ndarray
        ``SD_DTYPE`` rows; each CPU's domains are consecutive, lowest first
        (``parent`` is the next row of the same CPU, or -1).
    sg : ndarray
        ``SG_DTYPE`` rows: distinct groups (``sched_group_capacity`` is shared
        by the groups of one span, so is its ``imbalance`` flag).
    sd_groups : ndarray
        int64 ``[sum of groups]``: group rows of each domain, the local group first.
    sd_group_flags : ndarray
        int64, beside ``sd_groups``: each group's flags as its domain sees them
        (those of the child domain).
    spans : ndarray
        ``SPAN_DTYPE`` rows: CPU sets; their CPUs, sorted, in ``span_cpus``.
    span_cpus : ndarray
        int64.
    cpu_sd : ndarray
        int64 ``[C]``: each CPU's lowest domain (``rq->sd``), -1 if none.
    cpu_llc : ndarray
        int64 ``[C]``: each CPU's LLC domain (``sd_llc``: its highest with
        ``SD_SHARE_LLC``), -1 if none.
    cpu_numa : ndarray
        int64 ``[C]``: each CPU's lowest NUMA domain (``sd_numa``), -1 if none.
    names : list of str
        Each domain's level name (``MC``, ``NODE``, ``NUMA``).
    """

    sd: np.ndarray
    sg: np.ndarray
    sd_groups: np.ndarray
    sd_group_flags: np.ndarray
    spans: np.ndarray
    span_cpus: np.ndarray
    cpu_sd: np.ndarray
    cpu_llc: np.ndarray
    cpu_numa: np.ndarray
    names: list


def build_domains(machine: Machine) -> Domains:
    """Build, attach and lay out every CPU's sched domains."""
    lowest = _build_chains(machine)
    for sd in lowest:
        _set_imb_numa_nr(sd)
    attached = [_attach(sd) for sd in lowest]
    cpu_node = machine.cpu_node
    span_ids: dict[frozenset, int] = {}

    def span_id(span: frozenset) -> int:
        if span not in span_ids:
            span_ids[span] = len(span_ids)
        return span_ids[span]

    group_ids: dict[frozenset, int] = {}
    rows, groups, group_flags, names = [], [], [], []
    cpu_sd = np.full(machine.nr_cpus, -1, dtype=np.int64)
    cpu_llc = np.full(machine.nr_cpus, -1, dtype=np.int64)
    cpu_numa = np.full(machine.nr_cpus, -1, dtype=np.int64)
    for cpu, sd in enumerate(attached):
        first = len(rows)
        cpu_sd[cpu] = first if sd is not None else -1
        while sd is not None:
            if sd.flags & SD_SHARE_LLC:
                cpu_llc[cpu] = len(rows)
            if sd.flags & SD_NUMA and cpu_numa[cpu] < 0:
                cpu_numa[cpu] = len(rows)
            weight = len(sd.span)
            row = dict(cpu=cpu, level=sd.level, sd_flags=sd.flags, span=span_id(sd.span),
                       group_first=len(groups), group_count=len(sd.groups), span_weight=weight,
                       min_interval=weight, max_interval=2 * weight, busy_factor=BUSY_FACTOR,
                       imbalance_pct=sd.imbalance_pct, cache_nice_tries=sd.cache_nice_tries,
                       imb_numa_nr=sd.imb_numa_nr, balance_interval=weight,
                       newidle_call=512, newidle_success=256, newidle_ratio=512,
                       distance=sd.distance, parent=-1, child=-1)
            if len(rows) > first:
                row["child"] = len(rows) - 1
                rows[-1]["parent"] = len(rows)
            for span, flags in sd.groups:
                if span not in group_ids:
                    group_ids[span] = len(group_ids)
                groups.append(group_ids[span])
                group_flags.append(flags)
            rows.append(row)
            names.append(level_name(sd.level))
            sd = sd.parent
    sd_arr = np.zeros(len(rows), dtype=SD_DTYPE)
    for i, row in enumerate(rows):
        for key, value in row.items():
            sd_arr[i][key] = value
    sg = np.zeros(len(group_ids), dtype=SG_DTYPE)
    for span, g in group_ids.items():
        sg[g]["span"] = span_id(span)
        sg[g]["weight"] = len(span)
        sg[g]["cores"] = len(span)
        sg[g]["capacity"] = SCHED_CAPACITY_SCALE * len(span)
        sg[g]["balance_cpu"] = min(span)
    spans = np.zeros(len(span_ids), dtype=SPAN_DTYPE)
    span_cpus = []
    for span, k in sorted(span_ids.items(), key=lambda item: item[1]):
        cpus = sorted(span)
        nodes = {cpu_node[c] for c in cpus}
        whole = all(set(machine.node_cpus(n)) <= span for n in nodes)
        spans[k] = (len(span_cpus), len(cpus), node_mask(nodes), int(whole), 0)
        span_cpus.extend(cpus)
    return Domains(sd=sd_arr, sg=sg, sd_groups=np.array(groups, dtype=np.int64),
                   sd_group_flags=np.array(group_flags, dtype=np.int64), spans=spans,
                   span_cpus=np.array(span_cpus, dtype=np.int64), cpu_sd=cpu_sd,
                   cpu_llc=cpu_llc, cpu_numa=cpu_numa, names=names)


def llc_ids(domains: Domains) -> tuple[np.ndarray, np.ndarray]:
    """``sd_llc_id`` and ``sd_llc_size`` of each CPU: the first CPU and the size of its LLC
    domain's span (the CPU itself and 1 without one)."""
    n = len(domains.cpu_llc)
    ids = np.arange(n, dtype=np.int64)
    sizes = np.ones(n, dtype=np.int64)
    for cpu, sd in enumerate(domains.cpu_llc):
        if sd >= 0:
            span = domains.spans[domains.sd[sd]["span"]]
            ids[cpu] = domains.span_cpus[span["first"]]
            sizes[cpu] = span["count"]
    return ids, sizes
