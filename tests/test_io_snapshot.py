"""numaexp.io.read_snapshot: the sample snapshot as frames with simulate()'s names."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from numaexp.io import SnapshotError, read_snapshot
from numaexp.io import columns as C

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def snap():
    return read_snapshot(DATA / "snapshot")


def test_frames_and_columns(snap):
    for name in ("vmstat", "memory_stat", "sched", "numa_stat", "timeseries", "task_timeseries",
                 "cgroup_timeseries", "events", "times"):
        assert name in snap.frames
        assert {"mode", "variant", "backend"} <= set(snap.frames[name].columns)
        assert (snap.frames[name]["backend"] == "kernel").all()
    assert list(snap.vmstat.columns[:len(C.VMSTAT)]) == list(C.VMSTAT)
    assert list(snap.memory_stat.columns[:1 + len(C.MEMCG)]) == ["cgroup", *C.MEMCG]
    assert list(snap.sched.columns[:4 + len(C.SCHED)]) == ["process", "thread", "pid", "cgroup",
                                                            *C.SCHED]
    assert list(snap.task_timeseries.columns[:len(C.TASK_TIMESERIES)]) == \
        list(C.TASK_TIMESERIES)
    assert list(snap.times.columns[:len(C.TIMES)]) == list(C.TIMES)


def test_counters_are_changes_between_snapshots(snap):
    vm = snap.vmstat.iloc[0]
    assert vm["numa_pte_updates"] == 66536 - 1000
    assert vm["numa_pages_migrated"] == 20000
    assert pd.isna(vm["numa_task_migrated"])  # a stock kernel has no such counter
    assert pd.isna(vm["pgfault_first_touch"])  # the simulator's own
    ts = snap.timeseries
    assert ts["time_s"].tolist() == [0.0, 2.5]
    assert ts["free_pages_N0"].tolist() == [700000 * 1024 // 4096, 620000 * 1024 // 4096]
    assert ts["pgpromote_success_N1"].tolist() == [0, 120]  # nodeN/vmstat
    assert ts["pgdemote_kswapd_N0"].tolist() == [0, 40]
    assert ts["hot_threshold_ms_N0"].isna().all()


def test_cgroups_are_their_own_counts(snap):
    ms = snap.memory_stat.set_index("cgroup")
    assert ms.loc["/mytest", "numa_pages_migrated"] == 20000
    assert ms.loc["/", "numa_pages_migrated"] == 0  # the root's file includes /mytest
    ns = snap.numa_stat.set_index(["cgroup", "node"])["pages"]
    assert ns[("/mytest", "N0")] == 45536 and ns[("/mytest", "N1")] == 20000
    assert ns[("/", "N0")] == 20000 and ns[("/", "N1")] == 5000


def test_tasks(snap):
    sched = snap.sched.set_index("pid")
    assert sched.loc[4243, "numa_preferred_nid"] == 1
    assert sched.loc[4243, "faults_task_shared_N0"] == 3
    assert (sched["cgroup"] == "/mytest").all()
    tt = snap.task_timeseries
    last = tt[tt["time_s"] == 2.5].set_index("pid")
    assert last.loc[4243, "cpu"] == 1 and last.loc[4243, "current_node"] == 0
    times = snap.times[snap.times["level"] == "task"].set_index("pid")
    assert times.loc[4243, "user_s"] == pytest.approx(2.0)
    assert times.loc[4243, "system_s"] == pytest.approx(0.4)


def test_tarball_and_single_snapshot(tmp_path):
    tar = tmp_path / "snap.tar.gz"
    with tarfile.open(tar, "w:gz") as t:
        t.add(DATA / "snapshot", arcname="numaexp-snapshot")
    assert read_snapshot(tar).vmstat["numa_pages_migrated"].iloc[0] == 20000
    one = read_snapshot(DATA / "snapshot" / "snap-0000")
    assert one.vmstat["numa_pte_updates"].iloc[0] == 1000  # as read


def test_malformed_file_in_snapshot(tmp_path):
    copy = tmp_path / "snap"
    shutil.copytree(DATA / "snapshot", copy)
    bad = copy / "snap-0001" / "proc" / "4242" / "numa_maps"
    bad.write_text(bad.read_text().replace("N1=20000", "N1=many"))
    with pytest.raises(SnapshotError, match=rf"{bad}, line 2: N1: 'many' is not an integer"):
        read_snapshot(copy)
    with pytest.raises(SnapshotError, match="no such snapshot"):
        read_snapshot(tmp_path / "nothing")


def test_collector_script_runs_and_is_read(tmp_path):
    script = subprocess.run([sys.executable, "-m", "numaexp", "collect", "--script"],
                            capture_output=True, text=True,
                            check=True).stdout
    assert script.startswith("#!/bin/sh")
    path = tmp_path / "numaexp-collect"
    path.write_text(script)
    out = tmp_path / "here"
    proc = subprocess.run(["sh", str(path), "-o", str(out), "-n", "2", "-i", "0.2", "-c",
                           str(tmp_path / "no-cgroup"), "-p", "1"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["snap-0000", "snap-0001"]
    result = read_snapshot(out)
    assert len(result.timeseries) == 2
    assert result.timeseries["time_s"].iloc[1] > 0


def test_a_process_without_a_task_directory_is_read_from_its_own_sched_and_stat():
    # snapshot-process: /proc/5150/{sched,stat} only (a single-threaded process collected
    # without task/); its files are its main thread's, whose tid is the pid
    snap = read_snapshot(DATA / "snapshot-process")
    sched = snap.sched.set_index("pid")
    assert sched.index.tolist() == [5150]
    assert sched.loc[5150, "process"] == "postgres[5150]" and sched.loc[5150, "cgroup"] == "/db"
    assert sched.loc[5150, "numa_preferred_nid"] == 1
    assert sched.loc[5150, "faults_task_private_N1"] == 1200
    assert sched.loc[5150, "faults_task_shared_N1"] == 5
    tt = snap.task_timeseries
    assert tt["cpu"].tolist() == [2, 3] and tt["current_node"].tolist() == [1, 1]
    task = snap.times[snap.times["level"] == "task"].set_index("pid")
    assert task.loc[5150, "user_s"] == pytest.approx(2.5)  # (1150 - 900) ticks / USER_HZ
    assert task.loc[5150, "system_s"] == pytest.approx(0.5)


def test_cgroup_times_come_from_cpu_stat():
    snap = read_snapshot(DATA / "snapshot-process")
    cgroups = snap.times[snap.times["level"] == "cgroup"].set_index("cgroup")
    # /db's own: its cpu.stat less its child /db/replica's, the change between snapshots;
    # more than its one listed task's 2.5 s (cpu.stat counts every task it ran)
    assert cgroups.loc["/db", "user_s"] == pytest.approx((13.5 - 1.7) - (10.0 - 1.0))
    assert cgroups.loc["/db", "system_s"] == pytest.approx((2.9 - 0.7) - (2.0 - 0.5))
    one = read_snapshot(DATA / "snapshot-process" / "snap-0001")  # one snapshot: as read
    cgroups = one.times[one.times["level"] == "cgroup"].set_index("cgroup")
    assert cgroups.loc["/db", "user_s"] == pytest.approx(13.5 - 1.7)
    assert cgroups.loc["/db", "system_s"] == pytest.approx(2.9 - 0.7)
    # the first sample snapshot: /mytest has no child, its cpu.stat went 90000 -> 315000 usec
    first = read_snapshot(DATA / "snapshot")
    row = first.times[first.times["level"] == "cgroup"].set_index("cgroup").loc["/mytest"]
    assert row["user_s"] == pytest.approx(0.225) and row["system_s"] == pytest.approx(0.225)
    total = first.times[first.times["level"] == "total"].iloc[0]
    tasks = first.times[first.times["level"] == "task"]
    assert total["user_s"] == pytest.approx(tasks["user_s"].sum())  # the total: its tasks


COLLECTOR = Path(__file__).resolve().parents[1] / "numaexp" / "io" / "numaexp-collect"


def _needs(script: str) -> list[str]:
    """The tools the collector's header says it needs."""
    header = " ".join(line.lstrip("# ") for line in script.splitlines() if line.startswith("#"))
    listed = header.split("Needs only:")[1].split("for a .tar.gz")[0]
    return listed.replace(",", " ").replace("plus", " ").split()


