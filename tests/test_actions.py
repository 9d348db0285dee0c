"""Run-time actions and kernel variants in the model: validation, TOML, effects."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import scenario, small_machine, sweep_workload

from numaexp import Action, Cgroup, KernelVariant, ScenarioError, compare, simulate
from numaexp.model.toml_io import scenario_from_toml, scenario_to_toml


@pytest.fixture(scope="module")
def machine():
    return small_machine(2, 2)


@pytest.fixture(scope="module")
def base(machine):
    work = sweep_workload(machine, first_touch_node=0, passes=20000)
    work = dataclasses.replace(work, cgroups=(Cgroup("/a"), Cgroup("/b")), processes=tuple(
        dataclasses.replace(p, cgroup="/a") for p in work.processes))
    return scenario(work, machine, mode=4, duration=6.0)


@pytest.mark.parametrize(("action", "field", "text"), [
    (Action(at_s=1.0, kind="numa_load_balance", cgroup="/nope", value=1), "actions[0].cgroup",
     "no cgroup"),
    (Action(at_s=99.0, kind="numa_balancing", value=1), "actions[0].at_s", "after the run"),
    (Action(at_s=1.0, kind="move_task", cgroup="/b", process="q"), "actions[0].process",
     "no process"),
    (Action(at_s=1.0, kind="move_task", cgroup="/b", process="p", thread="w.9"),
     "actions[0].thread", "no thread"),
    (Action(at_s=1.0, kind="cpuset", cgroup="/b", cpus=(7,)), "actions[0].cpus",
     "outside the machine"),
])
def test_bad_actions_name_the_field(base, action, field, text):
    with pytest.raises(ScenarioError) as err:
        dataclasses.replace(base, actions=(action,))
    assert err.value.field == field and text in str(err.value)


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"kind": "reboot"}, "unknown action"),
    ({"kind": "numa_balancing", "value": 6}, "rejects 5..7"),
    ({"kind": "numa_load_balance", "cgroup": "/a", "value": 2}, "0 or 1"),
    ({"kind": "tunable", "name": "scan_sizee", "value": 1}, "unknown tunable"),
])
def test_bad_action_values_are_refused(kwargs, text):
    with pytest.raises(ScenarioError, match=text):
        Action(at_s=0.0, **kwargs)


def test_variants_and_actions_survive_toml(base):
    sc = dataclasses.replace(
        base, kernel=dataclasses.replace(base.kernel, variant="rfc-v1+as-posted"),
        actions=(Action(at_s=2.0, kind="numa_load_balance", cgroup="/a", value=1),
                 Action(at_s=3.0, kind="cpuset", cgroup="/b", cpus=(0, 1), mems=(0,))))
    again = scenario_from_toml(scenario_to_toml(sc))
    assert again == sc
    assert again.kernel.variant == KernelVariant("rfc-v1", "as-posted", "as-posted")


def test_variant_labels_parse_and_round_trip():
    for label in ("mainline", "rfc-v1", "rfc-v2+stats-as-posted",
                  "hierarchical+interleave-as-posted"):
        assert KernelVariant.parse(label).label == label
    assert KernelVariant.parse("as-posted").label == "rfc-v2+stats-as-posted+interleave-as-posted"
    with pytest.raises(ScenarioError, match="unknown part"):
        KernelVariant.parse("rfc-v3")


def test_enabling_a_cgroup_mid_run_starts_its_balancing(base):
    sc = dataclasses.replace(base, actions=(
        Action(at_s=3.0, kind="numa_load_balance", cgroup="/a", value=1),))
    ts = simulate(sc, progress=False).timeseries
    assert ts.loc[ts["time_s"] <= 3.0, "numa_pte_updates"].max() == 0
    assert ts["numa_pte_updates"].iloc[-1] > 0


def test_moving_the_process_moves_its_charges(base):
    on = tuple(Cgroup(c.path, numa_load_balance=1) for c in base.workload.cgroups)
    sc = dataclasses.replace(base, workload=dataclasses.replace(base.workload, cgroups=on),
                             actions=(Action(at_s=3.0, kind="move_task", cgroup="/b",
                                             process="p"),))
    result = simulate(sc, progress=False)
    ms = result.memory_stat.set_index("cgroup")
    assert ms.loc["/a", "numa_pte_updates"] > 0 and ms.loc["/b", "numa_pte_updates"] > 0
    assert set(result.sched["cgroup"]) == {"/a"}  # the sched frame names the starting cgroup


def test_shrinking_a_cpuset_moves_the_tasks(base):
    sc = dataclasses.replace(base, actions=(
        Action(at_s=2.0, kind="cpuset", cgroup="/a", cpus=(2, 3)),))
    tts = simulate(sc, progress=False).task_timeseries
    assert set(tts.loc[tts["time_s"] > 2.0, "cpu"]) <= {2, 3}
    assert set(tts.loc[(tts["time_s"] > 0) & (tts["time_s"] <= 2.0), "cpu"]) & {0, 1}


def test_compare_runs_every_mode_and_variant_pair(base):
    cmp_ = compare(base, modes=[1, 4], variants=["mainline", "rfc-v1"], progress=False)
    assert list(cmp_.results) == ["mode 1 mainline", "mode 1 rfc-v1", "mode 4 mainline",
                                  "mode 4 rfc-v1"]
    frame = cmp_.frame
    assert list(frame["variant"]) == ["mainline", "rfc-v1", "mainline", "rfc-v1"]
    times = cmp_.table("times")
    assert set(times["variant"]) == {"mainline", "rfc-v1"}
