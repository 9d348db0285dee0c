"""Background jobs for widgets: run work off the UI thread and cancel it.

A :class:`Job` runs ``work(job)`` on a daemon thread (or, for tests and
scripts, in the calling thread). Work checks :meth:`Job.check` between steps;
long steps (a simulation) run inside :meth:`Job.interruptible`, where a cancel
raises ``KeyboardInterrupt`` in the worker thread — exactly what a notebook's
interrupt button does to a simulation in the main thread, which
:func:`numaexp.simulate` handles.
"""

from __future__ import annotations

import ctypes
import threading
import traceback
from contextlib import contextmanager

from numaexp.errors import ScenarioError


class Cancelled(Exception):
    """Raised inside a job's work when the job was cancelled."""


def readable_error(err: BaseException) -> str:
    """One-line message for a widget: settings errors as ``field: problem``, others typed."""
    if isinstance(err, ScenarioError):
        return f"Invalid setting — {err}"
    return f"{type(err).__name__}: {err}"


def _raise_in_thread(ident: int, exc_type: type[BaseException]) -> None:
    """Raise ``exc_type`` asynchronously in the thread with id ``ident``."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc_type))


class Job:
    """One piece of background work with cancellation.

    Parameters
    ----------
    work : callable
        ``work(job)``; its return value becomes :attr:`result`.
    on_finish : callable, optional
        ``on_finish(job)``, called in the worker thread when the work ends
        (done, cancelled or failed).

    Attributes
    ----------
    status : {"pending", "running", "done", "cancelled", "error"}
    result : object
        What ``work`` returned.
    error : BaseException or None
        The exception that ended the work.
    traceback : str
        Its formatted traceback (for a log; widgets show :func:`readable_error`).
    """

    def __init__(self, work, on_finish=None):
        self._work = work
        self._on_finish = on_finish
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._interruptible = False
        self._ident: int | None = None
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = "pending"
        self.result = None
        self.error: BaseException | None = None
        self.traceback = ""

    def start(self) -> Job:
        """Run the work on a daemon thread and return at once."""
        self._thread = threading.Thread(target=self.run, name="numaexp-job", daemon=True)
        self._thread.start()
        return self

    def run(self) -> Job:
        """Run the work in the calling thread, until it ends."""
        self._ident = threading.get_ident()
        self.status = "running"
        try:
            try:
                self.result = self._work(self)
                self.status = "done"
            except (Cancelled, KeyboardInterrupt):
                self.status = "cancelled"
            except Exception as err:  # shown in the widget, not raised into the event loop
                if self._cancel.is_set():
                    # the interrupt of a cancel can surface as another exception when it
                    # lands in C code or a finaliser (SystemError, ...): still a cancel
                    self.status = "cancelled"
                else:
                    self.error = err
                    self.traceback = traceback.format_exc()
                    self.status = "error"
        except KeyboardInterrupt:  # a late interrupt landing in the handlers above
            self.status = "cancelled"
        try:
            if self._on_finish is not None:
                self._on_finish(self)
        finally:
            self._finished.set()
        return self

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled (call between steps)."""
        if self._cancel.is_set():
            raise Cancelled

    @contextmanager
    def interruptible(self):
        """Context in which :meth:`cancel` interrupts the worker thread at once."""
        with self._lock:
            self.check()
            self._interruptible = True
        try:
            yield
        finally:
            with self._lock:
                self._interruptible = False

    def cancel(self) -> None:
        """Ask the work to stop: at its next check, or at once inside :meth:`interruptible`."""
        self._cancel.set()
        with self._lock:
            if self._interruptible and self._ident is not None \
                    and self._ident != threading.get_ident():
                _raise_in_thread(self._ident, KeyboardInterrupt)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work ends; False if ``timeout`` seconds passed first."""
        return self._finished.wait(timeout)
