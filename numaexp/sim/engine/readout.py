"""Evaluate the readout table (:mod:`numaexp.readout`) on the simulator's state.

Each declared column's ``source`` is resolved once into a reader: a field
of a structured array (``"tk.cpu"``), a counter (``"cnt_vm[name]"``), a
whole array, or a decoder of this module (``"@name"``). :func:`read` gives
a frame's columns as plain NumPy arrays, keyed by column name; per-node
columns have the nodes on their last axis. No pandas here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numaexp.readout import (
    FORK_REASON,
    FRAMES,
    MEMCG_SPECS,
    SYSTEM_TIME_SPECS,
    VMSTAT_SPECS,
    Column,
)
from numaexp.sim.engine.codes import (
    EV_MIGRATE,
    EV_SKIP_VMA,
    EV_SWAP_NUMA,
    EV_WAKEUP_NEW,
    EVENT_NAMES,
    MOVE_REASONS,
    SYS_NAMES,
    SYS_STOLEN,
    TS_DEAD,
)
from numaexp.sim.engine.state import Arrays
from numaexp.sim.kernel.constants import NUMA_MEM, SKIP_REASONS
from numaexp.sim.kernel.tiering import NBP_CANDIDATES, NBP_RL_NR_CAND, NBP_THRESHOLD

COUNTER_NAMES = {"cnt_vm": [n for n, _, _ in VMSTAT_SPECS],
                 "cnt_node_vm": [n for n, _, _ in VMSTAT_SPECS],
                 "cnt_memcg": [n for n, _, _ in MEMCG_SPECS]}
"""Counter arrays and the names of their last axis, in counter order."""

AUTONUMA_ACCOUNTS = tuple(k for k, (_, _, autonuma) in enumerate(SYSTEM_TIME_SPECS) if autonuma)
"""The ``tk_sys`` accounts mmtests' "AutoNUMA cost" counts."""


@dataclass
class View:
    """What the readers see: the arrays, the labels, the run's end and per-task extras.

    Parameters
    ----------
    arrays : Arrays
        The run's state arrays.
    layout : Layout
        Names of tasks, cgroups, VMAs and nodes.
    sim_seconds : float
        Simulated time of the run's end (for elapsed times).
    locality : ndarray
        Share of each task's accesses on its node (``tick.task_locality``).
    events : dict of str to ndarray
        Raw event rows (``Runner.events``), for the events frame.
    """

    arrays: Arrays
    layout: object
    sim_seconds: float = 0.0
    locality: np.ndarray | None = None
    events: dict | None = None


def share_run(tk: np.ndarray, tk_sys: np.ndarray, end_ns: float) -> np.ndarray:
    """Share of each task's charged kernel time (system time and stolen time) that has run
    by ``end_ns``.

    Kernel work (hint faults, migrations, scans) and flush IPIs are charged
    at once and paid from the task's next ticks (``debt``); a live task's
    unpaid debt has not run yet, so it is not system time yet (else user +
    system could exceed the elapsed time). An exited task's debt was added
    to its finish time: what of it falls after ``end_ns`` has not run
    either. Every account keeps the same share of what it was charged.
    """
    charged = tk["stime"] + tk_sys[:, SYS_STOLEN]
    owed_live = np.where(tk["alive"] != 0, np.maximum(tk["debt"], 0), 0)
    past_end = np.where((tk["alive"] == 0) & (tk["finish_ns"] > end_ns),
                        np.minimum(tk["finish_ns"] - end_ns, charged), 0)
    owed = np.minimum(owed_live + past_end, charged)
    return np.where(charged > 0, (charged - owed) / np.maximum(charged, 1), 0.0)


def account_run_s(view: View, accounts) -> np.ndarray:
    """Seconds of the given ``tk_sys`` accounts (``codes.SYS_*``) each task has run."""
    a = view.arrays
    charged = a.tk_sys[:, list(accounts)].sum(axis=1)
    return charged * share_run(a.tk, a.tk_sys, view.sim_seconds * 1e9) / 1e9


