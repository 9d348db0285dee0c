"""Build the access arrays: thread phases, their streams (patterns), mass rows, sweep regions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numaexp.model.scenario import Scenario
from numaexp.model.units import PAGE_SIZE
from numaexp.sim.engine.access import gaussian_norm, zipf_norm, zipf_permutation
from numaexp.sim.engine.codes import (
    BARRIER_NONE,
    BARRIER_PASS,
    BARRIER_PHASE,
    PAT_GAUSSIAN,
    PAT_HOTSET,
    PAT_SWEEP,
    PAT_ZIPF,
    PATTERN_CODES,
)
from numaexp.sim.engine.dtypes import MASSROW_DTYPE, PHASE_DTYPE, REGION_DTYPE, STREAM_DTYPE
from numaexp.sim.engine.params import SWEEP_SHIFT

BARRIER_CODES = {"none": BARRIER_NONE, "pass": BARRIER_PASS, "phase": BARRIER_PHASE}
"""``PHASE_DTYPE.barrier`` of each ``Phase.barrier``."""

ZIPF_SEED_MULTIPLIER = 1_000_003
"""A stream's Zipf permutation is seeded with ``seed * ZIPF_SEED_MULTIPLIER + stream``."""


@dataclass
class Streams:
    """The access arrays of a run.

    Attributes
    ----------
    phases : ndarray
        ``PHASE_DTYPE[F]``.
    streams : ndarray
        ``STREAM_DTYPE[S]``.
    massrows : ndarray
        ``MASSROW_DTYPE[R]``.
    mr_streams : ndarray
        int64[S]: the streams of each mass row, row by row.
    regions : ndarray
        ``REGION_DTYPE[G]``: distinct sweep regions and their buckets.
    first_phase, last_phase : list of int
        Each task's first and last phase row.
    """

    phases: np.ndarray
    streams: np.ndarray
    massrows: np.ndarray
    mr_streams: np.ndarray
    regions: np.ndarray
    first_phase: list
    last_phase: list


def _pattern_params(kind: int, pat, n: int, seed: int) -> tuple[float, float, float, float]:
    """``p1..p4`` of a stream (see ``access.py``): the pattern's shape over ``n`` positions."""
    if kind == PAT_HOTSET:
        hot_n = max(1, round(pat.hot_size * n))
        return pat.hot_fraction, float(min(n - hot_n, int(pat.hot_offset * n))), float(hot_n), 0.0
    if kind == PAT_ZIPF:
        a, b = zipf_permutation(n, seed)
        return pat.zipf_alpha, float(a), float(b), 1.0 / zipf_norm(n, pat.zipf_alpha)
    if kind == PAT_GAUSSIAN:
        return pat.mean, pat.sigma, gaussian_norm(pat.mean, pat.sigma), 0.0
    return 1.0 / n, 0.0, 0.0, 0.0  # uniform, sweep: every position weighs 1 / n


