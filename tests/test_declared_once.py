"""The parameter and readout tables drive everything declared from them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import numaexp
from numaexp.errors import ScenarioError
from numaexp.model import CostModel, KernelConfig
from numaexp.model.actions import TUNABLES, Action
from numaexp.model.params import PARAMS, U32_MAX, runtime_tunables, section
from numaexp.readout import FRAMES, RUN_LABELS
from numaexp.results import Result
from numaexp.sim.engine.params import DERIVED, PARAMS_DTYPE, set_tunable
from numaexp.sim.engine.readout import check_sources
from numaexp.widgets.scenarios import DASHBOARD_TUNABLES, DashboardSettings
from numaexp.widgets.sweep_model import SWEEP_PATHS


def test_dataclass_fields_defaults_and_docs_come_from_the_table():
    for cls, name in ((KernelConfig, "kernel"), (CostModel, "costs")):
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for field, param in section(name).items():
            assert fields[field].default == param.default
            assert f"{field} : {param.kind}" in cls.__doc__ and param.doc in cls.__doc__


def test_the_record_holds_every_table_parameter_and_every_derived_field():
    names = set(PARAMS_DTYPE.names)
    assert {p.record for p in PARAMS if p.record} | {d.field for d in DERIVED} == names
    assert len(names) == len(PARAMS_DTYPE.names)  # no field declared twice


def test_runtime_tunables_are_the_table_entries_marked_runtime():
    assert set(TUNABLES) == {p.name for p in PARAMS if p.runtime} == set(DASHBOARD_TUNABLES)
    record = np.zeros(1, dtype=PARAMS_DTYPE)[0]
    set_tunable(record, "promote_rate_limit_mbps", 1234)
    assert record["promote_rate_limit_mbps"] == 1234
    set_tunable(record, "demotion_enabled", 1)
    assert record["demotion_enabled"] == 1


@pytest.mark.parametrize("param", [p for p in PARAMS if p.kind == "int" and p.high is not None
                                   and not p.choices], ids=lambda p: p.path)
def test_bounds_follow_the_kernel_type_in_config_actions_and_widgets(param):
    section_name, field = param.path.split(".")
    if section_name == "kernel" and field != "numa_balancing":
        KernelConfig(**{field: int(param.high)})  # the largest the kernel stores is fine
        with pytest.raises(ScenarioError) as err:
            KernelConfig(**{field: int(param.high) + 1})
        assert err.value.field == field and str(int(param.high)) in err.value.allowed
    if param.runtime:
        with pytest.raises(ScenarioError, match=str(int(param.high))):
            Action(at_s=0.0, kind="tunable", name=field, value=int(param.high) + 1)
    if field in DASHBOARD_TUNABLES:
        _dashboard_refuses_out_of_bounds(param, field)


def _dashboard_refuses_out_of_bounds(param, field):
    """The dashboard's control keeps what was typed (no clamping to min/max) and says what the
    table allows; a run with a value out of bounds is refused naming the tunable and bound."""
    from numaexp.widgets import Dashboard
    from numaexp.widgets.dashboard import _tunable_control

    control = _tunable_control(param, param.default)
    assert control.value == param.default and param.allowed in control.tooltip
    assert not hasattr(control, "min") and not hasattr(control, "max")  # refused, not clamped
    small = {"workload": "numa02", "passes": 20, "memory_scale": 0.05}
    dash = Dashboard(DashboardSettings(**small))
    dash.fields[field].value = int(param.high)
    dash.read_settings()
    dash.model.plan()  # the largest the kernel stores is fine
    for wrong in (int(param.high) + 1, int(param.low) - 1):
        dash.fields[field].value = wrong
        assert dash.fields[field].value == wrong  # the widget keeps what was typed
        dash.run_bar.run_button.click()
        assert dash.model.status == "error"
        assert f"{param.path}: {wrong} is out of range" in dash.model.message
        assert f"[{int(param.low)}, {int(param.high)}]" in dash.model.message


def test_u32_tunables_take_the_whole_u32_range_and_zero_where_the_kernel_does():
    KernelConfig(scan_delay_ms=0, scan_period_min_ms=U32_MAX, scan_period_max_ms=0,
                 hot_threshold_ms=0, promote_rate_limit_mbps=0)
    with pytest.raises(ScenarioError, match="0 divides by zero in task_scan_min"):
        KernelConfig(scan_size_mb=0)
    with pytest.raises(ScenarioError, match="4294967295"):
        KernelConfig(scan_delay_ms=U32_MAX + 1)


def test_sweep_paths_are_the_numeric_table_entries():
    assert "kernel.scan_period_min_ms" in SWEEP_PATHS and "costs.task_move_ns" in SWEEP_PATHS
    assert "kernel.demotion_enabled" not in SWEEP_PATHS and "kernel.hz" not in SWEEP_PATHS
    # the mode and the kernel variant first, then every numeric entry of the table; the
    # variant is a label, not a table entry
    assert SWEEP_PATHS[:2] == ("kernel.numa_balancing", "kernel.variant")
    assert set(SWEEP_PATHS) - {p.path for p in PARAMS} == {"kernel.variant"}
    assert set(SWEEP_PATHS[2:]) == {p.path for p in PARAMS if p.kind != "bool" and not p.choices
                                    and p.path != "kernel.numa_balancing"}


def test_the_sweep_varies_the_kernel_variant():
    import bitid

    from numaexp.model.kernel import KernelVariant
    from numaexp.widgets import SweepModel, SweepParameter, SweepSettings

    scenario = bitid.preset_scenario("numa02")
    model = SweepModel(scenario, SweepSettings(
        parameters=[SweepParameter("kernel.variant", ("mainline", "rfc-v2", "mainline"))],
        seeds=1))
    assert model.count() == 2
    plan = model.plan()
    assert [s.kernel.variant for _, s in plan] == [KernelVariant.parse("mainline"),
                                                   KernelVariant.parse("rfc-v2")]
    with pytest.raises(ScenarioError, match=r"^kernel\.variant: a text field cannot take 1, 2"):
        SweepModel(scenario, SweepSettings(
            parameters=[SweepParameter("kernel.variant", (1, 2))], seeds=1)).plan()


def test_dashboard_settings_start_at_the_table_defaults():
    assert DashboardSettings().tunables == {name: p.default for name, p in
                                            runtime_tunables().items()}


def test_every_readout_source_resolves():
    assert check_sources() == []


def test_frames_have_exactly_the_declared_columns():
    import bitid

    result = numaexp.simulate(bitid.preset_scenario("pmbench_gaussian"), progress=False)
    nodes = [f"N{i}" for i in range(result.scenario.machine.nr_nodes)]
    for name, frame in FRAMES.items():
        declared = [n for col in frame.columns for n in col.names(nodes)]
        declared += [c.name for c in RUN_LABELS]
        assert list(result.frames[name].columns) == declared, name


def test_result_columns_lists_every_column_with_unit_and_meaning():
    table = Result.columns()
    assert set(table["frame"]) == {*FRAMES, "cgroup_counters", "summary"}
    row = table[(table["frame"] == "sched") & (table["column"] == "numa_scan_period_ms")]
    assert row["unit"].item() == "ms" and "numa_scan_period" in row["meaning"].item()
    assert "faults_task_private_N<node>" in set(table["column"])
    assert "numa_scan_period_ms" in Result.__doc__
    speedup = table[(table["frame"] == "summary") & (table["column"] == "speedup")]
    assert speedup["unit"].item() == "x" and "baseline" in speedup["meaning"].item()


def test_summary_and_cgroup_counters_have_exactly_the_declared_columns():
    import bitid

    from numaexp.readout import CGROUP_COUNTERS, SUMMARY

    result = numaexp.simulate(bitid.preset_scenario("per_cgroup"), progress=False)
    assert list(result.summary.index) == ["mode", "variant", *(
        c.name for c in SUMMARY.columns if c.name != "speedup")]
    assert list(result.cgroup_counters().columns) == [c.name for c in CGROUP_COUNTERS.columns]
    by_cgroup = numaexp.Comparison(results={"a": result}, settings=__import__("pandas")
                                   .DataFrame([{"label": "a"}])).summary(by="cgroup")
    assert list(by_cgroup.columns) == ["label", "baseline", "cgroup",
                                       *(c.name for c in SUMMARY.columns)]


def test_one_name_everywhere_for_the_same_quantity():
    """A column that is in several frames has one name, the kernel's."""
    tts = {c.name for c in FRAMES["task_timeseries"].columns}
    sched = {c.name for c in FRAMES["sched"].columns}
    assert {"numa_scan_period_ms", "numa_preferred_nid", "current_node", "numa_group_id",
            "task_numa_scan_seq"} <= tts & sched
    assert not {"scan_period_ms", "preferred_node", "node", "numa_group", "scan_seq"} & tts
