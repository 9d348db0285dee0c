"""Run scenarios: :func:`simulate` (one run) and :func:`compare` (one run per mode).

Both validate before allocating anything, show a progress bar (tqdm.auto)
on runs that last more than a second, and keep what finished when
interrupted (Ctrl-C or a notebook interrupt): the partial run is returned,
marked ``meta["finished"] = False`` and ``meta["interrupted"] = True``.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from numaexp.errors import ScenarioError
from numaexp.model.kernel import MODE_NAMES, KernelVariant, comparison_runs
from numaexp.model.scenario import Scenario
from numaexp.model.units import format_size
from numaexp.results import FRAME_NAMES, Result, build_result
from numaexp.sim.engine.actions import ActionApplier
from numaexp.sim.engine.build.estimate import estimate_bytes
from numaexp.sim.engine.runner import Runner
from numaexp.sim.kernel import policies as _kernel_policies  # noqa: F401 (registers them)

MEMORY_HEADROOM = 0.8
"""Share of the available memory a run may use for its state."""


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
             on_interrupt: str = "return", on_progress=None) -> Result:
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
        On KeyboardInterrupt, return the partial result (with a warning) or
        re-raise.
    on_progress : callable, optional
        ``on_progress(fraction)`` after every sample, with the share of the
        run done so far (0..1): of its work, for a ``"work"`` run whose work
        is known as above, else of its time limit; for widgets' progress bars.

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
    wall0 = time.perf_counter()
    runner = Runner(scenario)
    limit = scenario.stop.limit_s
    interval = scenario.sample_interval_s
    samples = [runner.sample()]
    interrupted = False
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
            samples.append(runner.sample())
            share = _show_progress(bar, runner, work_total, limit, done)
            if on_progress is not None:
                on_progress(share)
    except KeyboardInterrupt:
        if on_interrupt == "raise":
            raise
        interrupted = True
        warnings.warn(f"simulation of {scenario.name!r} interrupted at "
                      f"{runner.now_s:.2f} simulated s; returning the partial result",
                      stacklevel=2)
    finally:
        bar.close()
    sim_seconds = runner.now_s
    if done:
        finish_ns = runner.arrays.tk["finish_ns"]
        sim_seconds = float(max(finish_ns.max(initial=0), 0)) / 1e9 or sim_seconds
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
        "version": _version(),
    }
    run = {"mode": scenario.kernel.numa_balancing, "variant": scenario.kernel.variant.label,
           "policy": scenario.kernel.policy.label, "backend": "sim"}
    result = build_result(scenario, runner.layout, runner.final(sim_seconds), samples, meta, run)
    result.meta["local_access_pct"] = _local_access_pct(result.task_timeseries)
    failed = int(result.vmstat["alloc_failed"].iloc[0])
    if failed:
        warnings.warn(f"{scenario.name!r}: {failed} first touches found no allowed node with "
                      "free memory and were dropped (vmstat alloc_failed; the kernel would "
                      "reclaim or OOM-kill): results past that point are not the kernel's",
                      stacklevel=2)
    if scenario.stop.kind == "work" and not done and not interrupted:
        warnings.warn(f"{scenario.name!r}: not every thread finished within "
                      f"stop.max_duration_s = {scenario.stop.max_duration_s} s", stacklevel=2)
    return result


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
    touches.
    """
    phases = runner.arrays.ph
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


