"""Results of a run as pandas frames named after the kernel's counters.

The frames and their columns are declared once, in :mod:`numaexp.readout`;
this module assembles them from the columns a backend evaluated (the
simulator's are read by ``numaexp.sim.engine.readout``). Frames list below.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from numaexp.model.scenario import Scenario
from numaexp.readout import (
    CGROUP_COUNTERS,
    FRAME_NAMES,
    FRAMES,
    RUN_LABELS,
    SUMMARY,
    TASK_LABELS,
    Column,
    Labels,
)

__all__ = ["FRAME_NAMES", "Labels", "Result", "build_result", "in_subtree"]


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

    @staticmethod
    def columns() -> pd.DataFrame:
        """Every frame's columns, with unit and meaning (one row per column)."""
        return columns_frame()

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    @property
    def summary(self) -> pd.Series:
        """Headline figures: mode, variant, then the :data:`numaexp.readout.SUMMARY` columns
        (times, throughput and counters of the whole run; no ``speedup``: see
        :meth:`numaexp.Comparison.summary`)."""
        from numaexp.summary import run_row

        row = run_row(self)
        row.pop("speedup", None)
        return pd.Series({"mode": self.meta.get("mode"), "variant": self.meta.get("variant"),
                          **row}, name=self.scenario.name if self.scenario else "snapshot")

    def cgroup_summary(self) -> pd.DataFrame:
        """The summary of each cgroup that holds threads (its own threads and memory.stat)."""
        from numaexp.summary import cgroup_rows

        return pd.DataFrame(cgroup_rows(self))

    def cgroup_counters(self) -> pd.DataFrame:
        """Per-cgroup counters over time (:data:`numaexp.readout.CGROUP_COUNTERS`)."""
        from numaexp.summary import cgroup_counters

        return cgroup_counters(self)

    @property
    def notices(self) -> list:
        """Why this run may show nothing (:mod:`numaexp.notices`), as Notice objects."""
        from numaexp.notices import result_notices

        return result_notices(self)

    def sentence(self) -> str:
        """One sentence on what NUMA balancing did in this run."""
        from numaexp.sentences import run_sentence

        label = f"mode {self.meta.get('mode')}"
        return run_sentence(label, dict(self.summary), baseline=None,
                            cgroup_rows=self.cgroup_summary().to_dict("records"))

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
        from numaexp.viz.html import notices_html

        summary = self.summary.to_frame().to_html(header=False, float_format=lambda x: f"{x:,.3f}")
        return (f"<div><b>numaexp result</b>: {html.escape(str(self.meta.get('scenario')))} "
                f"(mode {self.meta.get('mode')}, seed {self.meta.get('seed')}, "
                f"{self.meta.get('sim_seconds', 0):.2f} simulated s in "
                f"{self.meta.get('wall_seconds', 0):.2f} wall s)"
                f"<p>{html.escape(self.sentence())}</p>{notices_html(self.notices)}"
                f"{summary}<small>frames: {', '.join(self.frames)}</small></div>")

    def __repr__(self) -> str:
        return f"Result({self.scenario.name!r}, mode={self.meta.get('mode')}, " \
               f"elapsed_s={self.summary['elapsed_s']:.3f})"


def in_subtree(cgroup: str, top: str) -> bool:
    """Whether cgroup path ``cgroup`` is ``top`` or lies below it (``/`` holds every cgroup)."""
    return top == "/" or cgroup == top or cgroup.startswith(top.rstrip("/") + "/")


