"""Hypothesis strategies of VALID scenarios for the fuzzer (issue 16).

:func:`scenarios` draws tiny scenarios (a few MiB, at most a few simulated
seconds) that pass validation and reach every part of the simulator:
1-node, small, 64-node and tiered machines (CPU-less slow nodes, demotion),
THP VMAs, every memory policy with and without ``MPOL_F_NUMA_BALANCING``
(interleave with it on RFC kernels), every kernel variant including the
as-posted patches, modes 0-4, cgroups with cpusets and
``cpu.numa_load_balance``, every action kind, and, in a quarter of the
cases ("wild"), extreme accepted values: costs of 0 and 1 s, think times up
to the float range, tunables up to ``2**63``, node memory up to 4 PiB, HZ
100-1000.
"""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from numaexp.model import (
    Action,
    Cgroup,
    CostModel,
    KernelConfig,
    KernelVariant,
    Machine,
    MemPolicy,
    Node,
    Pattern,
    Phase,
    Process,
    Scenario,
    Stop,
    Thread,
    Vma,
    Workload,
)
from numaexp.model.actions import TUNABLES
from numaexp.model.costs import MAX_COST_NS
from numaexp.model.kernel import CGROUP_VARIANTS
from numaexp.model.params import section
from numaexp.model.units import MAX_NODE_MEMORY, PAGE_SIZE

KIB, MIB = 1 << 10, 1 << 20
MACHINE_KINDS = ("one", "small", "small", "tiered", "wide")
"""Machine shapes, drawn alike: 1 node, 2-4 nodes, DRAM + slow tier, 64 nodes."""

POLICY_MODES = ("default", "preferred", "bind", "interleave", "local", "preferred_many",
                "weighted_interleave")


def _wild_float(draw, wild: bool, low: float, high: float, extremes: tuple) -> float:
    if wild and draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(extremes))
    return draw(st.floats(low, high, allow_nan=False, allow_infinity=False))


def _wild_int(draw, wild: bool, low: int, high: int, extremes: tuple) -> int:
    if wild and draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(extremes))
    return draw(st.integers(low, high))


def _extremes(name: str) -> tuple[int, ...]:
    """The bounds of kernel tunable ``name`` in the parameter table (the largest values the
    kernel stores, and its smallest): the wild values worth trying."""
    param = section("kernel")[name]
    return tuple(int(v) for v in (param.low, param.high) if v is not None)


def _subset(draw, items, min_size: int = 1) -> tuple[int, ...]:
    items = sorted(items)
    return tuple(sorted(draw(st.sets(st.sampled_from(items), min_size=min_size,
                                     max_size=len(items)))))


@st.composite
def shapes(draw) -> tuple[str, list[int], list[int]]:
    """(kind, CPUs per node, adistance per node) of a machine."""
    kind = draw(st.sampled_from(MACHINE_KINDS))
    if kind == "one":
        return kind, [draw(st.integers(1, 4))], [576]
    if kind == "wide":  # 64 nodes: the most the model allows
        cpus = [draw(st.integers(0, 1)) for _ in range(64)]
        cpus[draw(st.integers(0, 63))] = 1
        return kind, cpus, [576] * 64
    if kind == "tiered":
        dram, slow = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        return kind, [draw(st.integers(1, 3)) for _ in range(dram)] + [0] * slow, \
            [576] * dram + [draw(st.sampled_from([2880, 1024, 5000]))] * slow
    n = draw(st.integers(2, 4))
    cpus = [draw(st.integers(0, 3)) for _ in range(n)]
    if not any(cpus):
        cpus[0] = 1
    return kind, cpus, [576] * n


