"""Results of a run as pandas frames named after the kernel's counters.

Frames
------
vmstat
    One row: ``/proc/vmstat`` counters (``numa_pte_updates``,
    ``numa_hint_faults``, ``numa_hint_faults_local``, ``numa_pages_migrated``,
    ``pgmigrate_success``, ``numa_task_migrated``, ``numa_task_swapped``, ...).
memory_stat
    One row per cgroup: ``memory.stat`` NUMA counters, each cgroup's own
    (the events charged to it, not to its descendants), so the rows add up
    to ``vmstat``. The kernel's file adds the descendants in:
    ``result.hierarchical("memory_stat")`` gives that.
sched
    One row per task: ``/proc/<pid>/sched`` NUMA fields (``numa_scan_seq``,
    ``numa_preferred_nid``, ``total_numa_faults``, ``numa_pages_migrated``,
    ``current_node``, ``numa_group_id``, ``numa_task_migrated``,
    ``numa_task_swapped``) and the per-node ``numa_faults`` (task/group,
    private/shared) as ``faults_task_private_N0``... columns.
numa_stat
    One row per (cgroup, node): pages (``memory.numa_stat``), each cgroup's
    own, like ``memory_stat``; ``result.hierarchical("numa_stat")`` adds the
    descendants in, as the kernel's file does.
timeseries
    One row per sample: time and every vmstat counter, plus free pages per node.
task_timeseries
    One row per (sample, task): CPU, node, preferred node, scan period,
    locality (share of the task's accesses on its node), work done.
cgroup_timeseries
    One row per (sample, cgroup, node): pages.
events
    Trace events: ``sched_move_numa``, ``sched_swap_numa``,
    ``sched_stick_numa``, ``sched_skip_vma_numa`` (with the reason),
    ``load_balance``, ``phase``, ``exit``.
times
    User, system and elapsed seconds per task, per cgroup and in total
    (mmtests style), with work done and throughput.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from numaexp.model.scenario import Scenario
from numaexp.sim.build import Layout
from numaexp.sim.constants import (
    EV_SKIP_VMA,
    EV_SWAP_NUMA,
    EVENT_NAMES,
    MEMCG_NAMES,
    NUMA_MEM,
    PGDEMOTE_KSWAPD,
    PGPROMOTE_CANDIDATE,
    PGPROMOTE_SUCCESS,
    SKIP_REASONS,
    VM_NAMES,
)
from numaexp.sim.tiering import NBP_CANDIDATES, NBP_RL_NR_CAND, NBP_THRESHOLD

FRAME_NAMES = ("vmstat", "memory_stat", "sched", "numa_stat", "timeseries", "task_timeseries",
               "cgroup_timeseries", "events", "times")
"""Frames every :class:`Result` carries."""


@dataclass
class Result:
    """The outcome of one simulation run.

    Attributes
    ----------
    scenario : Scenario
        What was simulated.
    frames : dict of str to DataFrame
        The frames listed in :data:`FRAME_NAMES` (also attributes).
    meta : dict
        Run facts: mode, seed, simulated seconds, wall seconds, whether every
        thread finished, package version.
    """

    scenario: Scenario
    frames: dict[str, pd.DataFrame]
    meta: dict = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    @property
    def summary(self) -> pd.Series:
        """Headline figures: elapsed/user/system seconds and the main counters."""
        total = self.times[self.times["level"] == "total"].iloc[0]
        vm = self.vmstat.iloc[0]
        faults = int(vm["numa_hint_faults"])
        out = {
            "mode": self.meta.get("mode"),
            "variant": self.meta.get("variant"),
            "elapsed_s": total["elapsed_s"],
            "user_s": total["user_s"],
            "system_s": total["system_s"],
            "throughput_per_s": total["throughput_per_s"],
            "numa_pte_updates": int(vm["numa_pte_updates"]),
            "numa_hint_faults": faults,
            "hint_local_pct": 100.0 * int(vm["numa_hint_faults_local"]) / faults if faults else
            float("nan"),
            "numa_pages_migrated": int(vm["numa_pages_migrated"]),
            "numa_task_migrated": int(vm["numa_task_migrated"]),
            "numa_task_swapped": int(vm.get("numa_task_swapped", vm.get("numa_task_swaped"))),
            "local_access_pct": self.meta.get("local_access_pct", float("nan")),
            "finished": self.meta.get("finished"),
        }
        return pd.Series(out, name=self.scenario.name)

    def hierarchical(self, name: str = "memory_stat") -> pd.DataFrame:
        """A per-cgroup frame as the kernel's cgroup files print it: each row includes its subtree.

        The kernel's ``memory.stat`` and ``memory.numa_stat`` of a cgroup count
        the events and pages of every descendant too (the rstat flush adds
        children into parents), and the root's count everything. The frames
        here hold each cgroup's own counts; this adds, to each cgroup's row,
        the rows of the cgroups below it in the path hierarchy.

        Parameters
        ----------
        name : {"memory_stat", "numa_stat", "cgroup_timeseries"}
            The frame. Its other key columns (``node``, ``time_s``) are kept.

        Returns
        -------
        DataFrame
            Same rows and columns as the frame, counters (events, pages) summed
            over each cgroup's subtree.
        """
        keys = {"memory_stat": [], "numa_stat": ["node"],
                "cgroup_timeseries": ["time_s", "node"]}
        if name not in keys:
            raise ValueError(f"hierarchical: no per-cgroup frame {name!r} "
                             f"(allowed: {', '.join(keys)})")
        frame = self.frames[name]
        fixed = {"cgroup", "mode", "variant", *keys[name]}
        counters = [c for c in frame.columns
                    if c not in fixed and pd.api.types.is_numeric_dtype(frame[c])]
        out = frame.copy()
        for cgroup in frame["cgroup"].unique():
            below = frame[frame["cgroup"].map(lambda c, top=cgroup: in_subtree(c, top))]
            sums = below.groupby(keys[name], sort=False)[counters].sum() if keys[name] \
                else below[counters].sum().to_frame().T
            rows = out["cgroup"] == cgroup
            if keys[name]:
                index = pd.MultiIndex.from_frame(out.loc[rows, keys[name]]) \
                    if len(keys[name]) > 1 else out.loc[rows, keys[name][0]]
                out.loc[rows, counters] = sums.reindex(index).to_numpy()
            else:
                out.loc[rows, counters] = sums.to_numpy()
        return out

    def save(self, directory: str | Path, formats: tuple[str, ...] = ("parquet", "csv")) -> Path:
        """Write every frame (Parquet and/or CSV) and ``meta.json`` into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            if "parquet" in formats:
                frame.to_parquet(out / f"{name}.parquet", index=False)
            if "csv" in formats:
                frame.to_csv(out / f"{name}.csv", index=False)
        (out / "meta.json").write_text(json.dumps(self.meta, indent=2, default=str))
        return out

    def _repr_html_(self) -> str:
        summary = self.summary.to_frame().to_html(header=False, float_format=lambda x: f"{x:,.3f}")
        return (f"<div><b>numaexp result</b>: {html.escape(self.scenario.name)} "
                f"(mode {self.meta.get('mode')}, seed {self.meta.get('seed')}, "
                f"{self.meta.get('sim_seconds', 0):.2f} simulated s in "
                f"{self.meta.get('wall_seconds', 0):.2f} wall s)"
                f"{summary}<small>frames: {', '.join(self.frames)}</small></div>")

    def __repr__(self) -> str:
        return f"Result({self.scenario.name!r}, mode={self.meta.get('mode')}, " \
               f"elapsed_s={self.summary['elapsed_s']:.3f})"


