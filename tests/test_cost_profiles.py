"""Cost profiles: every shipped figure has its source, presets pick their machine's profile,
and a profile missing a figure or a source is refused naming it."""

from __future__ import annotations

import dataclasses
import sys

import pytest
import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from numaexp.errors import ScenarioError
from numaexp.kernel.calibrate import COST_FIELDS as FITTED
from numaexp.kernel.calibrate import FOLDED, NOT_FITTED, fit_sources
from numaexp.model import CostModel, Machine, Node
from numaexp.model.catalog import presets
from numaexp.model.cost_profiles import (
    COST_FIELDS,
    CostProfile,
    apply_profile,
    available_profiles,
    load_profile,
    preset_costs,
    profile_for,
    profile_name,
)
from numaexp.model.machine import (
    ARCHES,
    MACHINE_PRESETS,
    four_node,
    four_node_arm64,
    tiered,
    two_socket,
)
from numaexp.model.params import section
from numaexp.model.presets import autonumabench_scenario, default_scenario
from numaexp.model.toml_io import scenario_from_toml, scenario_to_toml
from numaexp.widgets.scenarios import DashboardSettings, build_scenario

SHIPPED = ("arm64-4node", "dram-cxl", "qemu-tcg", "x86-2socket", "x86-4node")


def test_the_shipped_profiles():
    assert available_profiles() == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_figure_has_a_source_line(name):
    profile = load_profile(name)
    assert profile.name == name and profile.description
    figures = set(COST_FIELDS) | {"stream_gbps"} | ({"think_ns"} if profile.think_ns else set())
    assert set(profile.sources) == figures
    for key, line in profile.sources.items():
        assert isinstance(line, str) and len(line.strip()) > 10, key


@pytest.mark.parametrize("name", SHIPPED)
def test_a_profile_reads_back_what_it_writes(name, tmp_path):
    profile = load_profile(name)
    assert "[sources]" in profile.to_toml()
    assert load_profile(profile.save(tmp_path / "p.toml")) == profile


def test_the_4node_x86_profile_is_the_parameter_tables_defaults():
    costs = load_profile("x86-4node").costs
    assert costs == CostModel()
    assert {name: getattr(costs, name) for name in section("costs")} == \
        {name: param.default for name, param in section("costs").items()}


def test_the_profiles_differ_where_their_machines_do():
    x86, arm = load_profile("x86-4node").costs, load_profile("arm64-4node").costs
    assert not any(load_profile(n).costs.tlb_broadcast for n in SHIPPED if n != "arm64-4node")
    assert arm.tlb_broadcast and arm.tlb_flush_per_cpu_ns == arm.tlb_ipi_recv_ns == 0.0
    two = load_profile("x86-2socket").costs
    assert two.numa_group_lock_hold_ns == x86.numa_group_lock_hold_ns / 2  # 2 nodes, not 4
    cxl = load_profile("dram-cxl").costs
    assert cxl.migrate_copy_ns_per_page > x86.migrate_copy_ns_per_page
    assert load_profile("x86-4node").stream_gbps == 8.0


@pytest.mark.parametrize(("machine", "name"), [
    (two_socket(), "x86-2socket"),
    (two_socket(cpus_per_node=1, memory_per_node="64 MiB"), "x86-2socket"),
    (four_node(), "x86-4node"),
    (four_node(layout="4-socket"), "x86-4node"),
    (four_node(arch="arm64"), "arm64-4node"),
    (four_node_arm64(cpus_per_node=2, layout="4-socket"), "arm64-4node"),
    (tiered(), "dram-cxl"),
    (tiered(dram_nodes=1, slow_nodes=1), "dram-cxl"),
    (Machine(name="8 nodes", nodes=(Node(cpus=2, memory="1 GiB"),) * 8,
             distance=tuple(tuple(10 if a == b else 21 for b in range(8)) for a in range(8))),
     "x86-4node"),
])
def test_machines_pick_their_profile(machine, name):
    assert profile_name(machine) == name
    assert profile_for(machine) == load_profile(name)
    assert preset_costs(machine) == load_profile(name).costs


