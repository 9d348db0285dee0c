"""``read_snapshot``: files gathered on a real machine (by ``numaexp-collect``) as frames.

Layout (one or more snapshots; a directory or a ``.tar.gz`` of it)::

    OUT/snap-0000/time                       seconds (date +%s.%N)
    OUT/snap-0000/vmstat                     /proc/vmstat
    OUT/snap-0000/numa_balancing             /proc/sys/kernel/numa_balancing
    OUT/snap-0000/nodes/nodeN/meminfo        /sys/devices/system/node/nodeN/meminfo
    OUT/snap-0000/nodes/nodeN/vmstat, cpulist
    OUT/snap-0000/proc/PID/comm, cgroup, numa_maps, sched
    OUT/snap-0000/proc/PID/task/TID/sched, stat
                                             (without task/: PID/sched, stat, the main
                                             thread's)
    OUT/snap-0000/cgroup/PATH/memory.stat, memory.numa_stat, cpu.stat

A directory holding these files directly is one snapshot.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

from numaexp.io.errors import SnapshotError
from numaexp.io.frames import build_frames
from numaexp.io.parsers import (
    parse_cpu_stat,
    parse_cpulist,
    parse_flat,
    parse_node_meminfo,
    parse_numa_maps,
    parse_numa_stat,
    parse_sched,
    parse_task_stat,
)
from numaexp.io.samples import Sample, Task

CGROUP_FILES = {"memory.stat": parse_flat, "memory.numa_stat": parse_numa_stat,
                "cpu.stat": parse_cpu_stat}


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise SnapshotError(str(path), 0, "not a text file") from None


def _snapshot_dirs(root: Path) -> list[Path]:
    snaps = sorted(p for p in root.glob("snap-*") if p.is_dir())
    if not snaps:
        inner = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
        if len(inner) == 1 and list(inner[0].glob("snap-*")):  # an unpacked tarball
            return _snapshot_dirs(inner[0])
        snaps = [root]
    return snaps


def _sample(d: Path, t0: float | None) -> tuple[Sample, dict, dict]:
    time_file = d / "time"
    t = float(_read(time_file).strip()) if time_file.is_file() else 0.0
    s = Sample(time_s=t - (t0 if t0 is not None else t))
    if (d / "vmstat").is_file():
        s.vmstat = parse_flat(_read(d / "vmstat"), str(d / "vmstat"))
    cpus = {}
    for node_dir in sorted((d / "nodes").glob("node*")):
        if (node_dir / "meminfo").is_file():
            node, values = parse_node_meminfo(_read(node_dir / "meminfo"),
                                              str(node_dir / "meminfo"))
            s.meminfo[node] = values
        if (node_dir / "vmstat").is_file():
            s.node_vmstat[int(node_dir.name[4:])] = parse_flat(_read(node_dir / "vmstat"),
                                                               str(node_dir / "vmstat"))
        if (node_dir / "cpulist").is_file():
            for cpu in parse_cpulist(_read(node_dir / "cpulist"), str(node_dir / "cpulist")):
                cpus[cpu] = int(node_dir.name[4:])
    sched = {}
    for proc in sorted((d / "proc").glob("[0-9]*"), key=lambda p: int(p.name)):
        if (proc / "numa_maps").is_file():
            s.numa_maps[int(proc.name)] = parse_numa_maps(_read(proc / "numa_maps"),
                                                          str(proc / "numa_maps"))
        for task in _task_dirs(proc):
            if (task / "stat").is_file():
                s.task_stat[int(task.name)] = parse_task_stat(_read(task / "stat"),
                                                              str(task / "stat"))
            if (task / "sched").is_file():
                sched[int(task.name)] = parse_sched(_read(task / "sched"), str(task / "sched"))
    cg_root = d / "cgroup"
    for cg in sorted([cg_root, *cg_root.rglob("*")]):
        if not cg.is_dir():
            continue
        path = "/" + str(cg.relative_to(cg_root)).strip(".").strip("/")
        for name, parse in CGROUP_FILES.items():
            if (cg / name).is_file():
                s.cgroups.setdefault(path, {})[name] = parse(_read(cg / name), str(cg / name))
    return s, sched, cpus


def _task_dirs(proc: Path) -> list[Path]:
    """The directories of a process's threads: ``task/TID`` each, or, without a ``task/``
    directory, the process's own (its ``sched`` and ``stat`` are its main thread's, whose tid
    is the pid)."""
    tasks = sorted((proc / "task").glob("[0-9]*"), key=lambda p: int(p.name))
    if tasks or (proc / "task").is_dir():
        return tasks
    if (proc / "sched").is_file() or (proc / "stat").is_file():
        return [proc]
    return []


def _tasks(d: Path) -> list[Task]:
    out = []
    for proc in sorted((d / "proc").glob("[0-9]*"), key=lambda p: int(p.name)):
        comm = _read(proc / "comm").strip() if (proc / "comm").is_file() else proc.name
        cgroup = "/"
        if (proc / "cgroup").is_file():
            for line in _read(proc / "cgroup").splitlines():
                if line.startswith("0::"):
                    cgroup = line[3:].strip() or "/"
        for task in _task_dirs(proc):
            out.append(Task(process=f"{comm}[{proc.name}]", thread=task.name,
                            tgid=int(proc.name), tid=int(task.name), cgroup=cgroup))
    return out


def read_snapshot(path: str | Path):
    """Read a snapshot directory or tarball into a Result-like object.

    Parameters
    ----------
    path : str or Path
        What ``numaexp-collect`` wrote: a directory (with ``snap-NNNN/``
        subdirectories, or the files of one snapshot) or a ``.tar.gz``.

    Returns
    -------
    numaexp.kernel.result.KernelResult
        Frames named as :func:`numaexp.simulate`'s, ``backend = "kernel"``.
        With several snapshots, counters are the change since the first
        (``timeseries`` has every one); with one, the values as read.
        ``numa_stat`` comes from each cgroup's ``memory.numa_stat`` (anon
        pages, each cgroup's own). ``scenario`` is None.

    Raises
    ------
    SnapshotError
        A malformed file (names it and the line), or no snapshot at all.
    """
    from numaexp.kernel.result import KernelResult

    path = Path(path)
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        with tempfile.TemporaryDirectory(prefix="numaexp-snapshot-") as tmp:
            with tarfile.open(path) as tar:
                tar.extractall(tmp, filter="data")
            return read_snapshot(tmp)
    if not path.is_dir():
        raise SnapshotError(str(path), 0, "no such snapshot directory or .tar.gz")
    dirs = _snapshot_dirs(path)
    samples, sched, cpu_node = [], {}, {}
    t0 = None
    for d in dirs:
        sample, sched, cpus = _sample(d, t0)
        if t0 is None and (d / "time").is_file():
            t0 = float(_read(d / "time").strip())
            sample.time_s = 0.0
        samples.append(sample)
        cpu_node.update(cpus)
    if not any(s.vmstat or s.meminfo or s.cgroups for s in samples):
        raise SnapshotError(str(path), 0, "no vmstat, node meminfo or cgroup file found")
    tasks = _tasks(dirs[-1])
    nodes = sorted({n for s in samples for n in s.meminfo})
    cgroups = sorted({c for s in samples for c in s.cgroups},
                     key=lambda c: (0 if c == "/" else c.count("/"), c))
    frames = build_frames(samples, tasks, nodes=nodes, cpu_node=cpu_node, cgroups=cgroups,
                          sched=sched, deltas=len(samples) > 1)
    mode_file = dirs[-1] / "numa_balancing"
    mode = int(_read(mode_file).strip()) if mode_file.is_file() else None
    for frame in frames.values():
        frame["mode"] = mode
        frame["variant"] = "real"
        frame["policy"] = "kernel"
        frame["backend"] = "kernel"
    meta = {"scenario": str(path), "source": "snapshot", "backend": "kernel",
            "snapshots": len(samples), "sim_seconds": samples[-1].time_s,
            "finished": True, "mode": mode, "variant": "real"}
    return KernelResult(scenario=None, frames=frames, meta=meta)
