"""Parsing of human-readable sizes ("3 GiB", "512MiB", 4096) into bytes."""

from __future__ import annotations

import math
import re

from numaexp.errors import ScenarioError

PAGE_SIZE = 4096
"""Base page size in bytes (x86-64, ``PAGE_SHIFT`` 12)."""

HPAGE_PMD_NR = 512
"""Base pages per PMD-mapped huge page (2 MiB on x86-64)."""

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kb": 1 << 10,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mb": 1 << 20,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gb": 1 << 30,
    "gib": 1 << 30,
    "t": 1 << 40,
    "tb": 1 << 40,
    "tib": 1 << 40,
    "p": 1 << 50,
    "pb": 1 << 50,
    "pib": 1 << 50,
}
MAX_SIZE = 1 << 57
"""Largest size accepted (128 PiB: x86-64 57-bit virtual addresses, 5-level paging)."""

MAX_NODE_MEMORY = 1 << 52
"""Largest node memory accepted (4 PiB: x86-64 52-bit physical addresses)."""

_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | float | str, field: str, *, maximum: int = MAX_SIZE,
               why: str = "57-bit virtual addresses", allow_zero: bool = False) -> int:
    """Convert a size to bytes.

    Parameters
    ----------
    value : int, float or str
        Bytes as a number, or a string with a binary unit: ``"3 GiB"``,
        ``"512MiB"``, ``"64K"`` (K/M/G/T/P and KB/MB/GB/TB/PB are binary too).
    field : str
        Field path used in the error message.
    maximum : int
        Largest size accepted, bytes (default 128 PiB).
    why : str
        Reason for ``maximum``, given in the error message.
    allow_zero : bool
        Accept 0 (e.g. an offset).

    Returns
    -------
    int
        Size in bytes (> 0, or >= 0 with ``allow_zero``), at most ``maximum``.

    Raises
    ------
    ScenarioError
        If the value is not a finite size in range.
    """
    allowed = (f'{"a number of bytes >= 0" if allow_zero else "a positive number of bytes"} '
               f'or a string like "3 GiB", "512 MiB", "64 KiB", '
               f"at most {format_size(maximum)}")
    if isinstance(value, bool):
        raise ScenarioError(field, f"not a size: {value!r}", allowed)
    if isinstance(value, (int, float)):
        number = value
        unit = ""
    elif isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match or match.group(2).lower() not in _UNITS:
            raise ScenarioError(field, f"not a size: {value!r}", allowed)
        number = float(match.group(1))
        unit = match.group(2).lower()
    else:
        raise ScenarioError(field, f"not a size: {value!r}", allowed)
    if isinstance(number, float) and not math.isfinite(number):
        raise ScenarioError(field, f"not a finite size: {value!r}", allowed)
    scaled = number * _UNITS[unit]
    if scaled > maximum:
        raise ScenarioError(field, f"{value!r} is more than {format_size(maximum)} ({why})",
                            allowed)
    size = round(scaled)
    if size < 0 or (size == 0 and not allow_zero):
        raise ScenarioError(field, f"must be {'>= 0' if allow_zero else '> 0'} (got {value!r})",
                            allowed)
    return size


def format_size(nbytes: int, exact: bool = False) -> str:
    """Format bytes with a binary unit.

    With the largest unit that divides them exactly if there is one; else
    ``"42.0 GiB"`` (one decimal, for messages), or with ``exact``
    the bare number of bytes (which :func:`parse_size` reads back).
    """
    for unit, factor in _FORMAT_UNITS:
        if nbytes and nbytes % factor == 0:
            return f"{nbytes // factor} {unit}"
    if exact:
        return str(nbytes)
    for unit, factor in _FORMAT_UNITS:
        if abs(nbytes) >= factor:
            return f"{nbytes / factor:.1f} {unit}"
    return f"{nbytes} B"


_FORMAT_UNITS = (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20),
                 ("KiB", 1 << 10))
