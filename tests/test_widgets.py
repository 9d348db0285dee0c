"""Widgets, headless: jobs and cancel, dashboard and sweep models, and their ipywidgets views."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pandas as pd
import pytest

from numaexp import ScenarioError
from numaexp.model.presets import default_scenario
from numaexp.model.toml_io import load_scenario
from numaexp.viz import applicable
from numaexp.widgets import (
    Dashboard,
    DashboardModel,
    DashboardSettings,
    SweepModel,
    SweepParameter,
    SweepSettings,
    SweepWidget,
    build_scenario,
    parameter_values,
)
from numaexp.widgets import scenarios as scenarios_module
from numaexp.widgets.comparison import DASHBOARD_PLOTS
from numaexp.widgets.jobs import Job, readable_error
from numaexp.widgets.scenarios import build_scenarios, build_variants

PNG = b"\x89PNG\r\n\x1a\n"


# -- jobs ------------------------------------------------------------------------------------------

def test_job_runs_and_reports_errors_without_raising():
    assert Job(lambda job: 42).run().result == 42
    failed = Job(lambda job: 1 / 0).run()
    assert failed.status == "error" and isinstance(failed.error, ZeroDivisionError)
    assert "ZeroDivisionError" in failed.traceback
    assert readable_error(failed.error).startswith("ZeroDivisionError")
    assert readable_error(ScenarioError("kernel.hz", "bad")) == "Invalid setting — kernel.hz: bad"


def test_cancel_interrupts_work_inside_interruptible():
    started = threading.Event()
    finished = []

    def work(job):
        with job.interruptible():
            started.set()
            while True:  # a long step: only the interrupt ends it
                time.sleep(0.005)

    job = Job(work, on_finish=lambda j: finished.append(j.status)).start()
    assert started.wait(5)
    job.cancel()
    assert job.wait(5) and job.status == "cancelled" and finished == ["cancelled"]


def test_cancel_between_steps_stops_at_the_next_check():
    steps = []

    def work(job):
        for i in range(1000):
            job.check()
            steps.append(i)
            if i == 2:
                job.cancel()  # from the worker itself: no interrupt, only the flag

    assert Job(work).run().status == "cancelled" and steps == [0, 1, 2]


# -- dashboard model -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dashboard_run():
    model = DashboardModel()
    model.progress_seen = []
    model.observe(lambda m, changed: m.progress_seen.append(m.progress)
                  if "progress" in changed else None)
    model.run(blocking=True)
    return model


def test_dashboard_progress_moves_within_each_run(dashboard_run):
    seen = dashboard_run.progress_seen
    steps = len(dashboard_run.comparison.results) + 1
    inside_first = [p for p in seen if 0 < p < 1 / steps]
    assert len(inside_first) >= 3  # the bar advances while the first mode simulates
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_dashboard_model_runs_modes_and_fills_plots_and_table(dashboard_run):
    model = dashboard_run
    assert model.status == "done", model.message
    assert model.progress == 1.0 and model.runs_finished == 1
    assert list(model.images) == applicable(model.comparison) == model.figure_names
    assert all(png.startswith(PNG) for png in model.images.values())
    summary = model.tables["summary"]
    assert list(summary["label"]) == ["mode 0", "mode 1"]
    assert summary.loc[0, "numa_hint_faults"] == 0 and summary.loc[1, "numa_hint_faults"] > 0
    assert "mode 1" in model.summary_html() and "Run 1" in model.message
    assert list(model.comparison.results) == ["mode 0", "mode 1"]


def test_dashboard_model_exports_figures_and_tables(dashboard_run, tmp_path):
    job = dashboard_run.export(tmp_path / "export", blocking=True)
    assert job.status == "done"
    figures = tmp_path / "export" / "figures"
    for name in ("counters", "pages_per_node", "memory_stat"):
        for fmt in ("png", "svg", "pdf"):
            assert (figures / f"{name}.{fmt}").stat().st_size > 0
    assert (figures / "counters.pdf").read_bytes().startswith(b"%PDF")
    summary = pd.read_csv(tmp_path / "export" / "tables" / "summary.csv")
    assert list(summary["label"]) == ["mode 0", "mode 1"]
    assert (tmp_path / "export" / "tables" / "sched.parquet").exists()
    assert dashboard_run.export_message.startswith("Wrote ")
    assert dashboard_run.figures["counters"].axes  # still shown: not closed by the export
    scenario = load_scenario(tmp_path / "export" / "scenario" / "scenario.toml")
    assert scenario == dashboard_run.comparison.results["mode 0"].scenario
    settings = json.loads((tmp_path / "export" / "scenario" / "settings.json").read_text())
    assert settings["modes"] == [0, 1] and settings["workload"] == "numa01_THREAD_ALLOC"


def test_export_before_any_run_says_so(tmp_path):
    model = DashboardModel()
    assert model.export(tmp_path) is None
    assert model.export_message == "Nothing to export yet: run first."
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("change", "field"), [
    ({"tunables": {"scan_size_mb": 1 << 24}}, "kernel.scan_size_mb"),
    ({"modes": ()}, "modes"),
    ({"numa_load_balance": ("/nope",)}, "numa_load_balance"),
    ({"cgroup_variants": ("rfc-v9",)}, "cgroup"),
    ({"workload": "numa03"}, "workload"),
    ({"cpus_per_node": 0}, "cpus"),
])
def test_bad_settings_show_a_readable_error_and_run_nothing(change, field):
    model = DashboardModel(DashboardSettings(**change))
    assert model.run(blocking=True) is None
    assert model.status == "error" and model.runs_finished == 0
    assert model.message.startswith("Invalid setting — ") and field in model.message
    assert "Traceback" not in model.message


def test_settings_build_cgroups_variants_and_labels():
    settings = DashboardSettings(modes=(1, 4), cgroup_variants=("mainline", "rfc-v1"),
                                 numa_load_balance=("/numa01.0",))
    plan = build_scenarios(settings)
    assert [label for label, *_ in plan] == ["mode 1 mainline", "mode 1 rfc-v1",
                                             "mode 4 mainline", "mode 4 rfc-v1"]
    scenario = plan[-1][3]
    assert scenario.kernel.numa_balancing == 4 and scenario.kernel.variant.cgroup == "rfc-v1"
    enabled = {c.path: c.numa_load_balance for c in scenario.workload.all_cgroups()}
    assert enabled == {"/": 0, "/numa01.0": 1, "/numa01.1": 0}
    assert {p.cgroup for p in scenario.workload.processes} == {"/numa01.0", "/numa01.1"}
    shared = build_scenario(DashboardSettings(cgroup_per_process=False, workload="numa02",
                                              bind="hard"))
    assert shared.workload.name == "numa02_HARD_BIND"
    assert {p.cgroup for p in shared.workload.processes} == {"/"}
    random = build_scenario(DashboardSettings(workload="random_access", duration_s=3.0))
    assert random.stop.kind == "duration" and random.stop.duration_s == 3.0
    tiered = build_scenario(DashboardSettings(machine="tiered"))
    assert tiered.machine.toptier == (True, True, False, False)


def test_dashboard_scenarios_keep_and_name_their_background(tmp_path):
    from numaexp.model.toml_io import save_scenario

    built = build_scenario(DashboardSettings(workload="numa02"))
    assert built.background.name == "quiet" and built.description.endswith("; background: quiet")
    busy = default_scenario(duration_s=1.0)
    save_scenario(dataclasses.replace(busy, background="busy"), tmp_path / "busy.toml")
    whole = build_scenario(DashboardSettings(workload=f"file:{tmp_path / 'busy.toml'}"))
    assert whole.background.name == "busy"  # a loaded scenario's own background runs


def test_dashboard_model_adds_the_tiering_plot_for_tiering_modes():
    model = DashboardModel(DashboardSettings(machine="tiered", modes=(2,), memory_scale=0.05,
                                             passes=20))
    model.run(blocking=True)
    assert model.status == "done", model.message
    assert model.figure_names[-1] == "tiering" and "tiering" in model.images


def test_cancel_stops_a_long_run_promptly():
    model = DashboardModel(DashboardSettings(workload="random_access", memory_scale=4,
                                             duration_s=20000, modes=(1,)))
    assert model.run() is not None
    deadline = time.monotonic() + 60
    while "Simulating" not in model.message and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    cancelled_at = time.monotonic()
    model.cancel()
    assert model.wait(20)
    assert model.status == "cancelled" and model.message.startswith("Cancelled."), model.message
    assert time.monotonic() - cancelled_at < 10  # the run alone would take over a minute
    assert model.runs_finished == 0 and not model.images


def test_cancel_while_drawing_the_figures_cancels_the_run(monkeypatch):
    import numaexp.widgets.comparison as comparison_module

    model = DashboardModel(DashboardSettings(workload="numa02", modes=(1,), passes=20))
    drawn = []

    def cancelling_plot(comparison):
        model.cancel()  # pressed while this figure is drawn
        drawn.append("counters")
        return DASHBOARD_PLOTS["counters"](comparison)

    monkeypatch.setattr(comparison_module, "PLOTS",
                        {**DASHBOARD_PLOTS, "counters": cancelling_plot})  # drawn first
    model.run(blocking=True)
    assert drawn == ["counters"]  # no further figure drawn after the cancel
    assert model.status == "cancelled" and model.runs_finished == 0 and not model.images


# -- dashboard view --------------------------------------------------------------------------------

def test_dashboard_view_runs_on_click_and_shows_results(tmp_path):
    dash = Dashboard(DashboardSettings(passes=50))
    dash.fields["workload"].value = "numa02"
    assert dash.fields["bind"].disabled is False and dash.fields["duration_s"].disabled is True
    assert list(dash.numa_load_balance.options) == ["/", "/numa02"]
    dash.modes[0].value = False
    dash.run_bar.run_button.click()
    assert dash.model.wait(120)
    assert dash.model.status == "done", dash.model.message
    names = applicable(dash.model.comparison)
    assert list(dash.results.tabs.titles) == names
    assert bytes(dash.results.images["counters"].value).startswith(PNG)  # the open tab
    assert not dash.results.images["placement"].value  # drawn when its tab is opened
    dash.results.tabs.selected_index = names.index("placement")
    deadline = time.monotonic() + 60
    while not dash.results.images["placement"].value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bytes(dash.results.images["placement"].value).startswith(PNG)
    assert "mode 1" in dash.results.table.value and "mode 0" not in dash.results.table.value
    assert dash.run_bar.progress.value == 1.0 and not dash.run_bar.run_button.disabled
    assert dash.run_bar.cancel_button.disabled
    dash.export_bar.folder.value = str(tmp_path / "out")
    dash.export_bar.button.click()
    assert dash.model.wait(120)
    assert (tmp_path / "out" / "figures" / "counters.svg").exists()
    assert "Wrote" in dash.export_bar.message.value
    for box in dash.modes.values():
        box.value = False
    dash.run_bar.run_button.click()
    assert "error" in dash.run_bar.status.value and "modes" in dash.run_bar.status.value
    assert "Invalid setting" in dash.scenario_line.value


def test_dashboard_view_disables_modes_that_are_not_simulated(monkeypatch):
    monkeypatch.setattr(scenarios_module, "SIMULATED_MODES", (0, 1))
    dash = Dashboard()
    assert [box.disabled for box in dash.modes.values()] == [False, False, True, True, True]
    assert "not simulated" in dash.modes[2].tooltip
    assert dash.modes[1].tooltip == ""


# -- sweep -----------------------------------------------------------------------------------------

def test_parameter_values():
    assert parameter_values(100, 1600, 5, "log") == pytest.approx((100, 200, 400, 800, 1600))
    assert parameter_values(0, 10, 3) == (0.0, 5.0, 10.0)
    with pytest.raises(ScenarioError, match="positive"):
        parameter_values(0, 10, 3, "log")


def test_sweep_model_runs_every_point_and_seed_into_a_tidy_frame(tmp_path):
    settings = SweepSettings(parameters=[SweepParameter("kernel.scan_size_mb", (64, 256.4))],
                             seeds=2, metrics=("numa_pte_updates",))
    model = SweepModel(default_scenario(), settings)
    draws = []
    model.observe(lambda m, changed: draws.append(len(m.frame)) if "images" in changed else None)
    model.run(blocking=True)
    assert model.status == "done", model.message
    frame = model.frame
    assert list(frame["kernel.scan_size_mb"]) == [64, 256, 64, 256]  # integer field: rounded
    assert list(frame["seed"]) == [0, 0, 1, 1]
    assert {"elapsed_s", "numa_pte_updates", "numa_pages_migrated", "mode"} <= set(frame)
    small, large = (frame.groupby("kernel.scan_size_mb")["numa_pte_updates"].mean()
                    .loc[[64, 256]])
    assert small < large  # a smaller scan window marks fewer PTEs in the same work
    assert list(model.images) == ["sweep"] and draws[-1] == 4
    model.export(tmp_path, blocking=True)
    assert len(pd.read_csv(tmp_path / "tables" / "sweep.csv")) == 4
    assert (tmp_path / "figures" / "sweep.pdf").exists()


def test_sweep_model_two_parameters_draw_a_heatmap():
    settings = SweepSettings(parameters=[
        SweepParameter("kernel.scan_period_min_ms", (500, 2000)),
        SweepParameter("kernel.scan_size_mb", (64, 256))], seeds=1, metrics=("elapsed_s",))
    model = SweepModel(default_scenario(), settings)
    model.run(blocking=True)
    assert model.status == "done", model.message
    assert len(model.frame) == 4 and list(model.images) == ["sweep", "heatmap"]
    model.settings.metrics = ("system_s", "numa_hint_faults")
    assert model.metrics_redrawable()
    model.draw()
    assert len([ax for ax in model.figures["heatmap"].axes if ax.get_images()]) == 2


@pytest.mark.parametrize(("settings", "text"), [
    (SweepSettings(parameters=[SweepParameter("kernel.nope", (1, 2))]), "kernel.nope"),
    (SweepSettings(parameters=[SweepParameter("kernel.scan_size_mb", (0, 64))]),
     "kernel.scan_size_mb"),
    (SweepSettings(parameters=[]), "parameters"),
    (SweepSettings(seeds=0), "seeds"),
    (SweepSettings(metrics=()), "metrics"),
])
def test_sweep_model_reports_bad_settings(settings, text):
    model = SweepModel(default_scenario(), settings)
    assert model.run(blocking=True) is None
    assert model.status == "error" and text in model.message


def test_sweep_widget_reads_ranges_and_redraws_on_metric_change():
    sweep = SweepWidget(default_scenario(), SweepSettings(seeds=1))
    sweep.rows[0].path.value = "kernel.scan_size_mb"
    sweep.rows[0].start.value, sweep.rows[0].stop.value = 64, 256
    sweep.rows[0].steps.value = 2
    assert sweep.summary.value.startswith("2 point(s) x 1 seed(s) = 2 runs")
    assert sweep.rows[1].path.disabled
    sweep.run_bar.run_button.click()
    assert sweep.model.wait(120) and sweep.model.status == "done", sweep.model.message
    assert list(sweep.model.frame["kernel.scan_size_mb"]) == [64, 256]
    before = sweep.results.images["sweep"].value
    sweep.metrics.value = ("system_s",)
    assert sweep.results.images["sweep"].value != before
    assert "system_s" in sweep.results.table.value
    sweep.rows[0].start.value = 0  # a log range through zero
    sweep.run_bar.run_button.click()
    assert "error" in sweep.run_bar.status.value and "positive" in sweep.run_bar.status.value


def test_patch_forms_apply_to_the_rfc_variants_only():
    settings = DashboardSettings(cgroup_variants=("mainline", "rfc-v1"), stats_variant="as-posted",
                                 interleave_variant="as-posted")
    assert [v.label for v in build_variants(settings)] == [
        "mainline", "rfc-v1+stats-as-posted+interleave-as-posted"]