def _tools_only(tmp_path, tools) -> Path:
    """A PATH directory holding only ``tools`` (symlinks to the host's)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return bin_dir


def test_collector_needs_only_what_its_header_lists(tmp_path):
    needs = _needs(COLLECTOR.read_text())
    assert {"cat", "date", "find", "mkdir", "sleep", "tar"} <= set(needs)
    bin_dir = _tools_only(tmp_path, needs)
    cg = tmp_path / "cg"
    (cg / "app").mkdir(parents=True)
    (cg / "app" / "cpu.stat").write_text("usage_usec 30\nuser_usec 20\nsystem_usec 10\n")
    (cg / "app" / "cgroup.procs").write_text("1\n")
    out = tmp_path / "snap.tar.gz"
    proc = subprocess.run([shutil.which("sh"), str(COLLECTOR), "-o", str(out), "-n", "2", "-i",
                           "0.2", "-c", str(cg)], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(bin_dir), "LC_ALL": "C"})
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    snap = read_snapshot(out)
    assert len(snap.timeseries) == 2 and snap.timeseries["time_s"].iloc[1] > 0
    assert 1 in snap.sched["pid"].tolist() or not Path("/proc/1/sched").exists()
    # without one of them (gzip, which tar -z runs) the tarball fails, and the exit says so
    (bin_dir / "gzip").unlink()
    proc = subprocess.run([shutil.which("sh"), str(COLLECTOR), "-o", str(tmp_path / "x.tar.gz"),
                           "-c", str(cg)], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(bin_dir), "LC_ALL": "C"})
    assert proc.returncode != 0 and "gzip" in proc.stderr


def test_collector_without_date_nanoseconds_writes_whole_seconds(tmp_path):
    """A date with no %N (BSD's prints "N"): the times are whole seconds, still numbers."""
    bin_dir = _tools_only(tmp_path, [t for t in _needs(COLLECTOR.read_text()) if t != "date"])
    real = shutil.which("date")
    (bin_dir / "date").write_text(f'#!/bin/sh\nexec {real} "$(echo "$1" | sed s/%N/N/g)"\n')
    (bin_dir / "date").chmod(0o755)
    out = tmp_path / "out"
    proc = subprocess.run([shutil.which("sh"), str(COLLECTOR), "-o", str(out), "-n", "1", "-c",
                           str(tmp_path / "none"), "-p", "1"], capture_output=True, text=True,
                          timeout=60, env={"PATH": str(bin_dir), "LC_ALL": "C"})
    assert proc.returncode == 0, proc.stderr
    stamp = (out / "snap-0000" / "time").read_text().strip()
    assert stamp.isdigit(), stamp
    assert read_snapshot(out).timeseries["time_s"].tolist() == [0.0]
