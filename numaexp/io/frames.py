"""Frames with :func:`numaexp.simulate`'s names and columns, from parsed samples.

Used by the kernel backend (samples taken inside a guest) and by
:func:`numaexp.io.read_snapshot` (files collected on a real machine).
Counters the kernel does not have (the simulator's own, or the RFC's on a
stock kernel) are NA (pandas ``<NA>``); so are task fields that no file
shows (scan period, locality).
"""

from __future__ import annotations

import pandas as pd

from numaexp.io import columns as C
from numaexp.io.samples import Mapping, Sample, Task
from numaexp.readout import FRAMES

USER_HZ = 100
"""Clock ticks per second of ``utime``/``stime`` in ``/proc/.../stat`` (x86-64 Linux)."""

PAGE_SIZE = 4096


def _na_int(values) -> pd.Series:
    return pd.Series(values, dtype="Int64")


def vmstat_row(last: dict, first: dict | None) -> dict:
    """:data:`~numaexp.io.columns.VMSTAT` counters of ``last`` (minus ``first``), NA if absent."""
    row = {}
    for name in C.VMSTAT:
        if name not in last:
            row[name] = pd.NA
        else:
            row[name] = last[name] - (first or {}).get(name, 0)
    return row


def _own(per_path: dict[str, dict], key_fn) -> dict[str, dict]:
    """Each cgroup's own counts: its hierarchical counts minus its direct children's."""
    out = {}
    for path, values in per_path.items():
        own = dict(values)
        for child, cvalues in per_path.items():
            if child != path and _parent(child) == path:
                for k, v in cvalues.items():
                    if k in own and own[k] is not pd.NA and v is not pd.NA:
                        own[k] = own[k] - v
        out[path] = own
    return out


def _parent(path: str) -> str | None:
    if path == "/":
        return None
    return path.rsplit("/", 1)[0] or "/"


def _cgroup_counters(sample: Sample, cgroups) -> dict[str, dict]:
    out = {}
    for path in cgroups:
        stat = sample.cgroups.get(path, {}).get("memory.stat", {})
        out[path] = {name: stat.get(name, pd.NA) for name in C.MEMCG}
    return out


def _pages_by_vmas(sample: Sample, mappings, tasks, cgroups, nodes) -> dict[str, dict]:
    """Pages per (cgroup, node) of the listed VMAs, from ``numa_maps``."""
    cg_of = {t.tgid: t.cgroup for t in tasks}
    out = {path: dict.fromkeys(nodes, 0) for path in cgroups}
    for m in mappings:
        for vma in sample.numa_maps.get(m.tgid, []):
            if vma["start"] == m.start:
                for node, pages in vma["pages"].items():
                    out.setdefault(cg_of.get(m.tgid, "/"), dict.fromkeys(nodes, 0))
                    out[cg_of.get(m.tgid, "/")][node] = \
                        out[cg_of.get(m.tgid, "/")].get(node, 0) + pages
    return out


