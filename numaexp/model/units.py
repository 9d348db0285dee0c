"""Parsing of human-readable sizes ("3 GiB", "512MiB", 4096) into bytes."""

from __future__ import annotations

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
}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | float | str, field: str) -> int:
    """Convert a size to bytes.

    Parameters
    ----------
    value : int, float or str
        Bytes as a number, or a string with a binary unit: ``"3 GiB"``,
        ``"512MiB"``, ``"64K"`` (K/M/G/T and KB/MB/GB/TB are binary too).
    field : str
        Field path used in the error message.

    Returns
    -------
    int
        Size in bytes (> 0).

    Raises
    ------
    ScenarioError
        If the value is not a positive size.
    """
    allowed = 'a positive number of bytes or a string like "3 GiB", "512 MiB", "64 KiB"'
    if isinstance(value, bool):
        raise ScenarioError(field, f"not a size: {value!r}", allowed)
    if isinstance(value, (int, float)):
        number = float(value)
        unit = ""
    elif isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match or match.group(2).lower() not in _UNITS:
            raise ScenarioError(field, f"not a size: {value!r}", allowed)
        number = float(match.group(1))
        unit = match.group(2).lower()
    else:
        raise ScenarioError(field, f"not a size: {value!r}", allowed)
    size = round(number * _UNITS[unit])
    if size <= 0:
        raise ScenarioError(field, f"must be > 0 (got {value!r})", allowed)
    return size


def format_size(nbytes: int) -> str:
    """Format bytes with the largest binary unit that divides them exactly."""
    for unit, factor in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes % factor == 0:
            return f"{nbytes // factor} {unit}"
    return str(nbytes)
