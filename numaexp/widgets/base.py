"""Observable, UI-free state shared by the dashboard and the sweep widget.

A :class:`RunModel` plans runs in the caller's thread (so bad settings are
reported at once), executes them in a :class:`~numaexp.widgets.jobs.Job`,
and keeps what a view shows: status, message, progress, figures (also as
PNG bytes) and tables. Views subscribe with :meth:`RunModel.observe`; tests
drive the model directly with ``run(blocking=True)``.
"""

from __future__ import annotations

import io
import re
from abc import ABC, abstractmethod
from pathlib import Path

from numaexp.viz.export import export
from numaexp.widgets.jobs import Job, readable_error

PNG_DPI = 80
"""Resolution of the figures shown in widgets, dots per inch (exports use their own)."""


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
    figures : dict of str to Figure
        Latest figures by name.
    images : dict of str to bytes
        The same figures as PNG.
    tables : dict of str to DataFrame
        Latest tables by name.
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
        self.figures: dict = {}
        self.images: dict[str, bytes] = {}
        self.tables: dict = {}
        self.error: BaseException | None = None
        self.traceback = ""
        self.export_dir = Path(self.default_export_dir)
        self.export_message = ""
        self.exported: list[Path] = []
        self.runs_finished = 0
        self._listeners: list = []
        self._job: Job | None = None
        self._export_job: Job | None = None

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
            Run in the calling thread and return when done (tests, scripts);
            otherwise run on a background thread and return at once.

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
            self.update(status="error", error=err, message=readable_error(err), progress=0.0)
            return None
        self.update(status="running", error=None, progress=0.0, message="Starting…")
        self._job = Job(lambda job: self.execute(job, plan), on_finish=self._finish)
        return self._job.run() if blocking else self._job.start()

    def _finish(self, job: Job) -> None:
        if job.status == "done":
            self.runs_finished += 1
            self.update(status="done", progress=1.0)
        elif job.status == "cancelled":
            self.update(status="cancelled", message=f"Cancelled. {self.message}")
        else:
            self.traceback = job.traceback
            self.update(status="error", error=job.error, message=readable_error(job.error))

    def cancel(self) -> None:
        """Stop the run in progress (the current simulation is interrupted)."""
        if self.running:
            self._job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run and export end; False on timeout."""
        return all(job.wait(timeout) for job in (self._job, self._export_job) if job is not None)

    # -- export --------------------------------------------------------------------------------
    def export(self, directory: str | Path | None = None, blocking: bool = False) -> Job | None:
        """Write the figures (PNG, SVG, PDF) and tables (CSV, Parquet) of the last run.

        Figure files are named after the tabs, with blanks as ``_``
        (``pages_per_node.svg``).

        Parameters
        ----------
        directory : str or Path, optional
            Target folder (default :attr:`export_dir`); created if missing.
        blocking : bool
            Export in the calling thread.

        Returns
        -------
        Job or None
            None when there is nothing to export yet or a run is in progress.
        """
        if directory is not None:
            self.export_dir = Path(directory)
        if self.running:
            self.update(export_message="Wait for the run to finish before exporting.")
            return None
        if not self.figures and not self.tables:
            self.update(export_message="Nothing to export yet: run first.")
            return None
        target = self.export_dir
        figures = {re.sub(r"[^\w.-]+", "_", name): fig for name, fig in self.figures.items()}
        frames = self.export_frames()
        self.update(export_message=f"Exporting to {target.resolve()}…")

        def work(_job):
            return export(figures, frames, target, close=False)

        def finish(job):
            if job.status == "done":
                self.update(exported=job.result, export_message=(
                    f"Wrote {len(job.result)} files to {target.resolve()}"))
            else:
                self.update(export_message=f"Export failed: {readable_error(job.error)}")

        self._export_job = Job(work, on_finish=finish)
        return self._export_job.run() if blocking else self._export_job.start()

    def show_figures(self, figures: dict) -> None:
        """Keep ``figures`` and their PNG renderings, and notify the observers."""
        self.update(figures=figures, images={name: png_bytes(fig) for name, fig in figures.items()})
