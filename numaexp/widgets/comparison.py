"""The mode-comparison dashboard's model: settings in, one run per mode, plots and a table out."""

from __future__ import annotations

import dataclasses
import time

import pandas as pd

from numaexp.comparison import Comparison
from numaexp.errors import ScenarioError
from numaexp.experiment import check_runnable, simulate
from numaexp.model.kernel import NUMA_BALANCING_MEMORY_TIERING
from numaexp.model.units import PAGE_SIZE
from numaexp.viz import (
    plot_counters,
    plot_locality,
    plot_memory_stat,
    plot_pages_per_node,
    plot_placement,
    plot_scan_period,
    plot_tiering,
    plot_times,
)
from numaexp.widgets.base import RunModel
from numaexp.widgets.scenarios import (
    DashboardSettings,
    build_machine,
    build_scenario,
    build_scenarios,
    build_workload,
)

DASHBOARD_PLOTS = {
    "counters": plot_counters,
    "locality": plot_locality,
    "times": plot_times,
    "pages per node": plot_pages_per_node,
    "placement": plot_placement,
    "scan period": plot_scan_period,
    "memory.stat": plot_memory_stat,
}
"""Figures the dashboard shows, in tab order (plus ``tiering`` when a mode has bit 2)."""

SUMMARY_COLUMNS = ("label", "elapsed_s", "user_s", "system_s", "numa_pte_updates",
                   "numa_hint_faults", "hint_local_pct", "numa_pages_migrated",
                   "numa_task_migrated", "numa_task_swapped", "local_access_pct", "finished")
"""Columns of the dashboard's summary table."""

SUMMARY_STYLE = ("<style>.numaexp-summary-table th, .numaexp-summary-table td "
                 "{white-space: nowrap; padding: 2px 10px; text-align: right}</style>")
"""Keeps the summary table's labels and numbers on one line."""


