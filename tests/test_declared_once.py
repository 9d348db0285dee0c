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
        from numaexp.widgets.dashboard import _tunable_control

        control = _tunable_control(param, param.default)
        assert (control.min, control.max) == (param.low, param.high)


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
    assert set(SWEEP_PATHS) <= {p.path for p in PARAMS}


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
    assert set(table["frame"]) == set(FRAMES)
    row = table[(table["frame"] == "sched") & (table["column"] == "numa_scan_period_ms")]
    assert row["unit"].item() == "ms" and "numa_scan_period" in row["meaning"].item()
    assert "faults_task_private_N<node>" in set(table["column"])
    assert "numa_scan_period_ms" in Result.__doc__


def test_one_name_everywhere_for_the_same_quantity():
    """A column that is in several frames has one name, the kernel's."""
    tts = {c.name for c in FRAMES["task_timeseries"].columns}
    sched = {c.name for c in FRAMES["sched"].columns}
    assert {"numa_scan_period_ms", "numa_preferred_nid", "current_node", "numa_group_id",
            "task_numa_scan_seq"} <= tts & sched
    assert not {"scan_period_ms", "preferred_node", "node", "numa_group", "scan_seq"} & tts