def machines(draw, shape, need: int, wild: bool) -> Machine:
    """A machine of ``shape`` whose every node holds ``need`` bytes above its watermarks."""
    kind, cpus, adist = shape
    n = len(cpus)
    floor = need + 64 * MIB
    nodes = []
    for nid in range(n):
        memory = -(-floor // MIB) * MIB
        if wild and draw(st.integers(0, 3)) == 0:
            memory = draw(st.sampled_from([MAX_NODE_MEMORY, 1 << 40, memory + PAGE_SIZE]))
        nodes.append(Node(cpus=cpus[nid], memory=memory, adistance=adist[nid],
                          bandwidth_gbps=_wild_float(draw, wild, 1.0, 200.0, (1e-6, 1e6))))
    if n > 8:  # groups of 8 nodes: a few draws, not n * n (hypothesis limits a case's data)
        near, far = draw(st.integers(11, 100)), draw(st.integers(11, 254))
        distance = [[10 if a == b else near if a // 8 == b // 8 else far for b in range(n)]
                    for a in range(n)]
    else:
        distance = [[10 if a == b else draw(st.integers(11, 254)) for b in range(n)]
                    for a in range(n)]
    latency = None
    if n <= 4 and draw(st.booleans()):
        latency = [[_wild_float(draw, wild, 50.0, 500.0, (1e-3, 1e6)) for _ in range(n)]
                   for _ in range(n)]
    return Machine(name=f"fuzz {kind} {n} nodes", nodes=tuple(nodes), distance=distance,
                   latency_ns=latency,
                   local_latency_ns=_wild_float(draw, wild, 50.0, 200.0, (1e-3, 1e6)),
                   link_bandwidth_gbps=_wild_float(draw, wild, 1.0, 100.0, (1e-6, 1e6)))


def policies(draw, nr_nodes: int, rfc: bool) -> MemPolicy:
    """Any memory policy over existing nodes; the NUMA balancing flag where accepted."""
    mode = draw(st.sampled_from(POLICY_MODES))
    if mode in ("default", "local"):
        return MemPolicy(mode=mode)
    nodes = _subset(draw, range(nr_nodes))
    flag_ok = mode in ("bind", "preferred_many") or (mode == "interleave" and rfc)
    return MemPolicy(mode=mode, nodes=nodes, numa_balancing=flag_ok and draw(st.booleans()))


def patterns(draw, vmas: list[Vma], count: int, sweep: bool) -> Pattern:
    """A pattern over a region of one VMA, with a region per thread >= its stride."""
    vma = draw(st.sampled_from(vmas))
    start = draw(st.integers(0, vma.pages - 1))
    length = draw(st.integers(1, vma.pages - start))
    slice_by_thread = count > 1 and length >= count and draw(st.booleans())
    per = length // count if slice_by_thread else length
    stride = draw(st.integers(1, max(1, min(per, 8))))
    hot_size = draw(st.floats(1e-3, 1.0))
    kind = "sweep" if sweep else draw(st.sampled_from(["uniform", "hotset", "zipf", "gaussian"]))
    return Pattern(vma=vma.name, kind=kind, start=start * PAGE_SIZE,
                   length=length * PAGE_SIZE if draw(st.booleans()) else None,
                   share=draw(st.floats(1e-3, 10.0)), write_fraction=draw(st.floats(0, 1)),
                   stride=stride, slice_by_thread=slice_by_thread,
                   hot_fraction=draw(st.floats(0, 1)), hot_size=hot_size,
                   hot_offset=draw(st.floats(0, 1 - hot_size)),
                   zipf_alpha=draw(st.floats(0.01, 4.0)), mean=draw(st.floats(0, 1)),
                   sigma=draw(st.floats(1e-3, 100.0)))


def phases(draw, vmas: list[Vma], count: int, stop_kind: str, wild: bool) -> Phase:
    sweep = draw(st.booleans())
    pats = (patterns(draw, vmas, count, True),) if sweep else tuple(
        patterns(draw, vmas, count, False) for _ in range(draw(st.integers(1, 3))))
    ends = ["touches", "duration_s"] + (["passes"] if sweep else []) \
        + ([None] if stop_kind == "duration" else [])
    end = draw(st.sampled_from(ends))
    kwargs = {}
    if end == "passes":
        kwargs["passes"] = draw(st.floats(0.01, 5.0))
    elif end == "touches":
        kwargs["touches"] = draw(st.floats(1.0, 1e6))
    elif end == "duration_s":
        kwargs["duration_s"] = draw(st.floats(1e-4, 0.3))
    return Phase(patterns=pats,
                 think_ns=_wild_float(draw, wild, 1.0, 200.0, (1e-300, 1e307, 1e308)),
                 mlp=_wild_float(draw, wild, 1.0, 16.0, (1e-9, 1e9)),
                 stream_gbps=_wild_float(draw, wild, 1.0, 20.0, (1e-6, 1e6)), **kwargs)


def kernels(draw, nr_nodes: int, wild: bool) -> KernelConfig:
    cgroup = draw(st.sampled_from(CGROUP_VARIANTS))
    rfc = cgroup != "mainline"
    variant = KernelVariant(cgroup=cgroup,
                            stats=draw(st.sampled_from(["fixed", "as-posted"])) if rfc else "fixed",
                            interleave=draw(st.sampled_from(["fixed", "as-posted"]))
                            if rfc else "fixed")
    lo = _wild_int(draw, wild, 10, 2000, _extremes("scan_period_min_ms"))
    hi = max(lo, _wild_int(draw, wild, 10, 60000, _extremes("scan_period_max_ms")))
    return KernelConfig(
        numa_balancing=draw(st.integers(0, 4 if rfc else 3)),
        scan_delay_ms=_wild_int(draw, wild, 1, 2000, _extremes("scan_delay_ms")),
        scan_period_min_ms=lo, scan_period_max_ms=hi,
        scan_size_mb=_wild_int(draw, wild, 1, 512, _extremes("scan_size_mb")),
        hot_threshold_ms=_wild_int(draw, wild, 1, 5000, _extremes("hot_threshold_ms")),
        promote_rate_limit_mbps=_wild_int(draw, wild, 1, 100000,
                                          _extremes("promote_rate_limit_mbps")),
        demotion_enabled=draw(st.booleans()), hz=draw(st.sampled_from([100, 250, 300, 1000])),
        watermark_scale_factor=_wild_int(draw, wild, 1, 100, (1, 3000)),
        min_free_kbytes=draw(st.none() | st.integers(128, 4096)),
        locality_reset_fix=draw(st.booleans()), variant=variant)


def cgroups(draw, machine: Machine) -> list[Cgroup]:
    """Up to three cgroups, each cpuset within its parent's."""
    out: list[Cgroup] = []
    effective = {"/": (set(range(machine.nr_cpus)), set(range(machine.nr_nodes)))}
    for path in draw(st.sampled_from([(), ("/a",), ("/a", "/a/b"), ("/a", "/c"),
                                      ("/a", "/a/b", "/c")])):
        pcpus, pmems = effective[path.rsplit("/", 1)[0] or "/"]
        cpus = _subset(draw, pcpus) if draw(st.booleans()) else None
        mems = _subset(draw, pmems) if draw(st.booleans()) else None
        effective[path] = (set(cpus or pcpus), set(mems or pmems))
        out.append(Cgroup(path=path, cpus=cpus, mems=mems,
                          numa_load_balance=draw(st.integers(0, 1))))
    return out


def actions(draw, sc: Scenario, wild: bool) -> tuple[Action, ...]:
    """Up to three actions of any kind, within the run; scan period bounds stay ordered."""
    out = []
    limit = sc.stop.limit_s
    paths = [c.path for c in sc.workload.all_cgroups()]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["numa_balancing", "numa_load_balance", "tunable",
                                     "move_task", "cpuset"]))
        at = draw(st.floats(0, limit))
        if kind == "numa_balancing":
            out.append(Action(at_s=at, kind=kind,
                              value=draw(st.integers(0, 4 if sc.kernel.variant.rfc else 3))))
        elif kind == "numa_load_balance":
            out.append(Action(at_s=at, kind=kind, cgroup=draw(st.sampled_from(paths)),
                              value=draw(st.integers(0, 1))))
        elif kind == "tunable":
            name = draw(st.sampled_from(TUNABLES))
            if name == "demotion_enabled":
                value = draw(st.integers(0, 1))
            elif name == "scan_period_min_ms":  # only lowered, and the max only raised: ordered
                value = draw(st.integers(0, sc.kernel.scan_period_min_ms))  # 0 is a u32 too
            elif name == "scan_period_max_ms":
                value = min(sc.kernel.scan_period_max_ms + draw(st.integers(0, 10000)),
                            max(_extremes(name)))  # a wild max may already be the largest
            else:
                value = _wild_int(draw, wild, 1, 5000, _extremes(name))
            out.append(Action(at_s=at, kind=kind, name=name, value=value))
        elif kind == "move_task":
            proc = draw(st.sampled_from(sc.workload.processes))
            names = [t.name if t.count == 1 else f"{t.name}.{draw(st.integers(0, t.count - 1))}"
                     for t in proc.threads]
            out.append(Action(at_s=at, kind=kind, cgroup=draw(st.sampled_from(paths)),
                              process=proc.name, thread=draw(st.sampled_from(["", *names]))))
        else:
            out.append(Action(at_s=at, kind=kind, cgroup=draw(st.sampled_from(paths)),
                              cpus=_subset(draw, range(sc.machine.nr_cpus), 0),
                              mems=_subset(draw, range(sc.machine.nr_nodes), 0) or (0,)))
    return tuple(out)


