"""The results store: atomic per-point files, resume, failed points, damaged files."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import scenario, small_machine, sweep_workload

import numaexp
from numaexp import SweepSpec
from numaexp.sweep import Store, StoreWarning, worker

VOLATILE = ["wall_s", "worker", "finished_at"]


@pytest.fixture
def spec():
    machine = small_machine(nodes=2, cpus=2)
    base = scenario(sweep_workload(machine, size="32 MiB", passes=1e6, first_touch_node=0),
                    machine, duration=2.0)
    return SweepSpec(base, product={"kernel.scan_size_mb": [4, 16, 64]}, repeats=2, seed=3,
                     name="store-test")


@pytest.fixture
def threads():
    with ThreadPoolExecutor(2) as pool:
        yield pool


def run(spec, store, threads, **kwargs):
    return numaexp.sweep(spec, executor=threads, store=store, progress=False, **kwargs)


def files(path):
    return sorted(p.name for p in path.iterdir())


def test_each_point_is_written_atomically_as_it_finishes(spec, threads, tmp_path):
    store = tmp_path / "store"
    on_disk = []
    frame = run(spec, store, threads, on_point=lambda row: on_disk.append(
        (store / f"{row['key']}.parquet").exists()))
    assert on_disk == [True] * 6  # written before the next point is reported
    assert files(store) == sorted(f"{k}.{ext}" for k in frame["key"]  # no temporary files
                                  for ext in ("parquet", "sha256"))
    table = pq.read_table(store / f"{frame.iloc[4]['key']}.parquet")
    record = table.to_pylist()[0]
    assert table.num_rows == 1
    assert record["sweep"] == "store-test" and record["status"] == "ok"
    assert json.loads(record["params"]) == {"kernel.scan_size_mb": 64}
    assert record["seed"] == frame.iloc[4]["seed"] and record["repeat"] == 0
    assert record["version"] == worker.package_version() and record["wall_s"] > 0
    assert record["mode"] == 1 and record["variant"] and record["numa_hint_faults"] > 0


def test_resume_runs_only_the_missing_points(spec, threads, tmp_path):
    store = tmp_path / "store"
    fresh = numaexp.sweep(spec, executor=threads, progress=False)

    def interrupt_after_two(row, seen=[]):  # noqa: B006 - counts calls
        seen.append(row)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted.*resumes it"):
        partial = run(spec, store, threads, on_point=interrupt_after_two)
    stored = set(Store(store).read())
    assert len(partial) == 2 and stored == set(partial["key"])
    ran = []
    resumed = run(spec, store, threads, on_point=ran.append)
    assert {row["key"] for row in ran} == set(fresh["key"]) - stored
    pd.testing.assert_frame_equal(resumed.drop(columns=VOLATILE), fresh.drop(columns=VOLATILE))
    again = []
    run(spec, store, threads, on_point=again.append)
    assert again == []


def test_failed_points_are_stored_and_run_again(spec, threads, tmp_path, monkeypatch):
    store = tmp_path / "store"
    bad = spec.points()[1]
    real = worker.simulate

    def flaky(scenario, **kwargs):
        if scenario == bad.scenario:  # seeds repeat across points
            raise MemoryError("injected")
        return real(scenario, **kwargs)

    monkeypatch.setattr(worker, "simulate", flaky)
    first = run(spec, store, threads)
    assert list(first["status"]) == ["ok", "error", "ok", "ok", "ok", "ok"]
    record = Store(store).read()[bad.key]
    assert record["status"] == "error" and record["error"] == "MemoryError: injected"
    monkeypatch.setattr(worker, "simulate", real)
    ran = []
    second = run(spec, store, threads, on_point=ran.append)
    assert [row["key"] for row in ran] == [bad.key]
    assert (second["status"] == "ok").all() and Store(store).read()[bad.key]["status"] == "ok"


def test_damaged_files_are_skipped_with_a_warning_and_run_again(spec, threads, tmp_path):
    store = tmp_path / "store"
    frame = run(spec, store, threads)
    keys = list(frame["key"])
    truncated, flipped, misnamed = (store / f"{k}.parquet" for k in keys[:3])
    truncated.write_bytes(truncated.read_bytes()[:200])
    data = bytearray(flipped.read_bytes())
    data[data.find(keys[1].encode())] ^= 1  # a bit flip in the data page
    flipped.write_bytes(bytes(data))
    shutil.copy(store / f"{keys[3]}.parquet", misnamed)  # a whole file, but another point's,
    misnamed.with_suffix(".sha256").write_text(  # with a checksum file made for its new name
        f"{hashlib.sha256(misnamed.read_bytes()).hexdigest()}  {misnamed.name}\n")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    tmp = store / f".tmp-{keys[4]}-{socket.gethostname()}-{gone}-0123.parquet"
    tmp.write_bytes(b"PAR1 half written")  # its writer was killed
    with pytest.warns(StoreWarning) as caught:
        records = Store(store).read()
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 4
    assert sum(m.startswith("ignoring damaged") for m in messages) == 3
    assert sum(m.startswith("removed partially written") for m in messages) == 1
    assert not tmp.exists()
    assert "SHA-256 does not match" in next(m for m in messages if keys[0] in m)
    assert "SHA-256 does not match" in next(m for m in messages if keys[1] in m)
    assert "not the" in next(m for m in messages if keys[2] in m)
    assert set(records) == set(keys[3:])
    ran = []
    with pytest.warns(StoreWarning):
        resumed = run(spec, store, threads, on_point=ran.append)
    assert sorted(row["key"] for row in ran) == sorted(keys[:3])
    pd.testing.assert_frame_equal(resumed.drop(columns=VOLATILE), frame.drop(columns=VOLATILE))


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")

    def broken(table, where, **kwargs):
        where.write(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        store.write({"key": "abc", "status": "ok", "params": "{}", "seed": 1})
    assert files(store.path) == []


def test_store_frame_reads_every_point_with_its_parameters(spec, threads, tmp_path, monkeypatch):
    store = tmp_path / "store"
    real = worker.simulate
    bad = spec.points()[0].scenario
    monkeypatch.setattr(worker, "simulate", lambda s, **kw: (_ for _ in ()).throw(
        ValueError("x")) if s == bad else real(s, **kw))
    frame = run(spec, store, threads)
    stored = Store(store).frame().sort_values("key", ignore_index=True)
    assert len(stored) == 6 and "params" not in stored
    expected = frame.sort_values("key", ignore_index=True)
    assert list(stored["kernel.scan_size_mb"]) == list(expected["kernel.scan_size_mb"])
    assert list(stored["status"]) == list(expected["status"])
    assert stored["numa_hint_faults"].isna().sum() == 1
