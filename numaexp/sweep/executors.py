"""Where sweep points run: a local process pool, any ``concurrent.futures`` executor, or Dask.

:class:`Dispatcher` submits points, yields their outcomes as they finish,
and resubmits a point whose worker was lost (a killed process, a lost Dask
worker): such a failure comes from the executor, never from the simulation,
which :func:`~numaexp.sweep.worker.run_point` catches itself. A local pool
that breaks (a worker process died) is replaced by a new one.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator

import numba

from numaexp.errors import ScenarioError
from numaexp.results import Result
from numaexp.sweep.lifeline import watch_parent
from numaexp.sweep.spec import Point
from numaexp.sweep.worker import STATUS_LOST, outcome, run_point

RETRIES = 2
"""Resubmissions of a point whose worker or executor failed, before it is recorded lost."""


def default_workers() -> int:
    """Number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def local_pool(workers: int | None = None) -> cf.ProcessPoolExecutor:
    """A process pool for sweep points.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: :func:`default_workers`).

    Notes
    -----
    Workers are started with ``spawn``: a fresh interpreter that imports
    numaexp and loads the compiled kernels from the numba cache (about a
    second, once per worker). Forking instead (``fork``, or a fork server
    that has imported numaexp) copies numba's OpenMP threading layer into
    the child, which aborts at its first parallel kernel. Each worker's
    parallel kernels use ``CPUs // workers`` threads (at least one), so the
    pool does not oversubscribe the CPUs. A worker ends within half a second
    when the process that made the pool dies (:mod:`numaexp.sweep.lifeline`).
    As with any such pool, a script that sweeps must guard its top level with
    ``if __name__ == "__main__":``.
    """
    workers = workers or default_workers()
    return cf.ProcessPoolExecutor(max_workers=workers,
                                  mp_context=multiprocessing.get_context("spawn"),
                                  initializer=init_worker,
                                  initargs=(max(1, default_workers() // workers), os.getpid()))


def init_worker(threads: int, parent_pid: int) -> None:
    """Pool initializer: end with the parent (:func:`~numaexp.sweep.lifeline.watch_parent`),
    use at most ``threads`` threads in numba's parallel kernels."""
    watch_parent(parent_pid)
    limit_threads(threads)


def limit_threads(threads: int) -> None:
    """Use at most ``threads`` threads in numba's parallel kernels."""
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def as_executor(executor) -> tuple[cf.Executor, bool]:
    """The executor to submit to, and whether the sweep owns it (and may replace it).

    Parameters
    ----------
    executor : None, int, concurrent.futures.Executor or dask.distributed.Client
        ``None``: a :func:`local_pool` on every CPU; an int: a local pool of
        that many workers; a Dask ``Client``: its executor.
    """
    if executor is None or (isinstance(executor, int) and not isinstance(executor, bool)):
        if executor is not None and executor < 1:
            raise ScenarioError("executor", f"{executor} workers", "an integer >= 1")
        return local_pool(executor), True
    if callable(getattr(executor, "get_executor", None)):  # dask.distributed.Client
        return executor.get_executor(pure=False), False
    if isinstance(executor, cf.Executor):
        return executor, False
    raise ScenarioError("executor", f"cannot run points on a {type(executor).__name__}",
                        "None, a number of local workers, a concurrent.futures.Executor or a "
                        "dask.distributed.Client")


class Dispatcher:
    """Runs points on an executor, resubmitting lost ones.

    Parameters
    ----------
    executor : see :func:`as_executor`
    full : bool
        Bring each point's whole :class:`~numaexp.results.Result` back.
    """

    def __init__(self, executor=None, full: bool = False):
        self._pool, self._owned = as_executor(executor)
        self._workers = executor if self._owned else None
        self._full = full
        self._pending: dict[cf.Future, Point] = {}

    def _submit(self, point: Point) -> BaseException | None:
        """Submit ``point``; the error if the executor refused it."""
        try:
            self._pending[self._pool.submit(run_point, point.scenario, self._full)] = point
            return None
        except (RuntimeError, cf.BrokenExecutor) as err:  # shut down or broken
            if not self._owned:
                return err
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = local_pool(self._workers)
        self._pending[self._pool.submit(run_point, point.scenario, self._full)] = point
        return None

    def run(self, points: Iterable[Point]) -> Iterator[tuple[Point, dict, Result | None]]:
        """Yield ``(point, outcome, result)`` for every point, in the order they finish."""
        attempts: Counter[str] = Counter()
        for point in points:
            err = self._submit(point)
            if err is not None:
                yield point, _lost(err), None
        while self._pending:
            done, _ = cf.wait(self._pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                point = self._pending.pop(future)
                try:
                    record, result = future.result()
                except Exception as err:  # the worker or the executor failed, not the run
                    attempts[point.key] += 1
                    if attempts[point.key] <= RETRIES:
                        refused = self._submit(point)
                        if refused is None:
                            continue
                        err = refused
                    record, result = _lost(err), None
                yield point, record, result

    def close(self, cancel: bool = False) -> None:
        """Cancel what is still pending (with ``cancel``) and shut down an owned pool."""
        if cancel:
            for future in self._pending:
                future.cancel()
            self._pending.clear()
        if self._owned:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def _lost(err: BaseException) -> dict:
    error = f"{type(err).__name__}: {err} (worker or executor failure; the point can be resumed)"
    return outcome(STATUS_LOST, time.perf_counter(), error=error)
