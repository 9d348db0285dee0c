"""Pool workers that end when the process that started them dies.

A local pool's workers wait on a queue for points. If the sweeping process
is killed (``kill -9``, the OOM killer), nothing tells them: they would live
on, holding hundreds of MiB and the command's stdout and stderr (so ``| tee``
or ``subprocess.communicate()`` would never return), and keep
multiprocessing's resource tracker alive. :func:`watch_parent` starts a
daemon thread in the worker that checks, every :data:`CHECK_S` seconds,
whether its parent is still its parent, and ends the worker at once
(``os._exit``) when it is not. The simulator's kernels release the GIL, so
the check runs while a point is being simulated too. With the workers gone,
the resource tracker sees the end of its pipe and exits as well.
"""

from __future__ import annotations

import os
import threading

CHECK_S = 0.5
"""Interval of the parent check, s."""

EXIT_STATUS = 70
"""Exit status of a worker whose parent died (``EX_SOFTWARE``)."""


def parent_alive(parent_pid: int) -> bool:
    """Whether process ``parent_pid`` is still this process's parent.

    A process whose parent dies is adopted by init (or a sub-reaper), so
    its parent pid changes; comparing it is safe against pid reuse.
    """
    return os.getppid() == parent_pid


def watch_parent(parent_pid: int, interval: float = CHECK_S) -> threading.Thread:
    """Start a daemon thread that ends this process when ``parent_pid`` is no longer its parent.

    Parameters
    ----------
    parent_pid : int
        Pid of the process that started this one.
    interval : float
        Seconds between checks.

    Returns
    -------
    threading.Thread
        The started watcher.
    """
    def watch() -> None:
        while parent_alive(parent_pid):
            stop.wait(interval)
        os._exit(EXIT_STATUS)  # no clean-up: the parent that would collect results is gone

    stop = threading.Event()  # never set: wait() is an interruptible sleep
    if not parent_alive(parent_pid):  # died before this worker got here
        os._exit(EXIT_STATUS)
    thread = threading.Thread(target=watch, name="numaexp-parent-watch", daemon=True)
    thread.start()
    return thread