def _fault_index(nr_nodes: int, nid: int, private: int) -> int:
    """Column of ``numa_faults[]`` for MEM faults on ``nid`` (``task_faults_idx``)."""
    return 2 * (NUMA_MEM * nr_nodes + nid) + private


def _faults(table: np.ndarray, nr_nodes: int, private: int) -> np.ndarray:
    return np.stack([table[:, _fault_index(nr_nodes, nid, private)] for nid in range(nr_nodes)],
                    axis=-1)


def _group_faults(a: Arrays) -> np.ndarray:
    """Each task's group's fault row (zeros for a task without a group)."""
    groups = a.tk["numa_group"]
    out = np.zeros((len(groups), a.ng_faults.shape[1]), dtype=np.int64)
    grouped = groups >= 0
    out[grouped] = a.ng_faults[groups[grouped]]
    return out


def _events(view: View):
    ev = view.events
    kind = ev["kind"].astype(np.int64)
    n = len(kind)
    tasks = view.layout.tasks + view.layout.other_tasks
    names = np.array([f"{t[0]}/{t[1]}" for t in tasks], dtype=object)
    pids = np.array([t[2] for t in tasks], dtype=np.int64)
    task = ev["task"].astype(np.int64)
    is_skip = kind == EV_SKIP_VMA
    is_move = kind == EV_MIGRATE
    vmas = np.array([f"{p}:{v}" for p, v in view.layout.vmas], dtype=object)
    reason = _decode(is_skip, np.array(SKIP_REASONS, dtype=object), ev["b"])
    moved = _decode(is_move, np.array(MOVE_REASONS, dtype=object), ev["c"])
    reason[is_move] = moved[is_move]
    reason[kind == EV_WAKEUP_NEW] = FORK_REASON  # every new task is placed with WF_FORK
    levels = np.array(view.layout.sched_levels, dtype=object)
    return {
        "event_time_s": ev["time"] / 1e9,
        "event_name": np.array(EVENT_NAMES, dtype=object)[kind] if n else np.array([], object),
        "event_task": names[task] if n else np.array([], dtype=object),
        "event_pid": pids[task] if n else np.array([], dtype=np.int64),
        "event_src_cpu": np.where(is_skip, -1, ev["a"]),
        "event_dst_cpu": np.where(is_skip, -1, ev["b"]),
        "event_partner": _decode(kind == EV_SWAP_NUMA, names, ev["c"]),
        "event_vma": _decode(is_skip, vmas, ev["a"]),
        "event_reason": reason,
        "event_level": _decode(is_move & (ev["d"] >= 0), levels, ev["d"]),
    }


def _decode(rows: np.ndarray, table: np.ndarray, index) -> np.ndarray:
    """``table[index]`` where ``rows`` is set, None elsewhere (where ``index`` means another thing).

    The other rows' indices are clipped into the table first: they may be
    anything, such as a CPU number larger than the table.
    """
    out = np.full(len(rows), None, dtype=object)
    if len(table) and rows.any():
        out[rows] = table[np.clip(np.asarray(index)[rows], 0, len(table) - 1)]
    return out


