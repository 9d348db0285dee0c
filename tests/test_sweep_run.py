"""numaexp.sweep: one tidy frame, failed points recorded, full results, interruption.

These run points in threads of this process (any concurrent.futures executor
is accepted), so a monkeypatched simulate reaches the workers; process pools
and Dask are tested in test_dask.py.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import pytest
from helpers import scenario, small_machine, sweep_workload

import numaexp
from numaexp import ScenarioError, SweepSpec
from numaexp.sweep import SweepResult, worker
from numaexp.sweep.executors import RETRIES

VOLATILE = ["wall_s", "worker", "finished_at"]
"""Columns that differ between two runs of the same points."""


@pytest.fixture
def spec():
    machine = small_machine(nodes=2, cpus=2)
    base = scenario(sweep_workload(machine, size="32 MiB", passes=1e6, first_touch_node=0),
                    machine, duration=2.0)
    return SweepSpec(base, product={"kernel.numa_balancing": [0, 1],
                                    "kernel.scan_size_mb": [4, 64]}, repeats=2, seed=11)


@pytest.fixture
def threads():
    with ThreadPoolExecutor(2) as pool:
        yield pool


def test_frame_has_parameters_seed_status_and_metrics(spec, threads):
    frame = numaexp.sweep(spec, executor=threads, progress=False)
    points = spec.points()
    assert len(frame) == 8 and (frame["status"] == "ok").all()
    assert list(frame.columns[:7]) == ["kernel.numa_balancing", "kernel.scan_size_mb", "repeat",
                                       "seed", "key", "status", "error"]
    assert list(frame["seed"]) == [p.seed for p in points]
    assert list(frame["key"]) == [p.key for p in points]
    for column in ("elapsed_s", "system_s", "numa_hint_faults", "numa_pages_migrated",
                   "numa_hint_faults_local", "local_access_pct", "mode", "variant",
                   "sim_seconds", "wall_s", "version", "worker"):
        assert column in frame.columns, column
    assert (frame["mode"] == frame["kernel.numa_balancing"]).all()
    off, on = frame[frame["mode"] == 0], frame[frame["mode"] == 1]
    assert (off["numa_hint_faults"] == 0).all() and (on["numa_hint_faults"] > 0).all()
    # the scan size changes how many PTEs each scan marks, and how soon pages move
    small, large = (on[on["kernel.scan_size_mb"] == s] for s in (4, 64))
    assert small["numa_pte_updates"].max() < large["numa_pte_updates"].min()
    assert small["numa_pages_migrated"].max() < large["numa_pages_migrated"].min()


def test_results_match_simulate_and_repeat_exactly(spec, threads):
    frame = numaexp.sweep(spec, executor=threads, progress=False)
    point = spec.points()[5]
    alone = numaexp.simulate(point.scenario, progress=False)
    row = frame.iloc[5]
    for key, value in alone.vmstat.iloc[0].items():
        assert row[key] == value, key
    again = numaexp.sweep(spec, executor=threads, progress=False)
    pd.testing.assert_frame_equal(frame.drop(columns=VOLATILE), again.drop(columns=VOLATILE))


def test_a_failed_point_is_recorded_and_the_rest_run(spec, threads, monkeypatch):
    bad = spec.points()[3].scenario  # seeds repeat across points
    real = worker.simulate

    def simulate(scenario, **kwargs):
        if scenario == bad:
            raise RuntimeError("injected failure")
        return real(scenario, **kwargs)

    monkeypatch.setattr(worker, "simulate", simulate)
    seen = []
    frame = numaexp.sweep(spec, executor=threads, progress=False, on_point=seen.append)
    assert len(frame) == 8 and len(seen) == 8
    failed = frame[frame["status"] != "ok"]
    assert list(failed.index) == [3]
    assert failed.iloc[0]["status"] == "error"
    assert failed.iloc[0]["error"] == "RuntimeError: injected failure"
    assert pd.isna(failed.iloc[0]["numa_hint_faults"])
    assert frame.drop(index=3)["numa_hint_faults"].notna().all()
    assert {row["key"] for row in seen} == set(frame["key"])


def test_full_results_and_tables(spec, threads):
    out = numaexp.sweep(spec, executor=threads, progress=False, full=True)
    assert isinstance(out, SweepResult)
    assert set(out.results) == set(out.frame["key"])
    result = out.results[out.frame.iloc[2]["key"]]
    assert result.vmstat.iloc[0]["numa_hint_faults"] == out.frame.iloc[2]["numa_hint_faults"]
    times = out.table("times")
    assert {"kernel.numa_balancing", "kernel.scan_size_mb", "repeat", "seed", "key",
            "level"} <= set(times.columns)
    assert times["key"].nunique() == 8
    with pytest.raises(ScenarioError, match="unknown frame"):
        out.table("nope")


def test_identical_points_run_once(threads):
    machine = small_machine(nodes=2, cpus=2)
    base = scenario(sweep_workload(machine, size="16 MiB", passes=1e6), machine, duration=1.0)
    spec = SweepSpec(base, product={"kernel.scan_size_mb": [64, 64]}, common_seeds=True)
    runs = []
    frame = numaexp.sweep(spec, executor=threads, progress=False, on_point=runs.append)
    assert len(frame) == 2 and frame["key"].nunique() == 1 and len(runs) == 1


def test_interrupting_returns_the_finished_points(spec, threads):
    def stop_after_three(row, seen=[]):  # noqa: B006 - counts calls
        seen.append(row)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match=r"interrupted: returning the 3 of 8 points"):
        frame = numaexp.sweep(spec, executor=threads, progress=False,
                              on_point=stop_after_three)
    assert len(frame) == 3 and (frame["status"] == "ok").all()
    with pytest.raises(KeyboardInterrupt):
        numaexp.sweep(spec, executor=threads, progress=False, on_interrupt="raise",
                      on_point=lambda row: (_ for _ in ()).throw(KeyboardInterrupt))


def test_spec_path_and_bad_executor(tmp_path):
    with pytest.raises(ScenarioError, match=r"^executor: cannot run points on a str"):
        numaexp.sweep(SweepSpec("numa02", base_options={"memory_scale": 0.0625}),
                      executor="local", progress=False)
    with pytest.raises(FileNotFoundError):
        numaexp.sweep(tmp_path / "none.toml", progress=False)


class LosesWorkers(cf.Executor):
    """Fails the first ``losses`` submissions of every point as a dead worker process would."""

    def __init__(self, pool: cf.Executor, losses: int):
        self.pool, self.losses, self.calls = pool, losses, Counter()

    def submit(self, fn, scenario, full):
        self.calls[scenario] += 1
        if self.calls[scenario] > self.losses:
            return self.pool.submit(fn, scenario, full)
        future = cf.Future()
        future.set_exception(BrokenProcessPool("worker died"))
        return future


def test_lost_points_are_resubmitted_then_recorded_lost(spec, threads):
    reference = numaexp.sweep(spec, executor=threads, progress=False)
    flaky = LosesWorkers(threads, losses=RETRIES)
    frame = numaexp.sweep(spec, executor=flaky, progress=False)
    assert set(flaky.calls.values()) == {RETRIES + 1}
    pd.testing.assert_frame_equal(frame.drop(columns=VOLATILE),
                                  reference.drop(columns=VOLATILE))
    hopeless = LosesWorkers(threads, losses=RETRIES + 1)
    frame = numaexp.sweep(spec, executor=hopeless, progress=False)
    assert len(frame) == 8 and (frame["status"] == "lost").all()
    assert frame["error"].str.startswith("BrokenProcessPool: worker died (worker or executor "
                                         "failure").all()
    assert set(hopeless.calls.values()) == {RETRIES + 1}