def in_subtree(cgroup: str, top: str) -> bool:
    """Whether cgroup path ``cgroup`` is ``top`` or lies below it (``/`` holds every cgroup)."""
    return top == "/" or cgroup == top or cgroup.startswith(top.rstrip("/") + "/")


def build_result(scenario: Scenario, layout: Layout, final: dict, samples: list[dict],
                 events: dict[str, np.ndarray], tasks: dict[str, np.ndarray], meta: dict) -> Result:
    """Assemble a :class:`Result` from raw arrays (see :class:`numaexp.sim.runner.Runner`)."""
    mode = scenario.kernel.numa_balancing
    nn = scenario.machine.nr_nodes
    nodes = layout.node_names
    frames: dict[str, pd.DataFrame] = {}

    frames["vmstat"] = pd.DataFrame([dict(zip(VM_NAMES, (int(x) for x in final["vm"]),
                                              strict=True))])

    ms = pd.DataFrame(final["memcg"], columns=list(MEMCG_NAMES))
    ms.insert(0, "cgroup", list(layout.cgroups))
    frames["memory_stat"] = ms

    task_names = pd.DataFrame(list(layout.tasks), columns=["process", "thread", "pid", "cgroup"])
    sched = task_names.copy()
    sched["numa_scan_seq"] = tasks["mm_scan_seq"]
    sched["task_numa_scan_seq"] = tasks["numa_scan_seq"]
    sched["numa_pages_migrated"] = tasks["numa_pages_migrated"]
    sched["numa_preferred_nid"] = tasks["numa_preferred_nid"]
    sched["total_numa_faults"] = tasks["total_numa_faults"]
    sched["current_node"] = tasks["current_node"]
    sched["numa_group_id"] = tasks["numa_group_id"]
    sched["numa_task_migrated"] = tasks["numa_task_migrated"]
    sched["numa_task_swapped"] = tasks["numa_task_swapped"]
    sched["numa_scan_period_ms"] = tasks["numa_scan_period"]
    sched["numa_scans"] = tasks["numa_scans"]
    faults = tasks["numa_faults"]
    gfaults = tasks["group_faults"]
    for nid in range(nn):
        for priv, label in ((1, "private"), (0, "shared")):
            idx = 2 * (NUMA_MEM * nn + nid) + priv
            sched[f"faults_task_{label}_{nodes[nid]}"] = faults[:, idx]
            sched[f"faults_group_{label}_{nodes[nid]}"] = gfaults[:, idx]
    frames["sched"] = sched

    cg_rows = []
    for ci, cg in enumerate(layout.cgroups):
        for nid in range(nn):
            cg_rows.append((cg, nodes[nid], int(final["cg_node_pages"][ci, nid])))
    frames["numa_stat"] = pd.DataFrame(cg_rows, columns=["cgroup", "node", "pages"])

    frames["timeseries"] = _timeseries(samples, nodes, scenario.kernel.hot_threshold_ms)
    frames["task_timeseries"] = _task_timeseries(samples, task_names)
    frames["cgroup_timeseries"] = _cgroup_timeseries(samples, layout)
    frames["events"] = _events(events, layout)
    frames["times"] = _times(task_names, tasks, meta)
    variant = scenario.kernel.variant
    if variant.rfc and variant.stats == "as-posted":
        # patch 1 as posted: the vmstat string was misspelt (and never incremented)
        for name in ("vmstat", "timeseries"):
            frames[name] = frames[name].rename(columns={"numa_task_swapped":
                                                        "numa_task_swaped"})
    for frame in frames.values():  # every frame says which kernel produced it
        frame["mode"] = mode
        frame["variant"] = variant.label
    return Result(scenario=scenario, frames=frames,
                  meta={**meta, "mode": mode, "variant": variant.label, "seed": scenario.seed})


