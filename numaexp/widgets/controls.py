"""Widget pieces shared by the dashboard and the sweep widget: run bar, results, export bar."""

from __future__ import annotations

import html

import ipywidgets as w

from numaexp.errors import ScenarioError
from numaexp.widgets.jobs import readable_error

STATUS_COLORS = {"idle": "#444", "running": "#0072B2", "done": "#009E73", "cancelled": "#E69F00",
                 "error": "#D55E00"}
"""Colour of the status line per model status (Okabe-Ito)."""


def status_html(status: str, message: str) -> str:
    """The status line as HTML (message escaped; errors in vermillion)."""
    return (f'<span style="color:{STATUS_COLORS.get(status, "#444")}">'
            f"<b>{html.escape(status)}</b> {html.escape(message)}</span>")


class RunBar:
    """Run and Cancel buttons, a progress bar and a status line, bound to a RunModel.

    Parameters
    ----------
    model : RunModel
    before_run : callable
        Called before each run (the view copies its widgets into the settings);
        a ``ScenarioError`` it raises is shown instead of running.
    """

    def __init__(self, model, before_run):
        self.model = model
        self._before_run = before_run
        self.run_button = w.Button(description="Run", button_style="primary", icon="play",
                                   tooltip="Run the simulations (in the background)")
        self.cancel_button = w.Button(description="Cancel", button_style="warning", icon="stop",
                                      disabled=True, tooltip="Stop the runs in progress")
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0, description="Progress",
                                        layout=w.Layout(width="320px"))
        self.status = w.HTML(value=status_html(model.status, model.message))
        self.run_button.add_class("numaexp-run")
        self.cancel_button.add_class("numaexp-cancel")
        self.status.add_class("numaexp-status")
        self.run_button.on_click(self._on_run)
        self.cancel_button.on_click(lambda _b: self.model.cancel())
        self.box = w.VBox([w.HBox([self.run_button, self.cancel_button, self.progress]),
                           self.status])

    def _on_run(self, _button) -> None:
        try:
            self._before_run()
        except ScenarioError as err:
            self.model.update(status="error", error=err, message=readable_error(err))
            return
        self.model.run()

    def refresh(self, model) -> None:
        """Show the model's status, message and progress."""
        running = model.status == "running"
        self.run_button.disabled = running
        self.cancel_button.disabled = not running
        self.progress.value = model.progress
        self.progress.bar_style = {"done": "success", "error": "danger",
                                   "cancelled": "warning"}.get(model.status, "info")
        self.status.value = status_html(model.status, model.message)


STALE_STYLE = ("<style>.numaexp-old {opacity: 0.45} .numaexp-stale-banner {background: #fff3e0; "
               "border-left: 4px solid #D55E00; padding: 4px 8px; font-weight: bold}</style>")
"""Old results are faded, with a vermillion-barred banner above them."""


def ipympl_available() -> bool:
    """ipympl (interactive matplotlib canvases in JupyterLab) can be imported."""
    import importlib.util

    return importlib.util.find_spec("ipympl") is not None