def build_streams(scenario: Scenario, task_rows: list, vmas: np.ndarray,
                  vma_first: list[int]) -> Streams:
    """Phases and streams of every task, then the mass rows and sweep regions they share.

    Parameters
    ----------
    scenario : Scenario
    task_rows : list of (process index, Thread, replica, pid)
    vmas : ndarray
        The VMA rows (for each pattern's memory object).
    vma_first : list of int
        First VMA row of each process.
    """
    phase_rows, stream_rows = [], []
    region_index: dict[tuple[int, int, int, int], int] = {}
    first_phase, last_phase = [], []
    for t, (pi, thread, k, _pid) in enumerate(task_rows):
        proc = scenario.workload.processes[pi]
        vma_by_name = {v.name: (i, v) for i, v in enumerate(proc.vmas)}
        first_phase.append(len(phase_rows))
        for phase in thread.phases:
            sfirst = len(stream_rows)
            total_share = sum(p.share for p in phase.patterns)
            n_first = None
            for pat in phase.patterns:
                vi, vma = vma_by_name[pat.vma]
                o = int(vmas["obj"][vma_first[pi] + vi])
                start = pat.start // PAGE_SIZE
                length = vma.pages - start if pat.length is None else -(-pat.length // PAGE_SIZE)
                if pat.slice_by_thread:
                    per = length // thread.count
                    start += k * per
                    length = per
                n = max(1, length // pat.stride)
                kind = PATTERN_CODES[pat.kind]
                p1, p2, p3, p4 = _pattern_params(
                    kind, pat, n, scenario.seed * ZIPF_SEED_MULTIPLIER + len(stream_rows))
                region = -1
                if kind == PAT_SWEEP:
                    region = region_index.setdefault((o, start, n, pat.stride), len(region_index))
                    n_first = n
                stream_rows.append((t, o, start, n, pat.stride, kind, pat.share / total_share,
                                    p1, p2, p3, p4, region, 1 if pat.write_fraction > 0 else 0))
            end_touches = math.inf
            if phase.touches is not None:
                end_touches = float(phase.touches)
            elif phase.passes is not None:
                end_touches = float(phase.passes) * n_first
            phase_rows.append((t, sfirst, len(stream_rows) - sfirst, end_touches,
                               math.inf if phase.duration_s is None else phase.duration_s * 1e9,
                               phase.think_ns, phase.mlp, phase.stream_gbps,
                               1 if phase.is_sweep else 0, BARRIER_CODES[phase.barrier],
                               -1 if phase.run_s is None else max(1, round(phase.run_s * 1e9)),
                               phase.sleep_s * 1e9, int(phase.sleep_dist == "exponential")))
        last_phase.append(len(phase_rows) - 1)
    phases = _columns(PHASE_DTYPE, phase_rows, ("task", "stream_first", "stream_count",
                                                "end_touches", "end_ns", "think_ns", "mlp",
                                                "stream_bw", "sweep", "barrier", "run_ns",
                                                "sleep_ns", "sleep_exp"))
    streams = _columns(STREAM_DTYPE, stream_rows, ("task", "obj", "first", "n", "stride", "kind",
                                                   "share", "p1", "p2", "p3", "p4", "region",
                                                   "writes"))
    massrows, mr_streams = _mass_rows(streams, stream_rows)
    return Streams(phases=phases, streams=streams, massrows=massrows, mr_streams=mr_streams,
                   regions=_regions(region_index), first_phase=first_phase,
                   last_phase=last_phase)


def _columns(dtype: np.dtype, rows: list[tuple], names: tuple[str, ...]) -> np.ndarray:
    out = np.zeros(len(rows), dtype=dtype)
    for col, name in enumerate(names):
        out[name] = [row[col] for row in rows]
    return out


def _mass_rows(streams: np.ndarray, stream_rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Streams with the same object, region and weights share one mass row."""
    rows: dict[tuple, int] = {}
    for k, row in enumerate(stream_rows):
        streams[k]["mrow"] = rows.setdefault((row[1], row[2], row[3], row[4], row[5],
                                              *row[7:11]), len(rows))
    massrows = np.zeros(len(rows), dtype=MASSROW_DTYPE)
    order = np.argsort(streams["mrow"], kind="stable")
    counts = np.bincount(streams["mrow"], minlength=len(rows))
    massrows["count"] = counts
    massrows["first"] = np.concatenate([[0], np.cumsum(counts)[:-1]])
    massrows["random"][streams["mrow"]] = streams["kind"] != PAT_SWEEP
    return massrows, order.astype(np.int64)


def _regions(region_index: dict[tuple[int, int, int, int], int]) -> np.ndarray:
    """Sweep regions in first-seen order, each with its range of sweep buckets."""
    keys = sorted(region_index, key=region_index.get)
    nb = [-(-key[2] >> SWEEP_SHIFT) for key in keys]
    regions = np.zeros(len(keys), dtype=REGION_DTYPE)
    for col, name in enumerate(("obj", "first", "n", "stride")):
        regions[name] = [key[col] for key in keys]
    regions["nbuckets"] = nb
    regions["bucket_first"] = np.concatenate([[0], np.cumsum(nb)[:-1]]) if nb else []
    return regions