def _timeseries(samples: list[dict], nodes, hot_threshold_ms: int) -> pd.DataFrame:
    if not samples:
        return pd.DataFrame(columns=["time_s", *VM_NAMES])
    vm = np.stack([s["vm"] for s in samples])
    frame = pd.DataFrame(vm, columns=list(VM_NAMES))
    frame.insert(0, "time_s", [float(s["time_s"]) for s in samples])
    free = np.stack([s["node_free"] for s in samples])
    for nid, name in enumerate(nodes):
        frame[f"free_pages_{name}"] = free[:, nid]
    if "node_nbp" in samples[0]:
        nbp = np.stack([s["node_nbp"] for s in samples])
        node_vm = np.stack([s["node_vm"] for s in samples])
        for nid, name in enumerate(nodes):
            th = nbp[:, nid, NBP_THRESHOLD]
            frame[f"hot_threshold_ms_{name}"] = np.where(th > 0, th, hot_threshold_ms)
            frame[f"promo_window_candidates_{name}"] = (nbp[:, nid, NBP_CANDIDATES]
                                                        - nbp[:, nid, NBP_RL_NR_CAND])
            frame[f"pgpromote_success_{name}"] = node_vm[:, nid, PGPROMOTE_SUCCESS]
            frame[f"pgpromote_candidate_{name}"] = node_vm[:, nid, PGPROMOTE_CANDIDATE]
            frame[f"pgdemote_kswapd_{name}"] = node_vm[:, nid, PGDEMOTE_KSWAPD]
    return frame


