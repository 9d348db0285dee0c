"""Observable, UI-free state shared by the dashboard and the sweep widget.

A :class:`RunModel` plans runs in the caller's thread (so bad settings are
reported at once), executes them in a :class:`~numaexp.widgets.jobs.Job`,
and keeps what a view shows: status, message, progress, figures (also as
PNG bytes) and tables. Figures are drawn when first shown (the dashboard
draws the first tab at once and the others when their tab is opened), so
that the results of many runs appear within a second or two. Results of
an earlier run stay on screen after a failed or cancelled run, marked as
old (:attr:`RunModel.results_note`), and are never exported as new. Views
subscribe with :meth:`RunModel.observe`; tests drive the model directly
with ``run(blocking=True)``.
"""

from __future__ import annotations

import io
import json
import re
import threading
from abc import ABC, abstractmethod
from pathlib import Path

from numaexp.output_dir import earlier_output, write_output
from numaexp.viz.export import export
from numaexp.widgets.jobs import Job, readable_error

PNG_DPI = 80
"""Resolution of the figures shown in widgets, dots per inch (exports use their own)."""

EXPORT_SUBDIRS = ("figures", "tables", "scenario")
"""What an export writes into its folder: figures, tables, and the scenario TOML with the
widget's settings (an earlier export's are replaced whole, never mixed with new files)."""


