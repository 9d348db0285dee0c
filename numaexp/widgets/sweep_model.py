"""The sweep widget's model: one or two scenario parameters over ranges, several seeds.

Each point is the base scenario with the parameters set by dotted paths
(``kernel.scan_period_min_ms``, ``machine.nodes[0].memory``; see
:mod:`numaexp.sweep.paths`), run in this process with :func:`numaexp.simulate`
so that the widget can show progress, cancel and redraw as points finish
(:func:`numaexp.sweep` runs large sweeps on process pools or clusters). The
results form a tidy frame: parameter columns, ``seed``, every summary metric
and vmstat counter.
"""

from __future__ import annotations

import itertools
import numbers
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from numaexp.errors import ScenarioError
from numaexp.experiment import check_runnable, simulate
from numaexp.model.params import PARAMS
from numaexp.model.scenario import Scenario
from numaexp.sweep.paths import get_path, set_paths
from numaexp.viz import plot_sweep, plot_sweep_heatmap
from numaexp.viz.sweeps import is_categorical
from numaexp.widgets.base import RunModel

SWEEP_PATHS = ("kernel.numa_balancing", "kernel.variant",
               *(p.path for p in PARAMS if p.kind != "bool" and not p.choices
                 and p.path != "kernel.numa_balancing"))
"""Parameters offered in the sweep widget: the mode and kernel variant (given as a list of
values), then the parameter table's numeric tunables and costs (any dotted path works)."""

SWEEP_METRICS = ("elapsed_s", "user_s", "system_s", "throughput_per_s", "local_access_pct",
                 "hint_local_pct", "numa_pte_updates", "numa_hint_faults",
                 "numa_pages_migrated", "numa_task_migrated", "numa_task_swapped")
"""Metrics offered in the sweep widget (every summary column and vmstat counter is kept)."""

REDRAW_INTERVAL_S = 1.0
"""Least wall time between two redraws while points finish, s."""


def parameter_values(start: float, stop: float, steps: int, scale: str = "linear") -> tuple:
    """Values of a swept parameter.

    Parameters
    ----------
    start, stop : float
        Ends of the range (both included).
    steps : int
        Number of values (>= 1; 1 gives ``start``).
    scale : {"linear", "log"}
        Even spacing or even ratios (log needs positive ends).

    Returns
    -------
    tuple
    """
    if steps < 1:
        raise ScenarioError("steps", f"must be >= 1 (got {steps})")
    if scale == "log":
        if start <= 0 or stop <= 0:
            raise ScenarioError("scale", "a log range needs positive ends",
                                "start and stop > 0, or a linear scale")
        values = np.geomspace(start, stop, steps)
    elif scale == "linear":
        values = np.linspace(start, stop, steps)
    else:
        raise ScenarioError("scale", f"unknown scale {scale!r}", '"linear" or "log"')
    return tuple(float(v) for v in values)


@dataclass
class SweepParameter:
    """One swept parameter.

    Parameters
    ----------
    path : str
        Dotted path into the scenario, e.g. ``"kernel.scan_period_min_ms"``.
    values : tuple
        Values to run (integer fields are rounded).
    """

    path: str
    values: tuple


@dataclass
class SweepSettings:
    """What the sweep widget runs.

    Parameters
    ----------
    parameters : list of SweepParameter
        One or two parameters; every combination of their values is a point.
    seeds : int
        Runs per point, with seeds ``base_seed`` .. ``base_seed + seeds - 1``
        (the same seeds at every point: common random numbers, so differences
        between points are not seed noise; the frame's ``repeat`` column is the
        seed index, for paired differences).
    base_seed : int
        First seed.
    metrics : tuple of str
        Columns plotted (one panel each).
    logx : bool
        Logarithmic x axis.
    """

    parameters: list[SweepParameter] = field(default_factory=lambda: [
        SweepParameter("kernel.scan_period_min_ms", (250, 500, 1000, 2000, 4000))])
    seeds: int = 2
    base_seed: int = 0
    metrics: tuple[str, ...] = ("elapsed_s", "numa_pages_migrated")
    logx: bool = True


def _coerce(path: str, current, values: tuple) -> tuple:
    """Values in the type of the field's current value: integers rounded, duplicates dropped
    (so the run count is that of distinct values); text and true/false fields refuse numbers.

    Raises
    ------
    ScenarioError
        Naming ``path`` when a value does not fit the field's type.
    """
    def refuse(kind: str):
        shown = ", ".join(repr(v) for v in values[:4])
        raise ScenarioError(path, f"a {kind} field cannot take {shown}",
                            f"{kind} values (it holds {current!r} now)")

    from numaexp.model.kernel import KernelVariant

    if isinstance(current, bool):
        if not all(isinstance(v, (bool, np.bool_)) or (isinstance(v, numbers.Real)
                                                       and v in (0, 1)) for v in values):
            refuse("true/false")
        return tuple(dict.fromkeys(bool(v) for v in values))
    if isinstance(current, (str, KernelVariant)):
        if not all(isinstance(v, str) for v in values):
            refuse("text")
        return tuple(dict.fromkeys(values))
    if isinstance(current, (int, float)):
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                   for v in values):
            refuse("number")
        if isinstance(current, int):
            return tuple(dict.fromkeys(round(float(v)) for v in values))
        return tuple(dict.fromkeys(float(v) for v in values))
    return tuple(values)


