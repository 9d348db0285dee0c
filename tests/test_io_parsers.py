"""numaexp.io: the parsers on sample files written to the kernel's formats (tests/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from numaexp.io import (
    SnapshotError,
    parse_cpu_stat,
    parse_flat,
    parse_node_meminfo,
    parse_numa_maps,
    parse_numa_stat,
    parse_sched,
    parse_task_stat,
    parse_vmstat,
)

DATA = Path(__file__).parent / "data"
SNAP = DATA / "snapshot" / "snap-0001"


def test_vmstat_reads_every_counter():
    vm = parse_vmstat((SNAP / "vmstat").read_text())
    assert vm["numa_pte_updates"] == 66536
    assert vm["numa_hint_faults_local"] == 40800
    assert vm["pgdemote_khugepaged"] == 0
    assert len(vm) == len((SNAP / "vmstat").read_text().splitlines())


def test_sched_fields_faults_and_node():
    s = parse_sched((SNAP / "proc/4242/task/4243/sched").read_text())
    assert (s["comm"], s["pid"], s["threads"]) == ("stream", 4243, 2)
    assert s["numa_scan_seq"] == s["mm->numa_scan_seq"] == 1
    assert s["numa_pages_migrated"] == 10000
    assert s["numa_preferred_nid"] == 1
    assert s["total_numa_faults"] == 30000
    assert (s["current_node"], s["numa_group_id"]) == (1, 0)
    assert s["numa_faults"][0] == {"task_private": 15000, "task_shared": 3, "group_private": 0,
                                   "group_shared": 0}
    assert s["se.sum_exec_runtime"] == pytest.approx(8123.456789)


def test_numa_maps_pages_per_node_and_flags():
    vmas = parse_numa_maps((SNAP / "proc/4242/numa_maps").read_text())
    assert [v["start"] for v in vmas] == [0x400000, 0x7F0000000000, 0x7FFC0000000]
    heap = vmas[1]
    assert heap["policy"] == "default"
    assert heap["pages"] == {0: 45536, 1: 20000}
    assert heap["kernelpagesize_kB"] == 4
    assert vmas[0]["file"] == "/usr/bin/stream"
    assert vmas[2]["stack"] is True


def test_cgroup_files():
    ms = parse_flat((SNAP / "cgroup/mytest/memory.stat").read_text(), "memory.stat")
    assert ms["numa_pages_migrated"] == 20000 and ms["numa_hint_faults"] == 60000
    ns = parse_numa_stat((SNAP / "cgroup/mytest/memory.numa_stat").read_text())
    assert ns["anon"] == {0: 45536 * 4096, 1: 20000 * 4096}
    cs = parse_cpu_stat((SNAP / "cgroup/mytest/cpu.stat").read_text())
    assert cs["user_usec"] == 315000


def test_node_meminfo_in_bytes():
    node, m = parse_node_meminfo((SNAP / "nodes/node1/meminfo").read_text())
    assert node == 1
    assert m["MemTotal"] == 1048576 * 1024
    assert m["MemFree"] == 820000 * 1024
    assert m["HugePages_Total"] == 0  # a count, not kB


def test_task_stat_cpu_and_times():
    st = parse_task_stat((SNAP / "proc/4242/task/4243/stat").read_text())
    assert st == {"tid": 4243, "utime": 301, "stime": 43, "processor": 1}


@pytest.mark.parametrize(("name", "parse", "line", "words"), [
    ("vmstat", parse_vmstat, 2, "'twelve' is not an integer"),
    ("memory.numa_stat", parse_numa_stat, 2, "N<node>=<bytes>"),
    ("sched", parse_sched, 4, "'name : value'"),
    ("numa_maps", parse_numa_maps, 1, "'x' is not an integer"),
    ("meminfo", parse_node_meminfo, 2, "node 1 in a file of node 0"),
])
def test_malformed_files_name_file_and_line(name, parse, line, words):
    path = DATA / "malformed" / name
    with pytest.raises(SnapshotError) as err:
        parse(path.read_text(), str(path))
    assert err.value.source == str(path)
    assert err.value.line == line
    assert f"{path}, line {line}:" in str(err.value)
    assert words in str(err.value)


def test_task_stat_too_short():
    with pytest.raises(SnapshotError, match=r"stat, line 1: 5 fields"):
        parse_task_stat("1 (x) R 0 0\n", "stat")