def build_result(scenario: Scenario, labels: Labels, final: dict[str, dict],
                 samples: list[dict], meta: dict, run: dict) -> Result:
    """Assemble a :class:`Result` from evaluated readout columns.

    Parameters
    ----------
    scenario : Scenario
        What ran.
    labels : Labels
        Names of the rows.
    final : dict
        Frame name -> {column key -> array} at the end of the run, for the
        frames that are not time series (per-node columns have the nodes on
        their last axis).
    samples : list of dict
        One per sample: ``time_s`` and, per time-series frame, its columns.
    meta : dict
        Run facts (simulated and wall seconds, finished, ...).
    run : dict
        The value of each of :data:`numaexp.readout.RUN_LABELS` (mode,
        variant, policy, backend), added to every frame.
    """
    nodes = labels.node_names
    tasks = pd.DataFrame(list(labels.tasks), columns=[c.name for c in TASK_LABELS])
    frames: dict[str, pd.DataFrame] = {
        "vmstat": pd.DataFrame({k: [int(v)] for k, v in _expanded("vmstat", final, nodes)}),
        "memory_stat": _with_columns(pd.DataFrame({"cgroup": list(labels.cgroups)}),
                                     _expanded("memory_stat", final, nodes)),
        "sched": _with_columns(tasks.copy(), _expanded("sched", final, nodes)),
        "numa_stat": _cgroup_node_frame(labels, final["numa_stat"]["pages"]),
        "timeseries": _timeseries(samples, nodes),
        "task_timeseries": _task_timeseries(samples, tasks, nodes),
        "cgroup_timeseries": _cgroup_timeseries(samples, labels),
        "events": pd.DataFrame(final["events"]),
        "times": _times(tasks, final["times"], nodes),
    }
    variant = scenario.kernel.variant
    if variant.rfc and variant.stats == "as-posted":
        # patch 1 as posted: the vmstat string was misspelt (and never incremented)
        for name in ("vmstat", "timeseries"):
            frames[name] = frames[name].rename(columns={"numa_task_swapped":
                                                        "numa_task_swaped"})
    for frame in frames.values():  # every frame says which kernel and backend produced it
        for col in RUN_LABELS:
            frame[col.name] = run[col.name]
    return Result(scenario=scenario, frames=frames,
                  meta={**meta, **run, "seed": scenario.seed})


def _expanded(frame: str, columns: dict[str, dict], nodes) -> list[tuple[str, np.ndarray]]:
    """``(name, values)`` of the evaluated columns of ``frame``, per-node ones split by node."""
    out = []
    values = columns[frame]
    for col in FRAMES[frame].columns:
        if col.key not in values:
            continue
        data = values[col.key]
        if col.per_node:
            out += [(name, data[..., nid]) for nid, name in enumerate(col.names(nodes))]
        else:
            out.append((col.name, data))
    return out


def _with_columns(frame: pd.DataFrame, columns: list[tuple[str, np.ndarray]]) -> pd.DataFrame:
    for name, values in columns:
        frame[name] = values
    return frame


def _cgroup_node_frame(labels: Labels, pages: np.ndarray) -> pd.DataFrame:
    """Rows per (cgroup, node) of a cgroups x nodes array, cgroup-major."""
    nn = len(labels.node_names)
    return pd.DataFrame({
        "cgroup": np.repeat(np.array(labels.cgroups, dtype=object), nn),
        "node": np.tile(np.array(labels.node_names, dtype=object), len(labels.cgroups)),
        "pages": np.asarray(pages).reshape(-1),
    })


def _stacked(samples: list[dict], frame: str, nodes) -> list[tuple[str, np.ndarray]]:
    """The columns of ``frame`` over all samples: each stacked along a leading time axis."""
    per_sample = [dict(_expanded(frame, s, nodes)) for s in samples]
    names = [name for name, _ in _expanded(frame, samples[0], nodes)]
    return [(name, np.stack([p[name] for p in per_sample])) for name in names]


def _timeseries(samples: list[dict], nodes) -> pd.DataFrame:
    columns = [c for col in FRAMES["timeseries"].columns for c in col.names(nodes)]
    if not samples:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({"time_s": [float(s["time_s"]) for s in samples]})
    return _with_columns(frame, _stacked(samples, "timeseries", nodes))


