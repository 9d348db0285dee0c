"""A command's output directory, written so that nothing finished is lost.

``numaexp run`` writes its tables and figures into a staging directory inside
``--out`` first, then swaps the finished subdirectories into place (one
rename each). A write that fails (a full disk, a directory that went away)
leaves the earlier output as it was, and the results go to a rescue
directory under the system's temporary directory instead, which the error
names.

An interrupted ``numaexp run`` writes what it has into a new
``interrupted-<date>-<time>`` directory inside ``--out`` instead
(:func:`interrupted_dir`), never over the complete output. A Ctrl-C while a
finished output is moved into place is held until it is in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from numaexp.errors import ScenarioError
from numaexp.interrupts import hold_interrupts


def earlier_output(out: Path, subdirs: tuple[str, ...]) -> list[Path]:
    """The subdirectories of ``out`` among ``subdirs`` that already hold files."""
    return [out / sub for sub in subdirs if (out / sub).is_dir() and any((out / sub).iterdir())]


def interrupted_dir(out: Path) -> Path:
    """A new directory name for an interrupted run's partial output.

    Returns
    -------
    Path
        ``out/interrupted-YYYYmmdd-HHMMSS`` (local time), with ``-2``, ``-3``,
        ... appended when that name exists; not created.
    """
    base = out / f"interrupted-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while os.path.lexists(path):
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def write_output(out: Path, subdirs: tuple[str, ...], write: Callable[[Path], None]) -> Path:
    """Call ``write(directory)`` on a staging directory, then publish it as ``out``.

    Parameters
    ----------
    out : Path
        The output directory (created if missing).
    subdirs : tuple of str
        The subdirectories ``write`` may create; each replaces the one of the
        same name in ``out`` (an old one that ``write`` did not recreate is
        removed, so no stale file is left beside new ones).
    write : callable
        Writes the output into the directory it is given.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ScenarioError
        Field ``--out``: ``write`` failed with an OSError; the message names
        the rescue directory that holds the output instead (or says why
        that failed too). ``out`` is left as it was.
    """
    staging = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        write(staging)
    except OSError as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise ScenarioError("--out", f"cannot write {out}: {_reason(err)}; {_rescue(write)}",
                            "a writable directory with room for the output") from None
    except BaseException:  # a bug or Ctrl-C: no half-written staging directory is left
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    with hold_interrupts():  # written whole: a Ctrl-C now must not leave it half published
        for sub in subdirs:
            old = out / sub
            if os.path.lexists(old):
                old.rename(staging / f"old-{sub}")
            if (staging / sub).is_dir():
                (staging / sub).rename(old)
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _rescue(write: Callable[[Path], None]) -> str:
    """Write the output into a new rescue directory; say where, or why not."""
    rescue = None
    try:
        rescue = Path(tempfile.mkdtemp(prefix="numaexp-rescue-"))
        write(rescue)
    except OSError as err:
        if rescue is not None:
            shutil.rmtree(rescue, ignore_errors=True)
        return f"saving the results to {tempfile.gettempdir()} failed too ({_reason(err)})"
    return f"the results were saved to {rescue} instead"


def _reason(err: OSError) -> str:
    """``err`` in one line: its message and file, without the errno prefix."""
    text = err.strerror or str(err)
    return f"{text}: {err.filename}" if err.filename else text
