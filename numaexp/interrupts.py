"""Ctrl-C while finished work is being kept: held until it is safe.

A run whose simulation has ended is complete; building its frames or
writing them must not be cut by a Ctrl-C, or a finished result would be lost.
:func:`hold_interrupts` defers SIGINT for the length of such a step (in the
main thread, where Python's own handler turns SIGINT into KeyboardInterrupt)
and says afterwards whether one came, so the caller can stop right after.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Held:
    """What :func:`hold_interrupts` saw: ``count`` Ctrl-C (SIGINT) held back."""

    def __init__(self):
        self.count = 0

    def __bool__(self) -> bool:
        return self.count > 0


@contextlib.contextmanager
def hold_interrupts():
    """Defer SIGINT until the block ends; yields a :class:`Held`, true if one came.

    Only Python's default handler is replaced (a program's own handler is
    left alone), and only in the main thread (signals are delivered there).
    A KeyboardInterrupt raised in the block by other means (a widget's
    Cancel, a test) still propagates.
    """
    held = Held()
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield held
        return

    def hold(_signum, _frame):
        held.count += 1

    signal.signal(signal.SIGINT, hold)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
