"""What runs on a worker: one simulation, its outcome as a flat record.

:func:`run_point` never raises for a failed simulation: the error is part
of the outcome, so one bad point does not stop a sweep. It imports only
:mod:`numaexp` (workers load the compiled kernels from the numba cache,
see :mod:`numaexp.sim.engine.jit`).
"""

from __future__ import annotations

import datetime
import os
import socket
import time
from importlib.metadata import PackageNotFoundError, version

from numaexp.experiment import simulate
from numaexp.model.scenario import Scenario
from numaexp.readout import SYSTEM_TIME_COLUMNS
from numaexp.results import Result

STATUS_OK, STATUS_ERROR, STATUS_LOST = "ok", "error", "lost"
"""Outcome of a point: simulated; the simulation raised; the worker or executor failed."""


def package_version() -> str:
    """Version of the installed numaexp package (``"unknown"`` when not installed)."""
    try:
        return version("numaexp")
    except PackageNotFoundError:
        return "unknown"


def _scalar(value):
    """A Python scalar from a NumPy one (so records compare and store alike)."""
    return value.item() if hasattr(value, "item") else value


def metrics(result: Result) -> dict:
    """Summary figures, every vmstat counter and the breakdown of system time (the ``times``
    frame's total row) of a result, as Python scalars."""
    out = {key: _scalar(v) for key, v in result.summary.items()}
    out.update({key: _scalar(v) for key, v in result.vmstat.iloc[0].items()})
    times = result.times
    total = times[times["level"] == "total"].iloc[0]
    out.update({col.name: _scalar(total[col.name]) for col in SYSTEM_TIME_COLUMNS})
    out["sim_seconds"] = float(result.meta["sim_seconds"])
    return out


def outcome(status: str, started: float, error: str | None = None,
            figures: dict | None = None) -> dict:
    """A point's outcome record (without the point's key and parameters)."""
    return {
        "status": status,
        "error": error,
        **(figures or {}),
        "wall_s": time.perf_counter() - started,
        "version": package_version(),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="milliseconds"),
    }


def run_point(scenario: Scenario, full: bool = False) -> tuple[dict, Result | None]:
    """Simulate one point.

    Parameters
    ----------
    scenario : Scenario
        The point's resolved scenario.
    full : bool
        Return the whole :class:`~numaexp.results.Result` too.

    Returns
    -------
    outcome : dict
        ``status`` (``"ok"`` or ``"error"``), ``error`` (exception type and
        message), the summary figures (``finished`` is false for a run that
        hit ``stop.max_duration_s``) and vmstat counters (ok points),
        ``sim_seconds``, ``wall_s``
        (wall seconds of the run), ``version``, ``worker`` (host:pid) and
        ``finished_at`` (UTC, ISO 8601).
    result : Result or None
        With ``full`` and a successful run.
    """
    started = time.perf_counter()
    try:
        result = simulate(scenario, progress=False, on_interrupt="raise")
    except Exception as err:  # recorded: one failed point must not stop a sweep
        return outcome(STATUS_ERROR, started, error=f"{type(err).__name__}: {err}"), None
    record = outcome(STATUS_OK, started, figures=metrics(result))
    return record, result if full else None