def _pages_by_numa_stat(sample: Sample, cgroups, nodes) -> dict[str, dict]:
    """Own anonymous pages per (cgroup, node), from each cgroup's ``memory.numa_stat``."""
    hier = {}
    for path in cgroups:
        anon = sample.cgroups.get(path, {}).get("memory.numa_stat", {}).get("anon")
        hier[path] = {n: (anon.get(n, 0) // PAGE_SIZE if anon is not None else pd.NA)
                      for n in nodes}
    return _own(hier, None)


def build_frames(samples: list[Sample], tasks: list[Task], *, nodes, cpu_node: dict,
                 cgroups, sched: dict | None = None, final_stat: dict | None = None,
                 mappings: list[Mapping] | None = None, deltas: bool = True,
                 end_s: float | None = None) -> dict[str, pd.DataFrame]:
    """The frames of a :class:`~numaexp.results.Result`.

    Parameters
    ----------
    samples : list of Sample
        In time order (at least one).
    tasks : list of Task
        The tasks to describe.
    nodes : sequence of int
        Node ids.
    cpu_node : dict of int to int
        CPU -> node.
    cgroups : sequence of str
        cgroup paths, parents first.
    sched : dict of int to dict, optional
        tid -> parsed ``task/<tid>/sched`` at the end.
    final_stat : dict of int to dict, optional
        tid -> parsed ``task/<tid>/stat`` at the end (default: the last sample's).
    mappings : list of Mapping, optional
        The workload's VMAs: pages per node then come from their ``numa_maps``
        lines (as the simulator counts the workload's pages); without them,
        from each cgroup's ``memory.numa_stat``.
    deltas : bool
        Counters as the change since the first sample (a run), or as read (a
        snapshot of a machine).
    end_s : float, optional
        When the run ended, seconds (default: the last sample's time).
    """
    first, last = samples[0], samples[-1]
    base = first if deltas and len(samples) > 1 else None
    end_s = last.time_s if end_s is None else end_s
    sched = sched or {}
    final_stat = final_stat or last.task_stat
    frames: dict[str, pd.DataFrame] = {}
    frames["vmstat"] = pd.DataFrame([vmstat_row(last.vmstat, base.vmstat if base else None)])
    frames["vmstat"] = frames["vmstat"].astype("Int64")

    own_last = _own(_cgroup_counters(last, cgroups), None)
    own_first = _own(_cgroup_counters(first, cgroups), None) if base else None
    rows = []
    for path in cgroups:
        row = {"cgroup": path}
        for name in C.MEMCG:
            v = own_last[path][name]
            if own_first is not None and v is not pd.NA and own_first[path][name] is not pd.NA:
                v = v - own_first[path][name]
            row[name] = v
        rows.append(row)
    ms = pd.DataFrame(rows, columns=["cgroup", *C.MEMCG])
    frames["memory_stat"] = ms.astype({n: "Int64" for n in C.MEMCG})

    names = pd.DataFrame([(t.process, t.thread, t.tid, t.cgroup) for t in tasks],
                         columns=["process", "thread", "pid", "cgroup"])
    srows = []
    for t in tasks:
        s = sched.get(t.tid, {})
        row = {name: s.get(name, pd.NA) for name in C.SCHED}
        faults = s.get("numa_faults", {})
        for nid in nodes:
            f = faults.get(nid, {})
            for label in ("private", "shared"):
                row[f"faults_task_{label}_{C.node_name(nid)}"] = f.get(f"task_{label}", pd.NA)
                row[f"faults_group_{label}_{C.node_name(nid)}"] = f.get(f"group_{label}", pd.NA)
        srows.append(row)
    cols = [*C.SCHED, *C.fault_columns(nodes)]
    sched_frame = pd.concat([names, pd.DataFrame(srows, columns=cols).astype("Int64")], axis=1)
    frames["sched"] = sched_frame

    def pages(sample):
        if mappings is not None:
            return _pages_by_vmas(sample, mappings, tasks, cgroups, nodes)
        return _pages_by_numa_stat(sample, cgroups, nodes)

    final_pages = pages(last)
    frames["numa_stat"] = pd.DataFrame(
        [(path, C.node_name(n), final_pages.get(path, {}).get(n, pd.NA))
         for path in cgroups for n in nodes], columns=["cgroup", "node", "pages"]
    ).astype({"pages": "Int64"})

    ts = []
    for s in samples:
        row = {"time_s": s.time_s, **vmstat_row(s.vmstat, base.vmstat if base else None)}
        for n in nodes:
            free = s.meminfo.get(n, {}).get("MemFree")
            row[f"free_pages_{C.node_name(n)}"] = free // PAGE_SIZE if free is not None else pd.NA
        for n in nodes:
            name = C.node_name(n)
            now = s.node_vmstat.get(n, {})
            then = base.node_vmstat.get(n, {}) if base else {}
            row[f"hot_threshold_ms_{name}"] = pd.NA  # not visible outside the kernel
            row[f"promo_window_candidates_{name}"] = pd.NA
            for counter in C.NODE_VMSTAT:
                row[f"{counter}_{name}"] = now[counter] - then.get(counter, 0) \
                    if counter in now else pd.NA
        ts.append(row)
    order = [c for col in FRAMES["timeseries"].columns
             for c in col.names([C.node_name(n) for n in nodes])]  # the simulator's order
    frames["timeseries"] = pd.DataFrame(ts).astype(
        {c: "Int64" for c in ts[0] if c != "time_s"})[order]

    frames["task_timeseries"] = _task_timeseries(samples, tasks, cpu_node, base, nodes)
    cg_rows = []
    for s in samples:
        p = pages(s)
        for path in cgroups:
            for n in nodes:
                cg_rows.append((s.time_s, path, C.node_name(n), p.get(path, {}).get(n, pd.NA)))
    frames["cgroup_timeseries"] = pd.DataFrame(
        cg_rows, columns=["time_s", "cgroup", "node", "pages"]).astype({"pages": "Int64"})
    frames["events"] = pd.DataFrame({c: pd.Series(dtype="float64" if c == "time_s" else object)
                                     for c in C.EVENTS})
    frames["times"] = _times(names, tasks, first if base else None, final_stat, last, end_s,
                             _cgroup_cpu_seconds(last, first if base else None, cgroups))
    if mappings is not None:
        frames["numa_maps"] = _vma_pages(samples, mappings, nodes)
    return frames


def _task_timeseries(samples, tasks, cpu_node, base, nodes) -> pd.DataFrame:
    rows = []
    for s in samples:
        for t in tasks:
            st = s.task_stat.get(t.tid)
            work = s.work.get(t.tid)
            b = base.task_stat.get(t.tid) if base else None
            cpu = st["processor"] if st else pd.NA
            rows.append({
                "time_s": s.time_s, "process": t.process, "thread": t.thread, "pid": t.tid,
                "cgroup": t.cgroup,
                "alive": (not work[1]) if work else st is not None,
                "cpu": cpu, "current_node": cpu_node.get(cpu, pd.NA) if st else pd.NA,
                "numa_preferred_nid": pd.NA, "numa_scan_period_ms": pd.NA,
                "task_numa_scan_seq": pd.NA,
                "locality": float("nan"), "touches": work[0] if work else pd.NA,
                "user_s": (st["utime"] - (b["utime"] if b else 0)) / USER_HZ if st else
                float("nan"),
                "system_s": (st["stime"] - (b["stime"] if b else 0)) / USER_HZ if st else
                float("nan"),
                "numa_pages_migrated": pd.NA, "numa_task_migrated": pd.NA,
                "numa_task_swapped": pd.NA, "numa_group_id": pd.NA, "numa_scans": pd.NA})
    frame = pd.DataFrame(rows, columns=list(C.TASK_TIMESERIES))
    per_node = [c for c in FRAMES["task_timeseries"].columns if c.per_node]
    for name in (n for c in per_node for n in c.names([C.node_name(n) for n in nodes])):
        frame[name] = float("nan")  # the simulator's own per-node figures: not in /proc
    ints = ["pid", "cpu", "current_node", "numa_preferred_nid", "numa_scan_period_ms",
            "task_numa_scan_seq", "touches", "numa_pages_migrated", "numa_task_migrated",
            "numa_task_swapped", "numa_group_id", "numa_scans"]
    return frame.astype({c: "Int64" for c in ints})


CPU_STAT = {"user_s": "user_usec", "system_s": "system_usec"}
"""``times`` columns a cgroup's ``cpu.stat`` gives (microseconds there)."""


def _cgroup_cpu_seconds(last: Sample, first: Sample | None, cgroups) -> dict[str, dict]:
    """Each cgroup's own user and system seconds from its ``cpu.stat`` (its counts less its
    direct children's; the change since ``first`` when given); cgroups without the file
    (in ``last``, or in ``first`` when given) are left out."""

    def hier(sample):
        out = {}
        for path in cgroups:
            stat = sample.cgroups.get(path, {}).get("cpu.stat")
            if stat is not None and all(f in stat for f in CPU_STAT.values()):
                out[path] = {col: stat[f] for col, f in CPU_STAT.items()}
        return out

    now = _own(hier(last), None)
    then = _own(hier(first), None) if first is not None else None
    out = {}
    for path, values in now.items():
        if then is not None and path not in then:
            continue
        out[path] = {col: (v - (then[path][col] if then is not None else 0)) / 1e6
                     for col, v in values.items()}
    return out


def _times(names, tasks, first, final_stat, last, end_s, cgroup_cpu=None) -> pd.DataFrame:
    """The ``times`` frame: a row per task, per cgroup and the total.

    A cgroup's user and system seconds come from its ``cpu.stat`` when
    ``cgroup_cpu`` has it (every task it ran, as the kernel counts them), else
    from the sum of its listed tasks' ``stat``.
    """
    frame = names.copy()
    frame.insert(0, "level", "task")
    user, system, elapsed, touches, finished = [], [], [], [], []
    for t in tasks:
        st = final_stat.get(t.tid)
        b = first.task_stat.get(t.tid) if first else None
        user.append((st["utime"] - (b["utime"] if b else 0)) / USER_HZ if st else float("nan"))
        system.append((st["stime"] - (b["stime"] if b else 0)) / USER_HZ if st else float("nan"))
        work = last.work.get(t.tid)
        done = bool(work and work[1])
        elapsed.append(work[2] if done and work[2] >= 0 else end_s)
        touches.append(work[0] if work else pd.NA)
        finished.append(done)
    frame["user_s"], frame["system_s"], frame["elapsed_s"] = user, system, elapsed
    frame["touches"] = pd.array(touches, dtype="Int64")
    frame["finished"] = finished
    frame["throughput_per_s"] = frame["touches"].astype("Float64") / frame["elapsed_s"].clip(
        lower=1e-12)
    agg = frame.groupby("cgroup", sort=False).agg(
        user_s=("user_s", "sum"), system_s=("system_s", "sum"), elapsed_s=("elapsed_s", "max"),
        touches=("touches", "sum"), finished=("finished", "all")).reset_index()
    agg["throughput_per_s"] = agg["touches"].astype("Float64") / agg["elapsed_s"].clip(
        lower=1e-12)
    agg.insert(0, "level", "cgroup")
    for i, path in enumerate(agg["cgroup"]):
        for col, value in (cgroup_cpu or {}).get(path, {}).items():
            agg.loc[i, col] = value
    total = pd.DataFrame([{"level": "total", "cgroup": "", "user_s": frame["user_s"].sum(),
                           "system_s": frame["system_s"].sum(),
                           "elapsed_s": float(frame["elapsed_s"].max()) if len(frame) else end_s,
                           "touches": frame["touches"].sum(),
                           "finished": bool(frame["finished"].all())}])
    total["throughput_per_s"] = total["touches"] / max(float(total["elapsed_s"].iloc[0]), 1e-12)
    times = pd.concat([frame, agg, total], ignore_index=True)
    times["pid"] = times["pid"].astype("Int64")
    for name in C.TIMES:
        if name not in times:  # the breakdown of system time: /proc has no such split
            times[name] = float("nan")
    return times[list(C.TIMES)]


def _vma_pages(samples, mappings, nodes) -> pd.DataFrame:
    """Extra frame ``numa_maps``: pages per node of each workload VMA at each sample."""
    rows = []
    for s in samples:
        for m in mappings:
            line = next((v for v in s.numa_maps.get(m.tgid, []) if v["start"] == m.start), None)
            for n in nodes:
                pages = line["pages"].get(n, 0) if line else pd.NA
                rows.append((s.time_s, m.process, m.vma, C.node_name(n), pages))
    return pd.DataFrame(rows, columns=["time_s", "process", "vma", "node", "pages"]).astype(
        {"pages": "Int64"})
