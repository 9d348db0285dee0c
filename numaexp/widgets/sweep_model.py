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
from numaexp.widgets.base import RunModel

SWEEP_PATHS = tuple(p.path for p in PARAMS if p.kind != "bool" and not p.choices
                    and p.path != "kernel.numa_balancing")
"""Parameters offered in the sweep widget: the parameter table's numeric tunables and
costs (any dotted path to a number works)."""

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
        (the same seeds at every point, so differences between points are not
        seed noise).
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


def _coerce(current, values: tuple) -> tuple:
    """Values in the type of the field's current value (integers rounded, duplicates dropped)."""
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        return tuple(values)
    if isinstance(current, int):
        return tuple(dict.fromkeys(round(float(v)) for v in values))
    return tuple(float(v) for v in values)


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
        One row per finished run: parameter columns, ``seed``, ``mode``,
        every summary metric and vmstat counter.
    """

    default_export_dir = "out/sweep"

    def __init__(self, scenario: Scenario, settings: SweepSettings | None = None):
        super().__init__()
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
        if not s.metrics:
            raise ScenarioError("metrics", "no metric selected", ", ".join(SWEEP_METRICS))
        grids = []
        for p in s.parameters:
            values = _coerce(get_path(self.scenario, p.path), tuple(p.values))
            if not values:
                raise ScenarioError(p.path, "no values to sweep")
            grids.append(values)
        plan = []
        for seed in range(s.base_seed, s.base_seed + s.seeds):
            for point in itertools.product(*grids):
                values = {p.path: v for p, v in zip(s.parameters, point, strict=True)}
                plan.append((values | {"seed": seed},
                             set_paths(self.scenario, values | {"seed": seed})))
        check_runnable(plan[0][1])
        return plan

    def execute(self, job, plan) -> None:
        """Run every point, redrawing the plots as points finish."""
        started = time.perf_counter()
        rows: list[dict] = []
        self.frame = pd.DataFrame()
        self.update(tables={}, figures={}, images={})
        last_draw = 0.0
        for i, (params, scenario) in enumerate(plan):
            job.check()
            self.update(progress=i / len(plan),
                        message=f"Point {i + 1} of {len(plan)}: "
                                + ", ".join(f"{k} = {v}" for k, v in params.items()) + "…")
            with job.interruptible():
                result = simulate(scenario, progress=False, on_interrupt="raise")
            rows.append({**params, **result.summary.to_dict(),
                         **result.vmstat.iloc[0].to_dict()})
            self.frame = pd.DataFrame(rows)
            if time.perf_counter() - last_draw >= REDRAW_INTERVAL_S or i == len(plan) - 1:
                self.draw()
                last_draw = time.perf_counter()
        self.update(message=f"{len(plan)} runs in {time.perf_counter() - started:.1f} s.")

    def metrics_redrawable(self) -> bool:
        """The plots can be redrawn for other metrics without running again."""
        return not self.running and not self.frame.empty and bool(self.settings.metrics)

    def shown_columns(self) -> list[str]:
        """Parameter columns, ``seed`` and the chosen metrics (for a compact table)."""
        return [*(p.path for p in self.settings.parameters), "seed", *self.settings.metrics]

    def draw(self) -> None:
        """Redraw the sweep plots from :attr:`frame` (also after changing the metrics)."""
        params = [p.path for p in self.settings.parameters]
        metrics = list(self.settings.metrics)
        figures = {"sweep": plot_sweep(self.frame, params[0], metrics,
                                       hue=params[1] if len(params) == 2 else None,
                                       logx=self.settings.logx)}
        if len(params) == 2:
            figures["heatmap"] = plot_sweep_heatmap(self.frame, params[0], params[1], metrics)
        self.update(tables={"sweep": self.frame})
        self.show_figures(figures)
