"""Run a sweep: every point of a spec, on an executor, into one tidy frame.

The frame has one row per point, in the spec's order: the parameters (one
column per path), ``repeat`` and ``seed``, then ``key`` (the point's scenario
hash), ``status`` (``ok``, ``error``: the simulation raised, ``lost``: its
worker failed ``RETRIES + 1`` times), ``error``, the summary
figures of :attr:`numaexp.results.Result.summary`, every vmstat counter,
``sim_seconds``, ``wall_s``, ``version``, ``worker`` and ``finished_at``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from tqdm.auto import tqdm

from numaexp.errors import ScenarioError
from numaexp.results import FRAME_NAMES, Result
from numaexp.sweep.executors import Dispatcher
from numaexp.sweep.hashing import canonical_json
from numaexp.sweep.spec import Point, SweepSpec
from numaexp.sweep.store import Store
from numaexp.sweep.worker import STATUS_OK
from numaexp.warmup import warm_up

_POINT_COLUMNS = ("params", "sweep", "repeat", "seed")
"""Store columns that describe the point rather than its outcome."""


@dataclass
class SweepResult:
    """A sweep's frame and the whole results of the points it ran.

    Attributes
    ----------
    frame : DataFrame
        One row per point (see :func:`sweep`).
    results : dict of str to Result
        Point key -> result, for the points simulated by this call (points
        found in the store have no full result).
    spec : SweepSpec
        What was swept.
    """

    frame: pd.DataFrame
    results: dict[str, Result] = field(repr=False)
    spec: SweepSpec = field(repr=False)

    def table(self, name: str) -> pd.DataFrame:
        """Frame ``name`` (e.g. ``"timeseries"``) of every point with a result, with the
        point's parameters, ``repeat``, ``seed`` and ``key`` as leading columns."""
        if name not in FRAME_NAMES:
            raise ScenarioError("name", f"unknown frame {name!r}", ", ".join(FRAME_NAMES))
        parts = []
        for point in self.spec.points():
            if point.key in self.results:
                part = self.results[point.key].frames[name].copy()
                for column, value in reversed({**point.row(), "key": point.key}.items()):
                    part.insert(0, column, value)
                parts.append(part)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def sweep(spec: SweepSpec | str | os.PathLike, executor=None, store=None, full: bool = False,
          progress: bool = True, on_point: Callable[[dict], None] | None = None,
          on_interrupt: str = "return") -> pd.DataFrame | SweepResult:
    """Run every point of a sweep.

    Parameters
    ----------
    spec : SweepSpec, or path of a spec ``.toml`` file
        What to run.
    executor : None, int, concurrent.futures.Executor or dask.distributed.Client
        Where points run: ``None`` (default) a local process pool with one
        worker per CPU, an int a local pool of that many workers, any
        ``concurrent.futures.Executor``, or a Dask ``Client`` (its
        executor). A pool made here is shut down at the end; a given one is
        left running (to run many small sweeps, make one
        :func:`~numaexp.sweep.executors.local_pool` and pass it to each: a
        new pool's workers take about a second to start).
    store : str or path-like, optional
        Directory of a results store (:class:`~numaexp.sweep.store.Store`).
        Every point is written there as it finishes; points already stored
        with status ``ok`` are not run again, so calling again after an
        interruption resumes the sweep (points that failed run again).
    full : bool
        Also return each simulated point's whole result.
    progress : bool
        Progress bar (tqdm), advancing as points finish. In a fresh environment
        the kernels are compiled first, in this process, under their own bar
        (:func:`numaexp.warmup.warm_up`; not for a Dask ``Client``, whose
        workers may be other machines with caches of their own).
    on_point : callable, optional
        Called with each finished point's row (a dict) as it finishes.
    on_interrupt : {"return", "raise"}
        On KeyboardInterrupt: cancel what is pending and return the finished
        points (with a warning), or re-raise.

    Returns
    -------
    DataFrame or SweepResult
        The frame described in :mod:`numaexp.sweep.run`; with ``full`` a
        :class:`SweepResult` holding it and the results.

    Raises
    ------
    ScenarioError
        For an invalid spec or point, before anything runs.
    """
    if not isinstance(spec, SweepSpec):
        spec = SweepSpec.load(spec)
    if on_interrupt not in ("return", "raise"):
        raise ScenarioError("on_interrupt", f"unknown value {on_interrupt!r}",
                            '"return" or "raise"')
    points = spec.points()
    unique = {point.key: point for point in points}
    target = Store(store) if store is not None else None
    records = {}
    if target is not None:
        records = {key: record for key, record in target.read().items()
                   if key in unique and record["status"] == STATUS_OK}
    todo = [point for key, point in unique.items() if key not in records]
    if todo and not callable(getattr(executor, "get_executor", None)):  # local workers
        # compile once here, saying so, before the points' bar (its ETA then leaves the
        # compile out): the workers load the kernels from numba's cache on disk
        warm_up(progress=progress)
    results: dict[str, Result] = {}
    bar = tqdm(total=len(unique), initial=len(records), unit="point", desc=spec.name,
               disable=not progress, smoothing=0.1)
    dispatcher = None
    finished = False
    try:
        if todo:
            dispatcher = Dispatcher(executor, full=full)
        for point, outcome, result in dispatcher.run(todo) if dispatcher else ():
            record = {"key": point.key, **outcome}
            if target is not None:
                target.write({"sweep": spec.name, "params": canonical_json(point.params),
                              "repeat": point.repeat, "seed": point.seed, **record})
            records[point.key] = record
            if result is not None:
                results[point.key] = result
            bar.update()
            if on_point is not None:
                on_point({**point.row(), **record})
        finished = True
    except KeyboardInterrupt:
        if on_interrupt == "raise":
            raise
        warnings.warn(f"sweep {spec.name!r} interrupted: returning the {len(records)} of "
                      f"{len(unique)} points finished" + (f"; sweep(..., store={str(store)!r}) "
                                                          "resumes it" if store else ""),
                      stacklevel=2)
    finally:
        if dispatcher is not None:
            dispatcher.close(cancel=not finished)
        bar.close()
    frame = sweep_frame(points, records)
    return SweepResult(frame=frame, results=results, spec=spec) if full else frame


def sweep_frame(points: list[Point], records: dict[str, dict]) -> pd.DataFrame:
    """One row per point that has a record, in point order.

    Columns: the point's parameters, ``repeat`` and ``seed``, then the
    record's outcome columns, ordered as in the first successful record.
    """
    rows = []
    for point in points:
        if point.key in records:
            outcome = {k: v for k, v in records[point.key].items() if k not in _POINT_COLUMNS}
            rows.append({**point.row(), **outcome})
    if not rows:
        return pd.DataFrame(columns=[*(points[0].row() if points else {}), "key", "status"])
    first = next((r for r in rows if r["status"] == STATUS_OK), rows[0])
    columns = list(first) + [c for c in dict.fromkeys(k for r in rows for k in r)
                             if c not in first]
    return pd.DataFrame(rows, columns=columns)