def _task_timeseries(samples: list[dict], task_names: pd.DataFrame) -> pd.DataFrame:
    columns = ["time_s", "process", "thread", "pid", "cgroup", "alive", "cpu", "node",
               "preferred_node", "scan_period_ms", "scan_seq", "locality", "touches", "user_s",
               "system_s", "numa_pages_migrated", "numa_task_migrated", "numa_task_swapped",
               "numa_group"]
    if not samples:
        return pd.DataFrame(columns=columns)
    nt = len(task_names)
    frame = pd.DataFrame({
        "time_s": np.repeat([float(s["time_s"]) for s in samples], nt),
        "process": np.tile(task_names["process"].to_numpy(), len(samples)),
        "thread": np.tile(task_names["thread"].to_numpy(), len(samples)),
        "pid": np.tile(task_names["pid"].to_numpy(), len(samples)),
        "cgroup": np.tile(task_names["cgroup"].to_numpy(), len(samples)),
        "alive": np.concatenate([s["task_alive"] for s in samples]).astype(bool),
        "cpu": np.concatenate([s["task_cpu"] for s in samples]),
        "node": np.concatenate([s["task_node"] for s in samples]),
        "preferred_node": np.concatenate([s["task_preferred"] for s in samples]),
        "scan_period_ms": np.concatenate([s["task_scan_period"] for s in samples]),
        "scan_seq": np.concatenate([s["task_scan_seq"] for s in samples]),
        "locality": np.concatenate([s["task_locality"] for s in samples]),
        "touches": np.concatenate([s["task_touches"] for s in samples]),
        "user_s": np.concatenate([s["task_utime"] for s in samples]) / 1e9,
        "system_s": np.concatenate([s["task_stime"] for s in samples]) / 1e9,
        "numa_pages_migrated": np.concatenate([s["task_pages_migrated"] for s in samples]),
        "numa_task_migrated": np.concatenate([s["task_migrated"] for s in samples]),
        "numa_task_swapped": np.concatenate([s["task_swapped"] for s in samples]),
        "numa_group": np.concatenate([s["task_group"] for s in samples]),
    })
    return frame


def _cgroup_timeseries(samples: list[dict], layout: Layout) -> pd.DataFrame:
    rows = []
    for s in samples:
        pages = s["cg_node_pages"]
        for ci, cg in enumerate(layout.cgroups):
            for nid, name in enumerate(layout.node_names):
                rows.append((float(s["time_s"]), cg, name, int(pages[ci, nid])))
    return pd.DataFrame(rows, columns=["time_s", "cgroup", "node", "pages"])


