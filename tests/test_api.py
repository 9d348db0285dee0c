"""simulate(), compare(), Result and Comparison: shapes, names, saving, bad input."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import scenario, small_machine, sweep_workload

import numaexp
from numaexp import ScenarioError, compare, simulate
from numaexp.model import KernelConfig, Pattern, Phase, Process, Thread, Vma, Workload
from numaexp.results import FRAME_NAMES
from numaexp.sim.kernel.constants import MEMCG_NAMES, VM_NAMES


@pytest.fixture(scope="module")
def small():
    machine = small_machine(nodes=2, cpus=2)
    return scenario(sweep_workload(machine, size="16 MiB", passes=6000), machine)


def test_result_frames_carry_kernel_names(small):
    result = simulate(small, progress=False)
    assert set(result.frames) == set(FRAME_NAMES)
    assert list(result.vmstat.columns) == [*VM_NAMES, "mode", "variant", "policy", "backend"]
    for name, frame in result.frames.items():  # every frame names the kernel it came from
        assert (frame["mode"] == 1).all() and (frame["variant"] == "rfc-v2").all(), name
    assert set(MEMCG_NAMES) <= set(result.memory_stat.columns)
    for col in ("numa_scan_seq", "numa_preferred_nid", "total_numa_faults", "numa_pages_migrated",
                "current_node", "numa_group_id", "numa_task_migrated", "numa_task_swapped",
                "faults_task_private_N0", "faults_group_shared_N1"):
        assert col in result.sched.columns, col
    assert set(result.times["level"]) == {"task", "cgroup", "total"}
    assert result.meta["finished"] and result.meta["mode"] == 1
    assert "numaexp result" in result._repr_html_()
    assert result.summary["elapsed_s"] > 0


def test_save_writes_parquet_and_csv(small, tmp_path):
    result = simulate(small, progress=False)
    result.save(tmp_path)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"),
                                      result.frames[name], check_dtype=False)
        assert (tmp_path / f"{name}.csv").stat().st_size > 0
    assert (tmp_path / "meta.json").exists()


def test_compare_gives_one_tidy_frame_with_a_mode_column(small, tmp_path):
    comparison = compare(small, modes=[0, 1], progress=False)
    frame = comparison.frame
    assert list(frame["mode"]) == [0, 1]
    assert frame.loc[frame["mode"] == 0, "numa_hint_faults"].item() == 0
    assert frame.loc[frame["mode"] == 1, "numa_hint_faults"].item() > 0
    times = comparison.table("times")
    assert {"label", "mode"} <= set(times.columns) and set(times["mode"]) == {0, 1}
    comparison.save(tmp_path)
    assert (tmp_path / "summary.parquet").exists() and (tmp_path / "events.csv").exists()
    assert "numaexp comparison" in comparison._repr_html_()
    with pytest.raises(ScenarioError, match="unknown frame"):
        comparison.table("nope")


def test_bad_modes_are_refused_before_any_run(small):
    with pytest.raises(ScenarioError) as err:
        compare(small, modes=[0, 7], progress=False)
    assert err.value.field == "modes[1].numa_balancing" and "0 (off)" in str(err.value)
    with pytest.raises(ScenarioError, match=r"rejects 5\.\.7"):
        KernelConfig(numa_balancing=5)
    with pytest.raises(ScenarioError, match="no mode"):
        compare(small, modes=[], progress=False)


def test_state_larger_than_memory_is_refused_with_the_estimate(small, monkeypatch):
    monkeypatch.setattr(numaexp.experiment, "available_memory", lambda: 1 << 20)
    with pytest.raises(ScenarioError) as err:
        simulate(small, progress=False)
    assert err.value.field == "workload" and "would take about" in str(err.value)
    assert "pages" in str(err.value)


def test_simulate_rejects_non_scenarios():
    with pytest.raises(ScenarioError, match="expected a Scenario"):
        simulate({"name": "x"}, progress=False)


def test_interrupt_keeps_the_partial_run(small, monkeypatch):
    from numaexp.sim.engine import runner

    calls = {"n": 0}
    original = runner.Runner.advance

    def advance(self, until_s):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, until_s)

    monkeypatch.setattr(runner.Runner, "advance", advance)
    with pytest.warns(UserWarning, match="interrupted"):
        result = simulate(small, progress=False)
    assert result.meta["interrupted"] and not result.meta["finished"]
    assert len(result.timeseries) == 3  # the initial sample and two finished intervals


def _fake_simulate(runs):
    def simulate(run, progress=None):
        runs.append(run)
        return SimpleNamespace(meta={}, scenario=run)
    return simulate


def test_repeated_modes_or_variants_are_refused_before_any_run(small, monkeypatch):
    runs = []
    monkeypatch.setattr(numaexp.comparison, "simulate", _fake_simulate(runs))
    with pytest.raises(ScenarioError) as err:
        compare(small, modes=[1, 0, 1])
    assert err.value.field == "modes" and "modes[0] and modes[2] are both 1" in str(err.value)
    with pytest.raises(ScenarioError) as err:  # "fixed" alone is rfc-v2
        compare(small, modes=[1], variants=["rfc-v2", "fixed"])
    assert err.value.field == "variants" and "are both 'rfc-v2'" in str(err.value)
    for bad in ("0,1", None, 1.5, True):
        with pytest.raises(ScenarioError) as err:
            compare(small, modes=bad)
        assert err.value.field == "modes" and "expected a list" in str(err.value), bad
    assert runs == []


def test_one_mode_or_variant_may_be_given_alone(small, monkeypatch):
    runs = []
    monkeypatch.setattr(numaexp.comparison, "simulate", _fake_simulate(runs))
    comparison = compare(small, modes=4, variants="rfc-v1")
    assert list(comparison.results) == ["mode 4"]
    assert [(r.kernel.numa_balancing, r.kernel.variant.label) for r in runs] == [(4, "rfc-v1")]


class _Bar:
    """Stands for tqdm: records the total and the progress shown."""

    def __init__(self, bars, total=None, **options):
        self.total, self.options, self.n, self.postfix = total, options, 0.0, ""
        bars.append(self)

    def update(self, n):
        self.n += n

    def set_postfix_str(self, text, refresh=True):
        self.postfix = text

    def close(self):
        pass


@pytest.fixture
def bars(monkeypatch):
    bars = []
    monkeypatch.setattr(numaexp.experiment, "tqdm", lambda **kw: _Bar(bars, **kw))
    return bars


def test_work_runs_show_the_share_of_the_work_done(small, bars):
    result = simulate(small)
    assert result.meta["finished"] and result.meta["sim_seconds"] < small.stop.max_duration_s
    (bar,) = bars
    assert bar.total == 100.0  # not stop.max_duration_s, which says nothing of the end
    assert bar.n == pytest.approx(100.0) and bar.postfix.endswith("sim s")
    assert "of the work" in bar.options["bar_format"]


def test_work_runs_without_a_known_amount_of_work_show_no_total(bars):
    machine = small_machine(nodes=2, cpus=2)
    timed = Workload(name="timed", processes=(Process(
        name="p", vmas=(Vma(name="buf", size="16 MiB"),),
        threads=(Thread(name="w", count=2, phases=(
            Phase(patterns=(Pattern(vma="buf", kind="sweep", slice_by_thread=True),),
                  duration_s=0.5),)),)),))
    result = simulate(scenario(timed, machine))
    assert result.meta["finished"]
    (bar,) = bars
    assert bar.total is None and "{remaining}" not in bar.options["bar_format"]
    assert bar.n == pytest.approx(result.timeseries["time_s"].max(), abs=1e-3)


def test_duration_runs_show_the_simulated_seconds(bars):
    machine = small_machine(nodes=2, cpus=2)
    simulate(scenario(sweep_workload(machine, size="16 MiB", passes=1e6), machine, duration=0.5))
    (bar,) = bars
    assert bar.total == 0.5 and bar.n == pytest.approx(0.5)


def test_on_progress_reports_the_share_of_the_work_of_a_work_run(small):
    shares = []
    result = simulate(small, progress=False, on_progress=shares.append)
    assert shares[-1] == 1.0 and shares == sorted(shares)
    # the time limit is only a safety net: the share of it would stay far below 1
    limit_share = result.meta["sim_seconds"] / small.stop.max_duration_s
    assert limit_share < 0.5 and shares[len(shares) // 2] > limit_share


def test_samples_one_tick_apart_fall_on_successive_ticks():
    machine = small_machine(nodes=2, cpus=2)
    sc = scenario(sweep_workload(machine, size="16 MiB", passes=1e6), machine, duration=2.0)
    sc = dataclasses.replace(sc, sample_interval_s=0.004)  # one tick at HZ 250
    times = simulate(sc, progress=False).timeseries["time_s"].to_numpy()
    ticks = np.round(times / 0.004).astype(int)
    np.testing.assert_array_equal(ticks, np.arange(len(ticks)))
    np.testing.assert_allclose(times, ticks * 0.004, rtol=0, atol=1e-12)


@pytest.mark.parametrize("hz", [100, 250, 300, 1000])
def test_a_duration_run_stops_at_its_duration_whatever_hz(hz):
    # at HZ 300 a tick is 3,333,333 ns: 1.5 s used to run one tick over (1.503333 s)
    machine = small_machine(nodes=2, cpus=2)
    sc = scenario(sweep_workload(machine, size="16 MiB", passes=1e6), machine, duration=1.5,
                  hz=hz)
    result = simulate(dataclasses.replace(sc, sample_interval_s=0.5), progress=False)
    assert result.meta["sim_seconds"] == pytest.approx(1.5, abs=1e-6)
    np.testing.assert_allclose(result.timeseries["time_s"], [0, 0.5, 1.0, 1.5], rtol=0,
                               atol=1e-6)


def test_migrations_that_cost_nothing_are_allowed():
    from numaexp.model import CostModel

    machine = small_machine(nodes=2, cpus=2)
    sc = scenario(sweep_workload(machine, size="16 MiB", passes=2000, first_touch_node=0),
                  machine)
    free = dataclasses.replace(sc, costs=CostModel(migrate_folio_ns=0, migrate_copy_ns_per_page=0))
    assert simulate(free, progress=False).vmstat["numa_pages_migrated"].iloc[0] > 0


def test_kernel_time_still_owed_at_the_end_is_not_system_time_yet():
    # 1 ms per hinting fault: a task is charged more kernel time than it can run by the end
    from numaexp.model import CostModel

    machine = small_machine(nodes=2, cpus=1, memory="256 MiB")
    sc = scenario(sweep_workload(machine, size="64 MiB", threads=1, passes=1e6,
                                 first_touch_node=1), machine, duration=3.0,
                  scan_delay_ms=100, scan_period_min_ms=100)
    result = simulate(dataclasses.replace(sc, costs=CostModel(hint_fault_ns=1e6)),
                      progress=False)
    times = result.times
    tasks = times[times["level"] == "task"]
    assert result.vmstat["numa_hint_faults"].iloc[0] > 3000  # over 3 s of kernel time charged
    assert (tasks["user_s"] + tasks["system_s"] <= tasks["elapsed_s"] + 1e-9).all()
    assert tasks["system_s"].sum() > 2.5
    last = result.task_timeseries.groupby("pid").last()
    np.testing.assert_allclose(last["system_s"].to_numpy(), tasks["system_s"].to_numpy())


def test_events_of_other_kinds_do_not_disturb_the_swap_partner_column():
    # a move's reason code (c) may exceed the number of tasks: 1 task, reason MOVE_SWAP (5)
    from numaexp.sim.engine.codes import EV_MIGRATE, EV_SWAP_NUMA, MOVE_SWAP
    from numaexp.sim.engine.readout import View, read

    layout = SimpleNamespace(tasks=[("p", "t", 100, "/"), ("p", "u", 101, "/")],
                             vmas=[("p", "buf")], other_tasks=[], sched_levels=["MC", "NUMA"])
    events = {"time": np.array([1e9, 2e9]), "kind": np.array([EV_MIGRATE, EV_SWAP_NUMA]),
              "task": np.array([0, 0]), "a": np.array([0, 0]), "b": np.array([5, 1]),
              "c": np.array([MOVE_SWAP, 1]), "d": np.array([-1, 0])}
    frame = pd.DataFrame(read("events", View(arrays=None, layout=layout, events=events)))
    assert frame["partner"].isna().tolist() == [True, False] and frame["partner"][1] == "p/u"
    assert frame["vma"].isna().all()
    assert frame["reason"].tolist()[0] == "numa_swap" and frame["reason"].isna().tolist()[1]
    assert frame["level"].isna().all()  # a NUMA swap has no domain level; a swap event none


def test_fork_placements_carry_their_reason_in_the_events_frame():
    # sched_wakeup_new rows (a: the creator's CPU or -1, b: the new task's CPU) say "fork"
    from numaexp.readout import FORK_REASON
    from numaexp.sim.engine.codes import EV_MIGRATE, EV_WAKEUP_NEW, MOVE_LB
    from numaexp.sim.engine.readout import View, read

    layout = SimpleNamespace(tasks=[("p", "t", 100, "/"), ("p", "u", 101, "/")],
                             vmas=[("p", "buf")], other_tasks=[], sched_levels=["MC", "NUMA"])
    events = {"time": np.array([0.0, 1e3, 2e9]),
              "kind": np.array([EV_WAKEUP_NEW, EV_WAKEUP_NEW, EV_MIGRATE]),
              "task": np.array([0, 1, 1]), "a": np.array([-1, 0, 3]), "b": np.array([0, 3, 0]),
              "c": np.array([0, 0, MOVE_LB]), "d": np.array([0, 0, 1])}
    frame = pd.DataFrame(read("events", View(arrays=None, layout=layout, events=events)))
    assert frame["reason"].tolist() == [FORK_REASON, FORK_REASON, "load_balance"]
    assert frame["level"][:2].isna().all() and frame["level"][2] == "NUMA"


def test_work_run_whose_timed_phases_outlast_the_limit_is_warned_of_before_it_runs(monkeypatch):
    from numaexp.model import Stop

    machine = small_machine(nodes=2, cpus=2)
    long = Workload(name="long", processes=(Process(
        name="p", vmas=(Vma(name="buf", size="16 MiB"),),
        threads=(Thread(name="w", phases=(
            Phase(patterns=(Pattern(vma="buf"),), duration_s=3.0),
            Phase(patterns=(Pattern(vma="buf"),), duration_s=4.0))),)),))
    sc = dataclasses.replace(scenario(long, machine),
                             stop=Stop(kind="work", max_duration_s=5.0))

    def no_run(_scenario):
        raise AssertionError("the warning must come before the run")

    monkeypatch.setattr(numaexp.experiment, "Runner", no_run)
    with pytest.warns(UserWarning, match=r"p/w cannot finish within stop.max_duration_s = 5.0 s "
                                         r"\(its phases' duration_s add up to 7.0 s\)"):
        with pytest.raises(AssertionError, match="before the run"):
            simulate(sc, progress=False)
