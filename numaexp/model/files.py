"""Reading input files (scenarios, sweep specs) without hanging or filling memory.

A scenario or spec file must be a regular file of at most
:data:`MAX_INPUT_BYTES`. A FIFO would block ``open`` until a writer comes (for
ever, from the command line), and a device such as ``/dev/zero`` never ends:
both are refused before anything is read, and a larger file is refused
before it is read whole.
"""

from __future__ import annotations

import os
import stat

from numaexp.errors import ScenarioError
from numaexp.model.units import format_size

MAX_INPUT_BYTES = 16 * 2**20
"""Largest scenario or spec file, bytes (16 MiB: the largest preset is under 10 KiB)."""

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((text for test, text in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike, field: str, allowed: str) -> int:
    """Open ``path`` for reading without blocking, refusing what is not a regular file.

    Parameters
    ----------
    path : str or path-like
        The file.
    field : str
        Field named in the error (e.g. ``"scenario"``).
    allowed : str
        What is allowed, for the error.

    Returns
    -------
    int
        An open file descriptor (the caller closes it).

    Raises
    ------
    FileNotFoundError
        No such file.
    ScenarioError
        ``path`` is a directory, a FIFO, a device or a socket.
    OSError
        It cannot be opened (permission denied, ...).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO with no writer returns at once
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(field, f"{os.fspath(path)} is a directory, not a file", allowed)
        if not stat.S_ISREG(mode):
            raise ScenarioError(field, f"{os.fspath(path)} is {_kind(mode)}, not a regular "
                                "file", allowed)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_input(path: str | os.PathLike, field: str, allowed: str,
               limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular input file of at most ``limit`` bytes.

    Parameters
    ----------
    path : str or path-like
        The file.
    field : str
        Field named in the error.
    allowed : str
        What is allowed, for the error.
    limit : int
        Largest accepted size, bytes (default :data:`MAX_INPUT_BYTES`).

    Raises
    ------
    FileNotFoundError
        No such file.
    ScenarioError
        Not a regular file (see :func:`open_regular`), or larger than ``limit``.
    """
    fd = open_regular(path, field, allowed)
    too_big = ScenarioError(field, f"{os.fspath(path)} is larger than "
                                   f"{format_size(limit)}, the most an input file may be",
                            allowed)
    with os.fdopen(fd, "rb") as fp:
        if os.fstat(fp.fileno()).st_size > limit:
            raise too_big
        data = fp.read(limit + 1)  # the file may have grown since fstat
    if len(data) > limit:
        raise too_big
    return data