def test_every_machine_preset_has_a_shipped_profile():
    names = {key: profile_name(build()) for key, build in MACHINE_PRESETS.items()}
    assert names == {"2-socket": "x86-2socket", "4-node": "x86-4node",
                     "4-node-arm64": "arm64-4node", "tiered": "dram-cxl"}


def test_the_arm64_machine_is_the_4node_one_on_another_arch():
    x86, arm = four_node(cpus_per_node=2), MACHINE_PRESETS["4-node-arm64"](cpus_per_node=2)
    assert (x86.arch, arm.arch) == ("x86", "arm64") and "arm64" in arm.name
    assert dataclasses.replace(arm, arch="x86", name=x86.name) == x86
    assert four_node_arm64(cpus_per_node=2) == arm


def test_an_unknown_arch_is_refused_naming_the_allowed_ones():
    assert ARCHES == ("x86", "arm64")
    for wrong in ("aarch64", "x86_64", None):
        with pytest.raises(ScenarioError) as err:
            dataclasses.replace(two_socket(), arch=wrong)
        assert err.value.field == "arch" and err.value.allowed == '"x86" or "arm64"'
    with pytest.raises(ScenarioError, match="arch"):
        four_node(arch="riscv")


def test_arch_is_kept_in_scenario_files_and_left_out_at_its_default():
    scenario = autonumabench_scenario("numa02", machine=four_node_arm64(cpus_per_node=2))
    text = scenario_to_toml(scenario)
    assert 'arch = "arm64"' in text and scenario_from_toml(text) == scenario
    assert "arch" not in scenario_to_toml(autonumabench_scenario("numa02"))


def test_the_scenario_builders_take_their_machines_costs_only():
    assert default_scenario().costs == load_profile("dram-cxl").costs
    assert autonumabench_scenario("numa02").costs == load_profile("x86-4node").costs
    arm = autonumabench_scenario("numa01", machine=four_node_arm64(cpus_per_node=2))
    assert arm.costs == load_profile("arm64-4node").costs
    for name, build in presets().items():  # every catalog preset, RFC and tiering ones too
        scenario = build()
        assert scenario.costs == preset_costs(scenario.machine), name
    # the rates stay the scenario's: a profile's [rates] come with apply_profile alone
    qemu = load_profile("qemu-tcg")
    plain = autonumabench_scenario("numa02", machine=two_socket(cpus_per_node=2))
    rates = {p.stream_gbps for proc in plain.workload.processes for t in proc.threads
             for p in t.phases}
    assert qemu.stream_gbps not in rates
    applied = apply_profile(plain, qemu)
    assert applied.costs == qemu.costs and {p.stream_gbps for proc in applied.workload.processes
                                            for t in proc.threads for p in t.phases} == \
        {qemu.stream_gbps}


def test_the_dashboard_takes_the_machine_presets_profile_or_a_whole_scenarios_costs():
    for machine, name in (("2-socket", "x86-2socket"), ("4-node-arm64", "arm64-4node"),
                          ("tiered", "dram-cxl")):
        scenario = build_scenario(DashboardSettings(machine=machine, passes=5))
        assert scenario.costs == load_profile(name).costs, machine
    whole = build_scenario(DashboardSettings(workload="default", machine="4-node"))
    assert whole.costs == default_scenario().costs


