"""The mode-comparison dashboard's model: settings in, one run per mode, plots and a table out."""

from __future__ import annotations

import dataclasses
import html
import time

import pandas as pd

from numaexp.comparison import Comparison
from numaexp.errors import ScenarioError
from numaexp.experiment import check_runnable, simulate
from numaexp.model.units import PAGE_SIZE
from numaexp.viz.catalog import PLOTS, applicable
from numaexp.viz.html import notices_html, scrolling_table
from numaexp.widgets.base import RunModel
from numaexp.widgets.scenarios import (
    DashboardSettings,
    build_machine,
    build_scenario,
    build_scenarios,
    build_workload,
)

DASHBOARD_PLOTS = PLOTS
"""Figures the dashboard can show, in tab order (those that apply to the runs: see
:func:`numaexp.viz.applicable`)."""

SUMMARY_COLUMNS = ("label", "finished", "elapsed_s", "throughput_per_s", "speedup", "user_s",
                   "system_s", "numa_pte_updates", "numa_hint_faults", "hint_local_pct",
                   "numa_pages_migrated", "pgpromote_success", "pgpromote_candidate",
                   "pgdemote_kswapd", "numa_task_migrated", "numa_task_swapped",
                   "local_access_pct")
"""Columns of the dashboard's summary table (it scrolls sideways)."""


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
        self.plan_scenario = None
        self.sentences: list[str] = []
        self.notes: list = []

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
        """Simulate each mode, then show the summary, sentences, notices and first figure."""
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

            def compiling(message, fraction, i=i):
                self.update(message=message[0].upper() + message[1:] + "…",
                            progress=(i + fraction) / steps)

            with job.interruptible():
                results.update(_run_backends(self.settings, label, scenario, advance, compiling))
        job.check()
        drawing = time.perf_counter()
        self.update(progress=len(plan) / steps, message="Drawing the summary and first figure…")
        comparison = Comparison(results=results, settings=pd.DataFrame(
            [{"label": _label(self.settings, label, backend), "mode": mode, "variant": variant,
              "backend": backend}
             for label, mode, variant, _ in plan for backend in self.settings.backends]))
        plots = {name: PLOTS[name] for name in applicable(comparison)}
        if len(self.settings.backends) > 1:
            plots.update(_backend_plots(comparison))
        frame = comparison.summary()
        tables = {"summary": frame[[c for c in SUMMARY_COLUMNS if c in frame]],
                  "by cgroup": comparison.summary(by="cgroup")}
        if len(self.settings.backends) > 1:
            from numaexp.kernel.side import comparison_ratios

            tables["sim/kernel"] = comparison_ratios(comparison)
        self.sentences = list(comparison.sentences().values())
        self.notes = [(label, n) for label, found in comparison.notices().items() for n in found]
        makers = {name: (lambda plot=plot: plot(comparison)) for name, plot in plots.items()}
        first = next(iter(makers))
        drawn = {first: makers[first]()}  # a Cancel pressed while drawing stops here
        job.check()
        self.comparison = comparison
        self.plan_scenario = plan[0][3]
        self.update(tables=tables)
        self.show_figures(makers, first=0, drawn=drawn)
        self.draw_seconds = time.perf_counter() - drawing
        sim = ", ".join(f"{label} {r.meta['sim_seconds']:.2f} s" for label, r in results.items())
        self.update(message=f"Run {self.runs_finished + 1}: {len(plan)} run(s) of "
                            f"{plan[0][3].workload.name} in {time.perf_counter() - started:.1f} "
                            f"s (simulated: {sim}); summary and first figure drawn in "
                            f"{self.draw_seconds:.1f} s, other tabs when opened.")

    def export_frames(self):
        """The whole comparison: summary and every combined table."""
        return self.comparison

    def export_settings(self) -> tuple[str, dict]:
        """The first run's scenario as TOML (defaults included) and the dashboard settings."""
        from numaexp.model.toml_io import scenario_to_toml

        return (scenario_to_toml(self.plan_scenario, defaults=True),
                dataclasses.asdict(self.settings))

    def summary_html(self) -> str:
        """The summary table (scrolling sideways), a sentence per run and the notices."""
        frame = self.tables.get("summary")
        if frame is None:
            return ""
        out = scrolling_table(frame, css_class="numaexp-summary-table")
        out += "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in self.sentences) + "</ul>"
        out += notices_html(self.notes)
        ratios = self.tables.get("sim/kernel")
        if ratios is not None:
            out += "<p><b>sim / kernel</b></p>" + scrolling_table(
                ratios, float_format=lambda x: f"{x:,.3g}", css_class="numaexp-summary-table")
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


def _run_backends(settings: DashboardSettings, label: str, scenario, advance,
                  compiling=None) -> dict:
    """The run of ``scenario`` on each selected backend (simulator and/or a QEMU guest).

    With both, the guest runs first and the simulator at the access rate it measured (as
    :func:`numaexp.kernel.side.compare_backends`).
    """
    from numaexp.kernel.side import check_backends, tag_backend

    backends = check_backends(settings.backends)
    out = {}
    kernel = None
    if "kernel" in backends:
        from numaexp.kernel.run import run_kernel

        kernel = run_kernel(scenario, kernel=settings.kernel, progress=False)
        out[_label(settings, label, "kernel")] = kernel
    if "sim" in backends:
        run = scenario
        if settings.profile:
            from numaexp.model.cost_profiles import apply_profile

            run = apply_profile(scenario, settings.profile)
        rates = None
        if kernel is not None:
            from numaexp.kernel.rates import at_guest_rate, guest_rates, rate_meta

            rates = guest_rates(run, kernel)
            run = at_guest_rate(run, kernel, rates)
        result = simulate(run, progress=False, on_interrupt="raise", on_progress=advance,
                          on_compile=compiling)
        if rates is not None:
            result.meta["guest_rate"] = rate_meta(rates)
        out[_label(settings, label, "sim")] = tag_backend(result, "sim")
    return {name: out[name] for name in (_label(settings, label, b) for b in backends)}


def _backend_plots(comparison) -> dict:
    """One side-by-side figure per mode ("sim vs kernel, mode M")."""
    from numaexp.viz.backends import plot_sim_vs_kernel

    modes = comparison.settings["mode"].unique()
    return {f"sim vs kernel mode {m}": (lambda c, m=m: plot_sim_vs_kernel(c, mode=m))
            for m in modes}