class SweepModel(RunModel):
    """Run a scenario over a grid of one or two parameters and several seeds.

    Parameters
    ----------
    scenario : Scenario
        The base scenario.
    settings : SweepSettings, optional

    Attributes
    ----------
    frame : DataFrame
        One row per finished run: parameter columns, ``repeat`` (the seed
        index), ``seed``, ``mode``, every summary metric and vmstat counter.
    """

    default_export_dir = "out/sweep"

    def __init__(self, scenario: Scenario, settings: SweepSettings | None = None):
        super().__init__()
        self._planned = 0
        if not isinstance(scenario, Scenario):
            raise ScenarioError("scenario", f"expected a Scenario, got {type(scenario).__name__}")
        self.scenario = scenario
        self.settings = settings or SweepSettings()
        self.frame = pd.DataFrame()

    def plan(self) -> list[tuple[dict, Scenario]]:
        """Every ``(parameters and seed, scenario)`` to run, seed-major, each validated."""
        s = self.settings
        if not 1 <= len(s.parameters) <= 2:
            raise ScenarioError("parameters", f"{len(s.parameters)} parameters given",
                                "one or two")
        if len({p.path for p in s.parameters}) != len(s.parameters):
            raise ScenarioError("parameters", "the same parameter twice", "two different paths")
        if s.seeds < 1:
            raise ScenarioError("seeds", f"must be >= 1 (got {s.seeds})")
        if s.base_seed < 0:
            raise ScenarioError("first seed", f"must be >= 0 (got {s.base_seed})")
        if not s.metrics:
            raise ScenarioError("metrics", "no metric selected", ", ".join(SWEEP_METRICS))
        grids = self.grids()
        plan = []
        for repeat, seed in enumerate(range(s.base_seed, s.base_seed + s.seeds)):
            for point in itertools.product(*grids):
                values = {p.path: v for p, v in zip(s.parameters, point, strict=True)}
                plan.append((values | {"repeat": repeat, "seed": seed},
                             set_paths(self.scenario, values | {"seed": seed})))
        check_runnable(plan[0][1])
        return plan

    def grids(self) -> list[tuple]:
        """The distinct values of each parameter, in its field's type (see :func:`_coerce`)."""
        grids = []
        for p in self.settings.parameters:
            values = _coerce(p.path, get_path(self.scenario, p.path), tuple(p.values))
            if not values:
                raise ScenarioError(p.path, "no values to sweep")
            grids.append(values)
        return grids

    def count(self) -> int:
        """Runs the settings make: distinct values of each parameter multiplied, times the
        seeds (raises ScenarioError as :meth:`plan` would for a bad parameter)."""
        if self.settings.seeds < 1:
            raise ScenarioError("seeds", f"must be >= 1 (got {self.settings.seeds})")
        total = self.settings.seeds
        for values in self.grids():
            total *= len(values)
        return total

    def execute(self, job, plan) -> None:
        """Run every point, redrawing the plots as points finish."""
        started = time.perf_counter()
        rows: list[dict] = []
        self.frame = pd.DataFrame()
        self._planned = len(plan)
        self.update(tables={}, figures={}, images={}, figure_names=[], results_note="")
        last_draw = 0.0
        for i, (params, scenario) in enumerate(plan):
            job.check()
            self.update(progress=i / len(plan),
                        message=f"Point {i + 1} of {len(plan)}: "
                                + ", ".join(f"{k} = {v}" for k, v in params.items()) + "…")
            def compiling(message, fraction, i=i):  # the first point of a fresh environment
                self.update(message=message[0].upper() + message[1:] + "…",
                            progress=(i + fraction) / len(plan))

            with job.interruptible():
                result = simulate(scenario, progress=False, on_interrupt="raise",
                                  on_compile=compiling)
            rows.append({**params, **result.summary.to_dict(),
                         **result.vmstat.iloc[0].to_dict()})
            self.frame = pd.DataFrame(rows)
            if time.perf_counter() - last_draw >= REDRAW_INTERVAL_S or i == len(plan) - 1:
                self.draw()
                last_draw = time.perf_counter()
        self.update(message=f"{len(plan)} runs in {time.perf_counter() - started:.1f} s.")

    def _finish(self, job) -> None:
        """As :meth:`RunModel._finish`, but a cancelled sweep's finished points are new
        results, only incomplete: said so (and not exported as a complete sweep)."""
        if job.status == "cancelled" and not self.frame.empty:
            self.update(status="cancelled", message=f"Cancelled. {self.message}",
                        results_note=f"Partial results: the sweep was cancelled after "
                                     f"{len(self.frame)} of {self._planned} runs. Run again "
                                     "for the whole sweep.")
            return
        super()._finish(job)

    def export_settings(self) -> tuple[str, dict]:
        """The base scenario as TOML (defaults included) and the sweep settings."""
        import dataclasses

        from numaexp.model.toml_io import scenario_to_toml

        return scenario_to_toml(self.scenario, defaults=True), dataclasses.asdict(self.settings)

    def metrics_redrawable(self) -> bool:
        """The plots can be redrawn for other metrics without running again."""
        return not self.running and not self.frame.empty and bool(self.settings.metrics)

    def shown_columns(self) -> list[str]:
        """Parameter columns, ``repeat``, ``seed`` and the chosen metrics (a compact table)."""
        return [*(p.path for p in self.settings.parameters), "repeat", "seed",
                *self.settings.metrics]

    def draw(self) -> None:
        """Redraw the sweep plots from :attr:`frame` (also after changing the metrics)."""
        params = [p.path for p in self.settings.parameters]
        metrics = list(self.settings.metrics)
        frame = self.frame
        makers = {"sweep": lambda: plot_sweep(frame, params[0], metrics,
                                              hue=params[1] if len(params) == 2 else None,
                                              logx=self.settings.logx
                                              and not is_categorical(frame, params[0]))}
        if len(params) == 2:
            makers["heatmap"] = lambda: plot_sweep_heatmap(frame, params[0], params[1], metrics)
        self.update(tables={"sweep": frame})
        self.show_figures(makers, first=len(makers))