DECODERS = {
    "mm_numa_scan_seq": lambda v: v.arrays.mm["numa_scan_seq"][v.arrays.tk["mm"]],
    "current_node": lambda v: v.arrays.cpu["node"][v.arrays.tk["cpu"]],
    "numa_group_id": lambda v: np.where(
        v.arrays.tk["numa_group"] >= 0,
        v.arrays.ng["gid"][np.maximum(v.arrays.tk["numa_group"], 0)], 0),
    "faults_task_private": lambda v: _faults(v.arrays.tk_faults, len(v.arrays.nd), 1),
    "faults_task_shared": lambda v: _faults(v.arrays.tk_faults, len(v.arrays.nd), 0),
    "faults_group_private": lambda v: _faults(_group_faults(v.arrays), len(v.arrays.nd), 1),
    "faults_group_shared": lambda v: _faults(_group_faults(v.arrays), len(v.arrays.nd), 0),
    "hot_threshold_ms": lambda v: np.where(v.arrays.nd_nbp[:, NBP_THRESHOLD] > 0,
                                           v.arrays.nd_nbp[:, NBP_THRESHOLD],
                                           int(v.arrays.p["hot_threshold_ms"])),
    "promo_window_candidates": lambda v: (v.arrays.nd_nbp[:, NBP_CANDIDATES]
                                          - v.arrays.nd_nbp[:, NBP_RL_NR_CAND]),
    "alive": lambda v: v.arrays.tk["alive"].astype(bool),
    "finished": lambda v: v.arrays.tk["state"] == TS_DEAD,
    "nr_switches": lambda v: v.arrays.tk["nvcsw"] + v.arrays.tk["nivcsw"],
    "locality": lambda v: v.locality.copy(),
    "user_s": lambda v: v.arrays.tk["utime"] / 1e9,
    "system_s": lambda v: account_run_s(v, range(SYS_STOLEN)),
    "stolen_s": lambda v: account_run_s(v, (SYS_STOLEN,)),
    "autonuma_cost_s": lambda v: account_run_s(v, AUTONUMA_ACCOUNTS),
    **{name: (lambda v, k=k: account_run_s(v, (k,))) for k, name in enumerate(SYS_NAMES)},
    "elapsed_s": lambda v: np.where(
        v.arrays.tk["alive"].astype(bool) | (v.arrays.tk["finish_ns"] < 0), v.sim_seconds,
        np.minimum(v.arrays.tk["finish_ns"] / 1e9, v.sim_seconds)),
}
"""Decoders named by ``@name`` sources: a function of a :class:`View`."""


def _reader(source: str):
    """A function of a :class:`View` that reads ``source``."""
    if source.startswith("@event_"):
        key = source[1:]
        return lambda v: _events(v)[key]
    if source.startswith("@"):
        return DECODERS[source[1:]]
    if source.endswith("]"):
        array, name = source[:-1].split("[")
        index = COUNTER_NAMES[array].index(name)
        return lambda v: getattr(v.arrays, array)[..., index].copy()
    if "." in source:
        array, field = source.split(".")
        return lambda v: getattr(v.arrays, array)[field].copy()
    return lambda v: getattr(v.arrays, source).copy()


_READERS: dict[str, object] = {}


def reader(column: Column):
    """The reader of ``column``'s source (resolved once)."""
    if column.source not in _READERS:
        _READERS[column.source] = _reader(column.source)
    return _READERS[column.source]


TASK_FRAMES = frozenset({"sched", "task_timeseries", "times"})
"""Frames with one row per workload thread: the first ``len(layout.tasks)`` task rows
(hidden main threads and the background follow them)."""


def read(frame: str, view: View) -> dict[str, np.ndarray]:
    """The simulator-sourced columns of ``frame``, by column key (:attr:`Column.key`).

    Events decode their rows once for all their columns.
    """
    if frame == "events":
        decoded = _events(view)
        return {c.key: decoded[c.source[1:]] for c in FRAMES[frame].columns}
    columns = {c.key: reader(c)(view) for c in FRAMES[frame].columns if c.source}
    if frame in TASK_FRAMES:
        n = len(view.layout.tasks)
        columns = {key: value[:n] for key, value in columns.items()}
    return columns


def check_sources() -> list[str]:
    """Sources of the readout table this module cannot read (empty when all resolve)."""
    from numaexp.sim.engine.state import FIELDS, dtype_of

    bad = []
    for frame in FRAMES.values():
        for col in frame.columns:
            src = col.source
            if not src or src.startswith("@event_"):
                continue
            if src.startswith("@"):
                ok = src[1:] in DECODERS
            elif src.endswith("]"):
                array, name = src[:-1].split("[")
                ok = name in COUNTER_NAMES.get(array, ())
            elif "." in src:
                array, field = src.split(".")
                ok = array in FIELDS and field in (dtype_of(array).names or ())
            else:
                ok = src in FIELDS
            if not ok:
                bad.append(f"{frame.name}.{col.name}: {src}")
    return bad
