"""The parameter-sweep widget: ipywidgets layout over a :class:`SweepModel`.

Usage in a notebook::

    from numaexp.widgets import SweepWidget
    sweep = SweepWidget(scenario)
    sweep                # pick parameters, ranges, seeds and metrics; Run, then Export
"""

from __future__ import annotations

import html

import ipywidgets as w

from numaexp.errors import ScenarioError
from numaexp.model.scenario import Scenario
from numaexp.widgets.controls import ExportBar, Results, RunBar, RunView
from numaexp.widgets.sweep_model import (
    SWEEP_METRICS,
    SWEEP_PATHS,
    SweepModel,
    SweepParameter,
    SweepSettings,
    parameter_values,
)

SECOND_DEFAULT = SweepParameter("kernel.scan_size_mb", (64, 256, 1024))
"""Second parameter offered when the settings sweep only one."""


class ParameterRow:
    """Path, range and scale of one swept parameter."""

    def __init__(self, parameter: SweepParameter, logx: bool, enabled: bool, optional: bool):
        values = list(parameter.values)
        self.enabled = w.Checkbox(value=enabled, description="sweep", indent=False,
                                  disabled=not optional, layout=w.Layout(width="70px"))
        self.path = w.Combobox(value=parameter.path, options=list(SWEEP_PATHS),
                               ensure_option=False, placeholder="kernel.scan_size_mb",
                               layout=w.Layout(width="290px"),
                               tooltip="Dotted path of a scenario field")
        self.start = w.FloatText(value=min(values), description="from",
                                 layout=w.Layout(width="150px"),
                                 style={"description_width": "40px"})
        self.stop = w.FloatText(value=max(values), description="to",
                                layout=w.Layout(width="150px"), style={"description_width": "30px"})
        self.steps = w.IntText(value=len(values), description="steps",
                                      layout=w.Layout(width="130px"),
                                      style={"description_width": "45px"})
        self.scale = w.Dropdown(options=["log", "linear"], value="log" if logx else "linear",
                                layout=w.Layout(width="90px"))
        self.values = w.Text(value="", placeholder='or values: 0, 1, 4 / "rfc-v1", "rfc-v2"',
                             layout=w.Layout(width="260px"),
                             tooltip="A list of values (as in a scenario file) instead of the "
                                     "range: modes, variants, names")
        self.box = w.HBox([self.enabled, self.path, self.start, self.stop, self.steps,
                           self.scale, self.values])

    def parameter(self) -> SweepParameter:
        """The parameter and its values: the list when one is given, else the range
        (raises ScenarioError for a bad range or list)."""
        path = self.path.value.strip()
        if self.values.value.strip():
            return SweepParameter(path, parse_values(path, self.values.value))
        return SweepParameter(path, parameter_values(
            self.start.value, self.stop.value, self.steps.value, self.scale.value))


def parse_values(path: str, text: str) -> tuple:
    """A comma-separated list of values as in a scenario file (``0, 1, 4`` or ``"rfc-v1",
    "rfc-v2"``; bare words are text)."""
    from numaexp.cli_report import parse_value

    value = parse_value(f"[{text}]")
    if not isinstance(value, list):
        value = [parse_value(part.strip()) for part in text.split(",") if part.strip()]
    if not value:
        raise ScenarioError(path, f"no values in {text!r}", "a comma-separated list")
    return tuple(value)