def _task_timeseries(samples: list[dict], tasks: pd.DataFrame, nodes) -> pd.DataFrame:
    if not samples:
        return pd.DataFrame(columns=[c.name for c in FRAMES["task_timeseries"].columns])
    nt = len(tasks)
    frame = pd.DataFrame({"time_s": np.repeat([float(s["time_s"]) for s in samples], nt)})
    for label in TASK_LABELS:
        frame[label.name] = np.tile(tasks[label.name].to_numpy(), len(samples))
    for name, values in _stacked(samples, "task_timeseries", nodes):
        frame[name] = values.reshape(-1)
    return frame


def _cgroup_timeseries(samples: list[dict], labels: Labels) -> pd.DataFrame:
    per = [_cgroup_node_frame(labels, s["cgroup_timeseries"]["pages"]) for s in samples]
    if not per:
        return pd.DataFrame(columns=[c.name for c in FRAMES["cgroup_timeseries"].columns])
    times = np.repeat([float(s["time_s"]) for s in samples], len(per[0]))
    frame = pd.concat(per, ignore_index=True)
    frame.insert(0, "time_s", times)
    return frame


def _times(tasks: pd.DataFrame, values: dict, nodes) -> pd.DataFrame:
    """Task rows from the evaluated columns, then cgroup and total rows aggregated as declared."""
    columns = FRAMES["times"].columns
    frame = tasks.copy()
    frame.insert(0, "level", "task")
    frame = _with_columns(frame, _expanded("times", {"times": values}, nodes))
    frame["throughput_per_s"] = frame["touches"] / np.maximum(frame["elapsed_s"], 1e-12)
    aggregated = {c.name: (c.name, c.agg) for c in columns if c.agg}
    agg = frame.groupby("cgroup", sort=False).agg(**aggregated).reset_index()
    agg["throughput_per_s"] = agg["touches"] / np.maximum(agg["elapsed_s"], 1e-12)
    agg.insert(0, "level", "cgroup")
    total = pd.DataFrame([{"level": "total", "cgroup": "",
                           **{name: _aggregate(frame[name], how)
                              for name, (_, how) in aggregated.items()}}])
    total["throughput_per_s"] = total["touches"] / np.maximum(total["elapsed_s"], 1e-12)
    times = pd.concat([frame, agg, total], ignore_index=True)
    times["pid"] = times["pid"].astype("Int64")  # <NA> on the cgroup and total rows, not NaN
    return times


def _aggregate(values: pd.Series, how: str):
    """One aggregate of a column as plain Python (sum, max or all)."""
    if how == "all":
        return bool(values.all())
    if how == "max":
        return float(values.max())
    return values.sum()


def columns_frame() -> pd.DataFrame:
    """Every frame's columns with unit and meaning, from the readout table; then the derived
    ``cgroup_counters`` (:meth:`Result.cgroup_counters`) and ``summary`` tables."""
    rows = []
    for frame in (*FRAMES.values(), CGROUP_COUNTERS, SUMMARY):
        labels = RUN_LABELS if frame.name in FRAMES else ()
        for col in (*frame.columns, *labels):
            rows.append({"frame": frame.name, "column": col.name + ("_N<node>" if col.per_node
                                                                  else ""),
                         "unit": col.unit, "meaning": col.doc, "rows": frame.rows})
    return pd.DataFrame(rows)


def _frames_doc() -> str:
    """The Frames section of this module's and :class:`Result`'s docstrings."""
    lines = ["Frames", "------"]
    for frame in FRAMES.values():
        lines.append(f"{frame.name}")
        lines.append(f"    {frame.doc}; {frame.rows} row(s). Columns: "
                     + ", ".join(_doc_name(c) for c in frame.columns) + ".")
    lines.append("Every frame also has " + ", ".join(c.name for c in RUN_LABELS)
                 + " columns. ``Result.columns()`` lists each column's unit and meaning.")
    return "\n".join(lines)


def _doc_name(col: Column) -> str:
    return f"``{col.name}_N<node>``" if col.per_node else f"``{col.name}``"


__doc__ += "\n" + _frames_doc()
Result.__doc__ += "\n    " + _frames_doc().replace("\n", "\n    ")