def _local_access_pct(tts: pd.DataFrame) -> float:
    """Share of all touches that hit the toucher's node, % (weighted by work per sample)."""
    if tts.empty:
        return float("nan")
    frame = tts.sort_values(["pid", "time_s"])
    done = frame.groupby("pid")["touches"].diff().fillna(0.0).clip(lower=0.0)
    total = done.sum()
    if total <= 0:
        return float("nan")
    # locality sampled at the end of each interval stands for the interval
    return float(100.0 * (done * frame["locality"]).sum() / total)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("numaexp")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Comparison:
    """Runs of one scenario under several settings.

    Attributes
    ----------
    results : dict of str to Result
        One result per label (e.g. ``"mode 1"``), in run order.
    settings : DataFrame
        One row per label: the settings that differ (``mode``, ...).
    """

    results: dict[str, Result]
    settings: pd.DataFrame = field(repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """One tidy row per run: settings, summary figures and every vmstat counter."""
        rows = []
        for label, result in self.results.items():
            row = {"label": label, **self._settings_of(label), **result.summary.to_dict()}
            row.update(result.vmstat.iloc[0].to_dict())
            rows.append(row)
        return pd.DataFrame(rows)

    def table(self, name: str) -> pd.DataFrame:
        """Frame ``name`` (e.g. ``"times"``) of every run, with the settings as columns."""
        if name not in FRAME_NAMES:
            raise ScenarioError("name", f"unknown frame {name!r}", ", ".join(FRAME_NAMES))
        parts = []
        for label, result in self.results.items():
            part = result.frames[name].copy()
            for key, value in reversed(list({"label": label,
                                             **self._settings_of(label)}.items())):
                if key in part.columns:  # frames carry their mode and variant
                    part.pop(key)
                part.insert(0, key, value)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def _settings_of(self, label: str) -> dict:
        row = self.settings[self.settings["label"] == label].iloc[0].to_dict()
        row.pop("label")
        return row

    def save(self, directory: str | Path, formats: tuple[str, ...] = ("parquet", "csv")) -> Path:
        """Write the summary frame and every combined table (Parquet and/or CSV)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"summary": self.frame, **{name: self.table(name) for name in FRAME_NAMES}}
        for name, frame in tables.items():
            if "parquet" in formats:
                frame.to_parquet(out / f"{name}.parquet", index=False)
            if "csv" in formats:
                frame.to_csv(out / f"{name}.csv", index=False)
        return out

    def _repr_html_(self) -> str:
        cols = ["label", "elapsed_s", "user_s", "system_s", "numa_hint_faults", "hint_local_pct",
                "numa_pages_migrated", "numa_task_migrated", "numa_task_swapped",
                "local_access_pct"]
        frame = self.frame
        return "<div><b>numaexp comparison</b>" + frame[[c for c in cols if c in frame]].to_html(
            index=False, float_format=lambda x: f"{x:,.3f}") + "</div>"


def compare(scenario: Scenario, modes=(0, 1), variants=None, *,
            progress: bool | None = None, backends=None, kernel="6.12",
            profile=None) -> Comparison:
    """Run ``scenario`` once per ``kernel.numa_balancing`` mode (and kernel variant).

    Parameters
    ----------
    scenario : Scenario
        The base scenario; its kernel mode (and variant) is replaced by each
        of ``modes`` (and ``variants``).
    modes : int or iterable of int
        Modes to compare, 0..4, each once; a single int runs that mode alone.
    variants : KernelVariant, str or iterable of them, optional
        Kernel variants (e.g. ``["rfc-v1", "rfc-v2", "hierarchical"]`` or
        ``"rfc-v2+interleave-as-posted"``), each once; a single variant runs
        that variant alone. Default: the scenario's own.
        Every (mode, variant) pair runs (mode 4 on ``mainline`` too: its
        sysctl takes 4, which turns scanning on but gates nothing).
    progress : bool, optional
        Progress bars (default on).
    backends : sequence of {"sim", "kernel"} or str, optional
        Run on the simulator (default), on a real kernel in a QEMU guest, or
        both: ``["sim", "kernel"]`` labels runs ``"mode M sim"`` and ``"mode
        M kernel"`` (see :func:`numaexp.kernel.side.compare_backends`).
    kernel : str or Path
        The kernel of the ``"kernel"`` backend (``"6.12"``, ``"6.1"`` or a
        bzImage path).
    profile : str, Path or CostProfile, optional
        Cost profile applied to the simulator's runs (e.g. ``"qemu-tcg"``).

    Returns
    -------
    Comparison
        Labels are ``"mode M"`` (one variant) or ``"mode M VARIANT"``.
        Every pair is validated before any run starts; interrupting keeps the
        finished runs (and the partial one).

    Raises
    ------
    ScenarioError
        For an unknown or repeated mode or variant, an empty list, or a
        scenario the simulator cannot run; before any run starts.
    """
    if not isinstance(scenario, Scenario):
        raise ScenarioError("scenario", f"expected a Scenario, got {type(scenario).__name__}")
    if backends is not None or profile is not None:
        return _compare_backends(scenario, modes, variants, progress, backends, kernel, profile)
    modes = _listed(modes, "modes", (int,), "a list of modes such as [0, 1], or one mode")
    if not modes:
        raise ScenarioError("modes", "no mode to compare", "a list such as [0, 1]")
    if variants is None:
        variant_list = [scenario.kernel.variant]
    else:
        variant_list = []
        for i, v in enumerate(_listed(variants, "variants", (str, KernelVariant),
                                      'a list of variants such as ["rfc-v1", "rfc-v2"], '
                                      "or one variant")):
            try:
                variant_list.append(KernelVariant.parse(v))
            except ScenarioError as err:
                raise err.under(f"variants[{i}]") from None
        if not variant_list:
            raise ScenarioError("variants", "no variant to compare",
                                'a list such as ["rfc-v1", "rfc-v2"]')
    scenarios = []
    for label, i, mode, variant in comparison_runs(modes, variant_list):
        try:
            kernel = dataclasses.replace(scenario.kernel, numa_balancing=mode, variant=variant)
            run = dataclasses.replace(scenario, kernel=kernel)
        except ScenarioError as err:
            raise err.under(f"modes[{i}]") from None
        check_runnable(run)
        scenarios.append((label, mode, variant.label, run))
    _refuse_repeats("modes", modes, "each mode once, such as [0, 1]")
    _refuse_repeats("variants", [v.label for v in variant_list],
                    'each variant once, such as ["rfc-v1", "rfc-v2"]')
    results: dict[str, Result] = {}
    for label, _mode, _variant, run in scenarios:
        result = simulate(run, progress=progress)
        results[label] = result
        if result.meta.get("interrupted"):
            break
    settings = pd.DataFrame([{"label": label, "mode": mode, "variant": variant}
                             for label, mode, variant, _ in scenarios if label in results])
    return Comparison(results=results, settings=settings)


def _compare_backends(scenario, modes, variants, progress, backends, kernel, profile):
    """:func:`compare` on the simulator and/or a real kernel (numaexp.kernel.side)."""
    from numaexp.kernel.side import compare_backends

    return compare_backends(scenario, modes, variants, backends=backends or ["sim"],
                            kernel=kernel, profile=profile, progress=progress)


def _listed(value, name: str, single: tuple[type, ...], allowed: str) -> list:
    """``value`` as a list: one item of a ``single`` type becomes a list of one."""
    if isinstance(value, single) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (str, bytes, bool)):
        raise ScenarioError(name, f"expected a list, got {value!r}", allowed)
    try:
        return list(value)
    except TypeError:
        raise ScenarioError(name, f"expected a list, got {type(value).__name__} {value!r}",
                            allowed) from None


def _refuse_repeats(name: str, items: list, allowed: str) -> None:
    for i, item in enumerate(items):
        if item in items[:i]:
            first = items.index(item)
            raise ScenarioError(name, f"{name}[{first}] and {name}[{i}] are both {item!r}",
                                allowed)