def _written(tmp_path, mutate, name="x86-4node"):
    """Path of a copy of profile ``name`` after ``mutate(data)`` changed its TOML data."""
    data = tomllib.loads(load_profile(name).to_toml())
    mutate(data)
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d["costs"].pop("ptl_hold_ns"), "costs.ptl_hold_ns"),
    (lambda d: d["costs"].pop("tlb_broadcast"), "costs.tlb_broadcast"),
    (lambda d: d["costs"].update(ptl_hold=300.0), "costs.ptl_hold"),
    (lambda d: d["costs"].update(tlb_broadcast=1), "costs.tlb_broadcast"),
    (lambda d: d["costs"].update(hint_fault_ns=-1.0), "costs.hint_fault_ns"),
    (lambda d: d["sources"].pop("ptl_hold_ns"), "sources.ptl_hold_ns"),
    (lambda d: d["sources"].update(ptl_hold_ns="  "), "sources.ptl_hold_ns"),
    (lambda d: d["sources"].update(ptl_hold_ns=300.0), "sources.ptl_hold_ns"),
    (lambda d: d["sources"].pop("stream_gbps"), "sources.stream_gbps"),
    (lambda d: d["sources"].update(bogus="a paper"), "sources.bogus"),
    (lambda d: d["rates"].update(think_ns=20.0), "sources.think_ns"),
    (lambda d: d.pop("sources"), "sources.hint_fault_ns"),
    (lambda d: d.pop("costs"), "costs"),
    (lambda d: d.pop("rates"), "rates"),
    (lambda d: d["rates"].pop("stream_gbps"), "rates.stream_gbps"),
    (lambda d: d["rates"].update(stream_gbps=0.0), "rates.stream_gbps"),
    (lambda d: d["rates"].update(stream=8.0), "rates.stream"),
    (lambda d: d.update(source={}), "source"),
    (lambda d: d.update(flat_latency="yes"), "flat_latency"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_profile_missing_a_figure_or_a_source_is_refused_naming_it(tmp_path, mutate, field):
    path = _written(tmp_path, mutate)
    with pytest.raises(ScenarioError) as err:
        load_profile(path)
    assert err.value.field == field and str(path) in err.value.problem


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[costs\n")
    with pytest.raises(ScenarioError, match="not a TOML file") as err:
        load_profile(path)
    assert err.value.field == "profile"


def test_a_profile_in_code_needs_its_sources_too():
    with pytest.raises(ScenarioError) as err:
        CostProfile(name="mine", costs=CostModel(), stream_gbps=8.0, sources={})
    assert err.value.field == "sources.hint_fault_ns"
    sources = dict(load_profile("x86-4node").sources)
    with pytest.raises(ScenarioError, match="no source line for this figure") as err:
        CostProfile(name="mine", costs=CostModel(), stream_gbps=8.0,
                    sources={**sources, "clone_ns": " "})
    assert err.value.field == "sources.clone_ns"
    CostProfile(name="mine", costs=CostModel(), stream_gbps=8.0, sources=sources)
    with pytest.raises(ScenarioError) as err:
        CostProfile(name="mine", costs=CostModel(), stream_gbps=8.0, sources=sources,
                    think_ns=20.0)
    assert err.value.field == "sources.think_ns"


def test_calibration_accounts_for_every_cost_field_and_writes_a_loadable_profile(tmp_path):
    groups = (set(FITTED), set(FOLDED), set(NOT_FITTED))
    assert set().union(*groups) == set(COST_FIELDS)
    assert sum(len(g) for g in groups) == len(COST_FIELDS)  # each field in one group
    assert all(getattr(CostModel(), f) == section("costs")[f].default for f in NOT_FITTED)
    fit = {"date": "2026-12-07", "kernels": ["6.12.118+deb12-amd64"], "intervals": 3,
           "runs": ["numa02-guest-512M mode 1"]}
    sources = fit_sources(fit)
    assert set(sources) == set(COST_FIELDS) | {"stream_gbps", "think_ns"}
    assert all(sources[f].startswith("measured:") for f in (*FITTED, "stream_gbps", "think_ns"))
    # as fit_profile builds it: folded fields 0, the others fitted or the defaults
    costs = dataclasses.replace(CostModel(), **dict.fromkeys(FOLDED, 0.0), hint_fault_ns=4e4)
    profile = CostProfile(name="here", costs=costs, stream_gbps=0.8, think_ns=1100.0,
                          sources=sources, flat_latency=True, fit=fit)
    assert load_profile(profile.save(tmp_path / "here.toml")) == profile
    shipped = load_profile("qemu-tcg")
    assert all(getattr(shipped.costs, f) == 0.0 for f in FOLDED)
    assert all(shipped.sources[f].startswith("measured:") for f in FITTED)
