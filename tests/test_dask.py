"""Sweeps on worker processes: the local pool and a Dask LocalCluster agree point for
point, a killed worker loses no point, workers load the compiled kernels from the cache."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

import numaexp
from numaexp import SweepSpec
from numaexp.cli import main
from numaexp.model.machine import two_socket
from numaexp.model.toml_io import save_scenario

distributed = pytest.importorskip("distributed")

VOLATILE = ["wall_s", "worker", "finished_at"]
"""Columns that differ between two runs of the same points."""


@pytest.fixture(scope="module")
def spec():
    """Eight points of about 0.2 s each (numa01_THREAD_ALLOC, 2 x 8 CPUs)."""
    return SweepSpec("numa01_THREAD_ALLOC",
                     base_options={"memory_scale": 0.0625, "passes": 1e6,
                                   "machine": two_socket(cpus_per_node=8,
                                                         memory_per_node="4 GiB")},
                     fixed={"stop": {"kind": "duration", "duration_s": 15.0}},
                     product={"kernel.scan_size_mb": [64, 256],
                              "kernel.scan_period_min_ms": [250, 1000]},
                     repeats=2, seed=4)


@pytest.fixture(scope="module")
def local(spec):
    """The sweep on the default local process pool."""
    return numaexp.sweep(spec, progress=False)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield client


def same_points(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=VOLATILE), b.drop(columns=VOLATILE))


def pid(row) -> int:
    return int(row["worker"].rsplit(":", 1)[1])


def test_local_pool_runs_every_point_in_worker_processes(spec, local):
    assert len(local) == len(spec) and (local["status"] == "ok").all()
    pids = {pid(row) for _, row in local.iterrows()}
    assert os.getpid() not in pids and 1 <= len(pids) <= os.cpu_count()


def test_dask_frame_equals_the_local_pool_frame(spec, local, client):
    frame = numaexp.sweep(spec, executor=client, progress=False)
    same_points(frame, local)
    workers = client.run(os.getpid)
    assert {pid(row) for _, row in frame.iterrows()} <= set(workers.values())
    # Workers load the compiled kernels from the numba cache: after a worker's
    # first point (loading the cache takes about a second; compiling would take
    # minutes), every point runs in a fraction of a second.
    later = frame.assign(pid=[pid(r) for _, r in frame.iterrows()]).sort_values("finished_at")
    later = later[later.duplicated("pid")]
    assert len(later) >= len(frame) - len(workers) and later["wall_s"].max() < 10.0


def test_a_killed_dask_worker_loses_no_point(spec, local, client):
    killed = []

    def kill_a_busy_worker(row):
        if killed:
            return
        busy = [w for w, tasks in client.processing().items() if tasks]
        assert busy, "no worker is running a point"
        victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    frame = numaexp.sweep(spec, executor=client, progress=False, on_point=kill_a_busy_worker)
    assert killed and killed[0] not in client.run(os.getpid).values()
    same_points(frame, local)


def test_a_killed_pool_worker_is_replaced_and_its_points_resubmitted(spec, local):
    killed = []

    def kill_first_worker(row):
        if not killed:
            killed.append(pid(row))
            os.kill(killed[0], signal.SIGKILL)

    frame = numaexp.sweep(spec, executor=2, progress=False, on_point=kill_first_worker)
    same_points(frame, local)
    pids = {pid(row) for _, row in frame.iterrows()}
    assert len(pids) > 2  # the broken pool was replaced by a new one


def test_cli_sweeps_on_a_running_scheduler(spec, local, client, tmp_path, capsys):
    save_scenario(spec.base, tmp_path / "base.toml")
    (tmp_path / "spec.toml").write_text(
        'seed = 4\nrepeats = 2\n[base]\nfile = "base.toml"\n'
        '[fixed]\n"stop" = {kind = "duration", duration_s = 15.0}\n'
        '[product]\n"kernel.scan_size_mb" = [64, 256]\n'
        '"kernel.scan_period_min_ms" = [250, 1000]\n')
    address = client.scheduler.address
    assert main(["sweep", str(tmp_path / "spec.toml"), "--out", str(tmp_path / "out"),
                 "--scheduler", address, "--quiet", "--no-plots"]) == 0
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary["key"].tolist() == local["key"].tolist()
    assert summary["numa_hint_faults"].tolist() == local["numa_hint_faults"].tolist()
    assert client.status == "running"  # the CLI closed its own client only
