"""TOML scenario files: exact round trips, committed files, errors named by dotted path."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numaexp.errors import ScenarioError
from numaexp.model import (
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
    load_scenario,
    save_scenario,
    tiered,
    two_socket,
)
from numaexp.model.machine import ARCHES
from numaexp.model.params import section
from numaexp.model.presets import (
    autonumabench_scenario,
    default_scenario,
    numa01_thread_alloc,
    numa02,
)
from numaexp.model.rfc_presets import RFC_PRESETS
from numaexp.model.toml_io import (
    scenario_from_dict,
    scenario_from_toml,
    scenario_to_dict,
    scenario_to_toml,
)
from numaexp.model.toml_schema import SCHEMA

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

GiB = 1 << 30
SCENARIO_DIR = Path(__file__).resolve().parents[1] / "data" / "scenarios"
AUTONUMABENCH_NAMES = [base + suffix
                       for base in ("numa01", "numa01_THREAD_ALLOC", "numa02", "numa02_SMT")
                       for suffix in ("", "_HARD_BIND", "_INVERSE_BIND")]


def _descriptions(s: Scenario) -> tuple[str, str, str]:
    """The description fields, which dataclass equality ignores."""
    return s.description, s.machine.description, s.workload.description


def assert_round_trip(s: Scenario) -> None:
    back = scenario_from_toml(scenario_to_toml(s))
    assert back == s
    assert _descriptions(back) == _descriptions(s)
    assert scenario_from_dict(scenario_to_dict(s)) == s


# ----- round trips ----------------------------------------------------------------
def _extra_scenarios() -> list[Scenario]:
    m = tiered()
    interleaved = numa01_thread_alloc(m, memory_scale=0.1, stride=2,
                                      policy=MemPolicy("interleave", (0, 1, 2, 3)))
    two = two_socket(cpus_per_node=4, memory_per_node="8 GiB")
    return [
        Scenario(name="tiered", machine=m, workload=interleaved,
                 kernel=KernelConfig(numa_balancing=2, demotion_enabled=True,
                                     min_free_kbytes=65536, locality_reset_fix=False),
                 costs=CostModel(hint_fault_ns=2500.5, task_move_ns=0.0),
                 stop=Stop(kind="duration", duration_s=12.5), seed=2**63 - 1,
                 sample_interval_s=0.125, description='quotes " and \\ and\nnewlines\ttabs é'),
        Scenario(name="first-touch", machine=two,
                 workload=numa02(two, memory_scale=0.5, first_touch_node=1, cgroup="/a/b"),
                 kernel=KernelConfig(numa_balancing=4, hz=1000, scan_size_mb=1)),
    ]


@pytest.mark.parametrize("name", AUTONUMABENCH_NAMES)
def test_round_trip_autonumabench(name):
    assert_round_trip(autonumabench_scenario(name))


def test_round_trip_default_and_extras():
    assert_round_trip(default_scenario())
    assert_round_trip(default_scenario(numa_balancing=0, seed=3))
    for s in _extra_scenarios():
        assert_round_trip(s)


def test_save_load_file(tmp_path):
    for s in [default_scenario(), *_extra_scenarios()]:
        path = tmp_path / f"{s.name}.toml"
        save_scenario(s, path)
        assert load_scenario(path) == s
        assert load_scenario(str(path)) == s


def test_written_file_shape():
    text = scenario_to_toml(default_scenario())
    for header in ("[machine]", "[[machine.nodes]]", "[workload]", "[[workload.processes]]",
                   "[[workload.processes.vmas]]", "[[workload.processes.threads]]",
                   "[[workload.processes.threads.phases]]",
                   "[[workload.processes.threads.phases.patterns]]", "[kernel]", "[stop]"):
        assert f"\n{header}\n" in text
    assert "\nnuma_balancing = 1\n" in text and '\nkind = "duration"\n' in text
    assert 'size = "1 GiB"' in text
    assert "null" not in text and "None" not in text
    assert all(len(line) <= 100 for line in text.splitlines()
               if not line.startswith("description = "))
    assert text.startswith("#")


def test_with_defaults_every_field_is_written_and_reads_back_equal():
    scenario = default_scenario()
    text = scenario_to_toml(scenario, defaults=True)
    assert "every field is written" in text.splitlines()[2]
    for line in ("scan_delay_ms = 1000", "scan_size_mb = 256", "hint_fault_ns = 1500.0",
                 "demotion_enabled = false", "thp = false"):
        assert f"\n{line}\n" in text, line
    assert scenario_from_toml(text) == scenario
    assert scenario_to_dict(scenario, defaults=True)["kernel"]["scan_delay_ms"] == 1000


def test_defaults_are_left_out():
    data = scenario_to_dict(default_scenario())
    assert data["kernel"] == {"numa_balancing": 1}
    # its dram-cxl profile's costs: only those off the defaults are written
    assert data["costs"] == {"migrate_copy_ns_per_page": 2500.0}
    assert "costs" not in scenario_to_dict(autonumabench_scenario("numa02"))  # all defaults
    thread = data["workload"]["processes"][0]["threads"][0]
    assert "policy" not in thread and "cpus" not in thread
    vma = data["workload"]["processes"][0]["vmas"][0]
    assert vma == {"name": "buf", "size": "1 GiB", "first_touch_node": 0}  # not the default
    assert "thp" not in vma and "policy" not in vma and "shared" not in vma


def test_schema_covers_every_field():
    for cls, schema in SCHEMA.items():
        assert set(schema) == {f.name for f in dataclasses.fields(cls)}, cls.__name__


def test_to_dict_rejects_non_scenario():
    with pytest.raises(TypeError):
        scenario_to_dict(default_scenario().machine)


# ----- committed files -------------------------------------------------------------
def _generator():
    spec = importlib.util.spec_from_file_location("scenario_generator",
                                                  SCENARIO_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_files_match_generator():
    gen = _generator()
    expected = gen.scenarios()
    on_disk = {p.name for p in SCENARIO_DIR.glob("*.toml")}
    assert on_disk == set(expected), "run: .venv/bin/python data/scenarios/generate.py"
    for filename, scenario in expected.items():
        path = SCENARIO_DIR / filename
        assert path.read_text(encoding="utf-8") == gen.render(scenario), (
            f"{path} is stale; run: .venv/bin/python data/scenarios/generate.py")
        loaded = load_scenario(path)
        assert loaded == scenario
        assert _descriptions(loaded) == _descriptions(scenario)


def test_committed_file_set():
    names = {p.stem for p in SCENARIO_DIR.glob("*.toml")}
    assert names == {"default", "random_access_64g", "shared_random_pinned", *AUTONUMABENCH_NAMES,
                     *RFC_PRESETS}
    s = load_scenario(SCENARIO_DIR / "random_access_64g.toml")
    assert s.stop.kind == "duration" and s.stop.duration_s == 30.0
    assert s.machine == four_node()
    assert s.workload.processes[0].nr_threads == 64
    assert s.workload.processes[0].vmas[0].size == 64 * GiB
    pinned = load_scenario(SCENARIO_DIR / "shared_random_pinned.toml")
    assert pinned.machine == four_node() and pinned.workload.processes[0].nr_threads == 96
    for nid, thread in enumerate(pinned.workload.processes[0].threads):
        assert thread.cpus == tuple(pinned.machine.node_cpus(nid)) and thread.count == 24


def test_generator_check_mode(tmp_path, capsys):
    gen = _generator()
    assert gen.main(["--check", "--dir", str(tmp_path)]) == 1
    assert gen.main(["--dir", str(tmp_path)]) == 0
    assert gen.main(["--check", "--dir", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("*.toml"))) == len(gen.scenarios()) == 15 + len(RFC_PRESETS)


# ----- errors -------------------------------------------------------------------------
BASE_TOML = """
name = "small"
seed = 7