class SweepWidget(RunView):
    """Sweep one or two scenario parameters over ranges and seeds, interactively.

    Parameters
    ----------
    scenario : Scenario
        The base scenario.
    settings : SweepSettings, optional
        Initial parameters, seeds and metrics.

    Attributes
    ----------
    model : SweepModel
        State and logic (usable without the widgets).
    widget : ipywidgets.VBox
    """

    def __init__(self, scenario: Scenario, settings: SweepSettings | None = None):
        self.model = SweepModel(scenario, settings)
        s = self.model.settings
        params = list(s.parameters)
        self.rows = [ParameterRow(params[0], s.logx, enabled=True, optional=False),
                     ParameterRow(params[1] if len(params) > 1 else SECOND_DEFAULT, s.logx,
                                  enabled=len(params) > 1, optional=True)]
        self.seeds = w.IntText(value=s.seeds, description="seeds",
                                      layout=w.Layout(width="160px"))
        self.base_seed = w.IntText(value=s.base_seed,
                                          description="first seed",
                                          layout=w.Layout(width="200px"))
        self.metrics = w.SelectMultiple(options=list(dict.fromkeys([*SWEEP_METRICS, *s.metrics])),
                                        value=tuple(s.metrics), rows=6, description="metrics",
                                        layout=w.Layout(width="360px"))
        self.logx = w.Checkbox(value=s.logx, description="log x axis", indent=False)
        self.summary = w.HTML()
        for widget in (*self.row_widgets(), self.seeds, self.base_seed):
            widget.observe(self._on_change, names="value")
        self.metrics.observe(self._on_metrics, names="value")
        self.logx.observe(self._on_metrics, names="value")
        self.run_bar = RunBar(self.model, before_run=self.read_settings)
        self.results = Results(self.model)
        self.export_bar = ExportBar(self.model)
        self.widget = w.VBox([
            w.HTML("<h3>numaexp: parameter sweep</h3>"),
            w.HTML(f"<i>Base scenario: {html.escape(scenario.name)} — "
                   f"{html.escape(scenario.description or scenario.workload.description)} on "
                   f"{html.escape(scenario.machine.name)}, mode "
                   f"{scenario.kernel.numa_balancing}</i>"),
            *(row.box for row in self.rows),
            w.HBox([self.seeds, self.base_seed, self.logx]), self.metrics, self.summary,
            self.run_bar.box, self.results.box, self.export_bar.box])
        self._start("numaexp-sweep")

    def row_widgets(self):
        """Every input widget of the parameter rows."""
        return [widget for row in self.rows for widget in
                (row.enabled, row.path, row.start, row.stop, row.steps, row.scale, row.values)]

    def read_settings(self) -> SweepSettings:
        """Copy the widgets' values into ``model.settings`` and return it.

        Raises
        ------
        ScenarioError
            For a bad range (e.g. a log range through zero).
        """
        s = self.model.settings
        s.parameters = [row.parameter() for row in self.rows if row.enabled.value]
        s.seeds = self.seeds.value
        s.base_seed = self.base_seed.value
        s.metrics = tuple(self.metrics.value)
        s.logx = self.logx.value
        return s

    def _on_change(self, _change=None) -> None:
        for row in self.rows[1:]:
            for widget in (row.path, row.start, row.stop, row.steps, row.scale, row.values):
                widget.disabled = not row.enabled.value
        try:
            self.read_settings()
            runs = self.model.count()
        except ScenarioError as err:
            self.summary.value = f"<span style='color:#D55E00'>{html.escape(str(err))}</span>"
            return
        seeds = self.model.settings.seeds
        self.summary.value = (f"{runs // max(seeds, 1)} point(s) x {seeds} seed(s) = {runs} "
                              "runs (integer fields rounded, repeated values run once; every "
                              "point runs with the same seeds)")

    def _on_metrics(self, _change) -> None:
        self.model.settings.metrics = tuple(self.metrics.value)
        self.model.settings.logx = self.logx.value
        if self.model.metrics_redrawable():
            self.model.draw()

    def _show_tables(self, model) -> None:
        if "sweep" in model.tables:
            frame = model.tables["sweep"]
            shown = [c for c in model.shown_columns() if c in frame]
            self.results.table.value = (f"<small>{len(frame)} runs finished; the last ones:"
                                        "</small>" + frame[shown].tail(5).to_html(
                                            index=False, border=0,
                                            float_format=lambda x: f"{x:,.3f}"))
