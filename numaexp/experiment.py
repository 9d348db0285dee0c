"""Run a scenario: :func:`simulate` (one run; :func:`numaexp.compare` runs several).

It validates before allocating anything, shows a progress bar (tqdm.auto)
on runs that last more than a second, and keeps what finished when
interrupted (Ctrl-C or a notebook interrupt): the partial run is returned,
marked ``meta["finished"] = False`` and ``meta["interrupted"] = True``. A
Ctrl-C that comes after the simulation ended, while its frames are built,
loses nothing either: the frames are built whole, and the run is returned
marked ``meta["interrupt_after_end"] = True`` (or raised in an
:class:`InterruptedAfterRun` that holds it).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

from numaexp.errors import ScenarioError
from numaexp.interrupts import hold_interrupts
from numaexp.model.kernel import MODE_NAMES
from numaexp.model.scenario import Scenario
from numaexp.model.units import format_size
from numaexp.results import Result, build_result
from numaexp.sim.engine.actions import ActionApplier
from numaexp.sim.engine.build.estimate import estimate_bytes, estimate_run_seconds, task_rows
from numaexp.sim.engine.runner import Runner
from numaexp.sim.kernel import policies as _kernel_policies  # noqa: F401 (registers them)
from numaexp.summary import local_access_pct
from numaexp.version import package_version
from numaexp.warmup import warm_up

MEMORY_HEADROOM = 0.8
"""Share of the available memory a run may use for its state."""

LONG_RUN_SECONDS = 60.0
"""Expected wall seconds above which :func:`simulate` warns before it starts."""


class InterruptedAfterRun(KeyboardInterrupt):
    """A Ctrl-C that came after a run's simulation ended, while its frames were built.

    Raised by :func:`simulate` with ``on_interrupt="raise"`` once the frames
    are built whole; ``result`` is the complete run (a KeyboardInterrupt, so
    code that stops on Ctrl-C stops, and code that keeps results can keep it).
    """

    def __init__(self, result: Result):
        super().__init__(f"interrupted after the simulation of {result.meta.get('scenario')!r} "
                         "ended; the complete result is in .result")
        self.result = result


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def check_runnable(scenario: Scenario) -> None:
    """Refuse scenarios the simulator cannot run here, before allocating anything.

    Raises
    ------
    ScenarioError
        For a scenario whose state would not fit in the available memory
        (the estimate is given).
    """
    need = estimate_bytes(scenario)
    have = available_memory()
    if need > MEMORY_HEADROOM * have:
        raise ScenarioError("workload",
                            f"the simulator state would take about {format_size(need)} "
                            f"({scenario.memory_pages:,} pages) but only {format_size(have)} "
                            "of memory is available",
                            "a smaller memory_scale or workload")


def simulate(scenario: Scenario, *, progress: bool | None = None,
             on_interrupt: str = "return", on_progress=None, on_compile=None) -> Result:
    """Simulate one scenario.

    Parameters
    ----------
    scenario : Scenario
        What to run.
    progress : bool, optional
        Show a progress bar (default: on, appearing only after one second).
        A ``stop.kind = "work"`` run shows the share of its work done when
        every phase ends after ``passes`` or ``touches``, else the simulated
        seconds without a total; a ``"duration"`` run shows the simulated
        seconds out of ``duration_s``.
    on_interrupt : {"return", "raise"}
        On KeyboardInterrupt during the simulation, return the partial result
        (with a warning) or re-raise. One after the simulation ended (while
        the frames are built) lets them be built, then returns the complete
        result marked ``meta["interrupt_after_end"] = True`` (with a warning),
        or raises :class:`InterruptedAfterRun` holding it.
    on_progress : callable, optional
        ``on_progress(fraction)`` after every sample, with the share of the
        run done so far (0..1): of its work, for a ``"work"`` run whose work
        is known as above, else of its time limit; for widgets' progress bars.
    on_compile : callable, optional
        ``on_compile(message, fraction)`` while the first run in a fresh
        environment compiles the kernels (:func:`numaexp.warmup.warm_up`, which
        shows its own progress bar; the run's bar and ETA start after it).

    Returns
    -------
    Result
    """
    if not isinstance(scenario, Scenario):
        raise ScenarioError("scenario", f"expected a Scenario, got {type(scenario).__name__}")
    if on_interrupt not in ("return", "raise"):
        raise ScenarioError("on_interrupt", f"unknown value {on_interrupt!r}",
                            '"return" or "raise"')
    check_runnable(scenario)
    _warn_if_work_cannot_finish(scenario)
    _warn_if_run_is_long(scenario)
    warm_up(progress=progress is not False, on_status=on_compile)
    wall0 = time.perf_counter()
    runner = Runner(scenario)
    limit = scenario.stop.limit_s
    interval = scenario.sample_interval_s
    samples = [runner.sample()]
    interrupted = False
    late = False  # a Ctrl-C after the ticks ended
    done = False
    work_total = _work_total(runner) if scenario.stop.kind == "work" else None
    bar = _progress_bar(scenario, work_total, disable=progress is False)
    actions = sorted(scenario.actions, key=lambda a: a.at_s)  # stable: ties keep list order
    applier = ActionApplier(runner)
    try:
        t = 0.0
        k = 0
        while not done and t < limit:
            k += 1
            t = min(limit, k * interval)  # not a running sum: its rounding error grows
            while actions and actions[0].at_s <= t and not done:
                done = runner.advance(actions[0].at_s)
                applier.apply(actions.pop(0))
            if not done:
                done = runner.advance(t)
            if runner.now_s == samples[-1]["time_s"]:
                samples.pop()  # the run ends in the tick of the last sample: keep one row
            samples.append(runner.sample())
            share = _show_progress(bar, runner, work_total, limit, done)
            if on_progress is not None:
                on_progress(share)
    except KeyboardInterrupt:
        if done or runner.now_s >= limit:  # in the last sample's bookkeeping: the run is whole
            late = True
            if samples[-1]["time_s"] != runner.now_s:
                samples.append(runner.sample())
        elif on_interrupt == "raise":
            raise
        else:
            interrupted = True
            warnings.warn(f"simulation of {scenario.name!r} interrupted at "
                          f"{runner.now_s:.2f} simulated s; returning the partial result",
                          stacklevel=2)
    finally:
        bar.close()
    with hold_interrupts() as held:  # the ticks are over: build the frames whatever comes
        for attempt in range(2):
            try:
                result = _build(scenario, runner, samples, done, interrupted, wall0)
                break
            except KeyboardInterrupt:  # raised in this thread (a widget's Cancel): once more
                if attempt:
                    raise
                late = True
    if (late or held) and not interrupted:
        result.meta["interrupt_after_end"] = True
        if on_interrupt == "raise":
            raise InterruptedAfterRun(result)
        warnings.warn(f"simulation of {scenario.name!r} interrupted after it ended, while its "
                      "frames were built; returning the complete result", stacklevel=2)
    return result


def _build(scenario: Scenario, runner, samples: list, done: bool, interrupted: bool,
           wall0: float) -> Result:
    """The :class:`Result` of a run whose ticks are over (complete, or cut by a Ctrl-C)."""
    limit = scenario.stop.limit_s
    sim_seconds = runner.now_s
    if done:  # when the last thread finished, kernel time it owed included, within the stop
        finish_ns = runner.arrays.tk["finish_ns"]
        sim_seconds = min(float(max(finish_ns.max(initial=0), 0)) / 1e9 or sim_seconds, limit)
    meta = {
        "scenario": scenario.name,
        "workload": scenario.workload.name,
        "machine": scenario.machine.name,
        "mode_name": MODE_NAMES[scenario.kernel.numa_balancing],
        "sim_seconds": sim_seconds,
        "wall_seconds": time.perf_counter() - wall0,
        "finished": bool(done),
        "interrupted": interrupted,
        "events_dropped": runner.events_dropped,
        "version": package_version(),
    }
    run = {"mode": scenario.kernel.numa_balancing, "variant": scenario.kernel.variant.label,
           "policy": scenario.kernel.policy.label, "backend": "sim"}
    result = build_result(scenario, runner.layout, runner.final(sim_seconds), samples, meta, run)
    result.meta["local_access_pct"] = local_access_pct(result.task_timeseries)
    failed = int(result.vmstat["alloc_failed"].iloc[0])
    if failed:
        warnings.warn(f"{scenario.name!r}: {failed} first touches found no allowed node with "
                      "free memory and were dropped (vmstat alloc_failed; the kernel would "
                      "reclaim or OOM-kill): results past that point are not the kernel's",
                      stacklevel=3)
    missing = int(result.vmstat["as_posted_missing_node"].iloc[0])
    if missing:
        warnings.warn(f"{scenario.name!r}: as posted, patch 3's NUMA_TASK_MIG (1) was taken "
                      f"for the target node of {missing} THP hinting fault(s), and node 1 does "
                      "not exist on this machine: the posted kernel would dereference "
                      "NODE_DATA(1) (vmstat as_posted_missing_node; the folios stayed put)",
                      stacklevel=3)
    if scenario.stop.kind == "work" and not done and not interrupted:
        warnings.warn(f"{scenario.name!r}: not every thread finished within "
                      f"stop.max_duration_s = {scenario.stop.max_duration_s} s", stacklevel=3)
    return result


def _warn_if_run_is_long(scenario: Scenario) -> None:
    """Warn, before running, of a run expected to take more than :data:`LONG_RUN_SECONDS`.

    The estimate (:func:`~numaexp.sim.engine.build.estimate.estimate_run_seconds`)
    grows with the CPUs, the tasks and the simulated seconds; a ``"work"`` run
    is estimated up to ``stop.max_duration_s``, which it may not reach.
    """
    expected = estimate_run_seconds(scenario)
    if expected <= LONG_RUN_SECONDS:
        return
    stop = scenario.stop
    until = (f"its {stop.duration_s:g} simulated s" if stop.kind == "duration" else
             f"stop.max_duration_s = {stop.max_duration_s:g} simulated s, if its work "
             "lasts that long")
    about = f"{expected:.0f} s" if expected < 120 else f"{expected / 60:,.0f} min"
    warnings.warn(f"{scenario.name!r} is expected to take at least {about} of "
                  f"wall time to {until} ({scenario.machine.nr_cpus:,} CPUs, "
                  f"{task_rows(scenario):,} tasks, {scenario.kernel.hz} ticks per simulated "
                  "second); a shorter duration or fewer threads and CPUs run sooner",
                  stacklevel=3)


def _warn_if_work_cannot_finish(scenario: Scenario) -> None:
    """Warn, before running, of a ``"work"`` run that its time limit will cut short.

    A thread takes at least the sum of its phases' ``duration_s``; if that
    exceeds ``stop.max_duration_s``, the run can only end at the limit.
    """
    if scenario.stop.kind != "work":
        return
    limit = scenario.stop.max_duration_s
    for proc in scenario.workload.processes:
        for thread in proc.threads:
            timed = sum(ph.duration_s for ph in thread.phases if ph.duration_s is not None)
            if timed > limit:
                warnings.warn(f"{scenario.name!r}: thread {proc.name}/{thread.name} cannot "
                              f"finish within stop.max_duration_s = {limit} s (its phases' "
                              f"duration_s add up to {timed} s): the run will stop at the limit",
                              stacklevel=3)
                return


def _work_total(runner: Runner) -> float | None:
    """Touches the threads must make to finish, or None when that is not known.

    Known when every phase ends after a number of touches (``passes`` or
    ``touches``); a phase that ends after ``duration_s`` is not measured in
    touches. Background tasks (``Scenario.background``) are not the work.
    """
    phases = runner.arrays.ph
    phases = phases[phases["task"] < len(runner.layout.tasks)]  # the workload's, not background
    if len(phases) == 0 or not np.isfinite(phases["end_touches"]).all() \
            or np.isfinite(phases["end_ns"]).any():
        return None
    total = float(phases["end_touches"].sum())
    return total if total > 0 else None


def _progress_bar(scenario: Scenario, work_total: float | None, disable: bool):
    """A tqdm bar that shows what is known of how far the run has come.

    ``stop.kind = "duration"``: simulated seconds out of ``duration_s``.
    ``"work"`` with a known amount of work (:func:`_work_total`): the share
    of the touches made (``max_duration_s`` is only a safety limit, so it
    says nothing of when the run ends). Otherwise: the simulated seconds,
    with no total and no ETA.
    """
    common = {"delay": 1.0, "leave": False, "disable": disable,
              "desc": f"{scenario.name} mode {scenario.kernel.numa_balancing}"}
    if scenario.stop.kind == "duration":
        return tqdm(total=round(scenario.stop.limit_s, 3), unit="sim s", **common)
    if work_total is not None:
        return tqdm(total=100.0, unit="%",
                    bar_format="{desc}: {percentage:3.0f}% of the work |{bar}| "
                               "{elapsed}<{remaining}{postfix}", **common)
    return tqdm(total=None, unit="sim s",
                bar_format="{desc}: {n:.2f} sim s [{elapsed}, {rate_fmt}]", **common)


def _show_progress(bar, runner: Runner, work_total: float | None, limit: float,
                   done: bool) -> float:
    """Move ``bar`` on; return the share of the run done, in [0, 1].

    The share is that of the work when it is known (:func:`_work_total`),
    else that of the simulated time limit.
    """
    if work_total is None:
        bar.update(round(runner.now_s - bar.n, 3))
        return 1.0 if done else min(1.0, runner.now_s / limit)
    share = 1.0 if done else min(1.0, float(runner.arrays.tk["touches"].sum()) / work_total)
    bar.set_postfix_str(f"{runner.now_s:.2f} sim s", refresh=False)
    bar.update(100.0 * share - bar.n)
    return share