[machine]
name = "tiny"
distance = [[10, 21], [21, 10]]

[[machine.nodes]]
cpus = 4
memory = "4 GiB"

[[machine.nodes]]
cpus = 4
memory = "4 GiB"

[workload]
name = "w"

[[workload.cgroups]]
path = "/job"
cpus = [0, 1, 2, 3]
mems = [0]

[[workload.processes]]
name = "p"
cgroup = "/job"

[[workload.processes.vmas]]
name = "heap"
size = "1 GiB"

[[workload.processes.vmas]]
name = "buf"
size = "256 MiB"
thp = true

[[workload.processes.threads]]
name = "t"
cpus = [0, 1]
policy = { mode = "preferred", nodes = [0] }

[[workload.processes.threads.phases]]
touches = 1e6

[[workload.processes.threads.phases.patterns]]
vma = "heap"
kind = "hotset"

[[workload.processes.threads]]
name = "u"
count = 2

[[workload.processes.threads.phases]]
passes = 2

[[workload.processes.threads.phases.patterns]]
vma = "buf"
kind = "sweep"

[kernel]
numa_balancing = 1

[stop]
kind = "work"
"""

DELETE = object()
_PART = re.compile(r"([A-Za-z_]+)((?:\[\d+\])*)")


def _set(data: dict, path: str, value) -> None:
    """Set (or delete, or append at index len) the value at a dotted path like ``a.b[1].c``."""
    steps: list = []
    for part in path.split("."):
        match = _PART.fullmatch(part)
        assert match, part
        steps.append(match.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    node = data
    for step in steps[:-1]:
        node = node[step]
    last = steps[-1]
    if value is DELETE:
        del node[last]
    elif isinstance(last, int) and last == len(node):
        node.append(value)
    else:
        node[last] = value


def base() -> dict:
    return tomllib.loads(BASE_TOML)


def build_with(*changes) -> Scenario:
    data = base()
    for path, value in changes:
        _set(data, path, value if value is DELETE else copy.deepcopy(value))
    return scenario_from_dict(data)


def test_base_is_valid():
    s = build_with()
    assert s.seed == 7 and s.machine.nr_cpus == 8
    assert s.workload.processes[0].threads[0].policy == MemPolicy("preferred", (0,))
    assert_round_trip(s)


P0 = "workload.processes[0]"
T0 = f"{P0}.threads[0]"
T1 = f"{P0}.threads[1]"
PAT0 = f"{T0}.phases[0].patterns[0]"

BAD = [
    # (id, changes, field, text that must appear in the allowed part)
    ("mode 7", [("kernel.numa_balancing", 7)], "kernel.numa_balancing", "4 (CGROUP)"),
    ("mode 5", [("kernel.numa_balancing", 5)], "kernel.numa_balancing", "0 (off)"),
    ("mode 9", [("kernel.numa_balancing", 9)], "kernel.numa_balancing", "1 (NORMAL)"),
    ("negative size", [(f"{P0}.vmas[0].size", "-5 GiB")], f"{P0}.vmas[0].size", "GiB"),
    ("zero size", [(f"{P0}.vmas[0].size", 0)], f"{P0}.vmas[0].size", "GiB"),
    ("zero size str", [(f"{P0}.vmas[1].size", "0 MiB")], f"{P0}.vmas[1].size", "GiB"),
    ("node memory", [("machine.nodes[1].memory", "lots")], "machine.nodes[1].memory", "GiB"),
    ("bigger than machine", [(f"{P0}.vmas[0].size", "20 GiB")], "workload", "more memory"),
    ("cpuset.mems too small", [(f"{P0}.vmas[0].size", "3900 MiB")], "workload", "more nodes"),
    ("bind too small", [("workload.cgroups", DELETE), (f"{P0}.vmas[0].size", "4095 MiB"),
                        (f"{P0}.vmas[0].policy", {"mode": "bind", "nodes": [1]})],
     "workload", "more nodes"),
    ("first touch too small", [("workload.cgroups", DELETE), (f"{P0}.vmas[0].size", "4095 MiB"),
                               (f"{P0}.vmas[0].first_touch_node", 1)],
     "workload", "more nodes"),
    ("thread cpu", [(f"{T0}.cpus", [0, 99])], f"{T0}.cpus", "CPU ids 0..7"),
    ("thread cpu outside cpuset", [(f"{T0}.cpus", [6])], f"{T0}.cpus", "[0, 1, 2, 3]"),
    ("cgroup cpu", [("workload.cgroups[0].cpus", [42])], "workload.cgroups[0].cpus",
     "CPU ids 0..7"),
    ("cgroup mems", [("workload.cgroups[0].mems", [0, 5])], "workload.cgroups[0].mems",
     "node ids 0..1"),
    ("cpuset outside parent", [("workload.cgroups[1]", {"path": "/job/sub", "cpus": [3, 5]})],
     "workload.cgroups[1].cpus", "a subset of [0, 1, 2, 3]"),
    ("mems outside parent", [("workload.cgroups[1]", {"path": "/job/sub", "mems": [1]})],
     "workload.cgroups[1].mems", "a subset of [0]"),
    ("first touch node", [(f"{P0}.vmas[1].first_touch_node", 4)],
     f"{P0}.vmas[1].first_touch_node", "node ids 0..1"),
    # unknown keys at several depths
    ("unknown top", [("nmae", "x")], "nmae", "name, description, seed"),
    ("unknown machine", [("machine.bogus", 1)], "machine.bogus", "distance"),
    ("unknown node", [("machine.nodes[1].cpuz", 4)], "machine.nodes[1].cpuz", "cpus, memory"),
    ("unknown cgroup", [("workload.cgroups[0].cpu", [1])], "workload.cgroups[0].cpu", "cpus"),
    ("unknown vma", [(f"{P0}.vmas[1].sizee", "1 GiB")], f"{P0}.vmas[1].sizee",
     "name, size, kind"),
    ("unknown policy", [(f"{T0}.policy.nodez", [0])], f"{T0}.policy.nodez", "mode, nodes"),
    ("unknown pattern", [(f"{T1}.phases[0].patterns[0].kindd", "x")],
     f"{T1}.phases[0].patterns[0].kindd", "vma, kind"),
    ("unknown phase", [(f"{T1}.phases[0].pases", 2)], f"{T1}.phases[0].pases", "passes"),
    ("unknown kernel", [("kernel.scan_dealy_ms", 5)], "kernel.scan_dealy_ms", "scan_delay_ms"),
    ("unknown costs", [("costs", {"hint_fault": 1.0})], "costs.hint_fault", "hint_fault_ns"),
    ("unknown stop", [("stop.durationn", 5)], "stop.durationn", "duration_s"),
    # patterns
    ("pattern vma", [(f"{PAT0}.vma", "nope")], f"{PAT0}.vma", "buf, heap"),
    ("pattern length", [(f"{PAT0}.length", "2 GiB")], f"{PAT0}.length", "start + length"),
    ("pattern start", [(f"{PAT0}.start", "1 GiB")], f"{PAT0}.start", "start + length"),
    ("pattern hot_size", [(f"{PAT0}.hot_size", 2.0)], f"{PAT0}.hot_size", None),
    # duplicates
    ("duplicate process", [(f"{P0[:-3]}[1]", None)], "workload.processes[1].name", "name"),
    ("duplicate vma", [(f"{P0}.vmas[1].name", "heap")], f"{P0}.vmas[1].name", "name"),
    ("duplicate thread", [(f"{T1}.name", "t"), (f"{T1}.count", 1)], f"{T1}.name", "name"),
    ("duplicate replica", [(f"{T0}.name", "u.1")], f"{T1}.name", "name"),
    ("duplicate cgroup", [("workload.cgroups[1]", {"path": "/job"})],
     "workload.cgroups[1].path", "once"),
    # stop rule
    ("never ends", [(f"{T0}.phases[0].touches", DELETE)], f"{T0}.phases[0]",
     'stop.kind = "duration"'),
    ("stop kind", [("stop.kind", "forever")], "stop.kind", '"work" or "duration"'),
    ("stop duration", [("stop.kind", "duration")], "stop.duration_s", None),
    # policies
    ("policy mode", [(f"{T0}.policy.mode", "bogus")], f"{T0}.policy.mode", "bind"),
    ("policy no nodes", [(f"{T0}.policy", {"mode": "bind"})], f"{T0}.policy.nodes", "node ids"),
    ("policy flag", [(f"{T0}.policy.numa_balancing", True)], f"{T0}.policy.numa_balancing",
     "bind or preferred_many"),
    ("policy node", [(f"{P0}.vmas[0].policy", {"mode": "interleave", "nodes": [0, 2]})],
     f"{P0}.vmas[0].policy.nodes", "node ids 0..1"),
    # missing required keys
    ("missing memory", [("machine.nodes[0].memory", DELETE)], "machine.nodes[0].memory", "size"),
    ("missing workload", [("workload", DELETE)], "workload", "table"),
    ("missing vma name", [(f"{P0}.vmas[0].name", DELETE)], f"{P0}.vmas[0].name", "string"),
    ("missing patterns", [(f"{T0}.phases[0].patterns", DELETE)], f"{T0}.phases[0].patterns",
     "array of tables"),
    # wrong types
    ("machine string", [("machine", "big")], "machine", "a table"),
    ("processes table", [("workload.processes", {"a": 1})], "workload.processes",
     "array of tables"),
    ("seed string", [("seed", "x")], "seed", "an integer"),
    ("seed float", [("seed", 1.5)], "seed", "an integer"),
    ("cpus string", [(f"{T0}.cpus", "0-3")], f"{T0}.cpus", "array"),
    ("cpus item", [(f"{T0}.cpus", [0, "1"])], f"{T0}.cpus[1]", "an integer"),
    ("distance item", [("machine.distance", [[10, 21], [21, "x"]])], "machine.distance[1][1]",
     "an integer"),
    ("distance row", [("machine.distance", [[10, 21], 21])], "machine.distance[1]", "arrays"),
    ("bool flag", [("kernel.demotion_enabled", 1)], "kernel.demotion_enabled", "true or false"),
    ("bandwidth string", [("machine.nodes[0].bandwidth_gbps", "fast")],
     "machine.nodes[0].bandwidth_gbps", "a number"),
    ("count bool", [(f"{T1}.count", True)], f"{T1}.count", "an integer"),
    ("name number", [("name", 3)], "name", "a string"),
    # dataclass checks, re-raised under the full path
    ("node cpus", [("machine.nodes[1].cpus", -1)], "machine.nodes[1].cpus", "0 to 8192"),
    ("distance shape", [("machine.distance", [[10, 21]])], "machine.distance", None),
    ("distance diagonal", [("machine.distance", [[10, 21], [21, 12]])],
     "machine.distance[1][1]", "10"),
    ("hz", [("kernel.hz", 200)], "kernel.hz", "250"),
    ("scan period", [("kernel.scan_period_min_ms", 1 << 32)], "kernel.scan_period_min_ms",
     "4294967295"),
    ("cost", [("costs", {"tlb_flush_ns": -1.0})], "costs.tlb_flush_ns", "[0, 1000000000] ns"),
    ("main thread", [(f"{P0}.main_thread", "naps")], f"{P0}.main_thread", "sleeps"),
    ("vma kind", [(f"{P0}.vmas[0].kind", "swap")], f"{P0}.vmas[0].kind", "anon"),
    ("cgroup path", [(f"{P0}.cgroup", "job")], f"{P0}.cgroup", "absolute path"),
    ("no processes", [("workload.processes", [])], "workload.processes", None),
    ("thread count", [(f"{T1}.count", 0)], f"{T1}.count", None),
    ("sample interval", [("sample_interval_s", 0)], "sample_interval_s", None),
]


@pytest.mark.parametrize(("changes", "field", "allowed"), [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_bad_input_names_path(changes, field, allowed):
    changes = [(path, base()["workload"]["processes"][0] if value is None else value)
               for path, value in changes]
    with pytest.raises(ScenarioError) as info:
        build_with(*changes)
    err = info.value
    assert err.field == field
    assert str(err).startswith(f"{field}: ")
    if allowed is not None:
        assert err.allowed and allowed in err.allowed, str(err)
        assert f"(allowed: {err.allowed})" in str(err)


def test_mode_5_to_7_mention_rejection():
    for mode in (5, 6, 7):
        with pytest.raises(ScenarioError, match=r"rejects 5\.\.7"):
            build_with(("kernel.numa_balancing", mode))


def test_unknown_key_message():
    with pytest.raises(ScenarioError) as info:
        build_with((f"{P0}.vmas[1].sizee", "1 GiB"))
    assert str(info.value).startswith(
        "workload.processes[0].vmas[1].sizee: unknown key (allowed: name, size, kind, shared")


def test_not_a_table():
    with pytest.raises(ScenarioError):
        scenario_from_dict(["name"])


# ----- files ---------------------------------------------------------------------------
def test_malformed_toml_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[machine\ndistance = 3\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.field == str(path)
    assert "malformed TOML" in err.problem and "line 2" in err.problem
    assert err.__cause__ is None and err.__suppress_context__


def test_malformed_toml_duplicate_key(tmp_path):
    path = tmp_path / "dup.toml"
    path.write_text(BASE_TOML + "\n[kernel]\nhz = 100\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="line") as info:
        load_scenario(path)
    assert info.value.field == str(path)


def test_not_utf8_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "café"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == str(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_scenario(path)


def test_file_errors_name_path_and_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BASE_TOML.replace('size = "1 GiB"', 'sizee = "1 GiB"'), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.field == "workload.processes[0].vmas[0].sizee"
    assert str(path) in str(err) and "name, size, kind" in err.allowed


def test_toml_date_is_a_type_error():
    text = BASE_TOML.replace("seed = 7", "seed = 1979-05-27")
    with pytest.raises(ScenarioError) as info:
        scenario_from_toml(text, "x.toml")
    assert info.value.field == "seed" and "date" in info.value.problem


def test_handwritten_file_with_defaults(tmp_path):
    # Only required keys: everything else takes its default.
    path = tmp_path / "min.toml"
    path.write_text(
        'name = "min"\n'
        "[machine]\n"
        'name = "one"\n'
        "distance = [[10]]\n"
        "nodes = [{ cpus = 2, memory = 1073741824 }]\n"
        "[workload]\n"
        'name = "w"\n'
        "[[workload.processes]]\n"
        'name = "p"\n'
        'vmas = [{ name = "v", size = "64 MiB" }]\n'
        "[[workload.processes.threads]]\n"
        'name = "t"\n'
        'phases = [{ touches = 1000, patterns = [{ vma = "v" }] }]\n', encoding="utf-8")
    s = load_scenario(path)
    assert s.kernel == KernelConfig() and s.costs == CostModel() and s.stop == Stop()
    assert s.machine.nodes[0].memory == GiB
    assert s.workload.processes[0].threads[0].phases[0].touches == 1000.0


# ----- property-based round trip --------------------------------------------------------------
_finite = {"allow_nan": False, "allow_infinity": False}


@st.composite
def kernels(draw) -> KernelConfig:
    lo, hi = sorted(draw(st.lists(st.integers(1, 10**6), min_size=2, max_size=2)))
    return KernelConfig(
        numa_balancing=draw(st.integers(0, 4)),
        scan_delay_ms=draw(st.integers(1, 10**6)),
        scan_period_min_ms=lo, scan_period_max_ms=hi,
        scan_size_mb=draw(st.integers(1, 1 << 20)),
        hot_threshold_ms=draw(st.integers(1, 10**6)),
        promote_rate_limit_mbps=draw(st.integers(1, 1 << 20)),
        demotion_enabled=draw(st.booleans()),
        hz=draw(st.sampled_from([100, 250, 300, 1000])),
        watermark_scale_factor=draw(st.integers(1, 3000)),
        min_free_kbytes=draw(st.none() | st.integers(128, 262144)),
        locality_reset_fix=draw(st.booleans()),
    )


@st.composite
def patterns(draw, vmas: tuple[Vma, ...]) -> Pattern:
    vma = draw(st.sampled_from(vmas))
    hot_size = draw(st.floats(0.001, 1.0))
    return Pattern(
        vma=vma.name,
        kind=draw(st.sampled_from(["uniform", "hotset", "zipf", "gaussian"])),
        length=draw(st.none() | st.integers(1, vma.size)),
        share=draw(st.floats(0.01, 100.0)),
        write_fraction=draw(st.floats(0.0, 1.0)),
        hot_fraction=draw(st.floats(0.0, 1.0)),
        hot_size=hot_size,
        hot_offset=draw(st.floats(0.0, 1.0 - hot_size)),
        zipf_alpha=draw(st.floats(0.01, 5.0)),
        mean=draw(st.floats(0.0, 1.0)),
        sigma=draw(st.floats(0.001, 1.0)),
    )


@st.composite
def scenarios(draw) -> Scenario:
    nnodes = draw(st.integers(1, 4))
    cpus = draw(st.integers(1, 8))
    nodes = tuple(Node(cpus=cpus, memory=draw(st.integers(GiB, 256 * GiB)),
                       bandwidth_gbps=draw(st.floats(0.5, 1000.0)),
                       adistance=draw(st.sampled_from([576, 700, 2880])))
                  for _ in range(nnodes))
    far = [[draw(st.integers(11, 254)) for _ in range(nnodes)] for _ in range(nnodes)]
    distance = tuple(tuple(10 if a == b else far[min(a, b)][max(a, b)] for b in range(nnodes))
                     for a in range(nnodes))
    latency = None
    if draw(st.booleans()):
        latency = tuple(tuple(draw(st.floats(1.0, 1000.0)) for _ in range(nnodes))
                        for _ in range(nnodes))
    machine = Machine(name=draw(st.text(max_size=20)), nodes=nodes, distance=distance,
                      local_latency_ns=draw(st.floats(1.0, 500.0)), latency_ns=latency,
                      link_bandwidth_gbps=draw(st.floats(0.5, 500.0)),
                      description=draw(st.text(max_size=30)),
                      arch=draw(st.sampled_from(ARCHES)))
    budget = machine.memory // 8  # min watermarks take at most 256 MiB
    nvmas = draw(st.integers(1, 3))
    vmas = tuple(Vma(name=f"v{i}", size=draw(st.integers(1, budget // nvmas)),
                     thp=draw(st.booleans()), writable=draw(st.booleans()))
                 for i in range(nvmas))
    duration = draw(st.booleans())
    threads = []
    for i in range(draw(st.integers(1, 3))):
        phase = Phase(patterns=tuple(draw(st.lists(patterns(vmas), min_size=1, max_size=3))),
                      touches=None if duration else draw(st.floats(1.0, 1e15)),
                      think_ns=draw(st.floats(0.1, 1e4)), mlp=draw(st.floats(0.5, 64.0)))
        cpu_ids = draw(st.none() | st.lists(st.integers(0, machine.nr_cpus - 1), min_size=1,
                                            unique=True))
        threads.append(Thread(name=f"t{i}", phases=(phase,), count=draw(st.integers(1, 4)),
                              cpus=None if cpu_ids is None else tuple(cpu_ids)))
    workload = Workload(name="w", processes=(Process(name="p", vmas=vmas,
                                                     threads=tuple(threads)),),
                        description=draw(st.text(max_size=30)))
    costs = CostModel(**{name: draw(st.booleans() if param.kind == "bool" else
                                    st.floats(0.0, 1e9, **_finite))
                         for name, param in section("costs").items()})
    stop = Stop(kind="duration", duration_s=draw(st.floats(0.001, 1e5))) if duration else \
        Stop(kind="work", max_duration_s=draw(st.floats(0.001, 1e5)))
    kernel = draw(kernels())
    return Scenario(name=draw(st.text(max_size=20)), machine=machine, workload=workload,
                    kernel=kernel, costs=costs, stop=stop,
                    seed=draw(st.integers(0, 2**63 - 1)),
                    sample_interval_s=draw(st.floats(1 / kernel.hz, 1e6)),
                    description=draw(st.text(max_size=40)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_round_trip_random_scenarios(scenario):
    assert_round_trip(scenario)


@settings(max_examples=40, deadline=None)
@given(kernel=kernels(), seed=st.integers(0, 2**63 - 1),
       scale=st.floats(0.01, 2.0), passes=st.integers(1, 5000) | st.floats(0.5, 5000.0))
def test_round_trip_varied_preset(kernel, seed, scale, passes):
    machine = four_node(cpus_per_node=4, memory_per_node="16 GiB")
    workload = numa01_thread_alloc(machine, memory_scale=scale, passes=passes)
    assert_round_trip(Scenario(name="varied", machine=machine, workload=workload,
                               kernel=kernel, seed=seed))
