"""Parse the executor's records (see ``executor/executor.c``) and the guest's ``@@topo`` lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from numaexp.io.errors import SnapshotError
from numaexp.io.parsers import (
    parse_cpulist,
    parse_flat,
    parse_node_meminfo,
    parse_numa_maps,
    parse_numa_stat,
    parse_sched,
    parse_task_stat,
)
from numaexp.io.samples import Mapping, Sample, Task

SOURCE = "guest records"


@dataclass
class Records:
    """What the executor reported.

    Attributes
    ----------
    samples : list of Sample
    tasks : list of (process, thread, tgid, tid)
        Every listed thread; tgid and tid 0 for one never created (the run
        stopped first).
    starts : list of dict
        How each listed thread started: ``process``, ``thread``, ``tid``,
        ``created_s`` (seconds after the first sample, None if never created),
        ``cpu`` (where it first ran), ``creator_cpu`` (where its creator ran
        when it created it; for a main thread, the launcher's CPU at the
        fork), -1 when unknown.
    mappings : list of Mapping
    sched, final_stat : dict of int to dict
        tid -> parsed ``sched`` / ``stat`` read at the barrier after the run.
    errors : list of str
        System calls the kernel refused (``where errno: message``).
    end_s : float
        Seconds from the first sample to the end of the run.
    timed_out : bool
        The run hit ``stop.max_duration_s`` before every thread finished.
    """

    samples: list[Sample] = field(default_factory=list)
    tasks: list[tuple] = field(default_factory=list)
    starts: list[dict] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    sched: dict = field(default_factory=dict)
    final_stat: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    end_s: float = float("nan")
    timed_out: bool = False


def _store(sample: Sample | None, final: Records, path: str, text: str, in_final: bool) -> None:
    m = re.fullmatch(r"/proc/(\d+)/task/(\d+)/(sched|stat)", path)
    if m:
        tid = int(m.group(2))
        if m.group(3) == "sched":
            final.sched[tid] = parse_sched(text, path)
        elif in_final:
            final.final_stat[tid] = parse_task_stat(text, path)
        elif sample is not None:
            sample.task_stat[tid] = parse_task_stat(text, path)
        return
    if sample is None:
        return
    if path == "/proc/vmstat":
        sample.vmstat = parse_flat(text, path)
    elif path.startswith("/sys/devices/system/node/") and path.endswith("/vmstat"):
        sample.node_vmstat[int(path.split("/")[-2][4:])] = parse_flat(text, path)
    elif path.endswith("/meminfo"):
        node, values = parse_node_meminfo(text, path)
        sample.meminfo[node] = values
    elif path.endswith("/numa_maps"):
        sample.numa_maps[int(path.split("/")[2])] = parse_numa_maps(text, path)
    elif path.startswith("/sys/fs/cgroup"):
        cg, name = path[len("/sys/fs/cgroup"):].rsplit("/", 1)
        parse = parse_numa_stat if name == "memory.numa_stat" else parse_flat
        sample.cgroups.setdefault(cg or "/", {})[name] = parse(text, path)


def parse_records(text: str) -> Records:
    """Parse the executor's output.

    Raises
    ------
    SnapshotError
        On a record that is not in the executor's format (names the line).
    """
    out = Records()
    sample: Sample | None = None
    in_final = False
    path, body = None, []
    for number, line in enumerate(text.splitlines(), 1):
        if path is not None:
            if line == "@eof":
                _store(sample, out, path, "\n".join(body), in_final)
                path, body = None, []
            elif line.startswith("@line "):
                body.append(line[6:])
            elif line == "@line":
                body.append("")
            else:
                raise SnapshotError(SOURCE, number, f"unterminated dump of {path}")
            continue
        word, _, rest = line.partition(" ")
        parts = rest.split()
        try:
            if word == "@file":
                path = rest
            elif word == "@sample":
                sample = Sample(time_s=float(parts[1]))
                out.samples.append(sample)
            elif word == "@stat":
                sample.work[int(parts[1])] = (int(parts[2]), bool(int(parts[3])), float(parts[4]))
            elif word == "@vma":
                out.mappings.append(Mapping(process=parts[0], vma=parts[1], tgid=0,
                                            start=int(parts[2], 16), bytes=int(parts[3])))
            elif word == "@task":
                out.tasks.append((parts[0], parts[1], int(parts[2]), int(parts[3])))
                if len(parts) >= 7:
                    created = float(parts[4])
                    out.starts.append({
                        "process": parts[0], "thread": parts[1], "tid": int(parts[3]),
                        "created_s": created if created >= 0 and int(parts[3]) else None,
                        "cpu": int(parts[5]), "creator_cpu": int(parts[6])})
            elif word == "@err":
                out.errors.append(f"{parts[0]}: {' '.join(parts[2:])} (errno {parts[1]})")
            elif word == "@final":
                in_final = True
            elif word == "@end":
                out.end_s, out.timed_out = float(parts[0]), parts[1] == "1"
            elif word == "@fatal":
                out.errors.append(f"executor: {rest}")
        except (IndexError, ValueError, AttributeError):
            raise SnapshotError(SOURCE, number, f"malformed record {line[:120]!r}") from None
    tgid = {proc: pid for proc, _thread, pid, _tid in out.tasks if pid}
    out.mappings = [Mapping(m.process, m.vma, tgid.get(m.process, 0), m.start, m.bytes)
                    for m in out.mappings]
    return out


def tasks_of(records: Records, cgroup_of: dict[str, str]) -> list[Task]:
    """:class:`Task` rows, with each process's cgroup."""
    return [Task(process=p, thread=t, tgid=pid, tid=tid, cgroup=cgroup_of.get(p, "/"))
            for p, t, pid, tid in records.tasks]


def parse_topology(lines: list[str]) -> dict:
    """The guest's ``@@topo`` lines (without the tag) as a dict.

    Returns
    -------
    dict
        ``nodes``: node -> {``cpus``: list, ``memtotal_bytes``: int,
        ``distance``: list}; ``tiers``: tier id -> list of nodes;
        ``has_cpu``, ``has_memory``: node lists; ``cpus``: online CPUs.
    """
    out: dict = {"nodes": {}, "tiers": {}}
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "node":
            fields = dict(p.split("=", 1) for p in parts[2:])
            out["nodes"][int(parts[1])] = {
                "cpus": parse_cpulist(fields.get("cpus", "")),
                "memtotal_bytes": int(fields.get("memtotal_kb") or 0) * 1024,
                "distance": [int(d) for d in fields.get("distance", "").split(",") if d]}
        elif parts[0] == "tier":
            out["tiers"][int(parts[1])] = parse_cpulist(parts[2] if len(parts) > 2 else "")
        elif parts[0] in ("has_cpu", "has_memory"):
            out[parts[0]] = parse_cpulist(parts[1] if len(parts) > 1 else "")
        elif parts[0] == "cpus":
            out["cpus"] = int(parts[1])
    return out
