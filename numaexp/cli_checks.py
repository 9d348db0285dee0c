"""Checks of the command line's arguments, made before anything runs.

Each raises :class:`~numaexp.errors.ScenarioError` naming the argument and
what it allows, which :func:`numaexp.cli.main` prints as one line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from numaexp.errors import ScenarioError
from numaexp.model.files import open_regular

SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
"""Dask comm schemes accepted in ``--scheduler`` (``tcp`` when none is given)."""

_ADDRESS_RE = re.compile(r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
                         r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})$")


def check_input(field: str, path: str, allowed: str) -> None:
    """Refuse an input file that is missing, unreadable or not a regular file.

    A FIFO or a device is refused without blocking (a FIFO would otherwise
    wait for a writer for ever, ``/dev/zero`` would never end).
    """
    if not os.path.exists(path):  # also a broken symbolic link
        raise ScenarioError(field, f"no such file: {path}", allowed)
    try:
        os.close(open_regular(path, field, allowed))
    except ScenarioError:
        raise
    except OSError as err:
        raise ScenarioError(field, f"cannot read {path}: {err.strerror or err}", allowed) from None


def check_out(text: str, subdirs: tuple[str, ...] = ()) -> Path:
    """The ``--out`` directory, refused before any run if it cannot hold the output.

    It may exist (a directory, with ``subdirs`` directories if they exist) or
    not (its nearest existing ancestor must then be a writable directory). An
    empty path is refused (it would mean the current directory).
    """
    allowed = "a directory, or a path where one can be created"
    if not text.strip():
        raise ScenarioError("--out", f"empty path {text!r} (it would write into the current "
                                     "directory)", allowed + ", such as out/ (. for here)")
    out = Path(text)
    for path in (out, *(out / sub for sub in subdirs)):
        if os.path.lexists(path) and not path.is_dir():
            raise ScenarioError("--out", f"{path} exists and is not a directory", allowed)
    existing = out
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise ScenarioError("--out", f"cannot create {out}: {existing} is not a directory",
                            allowed)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ScenarioError("--out", f"cannot {'write to' if existing == out else 'create'} "
                            f"{out}: permission denied on {existing}", allowed)
    return out


def items(option: str, text: str, allowed: str) -> list[str]:
    """The comma-separated items of ``option``, refusing an empty one."""
    out = [x.strip() for x in text.split(",")]
    for i, item in enumerate(out):
        if not item:
            raise ScenarioError(option, f"empty item {i + 1} in {text!r}", allowed)
    return out


def modes(text: str) -> list[int]:
    """The ``--modes`` list: distinct integers."""
    listed = items("--modes", text, "comma-separated modes such as 0,1")
    try:
        out = [int(x) for x in listed]
    except ValueError:
        raise ScenarioError("--modes", f"not a list of integers: {text!r}",
                            "comma-separated modes such as 0,1") from None
    for i, mode in enumerate(out):
        if mode in out[:i]:
            raise ScenarioError("--modes", f"mode {mode} is listed twice in {text!r}",
                                "comma-separated modes, each once, such as 0,1")
    return out


def scheduler_address(text: str) -> str:
    """A Dask scheduler address ``[SCHEME://]HOST:PORT``, checked before connecting.

    Returns
    -------
    str
        The address with its scheme (``tcp://`` when none was given).
    """
    allowed = "the address of a running Dask scheduler, tcp://HOST:PORT (e.g. tcp://HOST:8786)"
    match = _ADDRESS_RE.match(text.strip())
    if match is None:
        raise ScenarioError("--scheduler", f"{text!r} is not an address HOST:PORT", allowed)
    scheme = (match["scheme"] or "tcp").lower()
    if scheme not in SCHEDULER_SCHEMES:
        raise ScenarioError("--scheduler", f"unknown scheme {scheme!r} in {text!r}",
                            f"{allowed}; schemes: {', '.join(SCHEDULER_SCHEMES)}")
    if not 1 <= int(match["port"]) <= 65535:
        raise ScenarioError("--scheduler", f"port {match['port']} of {text!r} is not in "
                                           "1..65535", allowed)
    return f"{scheme}://{match['host']}:{int(match['port'])}"
