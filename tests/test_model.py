"""The plain-Python model: presets, derived machine facts, watermarks, validation."""

from __future__ import annotations

import dataclasses

import pytest

from numaexp.errors import ScenarioError
from numaexp.model import (
    Cgroup,
    CostModel,
    KernelConfig,
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
    four_node,
    tiered,
    two_socket,
)
from numaexp.model.machine import (
    KMEM_ADISTANCE,
    NUMA_BACKPLANE,
    NUMA_DIRECT,
    NUMA_GLUELESS_MESH,
)
from numaexp.model.memory import min_free_kbytes, watermarks
from numaexp.model.presets import (
    autonumabench,
    autonumabench_scenario,
    default_scenario,
    random_access,
)
from numaexp.model.units import format_size, parse_size

GiB = 1 << 30
AUTONUMABENCH_NAMES = [base + suffix
                       for base in ("numa01", "numa01_THREAD_ALLOC", "numa02", "numa02_SMT")
                       for suffix in ("", "_HARD_BIND", "_INVERSE_BIND")]


def small_machine() -> Machine:
    """2 nodes x 4 CPUs x 4 GiB."""
    return two_socket(cpus_per_node=4, memory_per_node="4 GiB")


def small_workload(**process_changes) -> Workload:
    """One process, two VMAs, two threads (one replicated)."""
    process = Process(
        name="p", cgroup="/job",
        vmas=(Vma(name="heap", size="1 GiB"), Vma(name="buf", size="256 MiB", thp=True)),
        threads=(
            Thread(name="t", cpus=(0, 1),
                   phases=(Phase(patterns=(Pattern(vma="heap"),), touches=1e6),)),
            Thread(name="u", count=2,
                   phases=(Phase(patterns=(Pattern(vma="buf", kind="sweep"),), passes=2),)),
        ))
    process = dataclasses.replace(process, **process_changes)
    return Workload(name="w", processes=(process,),
                    cgroups=(Cgroup(path="/job", cpus=(0, 1, 2, 3), mems=(0,)),))


def small_scenario(**changes) -> Scenario:
    fields = {"name": "small", "machine": small_machine(), "workload": small_workload()}
    fields.update(changes)
    return Scenario(**fields)


def error_of(build) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        build()
    return info.value


# ----- presets ----------------------------------------------------------------
def test_default_scenario_builds():
    s = default_scenario()
    # 2 DRAM nodes of 8 CPUs and a CPU-less CXL node (farther: a larger adistance)
    assert s.machine.nr_nodes == 3 and s.machine.nr_cpus == 16
    assert [n.cpus for n in s.machine.nodes] == [8, 8, 0]
    assert s.machine.nodes[2].adistance > s.machine.nodes[0].adistance
    assert s.workload.name == "app_and_batch"
    assert [(c.path, c.numa_load_balance) for c in s.workload.cgroups] == [("/app", 1),
                                                                          ("/batch", 0)]
    assert [(p.cgroup, p.nr_threads) for p in s.workload.processes] == [("/app", 8), ("/batch", 8)]
    assert s.workload.processes[1].vmas[0].first_touch_node == 2  # /batch's table on CXL
    assert s.stop.kind == "duration" and s.stop.duration_s == 30.0
    assert s.memory_pages == 2 * (1 << 30) // 4096


@pytest.mark.parametrize("mode", [0, 1, 2, 3, 4])
def test_default_scenario_every_mode(mode):
    assert default_scenario(numa_balancing=mode).kernel.numa_balancing == mode


@pytest.mark.parametrize("name", AUTONUMABENCH_NAMES)
def test_autonumabench_presets_build(name):
    s = autonumabench_scenario(name)
    assert s.workload.name == name
    threads = sum(p.nr_threads for p in s.workload.processes)
    assert threads == (48 if "SMT" in name else 96)
    if name.endswith("_BIND"):
        for proc in s.workload.processes:
            for thread in proc.threads:
                assert thread.policy.mode == "bind"
                assert len(thread.cpus) == 48


@pytest.mark.parametrize("machine", [two_socket(), four_node(), four_node(layout="4-socket"),
                                     tiered()])
@pytest.mark.parametrize("name", ["numa01", "numa02_HARD_BIND", "numa01_THREAD_ALLOC_INVERSE_BIND"])
def test_autonumabench_on_each_machine(machine, name):
    Scenario(name=name, machine=machine, workload=autonumabench(name, machine))