class Results:
    """A banner for old results, an HTML table, and the figures in tabs, refreshed from a
    RunModel. Each tab shows its figure when drawn; opening a tab asks the model to draw it.

    Figures show as PNG images, or, with ``interactive`` (:meth:`set_interactive`), as
    ipympl canvases (zoom, pan, coordinates under the pointer) of the same Figure objects:
    the PNGs are rendered either way and exports are the same static files.
    """

    def __init__(self, model=None, interactive: bool = False):
        self.model = model
        self.interactive = False
        self.banner = w.HTML(value="")
        self.tabs = w.Tab(children=[])
        self.images: dict[str, w.Image] = {}
        self.waiting: dict[str, w.HTML] = {}
        self.boxes: dict[str, w.VBox] = {}
        self.table = w.HTML(value="", layout=w.Layout(width="100%", min_width="0"))
        self.banner.add_class("numaexp-stale")
        self.tabs.add_class("numaexp-plots")
        self.table.add_class("numaexp-summary")
        self.content = w.VBox([self.table, self.tabs], layout=w.Layout(width="100%"))
        self.box = w.VBox([w.HTML(STALE_STYLE), self.banner, self.content])
        self.tabs.observe(self._on_tab, names="selected_index")
        self.set_interactive(interactive)

    def set_interactive(self, on: bool) -> None:
        """Show the drawn figures as ipympl canvases (``on``) or as PNG images.

        Raises
        ------
        ImportError
            ``on`` without ipympl installed.
        """
        if on and not ipympl_available():
            raise ImportError("interactive figures need ipympl (pip install ipympl)")
        self.interactive = bool(on)
        for name in self.boxes:
            self._fill(name)

    def canvas(self, name: str):
        """The ipympl canvas of figure ``name`` when it is drawn and shown interactively."""
        fig = self.model.figures.get(name) if self.interactive and self.model else None
        return fig.canvas_widget() if hasattr(fig, "canvas_widget") else None

    def _fill(self, name: str) -> None:
        canvas = self.canvas(name)
        children = (canvas,) if canvas is not None else (self.waiting[name], self.images[name])
        if tuple(self.boxes[name].children) != children:
            self.boxes[name].children = children

    def show_names(self, names: list[str]) -> None:
        """One tab per figure name, each waiting for its figure."""
        if list(names) == list(self.images):
            return
        self.images = {name: w.Image(format="png", layout=w.Layout(max_width="100%"))
                       for name in names}
        self.waiting = {name: w.HTML("<i>drawing…</i>") for name in names}
        self.boxes = {name: w.VBox([self.waiting[name], self.images[name]]) for name in names}
        self.tabs.children = list(self.boxes.values())
        self.tabs.titles = list(names)
        if names:
            self.tabs.selected_index = 0

    def show_images(self, images: dict[str, bytes]) -> None:
        """Put each rendered figure in its tab."""
        for name, png in images.items():
            if name in self.images and self.images[name].value != png:
                self.images[name].value = png
                self.waiting[name].value = ""
            if name in self.boxes and self.interactive:
                self._fill(name)

    def show_note(self, note: str) -> None:
        """Mark the results as old (faded, with a banner saying why), or as current."""
        self.banner.value = (f'<div class="numaexp-stale-banner">{html.escape(note)}</div>'
                             if note else "")
        if note:
            self.content.add_class("numaexp-old")
        else:
            self.content.remove_class("numaexp-old")

    def _on_tab(self, change) -> None:
        index = change["new"]
        if self.model is not None and index is not None and index < len(self.images):
            self.model.request_figure(list(self.images)[index])


class ExportBar:
    """A folder name, an overwrite box, an Export button and the export's outcome."""

    def __init__(self, model):
        self.model = model
        self.folder = w.Text(value=str(model.export_dir), description="Folder",
                             tooltip="Figures go to <folder>/figures, tables to <folder>/tables, "
                                     "the scenario and settings to <folder>/scenario",
                             layout=w.Layout(width="420px"))
        self.overwrite = w.Checkbox(value=False, description="overwrite", indent=False,
                                    tooltip="Replace an earlier export in the folder",
                                    layout=w.Layout(width="100px"))
        self.button = w.Button(description="Export", icon="download",
                               tooltip="Write figures (PNG, SVG, PDF), tables (CSV, Parquet), "
                                       "the scenario (TOML) and the settings (JSON)")
        self.message = w.HTML(value="")
        self.folder.add_class("numaexp-export-dir")
        self.overwrite.add_class("numaexp-export-overwrite")
        self.button.add_class("numaexp-export")
        self.message.add_class("numaexp-export-message")
        self.button.on_click(lambda _b: self.model.export(self.folder.value,
                                                          overwrite=self.overwrite.value))
        self.box = w.HBox([self.folder, self.overwrite, self.button, self.message])

    def refresh(self, model) -> None:
        """Show the outcome of the last export."""
        self.button.disabled = model.status == "running"
        self.message.value = html.escape(model.export_message)


class RunView:
    """What the dashboard and the sweep widget share: a model, a run bar, results and an
    export bar, kept in step with the model; subclasses build ``widget`` and define
    :meth:`read_settings`, :meth:`_on_change` and :meth:`_show_tables`."""

    def _start(self, css_class: str) -> None:
        """Mark the built ``widget`` and follow the model from now on."""
        self.widget.add_class(css_class)
        self.model.observe(self._on_model)
        self._on_change()

    def run(self, blocking: bool = False):
        """Run with the widgets' current values, as the Run button does.

        Parameters
        ----------
        blocking : bool
            Wait for the runs (from code); the button runs in the background.

        Raises
        ------
        ScenarioError
            For settings the widgets hold that no run can take.
        """
        self.read_settings()
        return self.model.run(blocking=blocking)

    def _on_model(self, model, changed: set) -> None:
        self.run_bar.refresh(model)
        self.export_bar.refresh(model)
        if "figure_names" in changed:
            self.results.show_names(model.figure_names)
        if "images" in changed:
            self.results.show_images(dict(model.images))
        if "tables" in changed:
            self._show_tables(model)
        if "results_note" in changed:
            self.results.show_note(model.results_note)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