def png_bytes(fig, dpi: int = PNG_DPI) -> bytes:
    """``fig`` rendered as PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class RunModel(ABC):
    """State of a widget's runs; subclasses define :meth:`plan` and :meth:`execute`.

    Attributes
    ----------
    status : {"idle", "running", "done", "cancelled", "error"}
    message : str
        What a view shows next to the progress bar.
    progress : float
        Share of the work done, 0..1.
    figure_names : list of str
        Every figure of the results, in tab order (drawn or not yet).
    figures : dict of str to Figure
        The figures drawn so far.
    images : dict of str to bytes
        The same figures as PNG.
    tables : dict of str to DataFrame
        Latest tables by name.
    results_note : str
        Empty while the results shown are those of the last run, complete;
        else why they are not ("old: from run 2; run 3 failed: ...").
    export_dir : Path
        Where :meth:`export` writes by default.
    export_message : str
        Outcome of the last export.
    runs_finished : int
        Number of :meth:`run` calls that completed.
    """

    default_export_dir = "out/numaexp"

    def __init__(self):
        self.status = "idle"
        self.message = ""
        self.progress = 0.0
        self.figure_names: list[str] = []
        self.figures: dict = {}
        self.images: dict[str, bytes] = {}
        self.tables: dict = {}
        self.results_note = ""
        self.error: BaseException | None = None
        self.traceback = ""
        self.export_dir = Path(self.default_export_dir)
        self.export_message = ""
        self.exported: list[Path] = []
        self.runs_finished = 0
        self.draw_seconds = 0.0
        self._makers: dict = {}
        self._draw_lock = threading.Lock()
        self._listeners: list = []
        self._job: Job | None = None
        self._export_job: Job | None = None
        self._eager = False

    # -- observation ---------------------------------------------------------------------------
    def observe(self, callback) -> None:
        """Call ``callback(model, changed)`` after every change (``changed``: set of names)."""
        self._listeners.append(callback)

    def update(self, **changes) -> None:
        """Set attributes and notify the observers."""
        for name, value in changes.items():
            setattr(self, name, value)
        for callback in self._listeners:
            callback(self, set(changes))

    # -- subclass interface --------------------------------------------------------------------
    @abstractmethod
    def plan(self):
        """Validate the settings and return what :meth:`execute` runs (caller's thread)."""

    @abstractmethod
    def execute(self, job: Job, plan) -> None:
        """Run ``plan`` in ``job``, updating progress, figures and tables."""

    def export_frames(self):
        """Frames :meth:`export` writes (anything :func:`numaexp.viz.export` accepts)."""
        return self.tables

    def export_settings(self) -> tuple[str, dict]:
        """``(scenario TOML, settings)`` written beside an export's figures."""
        return "", {}

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A run is in progress."""
        return self._job is not None and not self._job.wait(0)

    def run(self, blocking: bool = False) -> Job | None:
        """Start the runs the settings describe.

        Parameters
        ----------
        blocking : bool
            Run in the calling thread and return when done, every figure drawn
            (tests, scripts); otherwise run on a background thread and return
            at once (figures are drawn when first shown).

        Returns
        -------
        Job or None
            None when the settings are invalid (the message says why) or a
            run is already in progress.
        """
        if self.running:
            self.update(message="A run is in progress: cancel it first.")
            return None
        try:
            plan = self.plan()
        except Exception as err:  # bad settings: shown, not raised into the widget
            self._mark_old(f"the settings were refused ({readable_error(err)})")
            self.update(status="error", error=err, message=readable_error(err), progress=0.0)
            return None
        self._eager = blocking
        self.update(status="running", error=None, progress=0.0, message="Starting…")
        self._job = Job(lambda job: self.execute(job, plan), on_finish=self._finish)
        return self._job.run() if blocking else self._job.start()

    def _mark_old(self, why: str) -> None:
        """Mark the results on screen (if any) as those of an earlier run."""
        if self.figure_names or self.tables:
            self.update(results_note=f"Old results, from run {self.runs_finished}: {why}. "
                                     "Run again to replace them.")

    def _finish(self, job: Job) -> None:
        if job.status == "done":
            self.runs_finished += 1
            if self._eager:
                self.draw_all()
            self.update(status="done", progress=1.0, results_note="")
        elif job.status == "cancelled":
            self._mark_old("the next run was cancelled")
            self.update(status="cancelled", message=f"Cancelled. {self.message}")
        else:
            self.traceback = job.traceback
            self._mark_old(f"the next run failed ({readable_error(job.error)})")
            self.update(status="error", error=job.error, message=readable_error(job.error))

    def cancel(self) -> None:
        """Stop the run in progress (the current simulation is interrupted)."""
        if self.running:
            self._job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run and export end; False on timeout."""
        return all(job.wait(timeout) for job in (self._job, self._export_job) if job is not None)

    # -- figures -------------------------------------------------------------------------------
    def show_figures(self, makers: dict, first: int = 1, drawn: dict | None = None) -> None:
        """Make ``makers`` (name -> function returning a Figure) the results' figures: draw
        the first ``first`` now (or take them from ``drawn``, name -> Figure), the others
        when :meth:`figure` or :meth:`draw_all` asks."""
        drawn = drawn or {}
        with self._draw_lock:
            self._makers = dict(makers)
            self.figures = dict(drawn)
            self.images = {name: png_bytes(fig) for name, fig in drawn.items()}
        self.update(figure_names=list(makers), figures=self.figures, images=self.images)
        for name in list(makers)[:first]:
            self.figure(name)

    def figure(self, name: str):
        """The figure ``name``, drawn (and rendered for the view) if it was not yet."""
        with self._draw_lock:
            if name not in self.figures:
                if name not in self._makers:
                    raise KeyError(f"no figure {name!r} (figures: {', '.join(self._makers)})")
                fig = self._makers[name]()
                self.figures[name] = fig
                self.images[name] = png_bytes(fig)
                drawn = True
            else:
                drawn = False
        if drawn:
            self.update(images=self.images)
        return self.figures[name]

    def draw_all(self) -> dict:
        """Every figure, drawn; returns :attr:`figures`."""
        for name in self.figure_names:
            self.figure(name)
        return self.figures

    def request_figure(self, name: str) -> None:
        """Draw ``name`` on a background thread (a view opened its tab)."""
        if name in self.figures or name not in self._makers:
            return
        threading.Thread(target=self._draw_quietly, args=(name,), daemon=True,
                         name="numaexp-draw").start()

    def _draw_quietly(self, name: str) -> None:
        try:
            self.figure(name)
        except Exception as err:  # shown, not raised into the event loop
            self.update(message=f"Could not draw {name}: {readable_error(err)}")

    # -- export --------------------------------------------------------------------------------
    def export(self, directory: str | Path | None = None, blocking: bool = False, *,
               overwrite: bool = False) -> Job | None:
        """Write the figures (PNG, SVG, PDF), tables (CSV, Parquet), the scenario (TOML) and
        the widget's settings (JSON) of the last run.

        Figure files are named after the tabs, with blanks as ``_``
        (``pages_per_node.svg``). A folder that holds an earlier export is
        refused unless ``overwrite``; then its ``figures``, ``tables`` and
        ``scenario`` are replaced whole (no file of the earlier export is left).

        Parameters
        ----------
        directory : str or Path, optional
            Target folder (default :attr:`export_dir`); created if missing.
        blocking : bool
            Export in the calling thread.
        overwrite : bool
            Replace an earlier export in the folder.

        Returns
        -------
        Job or None
            None when there is nothing to export, the results are old, a run is
            in progress or the folder holds an earlier export (the message says
            which).
        """
        if directory is not None:
            self.export_dir = Path(directory)
        if self.running:
            self.update(export_message="Wait for the run to finish before exporting.")
            return None
        if not self.figure_names and not self.tables:
            self.update(export_message="Nothing to export yet: run first.")
            return None
        if self.results_note:
            self.update(export_message="Not exported: the results on screen are old "
                                       f"({self.results_note}).")
            return None
        target = self.export_dir
        earlier = earlier_output(target, EXPORT_SUBDIRS)
        if earlier and not overwrite:
            self.update(export_message=f"Not exported: {target} holds an earlier export "
                                       f"({', '.join(p.name for p in earlier)}); tick "
                                       "overwrite to replace it, or choose another folder.")
            return None
        frames = self.export_frames()
        scenario_toml, settings = self.export_settings()
        self.update(export_message=f"Exporting to {target.resolve()}…")

        def work(_job):
            figures = {re.sub(r"[^\w.-]+", "_", name): fig
                       for name, fig in self.draw_all().items()}
            written = []

            def write(directory: Path) -> None:
                written.extend(export(figures, frames, directory, close=False))
                (directory / "scenario").mkdir()
                (directory / "scenario" / "scenario.toml").write_text(scenario_toml,
                                                                     encoding="utf-8")
                (directory / "scenario" / "settings.json").write_text(
                    json.dumps(settings, indent=2, default=str), encoding="utf-8")

            write_output(target, EXPORT_SUBDIRS, write)
            return [target / p.relative_to(p.parents[1]) for p in written] + [
                target / "scenario" / "scenario.toml", target / "scenario" / "settings.json"]

        def finish(job):
            if job.status == "done":
                self.update(exported=job.result, export_message=(
                    f"Wrote {len(job.result)} files to {target.resolve()}"))
            else:
                self.update(export_message=f"Export failed: {readable_error(job.error)}")

        self._export_job = Job(work, on_finish=finish)
        return self._export_job.run() if blocking else self._export_job.start()