def test_autonumabench_unknown_name():
    err = error_of(lambda: autonumabench("numa03", four_node()))
    assert err.field == "workload" and "numa01" in err.allowed


def test_random_access_preset():
    machine = four_node()
    workload = random_access(machine, memory="64 GiB", threads=64, duration_s=30.0)
    s = Scenario(name="r", machine=machine, workload=workload,
                 stop=Stop(kind="duration", duration_s=30.0))
    assert s.memory_pages == 64 * GiB // 4096
    assert s.stop.limit_s == 30.0


# ----- units --------------------------------------------------------------------
@pytest.mark.parametrize(("text", "nbytes"), [
    ("3 GiB", 3 * GiB), ("512MiB", 512 << 20), ("64K", 64 << 10), (4096, 4096),
    ("1.5 GiB", 3 * GiB // 2), ("2 TB", 2 << 40), ("100", 100),
])
def test_parse_size(text, nbytes):
    assert parse_size(text, "x") == nbytes


@pytest.mark.parametrize("bad", ["-5 GiB", 0, -1, "0 KiB", "3 GB!", "lots", True, None, [1]])
def test_parse_size_rejects(bad):
    err = error_of(lambda: parse_size(bad, "vmas[0].size"))
    assert err.field == "vmas[0].size" and "GiB" in err.allowed


@pytest.mark.parametrize("nbytes", [1, 4096, 3 * GiB, 1048704 << 10, (5 << 40) + 1, 3 << 50])
def test_format_size_round_trips(nbytes):
    assert parse_size(format_size(nbytes, exact=True), "x") == nbytes


@pytest.mark.parametrize(("nbytes", "text"), [
    (45105164980, "42.0 GiB"), ((5 << 40) + 1, "5.0 TiB"), (1500, "1.5 KiB"), (100, "100 B"),
    (3 * GiB, "3 GiB"), (0, "0 B"), (4 << 50, "4 PiB"),
])
def test_format_size_for_messages_has_a_unit(nbytes, text):
    # Finding 14: messages printed bare bytes ("about 45105164980") when no unit divided.
    assert format_size(nbytes) == text


# ----- machine ----------------------------------------------------------------------
def test_cpu_node_and_node_cpus():
    m = two_socket(cpus_per_node=3, memory_per_node="1 GiB")
    assert m.cpu_node == (0, 0, 0, 1, 1, 1)
    assert list(m.node_cpus(1)) == [3, 4, 5]
    assert m.nr_cpus == 6 and m.memory == 2 * GiB


def test_tiers_and_toptier():
    m = tiered(dram_nodes=2, slow_nodes=2)
    assert m.tiers == (0, 0, 1, 1)
    assert m.toptier == (True, True, False, False)
    assert m.cpu_node.count(2) == 0
    assert two_socket().tiers == (0, 0) and two_socket().toptier == (True, True)


def test_toptier_includes_slow_tier_with_cpus():
    # A CPU node in the slow tier makes that tier (and all faster ones) top tier.
    nodes = (Node(cpus=2, memory="1 GiB"), Node(cpus=2, memory="1 GiB", adistance=KMEM_ADISTANCE))
    m = Machine(name="m", nodes=nodes, distance=((10, 20), (20, 10)))
    assert m.tiers == (0, 1) and m.toptier == (True, True)


def test_latency_matrix():
    m = two_socket(remote_distance=21)
    assert m.latency_matrix[0][0] == pytest.approx(90.0)
    assert m.latency_matrix[0][1] == pytest.approx(90.0 * 2.1)
    assert tiered().latency_matrix[0][2] == pytest.approx(90.0 * 2.5)


def test_topology_direct_two_socket():
    assert two_socket().numa_topology_type == NUMA_DIRECT


def test_topology_direct_four_socket():
    assert four_node(layout="4-socket").numa_topology_type == NUMA_DIRECT


def test_topology_backplane_snc():
    assert four_node(layout="snc").numa_topology_type == NUMA_BACKPLANE


def test_topology_glueless_mesh_ring():
    # 0-1-2-3-0 ring: neighbours 20 apart, opposite nodes 30 (one hop via a neighbour).
    ring = tuple(tuple(10 if a == b else (30 if (a - b) % 4 == 2 else 20) for b in range(4))
                 for a in range(4))
    m = Machine(name="ring", nodes=(Node(cpus=2, memory="1 GiB"),) * 4, distance=ring)
    assert m.numa_topology_type == NUMA_GLUELESS_MESH


def test_topology_ignores_cpuless_nodes():
    # sched_init_numa only looks at nodes with CPUs: SNC CPU nodes plus a far
    # CPU-less node are still NUMA_BACKPLANE.
    snc = four_node(layout="snc", memory_per_node="1 GiB")
    distance = (*((*row, 30) for row in snc.distance), (30, 30, 30, 30, 10))
    m = Machine(name="snc+cxl", nodes=(*snc.nodes, Node(cpus=0, memory="4 GiB")),
                distance=distance)
    assert m.numa_topology_type == NUMA_BACKPLANE
    assert tiered().numa_topology_type == NUMA_DIRECT


@pytest.mark.parametrize(("build", "field"), [
    (lambda: Machine(name="m", nodes=(), distance=()), "nodes"),
    (lambda: Machine(name="m", nodes=(Node(cpus=0, memory="1 GiB"),), distance=((10,),)), "nodes"),
    (lambda: Machine(name="m", nodes=(Node(cpus=1, memory="1 GiB"),) * 2,
                     distance=((10, 21), (21, 11))), "distance[1][1]"),
    (lambda: Machine(name="m", nodes=(Node(cpus=1, memory="1 GiB"),) * 2,
                     distance=((10, 300), (21, 10))), "distance[0][1]"),
    (lambda: Machine(name="m", nodes=(Node(cpus=1, memory="1 GiB"),) * 2,
                     distance=((10, 21),)), "distance"),
    (lambda: Node(cpus=-1, memory="1 GiB"), "cpus"),
    (lambda: Node(cpus=1, memory="1 GiB", adistance=0), "adistance"),
    (lambda: four_node(layout="ring"), "layout"),
])
def test_bad_machine(build, field):
    err = error_of(build)
    assert err.field == field


# ----- watermarks ------------------------------------------------------------------------
@pytest.mark.parametrize("machine", [two_socket(), two_socket(8, "16 GiB"), four_node(),
                                     tiered()])
def test_watermarks_monotone(machine):
    wm = watermarks(machine, KernelConfig())
    for i, node in enumerate(machine.nodes):
        assert 0 < wm.min[i] < wm.low[i] < wm.high[i] < wm.promo[i] < node.pages


def test_min_free_kbytes_like_kernel():
    # int_sqrt(lowmem_kbytes * 16) clamped to [128, 262144]
    assert min_free_kbytes(two_socket(8, "16 GiB")) == 23170
    assert min_free_kbytes(tiered(slow_per_node="2 TiB")) == 262144
    big = watermarks(two_socket(), KernelConfig(min_free_kbytes=1 << 20))
    assert big.min[0] == (1 << 20) // 4 // 2


def test_watermark_scale_factor_spaces_marks():
    m = two_socket()
    low = watermarks(m, KernelConfig(watermark_scale_factor=10))
    high = watermarks(m, KernelConfig(watermark_scale_factor=1000))
    assert high.low[0] - high.min[0] == m.nodes[0].pages // 10
    assert high.low[0] - high.min[0] > low.low[0] - low.min[0]


# ----- kernel, costs, stop ---------------------------------------------------------------
@pytest.mark.parametrize("mode", [5, 6, 7])
def test_kernel_rejects_5_to_7(mode):
    err = error_of(lambda: KernelConfig(numa_balancing=mode))
    assert err.field == "numa_balancing"
    assert "5..7" in err.problem and "4 (CGROUP)" in err.allowed


@pytest.mark.parametrize("mode", [-1, 8, 99, "1", True, 1.0])
def test_kernel_rejects_unknown_mode(mode):
    err = error_of(lambda: KernelConfig(numa_balancing=mode))
    assert err.field == "numa_balancing" and "0 (off)" in err.allowed
    assert "5..7" not in err.problem


@pytest.mark.parametrize(("changes", "field"), [
    ({"scan_period_max_ms": 1 << 32}, "scan_period_max_ms"),
    ({"scan_delay_ms": -1}, "scan_delay_ms"),
    ({"scan_size_mb": 0}, "scan_size_mb"),
    ({"hz": 200}, "hz"),
    ({"watermark_scale_factor": 3001}, "watermark_scale_factor"),
    ({"min_free_kbytes": -4}, "min_free_kbytes"),
])
def test_bad_kernel_tunables(changes, field):
    assert error_of(lambda: KernelConfig(**changes)).field == field


def test_kernel_mode_names():
    assert KernelConfig(numa_balancing=4).mode_name == "CGROUP"


def test_bad_costs_and_stop():
    assert error_of(lambda: CostModel(hint_fault_ns=-1)).field == "hint_fault_ns"
    assert error_of(lambda: Stop(kind="forever")).field == "kind"
    assert error_of(lambda: Stop(kind="duration")).field == "duration_s"
    assert error_of(lambda: Stop(kind="work", duration_s=3.0)).field == "duration_s"


# ----- workload dataclasses ----------------------------------------------------------------
@pytest.mark.parametrize(("build", "field", "allowed"), [
    (lambda: MemPolicy(mode="bogus", nodes=(0,)), "mode", "bind"),
    (lambda: MemPolicy(mode="bind"), "nodes", "node ids"),
    (lambda: MemPolicy(mode="local", nodes=(0,)), "nodes", "no nodes"),
    (lambda: MemPolicy(mode="preferred", nodes=(0,), numa_balancing=True), "numa_balancing",
     "bind"),
    (lambda: Vma(name="v", size="-5 GiB"), "size", "GiB"),
    (lambda: Vma(name="v", size=0), "size", "GiB"),
    (lambda: Vma(name="has space", size=4096), "name", "letters"),
    (lambda: Vma(name="v", size=4096, kind="swap"), "kind", "anon"),
    (lambda: Pattern(vma="v", kind="random"), "kind", "uniform"),
    (lambda: Phase(patterns=(Pattern(vma="v", kind="sweep"), Pattern(vma="v"))), "patterns",
     "one sweep"),
    (lambda: Process(name="p", vmas=(Vma("v", 4096),), threads=(), main_thread="x"), "threads",
     None),
    (lambda: Cgroup(path="relative"), "path", "absolute"),
    (lambda: Cgroup(path="/a", numa_load_balance=2), "numa_load_balance", "0 or 1"),
])
def test_bad_workload_parts(build, field, allowed):
    err = error_of(build)
    assert err.field == field
    if allowed is not None:
        assert allowed in err.allowed


def test_vma_pages_round_up():
    assert Vma(name="v", size=4097).pages == 2
    assert Vma(name="v", size=4097, thp=True).pages == 512


def test_all_cgroups_creates_parents():
    w = Workload(name="w", processes=(dataclasses.replace(small_workload().processes[0],
                                                          cgroup="/a/b/c"),))
    assert [c.path for c in w.all_cgroups()] == ["/", "/a", "/a/b", "/a/b/c"]


# ----- scenario validation (full dotted paths) ------------------------------------------------
def test_small_scenario_is_valid():
    s = small_scenario()
    assert s.memory_pages == (GiB + 256 * (1 << 20)) // 4096


def _with_thread(index: int, **changes) -> Workload:
    proc = small_workload().processes[0]
    threads = list(proc.threads)
    threads[index] = dataclasses.replace(threads[index], **changes)
    return small_workload(threads=tuple(threads))


def _with_vma(index: int, **changes) -> Workload:
    proc = small_workload().processes[0]
    vmas = list(proc.vmas)
    vmas[index] = dataclasses.replace(vmas[index], **changes)
    return small_workload(vmas=tuple(vmas))


def _with_cgroups(*cgroups: Cgroup) -> Workload:
    return dataclasses.replace(small_workload(), cgroups=cgroups)


def _with_pattern(**changes) -> Workload:
    phase = Phase(patterns=(Pattern(**{"vma": "heap", **changes}),), touches=1e6)
    return _with_thread(0, phases=(phase,))


T0 = "workload.processes[0].threads[0]"
V0 = "workload.processes[0].vmas[0]"


@pytest.mark.parametrize(("changes", "field", "allowed"), [
    # memory
    ({"workload": _with_vma(0, size="20 GiB")}, "workload", "more memory"),
    ({"workload": _with_vma(0, size="3900 MiB")}, "workload", "more nodes"),
    ({"workload": dataclasses.replace(_with_vma(0, size="3900 MiB"),
                                      cgroups=(Cgroup(path="/job", mems=(1,)),))},
     "workload", "more nodes"),
    ({"workload": dataclasses.replace(
        _with_vma(0, size="4095 MiB", policy=MemPolicy("bind", (1,))), cgroups=())},
     "workload", "more nodes"),
    ({"workload": dataclasses.replace(_with_vma(0, size="4095 MiB", first_touch_node=1),
                                      cgroups=())},
     "workload", "more nodes"),
    # CPU and node ids
    ({"workload": _with_thread(0, cpus=(0, 99))}, f"{T0}.cpus", "CPU ids 0..7"),
    ({"workload": _with_thread(0, cpus=(6, 7))}, f"{T0}.cpus", "some of [0, 1, 2, 3]"),
    ({"workload": _with_cgroups(Cgroup(path="/job", cpus=(42,)))}, "workload.cgroups[0].cpus",
     "CPU ids 0..7"),
    ({"workload": _with_cgroups(Cgroup(path="/job", mems=(5,)))}, "workload.cgroups[0].mems",
     "node ids 0..1"),
    ({"workload": _with_cgroups(Cgroup(path="/job", cpus=(0, 1)),
                                Cgroup(path="/job/sub", cpus=(1, 4)))},
     "workload.cgroups[1].cpus", "a subset of [0, 1]"),
    ({"workload": _with_cgroups(Cgroup(path="/job", mems=(0,)),
                                Cgroup(path="/job/sub", mems=(1,)))},
     "workload.cgroups[1].mems", "a subset of [0]"),
    ({"workload": _with_vma(0, first_touch_node=2)}, f"{V0}.first_touch_node", "node ids 0..1"),
    ({"workload": _with_vma(0, policy=MemPolicy("interleave", (0, 3)))}, f"{V0}.policy.nodes",
     "node ids 0..1"),
    ({"workload": _with_thread(0, policy=MemPolicy("bind", (2,)))}, f"{T0}.policy.nodes",
     "node ids 0..1"),
    # patterns
    ({"workload": _with_pattern(vma="nope")}, f"{T0}.phases[0].patterns[0].vma", "buf, heap"),
    ({"workload": _with_pattern(length="2 GiB")}, f"{T0}.phases[0].patterns[0].length",
     "start + length"),
    ({"workload": _with_pattern(start="1 GiB")}, f"{T0}.phases[0].patterns[0].start",
     "start + length"),
    ({"workload": _with_pattern(start="768 MiB", length="512 MiB")},
     f"{T0}.phases[0].patterns[0].length", "start + length"),
    # duplicates
    ({"workload": _with_vma(1, name="heap")}, "workload.processes[0].vmas[1].name", "name"),
    ({"workload": _with_thread(1, name="t", count=1)}, "workload.processes[0].threads[1].name",
     "name"),
    ({"workload": _with_thread(0, name="u.1")}, "workload.processes[0].threads[1].name", "name"),
    # stop rule
    ({"workload": _with_thread(0, phases=(Phase(patterns=(Pattern(vma="heap"),)),))},
     f"{T0}.phases[0]", 'stop.kind = "duration"'),
    # scenario scalars
    ({"seed": -1}, "seed", None),
    ({"sample_interval_s": 0}, "sample_interval_s", None),
    ({"kernel": "fast"}, "kernel", None),
])
def test_bad_scenario(changes, field, allowed):
    err = error_of(lambda: small_scenario(**changes))
    assert err.field == field
    if allowed is not None:
        assert allowed in (err.allowed or "")
    assert str(err).startswith(field + ": ")


def test_never_ending_phase_is_fine_with_duration_stop():
    workload = _with_thread(0, phases=(Phase(patterns=(Pattern(vma="heap"),)),))
    small_scenario(workload=workload, stop=Stop(kind="duration", duration_s=5.0))


def test_duplicate_process_and_cgroup_names():
    proc = small_workload().processes[0]
    err = error_of(lambda: Workload(name="w", processes=(proc, proc)))
    assert err.field == "processes[1].name" and err.allowed
    err = error_of(lambda: Workload(name="w", processes=(proc,),
                                    cgroups=(Cgroup(path="/a"), Cgroup(path="/a"))))
    assert err.field == "cgroups[1].path" and err.allowed


def test_error_under_prefixes_paths():
    err = ScenarioError("size", "bad", "good")
    assert err.under("workload.processes[0].vmas[1]").field == "workload.processes[0].vmas[1].size"
    assert ScenarioError("[2]", "bad").under("x.y").field == "x.y[2]"
    assert ScenarioError("", "bad").under("x").field == "x"
    assert str(err) == "size: bad (allowed: good)"
