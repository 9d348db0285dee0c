"""Dotted paths to scenario fields: reading, setting several at once, clear errors."""

from __future__ import annotations

import pytest
from helpers import scenario, small_machine, sweep_workload

from numaexp import Cgroup, MemPolicy, ScenarioError, Stop
from numaexp.sweep.paths import format_path, get_path, parse_path, set_paths


@pytest.fixture
def base():
    machine = small_machine(nodes=2, cpus=2)
    workload = sweep_workload(machine, size="16 MiB")
    return scenario(workload, machine)


def test_parse_and_format_round_trip():
    text = 'workload.cgroups["/mytest"].numa_load_balance'
    assert parse_path(text) == ("workload", "cgroups", ("/mytest",), "numa_load_balance")
    assert parse_path("machine.distance[0][1]") == ("machine", "distance", 0, 1)
    assert parse_path("workload.processes['p'].vmas[0]") == ("workload", "processes", ("p",),
                                                              "vmas", 0)
    for path in (text, "machine.distance[0][1]", "stop.duration_s"):
        assert format_path(parse_path(path)) == path


@pytest.mark.parametrize("bad", ["", ".kernel", "kernel.", "kernel..hz", "1kernel", "kernel[x]",
                                 "kernel hz", 'workload.cgroups["/a]'])
def test_malformed_paths_are_rejected(bad):
    with pytest.raises(ScenarioError, match=r"malformed path|empty path"):
        parse_path(bad)


def test_get_path_reads_fields_indexes_and_keys(base):
    assert get_path(base, "kernel.scan_period_min_ms") == 1000
    assert get_path(base, "machine.nodes[1].cpus") == 2
    assert get_path(base, "machine.distance[0][1]") == 21
    assert get_path(base, 'workload.processes["p"].vmas["buf"].size') == 16 << 20
    # a cgroup the workload uses without listing it
    assert get_path(base, 'workload.cgroups["/"]') == Cgroup(path="/")


def test_set_paths_changes_only_the_named_fields(base):
    new = set_paths(base, {"kernel.scan_size_mb": 64, "machine.nodes[0].memory": "1 GiB",
                           'workload.processes["p"].vmas["buf"].first_touch_node': 0})
    assert new.kernel.scan_size_mb == 64 and new.machine.nodes[0].memory == 1 << 30
    assert new.machine.nodes[1] == base.machine.nodes[1]
    assert new.workload.processes[0].vmas[0].first_touch_node == 0
    assert new.workload.processes[0].threads == base.workload.processes[0].threads
    assert set_paths(base, {}) == base and base.kernel.scan_size_mb == 256


def test_fields_of_one_dataclass_change_together(base):
    # each alone is invalid (duration_s needs kind "duration" and vice versa)
    new = set_paths(base, {"stop.kind": "duration", "stop.duration_s": 5})
    assert new.stop == Stop(kind="duration", duration_s=5.0, max_duration_s=120)
    with pytest.raises(ScenarioError, match=r"^stop.duration_s: only used with"):
        set_paths(base, {"stop.duration_s": 5})


def test_dict_and_list_values_build_dataclasses_and_tuples(base):
    new = set_paths(base, {"stop": {"kind": "duration", "duration_s": 2.0},
                           "workload.processes[0].vmas[0].policy": {"mode": "interleave",
                                                                     "nodes": [0, 1]},
                           "workload.cgroups": [{"path": "/", "numa_load_balance": 1}]})
    assert new.stop == Stop(kind="duration", duration_s=2.0)
    assert new.workload.processes[0].vmas[0].policy == MemPolicy("interleave", (0, 1))
    assert new.workload.cgroups == (Cgroup(path="/", numa_load_balance=1),)


def test_setting_an_implicit_cgroup_lists_it(base):
    new = set_paths(base, {'workload.cgroups["/"].numa_load_balance': 1})
    assert new.workload.cgroups == (Cgroup(path="/", numa_load_balance=1),)


@pytest.mark.parametrize(("path", "value", "message"), [
    ("kernel.scan_period_min", 1, r"^kernel.scan_period_min: KernelConfig has no field "
                                  r"'scan_period_min' \(allowed: numa_balancing, .*"
                                  r"scan_period_min_ms"),
    ("machine.nodes[5].cpus", 1, r"^machine.nodes\[5\]: index 5 is out of range .*0..1"),
    ('workload.cgroups["/nope"].numa_load_balance', 1,
     r"""^workload.cgroups\["/nope"\]: no element named '/nope' \(allowed: '/'\)"""),
    ('machine.nodes["x"]', 1, r"elements here have no name"),
    ("kernel.scan_size_mb.x", 1, r"^kernel.scan_size_mb.x: kernel.scan_size_mb is int 256, "
                                 r"which has no fields"),
    ("kernel[0]", 1, r"^kernel\[0\]: kernel is KernelConfig .*cannot be indexed"),
    ("kernel.scan_period_min_ms", -5, r"^kernel.scan_period_min_ms: -5 is out of range "
                                      r"\(allowed: an integer in \[0, 4294967295\] ms"),
    ("stop", {"kind": "work", "bogus": 1}, r"^stop.bogus: Stop has no field 'bogus' "
                                           r"\(allowed: kind, duration_s, max_duration_s\)"),
    ("machine.distance[0][1]", 5, r"^machine.distance\[0\]\[1\]: .*11..254"),
])
def test_errors_name_the_path_and_what_is_allowed(base, path, value, message):
    with pytest.raises(ScenarioError, match=message):
        set_paths(base, {path: value})


def test_a_field_set_as_a_whole_and_in_part_is_rejected(base):
    with pytest.raises(ScenarioError, match="set as a whole and in part"):
        set_paths(base, {"stop": {"kind": "work"}, "stop.max_duration_s": 10})
    with pytest.raises(ScenarioError, match="set as a whole and in part"):
        set_paths(base, {"stop.max_duration_s": 10, "stop": {"kind": "work"}})