class DashboardModel(RunModel):
    """Compare ``kernel.numa_balancing`` modes on the scenario the settings describe.

    Parameters
    ----------
    settings : DashboardSettings, optional
        Initial settings (defaults: a small numa01_THREAD_ALLOC on 2 x 4 CPUs,
        modes 0 and 1).

    Attributes
    ----------
    settings : DashboardSettings
        Edited by the view (or by code) before :meth:`run`.
    comparison : Comparison or None
        The last finished comparison.

    Examples
    --------
    >>> model = DashboardModel()                      # doctest: +SKIP
    >>> model.settings.modes = (0, 1)
    >>> model.run(blocking=True)
    >>> model.tables["summary"]
    """

    default_export_dir = "out/compare-modes"

    def __init__(self, settings: DashboardSettings | None = None):
        super().__init__()
        self.settings = settings or DashboardSettings()
        self.comparison: Comparison | None = None

    def cgroup_paths(self) -> list[str]:
        """Cgroups of the workload the settings describe (for ``cpu.numa_load_balance``)."""
        settings = dataclasses.replace(self.settings, numa_load_balance=())
        return [c.path for c in build_workload(settings, build_machine(settings)).all_cgroups()]

    def plan(self) -> list[tuple[str, int, str, object]]:
        """One ``(label, mode, variant, scenario)`` per selected mode and variant, each runnable."""
        plan = build_scenarios(self.settings)
        for *_, scenario in plan:
            check_runnable(scenario)
        return plan

    def execute(self, job, plan) -> None:
        """Simulate each mode, then draw the figures and the summary table."""
        started = time.perf_counter()
        results = {}
        steps = len(plan) + 1
        for i, (label, _mode, _variant, scenario) in enumerate(plan):
            job.check()
            self.update(progress=i / steps,
                        message=f"Simulating {label} ({i + 1} of {len(plan)}): "
                                f"{scenario.workload.name} on {scenario.machine.name}…")
            def advance(fraction, i=i):
                self.update(progress=(i + fraction) / steps)

            with job.interruptible():
                results.update(_run_backends(self.settings, label, scenario, advance))
        job.check()
        self.update(progress=len(plan) / steps, message="Drawing the figures…")
        comparison = Comparison(results=results, settings=pd.DataFrame(
            [{"label": _label(self.settings, label, backend), "mode": mode, "variant": variant,
              "backend": backend}
             for label, mode, variant, _ in plan for backend in self.settings.backends]))
        plots = dict(DASHBOARD_PLOTS)
        if len(self.settings.backends) > 1:
            plots.update(_backend_plots(comparison))
        if any(mode & NUMA_BALANCING_MEMORY_TIERING for _, mode, _, _ in plan):
            plots["tiering"] = plot_tiering
        figures = {}
        for name, plot in plots.items():  # a Cancel pressed while drawing stops here
            job.check()
            figures[name] = plot(comparison)
        job.check()
        frame = comparison.frame
        self.comparison = comparison
        tables = {"summary": frame[[c for c in SUMMARY_COLUMNS if c in frame]]}
        if len(self.settings.backends) > 1:
            from numaexp.kernel.side import comparison_ratios

            tables["sim/kernel"] = comparison_ratios(comparison)
        self.update(tables=tables)
        self.show_figures(figures)
        sim = ", ".join(f"{label} {r.meta['sim_seconds']:.2f} s" for label, r in results.items())
        self.update(message=f"Run {self.runs_finished + 1}: {len(plan)} run(s) of "
                            f"{plan[0][3].workload.name} in {time.perf_counter() - started:.1f} "
                            f"s (simulated: {sim}).")

    def export_frames(self):
        """The whole comparison: summary and every combined table."""
        return self.comparison

    def summary_html(self) -> str:
        """The summary table as HTML (empty before the first run)."""
        frame = self.tables.get("summary")
        if frame is None:
            return ""
        out = SUMMARY_STYLE + frame.to_html(index=False, classes="numaexp-summary-table",
                                            border=0, float_format=lambda x: f"{x:,.3f}")
        ratios = self.tables.get("sim/kernel")
        if ratios is not None:
            out += "<p><b>sim / kernel</b></p>" + ratios.to_html(
                index=False, classes="numaexp-summary-table", border=0,
                float_format=lambda x: f"{x:,.3g}")
        return out

    def describe(self) -> str:
        """One line naming the scenario the settings describe, or why they are invalid."""
        try:
            scenario = build_scenario(self.settings)
        except ScenarioError as err:
            return f"Invalid setting — {err}"
        return (f"{scenario.description} — {scenario.memory_pages * PAGE_SIZE / 2**30:.2f} GiB "
                "mapped")


def _label(settings: DashboardSettings, label: str, backend: str) -> str:
    return f"{label} {backend}" if len(settings.backends) > 1 else label


def _run_backends(settings: DashboardSettings, label: str, scenario, advance) -> dict:
    """The run of ``scenario`` on each selected backend (simulator and/or a QEMU guest)."""
    from numaexp.kernel.side import check_backends, tag_backend

    out = {}
    for backend in check_backends(settings.backends):
        if backend == "sim":
            run = scenario
            if settings.profile:
                from numaexp.model.cost_profiles import apply_profile

                run = apply_profile(scenario, settings.profile)
            result = simulate(run, progress=False, on_interrupt="raise", on_progress=advance)
            out[_label(settings, label, backend)] = tag_backend(result, "sim")
        else:
            from numaexp.kernel.run import run_kernel

            out[_label(settings, label, backend)] = run_kernel(scenario, kernel=settings.kernel,
                                                               progress=False)
    return out


def _backend_plots(comparison) -> dict:
    """One side-by-side figure per mode ("sim vs kernel, mode M")."""
    from numaexp.viz.backends import plot_sim_vs_kernel

    modes = comparison.settings["mode"].unique()
    return {f"sim vs kernel mode {m}": (lambda c, m=m: plot_sim_vs_kernel(c, mode=m))
            for m in modes}