@st.composite
def scenarios(draw) -> Scenario:
    """A tiny valid scenario (see the module docstring)."""
    wild = draw(st.integers(0, 3)) == 0
    shape = draw(shapes())
    n = len(shape[1])
    kernel = kernels(draw, n, wild)
    rfc = kernel.variant.rfc
    stop = draw(st.sampled_from(["work", "duration"]))
    limit = draw(st.floats(0.005, 0.6))
    probe = Machine(name="probe", nodes=tuple(Node(cpus=c, memory=64 * MIB) for c in shape[1]),
                    distance=[[10 if a == b else 20 for b in range(n)] for a in range(n)])
    groups = cgroups(draw, probe)
    effective = {"/": set(range(probe.nr_cpus))}
    for g in groups:
        effective[g.path] = set(g.cpus) if g.cpus else effective[g.path.rsplit("/", 1)[0] or "/"]
    procs, need = [], 0
    for p in range(draw(st.integers(1, 3))):
        vmas = []
        for v in range(draw(st.integers(1, 3))):
            thp = draw(st.integers(0, 3)) == 0
            size = draw(st.integers(1, 2)) * 512 * PAGE_SIZE if thp else \
                draw(st.integers(1, 1024)) * PAGE_SIZE - draw(st.integers(0, PAGE_SIZE - 1))
            vmas.append(Vma(name=f"v{v}", size=size, thp=thp,
                            kind=draw(st.sampled_from(["anon", "anon", "file", "shmem"])),
                            shared=draw(st.booleans()), writable=draw(st.booleans()),
                            executable=draw(st.booleans()),
                            policy=policies(draw, n, rfc) if draw(st.booleans()) else None,
                            first_touch_node=draw(st.none() | st.integers(0, n - 1))))
            need += vmas[-1].pages * PAGE_SIZE
        cgroup = draw(st.sampled_from(["/", *(g.path for g in groups)]))
        threads = []
        for t in range(draw(st.integers(1, 3))):
            count = draw(st.sampled_from([1, 1, 2, 3, 4, 16]))
            cpus = _subset(draw, effective[cgroup]) if draw(st.booleans()) else None
            threads.append(Thread(name=f"t{t}", count=count, cpus=cpus,
                                  policy=policies(draw, n, rfc),
                                  phases=tuple(phases(draw, vmas, count, stop, wild)
                                               for _ in range(draw(st.integers(1, 2))))))
        procs.append(Process(name=f"p{p}", vmas=tuple(vmas), threads=tuple(threads),
                             cgroup=cgroup, main_thread=draw(st.sampled_from(["works",
                                                                               "sleeps"]))))
    machine = machines(draw, shape, need, wild)
    workload = Workload(name="fuzz", processes=tuple(procs), cgroups=tuple(groups))
    costs = CostModel(**{name: draw(st.booleans()) if param.kind == "bool" else
                         _wild_float(draw, wild, 0.0, 1e5, (0.0, MAX_COST_NS))
                         for name, param in section("costs").items()})
    tick = 1 / kernel.hz
    interval = max(tick, draw(st.sampled_from([tick, 2 * tick, 0.01, 0.0123, 0.05, 0.1])))
    sc = Scenario(name="fuzz", machine=machine, workload=workload, kernel=kernel, costs=costs,
                  stop=Stop(kind="duration", duration_s=limit) if stop == "duration"
                  else Stop(kind="work", max_duration_s=limit),
                  seed=draw(st.integers(0, 2**63 - 1)), sample_interval_s=interval)
    return dataclasses.replace(sc, actions=actions(draw, sc, wild))
