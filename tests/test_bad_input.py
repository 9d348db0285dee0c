"""Bad input (issue 2, deliverable 9): one ScenarioError naming the field, never a traceback.

Covers the audit's findings 1-5, 9, 12 and 14: non-finite numbers, a sampling
interval below one tick, sizes that overflow, gaussians too wide for the
simulator's normalisation, wrong types from the Python API, a kernel variant
given as a label in TOML, and the wording of a few messages. Nothing here
simulates.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from helpers import small_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from numaexp.errors import ScenarioError
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
    load_scenario,
    save_scenario,
)
from numaexp.model.checks import MAX_SECONDS
from numaexp.model.costs import MAX_COST_NS
from numaexp.model.params import section
from numaexp.model.phases import MAX_GAUSSIAN_SIGMA
from numaexp.model.toml_io import scenario_from_dict, scenario_to_dict, scenario_to_toml
from numaexp.model.units import MAX_NODE_MEMORY, MAX_SIZE, parse_size
from numaexp.sim.engine.access import gaussian_norm, zipf_norm

P0 = "workload.processes[0]"
V0 = f"{P0}.vmas[0]"
PH0 = f"{P0}.threads[0].phases[0]"
PAT0 = f"{PH0}.patterns[0]"
NONFINITE = [math.inf, -math.inf, math.nan]


def base_scenario(**changes) -> Scenario:
    """2 nodes x 4 CPUs x 2 GiB; one process with a 64 MiB heap and one random-access thread."""
    workload = Workload(name="w", processes=(Process(
        name="p", vmas=(Vma(name="heap", size="64 MiB"),),
        threads=(Thread(name="t", phases=(
            Phase(patterns=(Pattern(vma="heap"),), touches=1e6),)),)),))
    fields = {"name": "bad", "machine": small_machine(), "workload": workload,
              "stop": Stop(max_duration_s=10.0), "sample_interval_s": 0.5}
    fields.update(changes)
    return Scenario(**fields)


def base_dict() -> dict:
    return scenario_to_dict(base_scenario())


def set_path(data: dict, path: str, value) -> None:
    """Set ``a.b[0].c`` in nested dicts and lists, creating tables on the way."""
    keys: list = []
    for part in path.split("."):
        name, *idx = part.replace("]", "").split("[")
        keys.append(name)
        keys.extend(int(i) for i in idx)
    node = data
    for key in keys[:-1]:
        if isinstance(key, str):
            node = node.setdefault(key, {})
        else:
            node = node[key]
    node[keys[-1]] = value


def toml_error(path: str, value) -> ScenarioError:
    data = base_dict()
    set_path(data, path, value)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    return info.value


def error_of(build) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        build()
    return info.value


def _machine(**changes) -> Machine:
    return dataclasses.replace(small_machine(), **changes)


def _phase(**changes) -> Phase:
    return Phase(**{"patterns": (Pattern(vma="heap"),), "touches": 1e6, **changes})


def _pattern(**changes) -> Pattern:
    return Pattern(**{"vma": "heap", **changes})


# ----- 1. every float field is finite, from Python and from TOML ------------------------------
FLOAT_COSTS = [name for name, param in section("costs").items() if param.kind == "float"]
"""The costs that are numbers of ns (``tlb_broadcast`` is a bool)."""

FLOAT_FIELDS = [
    # (id, Python builder taking the value, field named by the dataclass, TOML path)
    ("local_latency_ns", lambda v: _machine(local_latency_ns=v), "local_latency_ns",
     "machine.local_latency_ns"),
    ("latency_ns entry", lambda v: _machine(latency_ns=((90.0, v), (190.0, 90.0))),
     "latency_ns[0][1]", "machine.latency_ns"),
    ("link_bandwidth_gbps", lambda v: _machine(link_bandwidth_gbps=v), "link_bandwidth_gbps",
     "machine.link_bandwidth_gbps"),
    ("bandwidth_gbps", lambda v: Node(cpus=1, memory="1 GiB", bandwidth_gbps=v),
     "bandwidth_gbps", "machine.nodes[0].bandwidth_gbps"),
    ("think_ns", lambda v: _phase(think_ns=v), "think_ns", f"{PH0}.think_ns"),
    ("mlp", lambda v: _phase(mlp=v), "mlp", f"{PH0}.mlp"),
    ("stream_gbps", lambda v: _phase(stream_gbps=v), "stream_gbps", f"{PH0}.stream_gbps"),
    ("touches", lambda v: _phase(touches=v), "touches", f"{PH0}.touches"),
    ("phase duration_s", lambda v: _phase(touches=None, duration_s=v), "duration_s",
     f"{PH0}.duration_s"),
    ("passes", lambda v: Phase(patterns=(Pattern(vma="heap", kind="sweep"),), passes=v),
     "passes", None),
    ("share", lambda v: _pattern(share=v), "share", f"{PAT0}.share"),
    ("write_fraction", lambda v: _pattern(write_fraction=v), "write_fraction",
     f"{PAT0}.write_fraction"),
    ("hot_fraction", lambda v: _pattern(hot_fraction=v), "hot_fraction", f"{PAT0}.hot_fraction"),
    ("zipf_alpha", lambda v: _pattern(kind="zipf", zipf_alpha=v), "zipf_alpha",
     f"{PAT0}.zipf_alpha"),
    ("mean", lambda v: _pattern(kind="gaussian", mean=v), "mean", f"{PAT0}.mean"),
    ("sigma", lambda v: _pattern(kind="gaussian", sigma=v), "sigma", f"{PAT0}.sigma"),
    ("stop duration_s", lambda v: Stop(kind="duration", duration_s=v), "duration_s",
     "stop.duration_s"),
    ("max_duration_s", lambda v: Stop(max_duration_s=v), "max_duration_s",
     "stop.max_duration_s"),
    ("sample_interval_s", lambda v: base_scenario(sample_interval_s=v), "sample_interval_s",
     "sample_interval_s"),
    *[(f"costs.{name}", lambda v, n=name: CostModel(**{n: v}), name, f"costs.{name}")
      for name in FLOAT_COSTS],
]


@pytest.mark.parametrize("value", NONFINITE, ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize(("build", "field", "toml_path"), [c[1:] for c in FLOAT_FIELDS],
                         ids=[c[0] for c in FLOAT_FIELDS])
def test_non_finite_numbers_refused(build, field, toml_path, value):
    err = error_of(lambda: build(value))
    assert err.field == field
    assert str(err).startswith(f"{field}: ") and "finite" in err.allowed
    if toml_path is None:
        return
    if toml_path == "machine.latency_ns":
        value = [[90.0, value], [190.0, 90.0]]
        toml_path, field = "machine.latency_ns", "machine.latency_ns[0][1]"
    else:
        field = toml_path
    if toml_path == "stop.duration_s":
        set_value = [("stop.kind", "duration"), (toml_path, value)]
    elif toml_path == f"{PH0}.duration_s":
        set_value = [(f"{PH0}.touches", None), (toml_path, value)]
    else:
        set_value = [(toml_path, value)]
    data = base_dict()
    for path, v in set_value:
        if v is None:
            del data["workload"]["processes"][0]["threads"][0]["phases"][0]["touches"]
        else:
            set_path(data, path, v)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert info.value.field == field, str(info.value)


@pytest.mark.parametrize("name", FLOAT_COSTS)
def test_costs_bounded_so_int64_ns_cannot_wrap(name):
    # A cost of 1e19 ns wraps the simulator's int64 system time like inf did.
    CostModel(**{name: MAX_COST_NS})
    err = error_of(lambda: CostModel(**{name: 1e19}))
    assert err.field == name and "[0, 1000000000] ns" in err.allowed and "1 s" in err.allowed


@pytest.mark.parametrize("value", [1, 1.0, "true", None])
def test_a_bool_cost_field_takes_only_a_bool(value):
    err = error_of(lambda: CostModel(tlb_broadcast=value))
    assert err.field == "tlb_broadcast" and "true or false" in err.allowed


@pytest.mark.parametrize("build", [lambda v: Stop(kind="duration", duration_s=v),
                                   lambda v: Stop(max_duration_s=v),
                                   lambda v: _phase(touches=None, duration_s=v)])
def test_durations_bounded(build):
    build(MAX_SECONDS)
    assert "would not end" in error_of(lambda: build(MAX_SECONDS * 10)).problem


def test_shares_must_have_a_finite_sum():
    err = error_of(lambda: Phase(patterns=(_pattern(share=1e308), _pattern(share=1e308)),
                                 touches=1))
    assert err.field == "patterns" and "finite sum" in err.allowed


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from([c[3] for c in FLOAT_FIELDS if c[3] and "latency_ns" not in c[3]
                              and "duration_s" not in c[3]]),
       value=st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.booleans()
       | st.sampled_from([10**400, -(10**400), 2**63, 1e308])
       | st.text(max_size=5) | st.none())
def test_any_number_in_toml_is_accepted_or_a_scenario_error(field, value):
    data = base_dict()
    set_path(data, field, value)
    try:
        s = scenario_from_dict(data)
    except ScenarioError as exc:
        assert exc.field == field or exc.field.startswith("workload"), str(exc)
        return
    # accepted: then every float in the scenario is finite
    for obj in (s.machine, s.costs, s.stop, *s.machine.nodes,
                *(ph for t in s.workload.processes[0].threads for ph in t.phases),
                *(pat for t in s.workload.processes[0].threads for ph in t.phases
                  for pat in ph.patterns)):
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if isinstance(v, float):
                assert math.isfinite(v), (f.name, v)


# ----- 2. sampling interval of at least one tick ----------
@pytest.mark.parametrize("hz", [100, 250, 300, 1000])
def test_sample_interval_below_one_tick(hz):
    kernel = KernelConfig(hz=hz)
    base_scenario(kernel=kernel, sample_interval_s=1 / hz)
    for interval in (1e-7, 0.999 / hz):
        err = error_of(lambda iv=interval: base_scenario(kernel=kernel, sample_interval_s=iv))
        assert err.field == "sample_interval_s"
        tick = f"{1000 / hz:g} ms at kernel.hz = {hz}"
        assert tick in err.problem and tick in err.allowed


def test_sample_interval_below_one_tick_toml():
    err = toml_error("sample_interval_s", 1e-7)
    assert err.field == "sample_interval_s" and "4 ms at kernel.hz = 250" in str(err)


# ----- 3. sizes ----------
@pytest.mark.parametrize("value", [math.inf, math.nan, -math.inf, "1e400 GiB", "inf GiB", "nan"])
def test_non_finite_sizes(value):
    err = error_of(lambda: Vma(name="v", size=value))
    assert err.field == "size" and "GiB" in err.allowed
    assert toml_error(f"{V0}.size", value).field == f"{V0}.size"


def test_size_bounds():
    assert parse_size("128 PiB", "x") == MAX_SIZE == 1 << 57
    Vma(name="v", size=MAX_SIZE)
    err = error_of(lambda: Vma(name="v", size=MAX_SIZE + 1))
    assert err.field == "size" and "128 PiB" in err.problem and "128 PiB" in err.allowed
    assert "57-bit" in err.problem
    Node(cpus=1, memory=MAX_NODE_MEMORY)
    for memory in ("1e12 TiB", "5 PiB", MAX_NODE_MEMORY + 4096):
        err = error_of(lambda m=memory: Node(cpus=1, memory=m))
        assert err.field == "memory" and "4 PiB" in err.problem and "52-bit" in err.problem
    err = toml_error("machine.nodes[1].memory", "1e12 TiB")
    assert err.field == "machine.nodes[1].memory" and "4 PiB" in err.allowed


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True)
       | st.builds(lambda x, u: f"{x} {u}", st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from(["", "B", "KiB", "MiB", "GiB", "TiB", "PiB"]))
       | st.integers(-(1 << 70), 1 << 70))
def test_parse_size_never_raises_anything_else(value):
    try:
        size = parse_size(value, "f")
    except ScenarioError as exc:
        assert exc.field == "f"
    else:
        assert 0 < size <= MAX_SIZE


# ----- 4. gaussian sigma and zipf alpha cannot break the normalisation ----------
@pytest.mark.parametrize("mean", [0.0, 0.3, 0.5, 1.0])
def test_widest_gaussian_has_a_sound_norm(mean):
    # gaussian_norm's mass of [0, 1] is ~ 1 / (2.5 sigma), the difference of two values near
    # 0.5: at the bound it keeps ~13 digits, far from sigma ~ 1e16 where it becomes 0
    # (ZeroDivisionError at build, finding 4).
    norm = gaussian_norm(mean, MAX_GAUSSIAN_SIGMA)
    assert norm == pytest.approx(MAX_GAUSSIAN_SIGMA * math.sqrt(2 * math.pi), rel=1e-4)
    with pytest.raises(ZeroDivisionError):
        gaussian_norm(0.5, 1e17)


@pytest.mark.parametrize("sigma", [MAX_GAUSSIAN_SIGMA * 1.01, 1e17, 1e300])
def test_too_wide_gaussian_refused(sigma):
    err = error_of(lambda: _pattern(kind="gaussian", sigma=sigma))
    assert err.field == "sigma" and 'kind = "uniform"' in err.problem
    assert toml_error(f"{PAT0}.sigma", sigma).field == f"{PAT0}.sigma"


@settings(max_examples=100, deadline=None)
@given(alpha=st.floats(min_value=1e-300, max_value=1.7e308),
       n=st.sampled_from([1, 7, 1 << 22, (1 << 22) + 1, 1 << 40]))
def test_zipf_norm_finite_for_every_accepted_alpha(alpha, n):
    _pattern(kind="zipf", zipf_alpha=alpha)
    h = zipf_norm(n, alpha)
    assert math.isfinite(h) and h >= 1.0


# ----- 5. Python API types ----------
def _bool_fields():
    out = []
    builders = {
        Vma: lambda **kw: Vma(name="v", size=4096, **kw),
        KernelConfig: KernelConfig,
        MemPolicy: lambda **kw: MemPolicy(mode="bind", nodes=(0,), **kw),
        Pattern: lambda **kw: Pattern(vma="v", **kw),
    }
    for cls, build in builders.items():
        for f in dataclasses.fields(cls):
            if f.type in ("bool", bool):
                out.append(pytest.param(build, f.name, id=f"{cls.__name__}.{f.name}"))
    return out


@pytest.mark.parametrize("value", ["no", "yes", 1, 0, None, 1.0])
@pytest.mark.parametrize(("build", "name"), _bool_fields())
def test_bool_fields_take_only_bools(build, name, value):
    build(**{name: False})
    err = error_of(lambda: build(**{name: value}))
    assert err.field == name and "True or False" in err.allowed


def test_bool_fields_are_all_covered():
    covered = {p.id for p in _bool_fields()}
    assert {"Vma.shared", "Vma.thp", "KernelConfig.demotion_enabled",
            "KernelConfig.locality_reset_fix", "MemPolicy.numa_balancing",
            "Pattern.slice_by_thread"} <= covered


def _proc(**kw) -> Process:
    return Process(**{"name": "p", "vmas": (Vma(name="heap", size="64 MiB"),),
                      "threads": (Thread(name="t", phases=(_phase(),)),), **kw})


WRONG_TYPES = [
    ("Node bandwidth str", lambda: Node(cpus=2, memory="1 GiB", bandwidth_gbps="fast"),
     "bandwidth_gbps"),
    ("Machine latency str", lambda: _machine(local_latency_ns="x"), "local_latency_ns"),
    ("Machine link None", lambda: _machine(link_bandwidth_gbps=None), "link_bandwidth_gbps"),
    ("Machine nodes not a tuple", lambda: _machine(nodes=Node(cpus=1, memory="1 GiB")), "nodes"),
    ("Machine nodes item", lambda: _machine(nodes=("n", "n")), "nodes[0]"),
    ("Machine distance scalar", lambda: _machine(distance=10), "distance"),
    ("Machine distance str", lambda: _machine(distance=((10, "21"), (21, 10))), "distance[0][1]"),
    ("Machine distance fraction", lambda: _machine(distance=((10, 21.5), (21, 10))),
     "distance[0][1]"),
    ("Machine latency matrix str", lambda: _machine(latency_ns=((1.0, "x"), (1.0, 1.0))),
     "latency_ns[0][1]"),
    ("Phase patterns not a tuple", lambda: Phase(patterns=Pattern(vma="v"), touches=1),
     "patterns"),
    ("Phase patterns str", lambda: Phase(patterns="heap", touches=1), "patterns"),
    ("Phase patterns item", lambda: Phase(patterns=("heap",), touches=1), "patterns[0]"),
    ("Thread phases item", lambda: Thread(name="t", phases=("run",)), "phases[0]"),
    ("Thread policy str", lambda: Thread(name="t", phases=(_phase(),), policy="bind"), "policy"),
    ("Vma policy str", lambda: Vma(name="v", size=4096, policy="bind"), "policy"),
    ("Process vmas item", lambda: _proc(vmas=["heap"]), "vmas[0]"),
    ("Process threads item", lambda: _proc(threads=[None]), "threads[0]"),
    ("Process vmas int", lambda: _proc(vmas=3), "vmas"),
    ("Workload processes item", lambda: Workload(name="w", processes=["p"]), "processes[0]"),
    ("Workload cgroups item", lambda: Workload(name="w", processes=(_proc(),), cgroups=("/a",)),
     "cgroups[0]"),
    ("Scenario actions item", lambda: base_scenario(actions=("a",)), "actions[0]"),
    ("Pattern vma int", lambda: Pattern(vma=3), "vma"),
    ("Pattern kind list", lambda: Pattern(vma="v", kind=["zipf"]), "kind"),
    ("Vma kind list", lambda: Vma(name="v", size=4096, kind=["anon"]), "kind"),
    ("MemPolicy mode list", lambda: MemPolicy(mode=["bind"]), "mode"),
    ("KernelConfig hz float", lambda: KernelConfig(hz=250.0), "hz"),
]


@pytest.mark.parametrize(("build", "field"), [c[1:] for c in WRONG_TYPES],
                         ids=[c[0] for c in WRONG_TYPES])
def test_wrong_types_are_scenario_errors(build, field):
    err = error_of(build)
    assert err.field == field and err.allowed, str(err)


def test_lists_become_tuples():
    w = Workload(name="w", processes=[_proc(vmas=[Vma(name="heap", size="64 MiB")])],
                 cgroups=[Cgroup(path="/")])
    assert isinstance(w.processes, tuple) and isinstance(w.processes[0].vmas, tuple)
    assert isinstance(w.cgroups, tuple)
    m = _machine(nodes=list(small_machine().nodes), distance=[[10, 21], [21, 10]])
    assert m.distance == ((10, 21), (21, 10)) and isinstance(m.nodes, tuple)
    assert _machine(distance=((10.0, 21.0), (21, 10))).distance == ((10, 21), (21, 10))
    s = base_scenario(actions=[Action(at_s=1.0, kind="numa_balancing", value=0)])
    assert isinstance(s.actions, tuple)


# ----- 6. variant label in TOML (finding 12) -----------------------------------------------------
@pytest.mark.parametrize("label", ["mainline", "rfc-v1", "hierarchical+interleave-as-posted",
                                   "rfc-v2+as-posted"])
def test_variant_label_in_toml(label, tmp_path):
    data = base_dict()
    set_path(data, "kernel.variant", label)
    s = scenario_from_dict(data)
    assert s.kernel.variant == KernelVariant.parse(label)
    assert s.kernel == KernelConfig(variant=label)
    path = tmp_path / "v.toml"
    save_scenario(s, path)
    assert load_scenario(path) == s
    path.write_text(scenario_to_toml(base_scenario()).replace(
        "[kernel]\n", f'[kernel]\nvariant = "{label}"\n'), encoding="utf-8")
    assert load_scenario(path).kernel.variant == KernelVariant.parse(label)


def test_bad_variant_label_in_toml():
    err = toml_error("kernel.variant", "mainlin")
    assert err.field == "kernel.variant" and "mainline" in err.allowed
    err = toml_error("kernel.variant", 3)
    assert err.field == "kernel.variant" and "label" in err.allowed


@pytest.mark.parametrize("label", ["mainline+stats-as-posted", "mainline+interleave-as-posted",
                                   "mainline+as-posted"])
def test_as_posted_patches_need_an_rfc_kernel(label):
    # mainline+stats-as-posted used to be labelled "mainline" while its vmstat counted nothing
    err = toml_error("kernel.variant", label)
    assert err.field.startswith("kernel.variant") and "mainline does not have" in err.problem
    assert "rfc-v1" in err.allowed
    err = error_of(lambda: KernelVariant(cgroup="mainline", interleave="as-posted"))
    assert err.field == "interleave"


# ----- 7. message nits (finding 14) --------------------------------------------------------------
@pytest.mark.parametrize("start", [0, "0 GiB", "0", 0.0])
def test_pattern_start_zero_is_allowed(start):
    assert Pattern(vma="v", start=start).start == 0


def test_start_past_the_vma_says_start_and_size():
    bad = dataclasses.replace(base_scenario().workload.processes[0].threads[0],
                              phases=(_phase(patterns=(_pattern(start="1 GiB"),)),))
    proc = dataclasses.replace(base_scenario().workload.processes[0], threads=(bad,))
    err = error_of(lambda: base_scenario(workload=Workload(name="w", processes=(proc,))))
    assert err.field == f"{PAT0}.start"
    assert "+-" not in err.problem and "1 GiB" in err.problem and "64 MiB" in err.problem


@pytest.mark.parametrize("distance", [((10, 21),), ((10, 21, 21), (21, 10, 21), (21, 21, 10)),
                                      ((10,), (21, 10)), "10 21"])
def test_distance_shape_says_what_is_allowed(distance):
    err = error_of(lambda: _machine(distance=distance))
    assert err.field == "distance" and "2x2" in err.problem
    assert "10 on the diagonal" in err.allowed and "11..254" in err.allowed


def test_region_and_memory_messages_carry_units():
    big = dataclasses.replace(base_scenario().workload.processes[0],
                              vmas=(Vma(name="heap", size=5 * (1 << 30) + 12345),))
    err = error_of(lambda: base_scenario(workload=Workload(name="w", processes=(big,))))
    assert err.field == "workload"
    assert re.fullmatch(r"needs \d+ [KMGTP]iB of memory but .* has \d+ [KMGTP]iB above the min "
                        r"watermarks", err.problem), err.problem


@pytest.mark.parametrize(("field", "kwargs"), [
    ("cpus", {"cpus": ["a"]}),
    ("cpus", {"cpus": [1, 1]}),
    ("mems", {"mems": [-1]}),
    ("mems", {"mems": "0"}),
    ("at_s", {"at_s": math.inf}),
    ("at_s", {"at_s": math.nan}),
])
def test_actions_refuse_bad_cpusets_and_times(field, kwargs):
    from numaexp.model.actions import Action

    args = {"at_s": 1.0, "kind": "cpuset", "cgroup": "/a", "cpus": (0,), **kwargs}
    with pytest.raises(ScenarioError) as err:
        Action(**args)
    assert str(err.value).startswith(field)


def test_more_threads_than_linux_can_have_are_refused():
    from numaexp.model.process import PID_MAX_LIMIT

    machine = small_machine(nodes=2, cpus=2)
    phase = Phase(patterns=(Pattern(vma="heap"),), duration_s=1.0)

    def proc(name, count):
        return Process(name=name, vmas=(Vma(name="heap", size="4 MiB"),),
                       threads=(Thread(name="t", count=count, phases=(phase,)),))

    with pytest.raises(ScenarioError, match=r"^count: .*PID_MAX_LIMIT"):
        Thread(name="t", count=PID_MAX_LIMIT + 1, phases=(phase,))
    half = PID_MAX_LIMIT // 2 + 1
    workload = Workload(name="w", processes=(proc("a", half), proc("b", half)))
    with pytest.raises(ScenarioError, match=r"^workload.processes\[1\].threads\[0\].count: "
                                            r".*beyond PID_MAX_LIMIT"):
        Scenario(name="s", machine=machine, workload=workload,
                 stop=Stop(kind="duration", duration_s=1.0))
