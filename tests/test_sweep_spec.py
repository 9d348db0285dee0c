"""Sweep specs: expansion into points, per-point seeds, TOML files, clear errors."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from helpers import scenario, small_machine, sweep_workload

import numaexp
from numaexp import ScenarioError, SweepSpec
from numaexp.model.toml_io import save_scenario
from numaexp.sweep.hashing import point_seed, scenario_hash
from numaexp.sweep.worker import metrics as point_metrics

SWEEPS = Path(__file__).resolve().parent.parent / "data" / "sweeps"


@pytest.fixture
def base():
    machine = small_machine(nodes=2, cpus=2)
    return scenario(sweep_workload(machine, size="16 MiB"), machine, duration=1.0)


def test_product_zip_sample_and_repeats_multiply(base):
    spec = SweepSpec(base, product={"kernel.scan_size_mb": [64, 256],
                                    "kernel.numa_balancing": [0, 1]},
                     zip={"kernel.scan_delay_ms": [500, 1000, 2000],
                          "kernel.scan_period_max_ms": [30000, 60000, 90000]},
                     sample={"kernel.scan_period_min_ms": {"randint": [100, 900]}}, samples=4,
                     repeats=2)
    points = spec.points()
    assert len(spec) == len(points) == 2 * 2 * 3 * 4 * 2
    assert spec.parameters == ("kernel.scan_size_mb", "kernel.numa_balancing",
                               "kernel.scan_delay_ms", "kernel.scan_period_max_ms",
                               "kernel.scan_period_min_ms")
    # grid order, repeats innermost; zipped values stay together
    assert [p.repeat for p in points[:4]] == [0, 1, 0, 1]
    assert points[0].params["kernel.scan_size_mb"] == 64
    assert points[-1].params["kernel.scan_size_mb"] == 256
    for p in points:
        k = p.scenario.kernel
        assert (k.scan_delay_ms, k.scan_period_max_ms) in {(500, 30000), (1000, 60000),
                                                          (2000, 90000)}
        assert k.scan_size_mb == p.params["kernel.scan_size_mb"]
        assert 100 <= k.scan_period_min_ms <= 900 and p.scenario.seed == p.seed
    assert len({p.key for p in points}) == len(points)


def test_seeds_depend_on_parameters_not_on_position(base):
    a = SweepSpec(base, product={"kernel.scan_size_mb": [64, 256]}, repeats=3, seed=7,
                  common_seeds=False).points()
    b = SweepSpec(base, product={"kernel.scan_size_mb": [512, 256, 64]}, repeats=3,
                  seed=7, common_seeds=False).points()
    seeds_a = {(p.params["kernel.scan_size_mb"], p.repeat): p.seed for p in a}
    seeds_b = {(p.params["kernel.scan_size_mb"], p.repeat): p.seed for p in b}
    assert all(seeds_b[k] == v for k, v in seeds_a.items())
    assert len(set(seeds_b.values())) == 9  # every point its own stream
    assert seeds_a[(64, 0)] == point_seed(7, {"kernel.scan_size_mb": 64}, 0)
    other = SweepSpec(base, product={"kernel.scan_size_mb": [64, 256]}, repeats=3, seed=8,
                      common_seeds=False)
    assert not {p.seed for p in other.points()} & set(seeds_a.values())


def test_common_seeds_pair_the_parameter_values_by_default(base):
    points = SweepSpec(base, product={"kernel.scan_size_mb": [64, 256]}, repeats=2).points()
    by_repeat = {}
    for p in points:
        by_repeat.setdefault(p.repeat, set()).add(p.seed)
    assert all(len(seeds) == 1 for seeds in by_repeat.values()) and len(by_repeat) == 2
    assert by_repeat[1] == {point_seed(0, {}, 1)}


def test_sampling_is_reproducible_and_respects_the_distributions(base):
    sample = {"kernel.scan_period_min_ms": {"loguniform": [100, 4000], "integer": True},
              "costs.hint_fault_ns": {"uniform": [500, 3000]},
              "kernel.scan_size_mb": {"choice": [64, 128]}}
    one = SweepSpec(base, sample=sample, samples=20, seed=5).points()
    two = SweepSpec(base, sample=sample, samples=20, seed=5).points()
    assert [p.params for p in one] == [p.params for p in two]
    assert [p.params for p in one] != [p.params for p in
                                       SweepSpec(base, sample=sample, samples=20,
                                                 seed=6).points()]
    for p in one:
        v = p.params
        assert isinstance(v["kernel.scan_period_min_ms"], int)
        assert 100 <= v["kernel.scan_period_min_ms"] <= 4000
        assert isinstance(v["costs.hint_fault_ns"], float)
        assert 500 <= v["costs.hint_fault_ns"] <= 3000
    assert {p.params["kernel.scan_size_mb"] for p in one} == {64, 128}


def test_fixed_values_apply_everywhere_but_are_not_parameters(base):
    spec = SweepSpec(base, product={"kernel.scan_size_mb": [64]},
                     fixed={"stop": {"kind": "duration", "duration_s": 2.5},
                            "machine.nodes[1].memory": "1 GiB"})
    (point,) = spec.points()
    assert point.scenario.stop.duration_s == 2.5
    assert point.scenario.machine.nodes[1].memory == 1 << 30
    assert list(point.row()) == ["kernel.scan_size_mb", "repeat", "seed"]


def test_the_point_key_is_the_resolved_scenario(base):
    (a,) = SweepSpec(base, fixed={"stop.max_duration_s": 5}, repeats=1).points()
    (b,) = SweepSpec(base, fixed={"stop.max_duration_s": 5.0}, repeats=1).points()
    assert a.key == b.key == scenario_hash(a.scenario)  # 5 and 5.0 are one setting
    (c,) = SweepSpec(base, fixed={"stop.max_duration_s": 6}, repeats=1).points()
    assert c.key != a.key


def test_base_from_a_preset_with_options_and_from_a_file(tmp_path, base):
    spec = SweepSpec("numa02", base_options={"memory_scale": 0.0625, "first_touch_node": 0})
    assert spec.base.workload.processes[0].vmas[0].first_touch_node == 0
    assert spec.name == "numa02"
    save_scenario(base, tmp_path / "base.toml")
    (tmp_path / "spec.toml").write_text(
        'name = "mine"\nrepeats = 2\n[base]\nfile = "base.toml"\n'
        '[product]\n"kernel.scan_size_mb" = [64, 128]\n')
    spec = SweepSpec.load(tmp_path / "spec.toml")
    assert spec.base == base and spec.name == "mine" and len(spec) == 4


@pytest.mark.parametrize("path", sorted(SWEEPS.glob("*.toml")), ids=lambda p: p.stem)
def test_example_spec_files_load_and_expand(path):
    spec = SweepSpec.load(path)
    points = spec.points()
    assert len(points) == len(spec) >= 8 and spec.parameters and spec.metrics
    assert points[0].scenario.stop.kind == "duration"


def _axes(spec: SweepSpec) -> list[tuple[str, ...]]:
    """The parameter paths of each axis of ``spec``: each product parameter alone, the zip
    parameters together, the sample parameters together."""
    return [(path,) for path in spec.product] + [tuple(group) for group in (spec.zip,
                                                                           spec.sample) if group]


@pytest.mark.slow  # about 35 s: every point of the four specs, repeat 0, full size
@pytest.mark.parametrize("path", sorted(SWEEPS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_value_of_a_shipped_sweep_shows_an_effect(path):
    """Any two values of an axis give metrics more than 0.1 % apart at some setting of the
    other axes (repeat 0: the same seed at every point)."""
    spec = SweepSpec.load(path)
    metrics = {}
    for point in spec.points():
        if point.repeat == 0:
            figures = point_metrics(numaexp.simulate(point.scenario, progress=False))
            metrics[tuple(point.params.items())] = [float(figures[m]) for m in spec.metrics]
    for axis in _axes(spec):
        by_rest: dict[tuple, dict[tuple, list]] = {}
        for params, values in metrics.items():
            rest = tuple((p, v) for p, v in params if p not in axis)
            by_rest.setdefault(rest, {})[tuple(v for p, v in params if p in axis)] = values
        for a, b in itertools.combinations(list(next(iter(by_rest.values()))), 2):
            assert any(not all(math.isclose(x, y, rel_tol=1e-3) for x, y in zip(
                group[a], group[b], strict=True)) for group in by_rest.values()), \
                f"{path.name}: {axis} = {a} and {b} give the same {spec.metrics}"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"product": {"kernel.scan_size": [1]}}, r"^kernel.scan_size: KernelConfig has no field "
                                             r".*\(in \[product\]\)"),
    ({"product": {"kernel.scan_size_mb": []}}, r"^product.kernel.scan_size_mb: expected a "
                                               r"non-empty list"),
    ({"product": {"kernel": {"scan_size_mb": [1]}}}, r"quote dotted paths"),
    ({"zip": {"kernel.hz": [100, 250], "kernel.scan_size_mb": [64]}}, r"^zip: lists of "
                                                                      r"different lengths"),
    ({"product": {"seed": [1, 2]}}, r"^product.seed: the sweep sets the seed"),
    ({"product": {"kernel.hz": [100]}, "fixed": {"kernel.hz": 250}}, r"^fixed.kernel.hz: "
                                                                     r"already set in \[product"),
    ({"sample": {"kernel.hz": {"normal": [1, 2]}}, "samples": 2}, r"expected one distribution"),
    ({"sample": {"kernel.hz": {"uniform": [5, 1]}}, "samples": 2}, r"low < high"),
    ({"sample": {"kernel.hz": {"choice": [100]}}}, r"^samples: 0 draws"),
    ({"repeats": 0}, r"^repeats: must be an integer >= 1"),
    ({"seed": -1}, r"^seed: must be an integer >= 0 below 2\*\*63"),
    ({"product": {"kernel.scan_size_mb": [64, 0]}},
     r"^kernel.scan_size_mb: 0 is out of range .*\[sweep point kernel.scan_size_mb = 0\]"),
])
def test_invalid_specs_raise_one_clear_error(base, kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        SweepSpec(base, **kwargs).points()


def test_invalid_bases_and_files(tmp_path):
    with pytest.raises(ScenarioError, match=r"^base: 'numa99' is neither a .toml file nor a "
                                            r"preset \(allowed: default, .*numa02"):
        SweepSpec("numa99")
    with pytest.raises(ScenarioError, match=r"^base_options: not accepted by preset 'numa02'"):
        SweepSpec("numa02", base_options={"memory": 2})
    (tmp_path / "bad.toml").write_text('base = "numa02"\nrepeat = 3\n')
    with pytest.raises(ScenarioError, match=r"^repeat: unknown key of a sweep spec .*bad.toml"):
        SweepSpec.load(tmp_path / "bad.toml")
    (tmp_path / "broken.toml").write_text("base = \n")
    with pytest.raises(ScenarioError, match="malformed TOML"):
        SweepSpec.load(tmp_path / "broken.toml")
    with pytest.raises(FileNotFoundError, match="sweep spec not found"):
        SweepSpec.load(tmp_path / "missing.toml")


def test_a_zip_group_is_one_axis_of_the_summary():
    spec = SweepSpec.load(SWEEPS / "thread_scaling_costs.toml")
    counts = [p for p in spec.zip if p.endswith(".count")]
    assert len(spec.zip) == 5 and len(counts) == 4
    assert spec.axis_parameters == ("kernel.numa_balancing", next(iter(spec.zip)))
    assert set(spec.parameters) == {"kernel.numa_balancing", *spec.zip}