def _events(events: dict[str, np.ndarray], layout: Layout) -> pd.DataFrame:
    n = len(events["time"])
    kind = events["kind"].astype(np.int64)
    task = events["task"].astype(np.int64)
    pids = np.array([t[2] for t in layout.tasks], dtype=np.int64)
    names = np.array([f"{t[0]}/{t[1]}" for t in layout.tasks], dtype=object)
    frame = pd.DataFrame({
        "time_s": events["time"] / 1e9,
        "event": np.array(EVENT_NAMES, dtype=object)[kind] if n else np.array([], dtype=object),
        "task": names[task] if n else np.array([], dtype=object),
        "pid": pids[task] if n else np.array([], dtype=np.int64),
        "a": events["a"], "b": events["b"], "c": events["c"], "d": events["d"],
    })
    # decode per kind: moves/swaps/stick -> src_cpu, dst_cpu, ...; skips -> vma, reason
    is_skip = kind == EV_SKIP_VMA
    is_swap = kind == EV_SWAP_NUMA
    vma_names = np.array([f"{p}:{v}" for p, v in layout.vmas], dtype=object)
    frame["src_cpu"] = np.where(is_skip, -1, frame["a"])
    frame["dst_cpu"] = np.where(is_skip, -1, frame["b"])
    frame["partner"] = _decode(is_swap, names, frame["c"])
    frame["vma"] = _decode(is_skip, vma_names, frame["a"])
    frame["reason"] = _decode(is_skip, np.array(SKIP_REASONS, dtype=object), frame["b"])
    return frame.drop(columns=["a", "b", "c", "d"])


def _decode(rows: np.ndarray, table: np.ndarray, index) -> np.ndarray:
    """``table[index]`` where ``rows`` is set, None elsewhere (where ``index`` means another thing).

    The other rows' indices are clipped into the table first: they may be
    anything, such as a CPU number larger than the table.
    """
    out = np.full(len(rows), None, dtype=object)
    if len(table) and rows.any():
        out[rows] = table[np.clip(np.asarray(index)[rows], 0, len(table) - 1)]
    return out


def _times(task_names: pd.DataFrame, tasks: dict, meta: dict) -> pd.DataFrame:
    sim_s = meta["sim_seconds"]
    finish = tasks["finish_ns"]
    alive = tasks["alive"].astype(bool)
    elapsed = np.where(alive | (finish < 0), sim_s, finish / 1e9)
    frame = task_names.copy()
    frame.insert(0, "level", "task")
    frame["user_s"] = tasks["utime"] / 1e9
    frame["system_s"] = tasks["stime"] / 1e9
    frame["elapsed_s"] = elapsed
    frame["touches"] = tasks["touches"]
    frame["finished"] = ~alive
    frame["throughput_per_s"] = frame["touches"] / np.maximum(frame["elapsed_s"], 1e-12)
    rows = [frame]
    agg = frame.groupby("cgroup", sort=False).agg(
        user_s=("user_s", "sum"), system_s=("system_s", "sum"), elapsed_s=("elapsed_s", "max"),
        touches=("touches", "sum"), finished=("finished", "all")).reset_index()
    agg["throughput_per_s"] = agg["touches"] / np.maximum(agg["elapsed_s"], 1e-12)
    agg.insert(0, "level", "cgroup")
    rows.append(agg)
    total = pd.DataFrame([{
        "level": "total", "cgroup": "", "user_s": frame["user_s"].sum(),
        "system_s": frame["system_s"].sum(), "elapsed_s": float(frame["elapsed_s"].max()),
        "touches": frame["touches"].sum(), "finished": bool(frame["finished"].all()),
    }])
    total["throughput_per_s"] = total["touches"] / np.maximum(total["elapsed_s"], 1e-12)
    rows.append(total)
    times = pd.concat(rows, ignore_index=True)
    times["pid"] = times["pid"].astype("Int64")  # <NA> on the cgroup and total rows, not NaN
    return times
