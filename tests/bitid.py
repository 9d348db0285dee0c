"""Frame digests of every preset in every mode and kernel variant (the bit-identity check).

Each preset is run small (the options below shrink its memory and CPUs; the
stop becomes a 2.5 s duration and scanning starts at 0.2 s, so scanning,
faults, migrations and task moves all happen) in every ``kernel.numa_balancing``
mode 0-4 under every kernel variant label. :func:`digests` hashes every frame of each run, column by
column, so a restructuring that must not change behaviour can be checked
against digests recorded before it (``tests/data/frame_digests.json``).

Record anew (only when a change of behaviour is intended, and say so in the
commit), all cases or those whose id matches a regular expression::

    .venv/bin/python tests/bitid.py record
    .venv/bin/python tests/bitid.py record '/4/mainline$'

Changes recorded so far: mode 4 on ``mainline`` (``/4/mainline$``) was refused
at 6f81956; 6.12's sysctl takes 0..4, so it runs since. Issue 18 made three presets show
their point: ``default`` (two cgroups on a DRAM + CXL machine), ``per_cgroup`` (a cgroup
enabled mid-run under a parent at 0) and ``interleave_pair`` (private heaps whose target is
node 1): ``^(default|per_cgroup|interleave_pair)/`` recorded anew. Issue 20 (the 6.12
scheduler: fork placement, wake-ups, the load balancer, lifecycles, background tasks)
changes every run: all cases recorded anew at 86b7ec0, with the default scenario's /app
moved away from its memory by its cpuset. Issue 21 (costs that depend on the state:
shootdowns to the CPUs running the mm, lock waits, copies at leftover bandwidth, the
presets' cost profiles, and the ``times`` frame's accounts) changes every run with NUMA
balancing and every ``times`` frame: all cases recorded anew.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DIGESTS = Path(__file__).parent / "data" / "frame_digests.json"

DURATION_S = 2.5
"""Simulated seconds of each run (some presets finish their work sooner)."""

SCAN_DELAY_MS = 200
"""``scan_delay_ms`` and ``scan_period_min_ms`` of each run: scanning starts early."""

PRESET_OPTIONS = {
    "default": {"cpus_per_node": 2, "app_memory": "32 MiB", "batch_memory": "32 MiB"},
    "per_cgroup": {"memory_scale": 1 / 64, "cpus_per_node": 2, "late_memory": "32 MiB",
                   "enable_s": 1.0},
    "interleave_pair": {"memory": "64 MiB", "private": "16 MiB", "cpus_per_node": 2,
                        "release_s": 1.5},
    "interleave_stride": {"memory_scale": 1 / 64, "cpus_per_node": 2},
    "pmbench_gaussian": {"dram": "128 MiB", "slow": "512 MiB", "memory": "192 MiB",
                         "duration_s": DURATION_S},
    "gups_moving_hotset": {"dram": "128 MiB", "slow": "512 MiB", "memory": "192 MiB",
                           "duration_s": DURATION_S},
    "kv_store": {"dram": "128 MiB", "slow": "512 MiB", "memory": "384 MiB",
                 "duration_s": DURATION_S},
}
"""Options that make each preset small (autonumabench presets: see :func:`preset_scenario`)."""

RENAMED: dict[str, dict[str, str]] = {
    "task_timeseries": {"current_node": "node", "numa_preferred_nid": "preferred_node",
                        "numa_scan_period_ms": "scan_period_ms",
                        "task_numa_scan_seq": "scan_seq"},
}
"""Columns renamed since the digests were recorded (to the name the same quantity has in
the other frames): frame -> {new name: recorded name}."""



def _group_slot(frame: pd.DataFrame) -> pd.DataFrame:
    """``task_timeseries.numa_group`` as recorded: the group's slot (the index of the task
    that created it, -1 none), from ``numa_group_id`` (that task's pid, 0 none)."""
    first = frame["time_s"] == frame["time_s"].iloc[0]
    index_of_pid = {pid: i for i, pid in enumerate(frame.loc[first, "pid"])}
    slots = [index_of_pid[g] if g else -1 for g in frame["numa_group_id"]]
    return frame.drop(columns="numa_group_id").assign(numa_group=np.array(slots,
                                                                           dtype=np.int64))


def _fork_reason_unset(frame: pd.DataFrame) -> pd.DataFrame:
    """``events.reason`` as recorded: None on ``sched_wakeup_new`` rows (now ``fork``),
    the column typed as the readout's frame types it (object when every value is None)."""
    fork = (frame["event"] == "sched_wakeup_new").to_numpy()
    values = np.array([None if f or pd.isna(v) else v
                       for f, v in zip(fork, frame["reason"], strict=True)], dtype=object)
    return frame.assign(reason=pd.DataFrame({"reason": values})["reason"].to_numpy())


CHANGED = {"task_timeseries": _group_slot, "events": _fork_reason_unset}
"""Columns whose values changed form since the digests were recorded, with the function
that restores the recorded form: ``task_timeseries.numa_group`` held the group's slot; it
is now ``numa_group_id``, the kernel's id (as in ``sched``). ``events.reason`` was None on
``sched_wakeup_new`` rows; the readout now writes ``fork`` there (a read-out change only:
the simulation is the same)."""

ADDED = ("policy", "backend", "as_posted_missing_node", "task_timeseries.numa_scans",
         "task_timeseries.access_share_N*")
"""Columns added since the digests were recorded (to every frame; a vmstat counter), or
``frame.column`` for a column added to one frame only (``numa_scans`` is in ``sched`` too;
``*`` matches the node of a per-node column)."""


def variant_labels() -> list[str]:
    """Every kernel variant label: mainline, and each RFC variant with patches 1/3 either way."""
    from numaexp.model.kernel import CGROUP_VARIANTS

    labels = ["mainline"]
    for cgroup in CGROUP_VARIANTS[1:]:
        labels += [cgroup, f"{cgroup}+stats-as-posted", f"{cgroup}+interleave-as-posted",
                   f"{cgroup}+as-posted"]
    return labels


def preset_scenario(name: str):
    """Preset ``name``, made small, stopped after :data:`DURATION_S` simulated seconds."""
    from numaexp.model.catalog import presets
    from numaexp.model.machine import four_node
    from numaexp.model.presets import AUTONUMABENCH
    from numaexp.model.scenario import Stop

    builder = presets()[name]
    base = name.removesuffix("_HARD_BIND").removesuffix("_INVERSE_BIND")
    if base in AUTONUMABENCH:
        extra = {"memory_scale": 1 / 48}
        if base.startswith("numa02"):  # first touched on node 0, so that pages move
            extra = {"memory_scale": 1 / 8, "passes": 3000, "first_touch_node": 0}
        scenario = builder(machine=four_node(cpus_per_node=2, memory_per_node="2 GiB"), **extra)
    else:
        scenario = builder(**PRESET_OPTIONS.get(name, {}))
    kernel = dataclasses.replace(scenario.kernel, scan_delay_ms=SCAN_DELAY_MS,
                                 scan_period_min_ms=SCAN_DELAY_MS)
    return dataclasses.replace(scenario, kernel=kernel, sample_interval_s=0.25,
                               stop=Stop(kind="duration", duration_s=DURATION_S))


def cases():
    """``(case id, scenario or ScenarioError)`` for every preset x mode x variant.

    A combination the model refuses (an interleave policy
    with ``numa_balancing`` on mainline) yields its error instead.
    """
    from numaexp.errors import ScenarioError
    from numaexp.model.catalog import preset_names
    from numaexp.model.kernel import KernelVariant

    for name in preset_names():
        base = preset_scenario(name)
        for mode in range(5):
            for label in variant_labels():
                try:
                    kernel = dataclasses.replace(base.kernel, numa_balancing=mode,
                                                 variant=KernelVariant.parse(label))
                    yield f"{name}/{mode}/{label}", dataclasses.replace(base, kernel=kernel)
                except ScenarioError as err:
                    yield f"{name}/{mode}/{label}", err


def _column_digest(series: pd.Series) -> bytes:
    values = series.to_numpy()
    h = hashlib.sha256(str(series.name).encode())
    if values.dtype == object or isinstance(series.dtype, pd.StringDtype):
        h.update("\x1f".join(repr(v) for v in values).encode())
    elif pd.api.types.is_extension_array_dtype(series.dtype):
        h.update(repr(series.tolist()).encode())
    else:
        h.update(str(values.dtype).encode())
        h.update(np.ascontiguousarray(values).tobytes())
    return h.digest()


def frame_digest(name: str, frame: pd.DataFrame) -> str:
    """Digest of a frame: its columns (by name, in any order), dtypes and values, bit for bit."""
    frame = frame.drop(columns=[c for c in frame if c in ADDED or any(
        fnmatch.fnmatchcase(f"{name}.{c}", pattern) for pattern in ADDED)])
    if name in CHANGED and len(frame):
        frame = CHANGED[name](frame)
    frame = frame.rename(columns=RENAMED.get(name, {}))
    h = hashlib.sha256(str(len(frame)).encode())
    for column in sorted(frame.columns):
        h.update(_column_digest(frame[column]))
    return h.hexdigest()[:20]


def digests(result) -> dict[str, str]:
    """Digest of each frame of a :class:`numaexp.Result`."""
    return {name: frame_digest(name, frame) for name, frame in result.frames.items()}


def run_case(scenario) -> dict[str, str]:
    """Simulate ``scenario`` quietly and digest its frames (``{"refused": field}`` for an error)."""
    from numaexp import simulate

    if isinstance(scenario, Exception):
        return {"refused": scenario.field}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return digests(simulate(scenario, progress=False))


def record(path: Path = DIGESTS, only: str | None = None) -> None:
    """Run every case (or those whose id matches the regular expression ``only``) and write
    their digests to ``path`` (keeping the others' recorded digests)."""
    out = json.loads(path.read_text()) if only and path.exists() else {}
    for i, (case, scenario) in enumerate(cases()):
        if only and not re.search(only, case):
            continue
        out[case] = run_case(scenario)
        if i % 50 == 0 or only:
            print(i, case, out[case].get("refused", ""), flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=0, sort_keys=True) + "\n")
    print(f"{len(out)} cases written to {path}")


if __name__ == "__main__":
    if sys.argv[1:2] != ["record"] or len(sys.argv) > 3:
        sys.exit("usage: tests/bitid.py record [CASE-REGEX]")
    record(only=sys.argv[2] if len(sys.argv) == 3 else None)
