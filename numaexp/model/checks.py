"""Checks shared by the model's dataclasses, one helper per kind of check.

Each raises :class:`~numaexp.errors.ScenarioError` naming the field relative
to its dataclass (callers and the TOML loader prefix the rest of the path) and
what is allowed. Python's own errors (TypeError, OverflowError, ...) must never
reach the user, so every helper checks the type before it compares or converts.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re

from numaexp.errors import ScenarioError

MAX_SECONDS = 1e6
"""Longest simulated time a duration may give, s (11.6 days: the simulator's
clock counts int64 ns, and a longer run would not end in practice)."""

NAME_RE = re.compile(r"^[A-Za-z0-9_.:+-]+$")
"""What a name (of a process, thread, VMA, memory object or cgroup part) may hold."""


def _range_text(low, high, low_open: bool, high_open: bool, unit: str) -> str:
    unit = f" {unit}" if unit else ""
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}{unit}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}{unit}"
    return (f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            f"{unit}")


def short_repr(value) -> str:
    """``repr(value)``, cut to 40 characters (ending in ``...``) for messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _short(value) -> str:
    """Type and shortened repr of ``value`` for messages."""
    return f"{type(value).__name__} {short_repr(value)}"


def check_number(value, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, unit: str = "",
                 allowed: str | None = None, why: str = "") -> None:
    """Require a finite int or float (not a bool) in the given range.

    Parameters
    ----------
    value
        The value to check.
    name : str
        Field name for the error.
    low, high : float, optional
        Bounds (``None``: unbounded on that side; the value must still be finite).
    low_open, high_open : bool
        Exclude the bound itself.
    unit : str
        Unit named in the message, e.g. ``"s"`` or ``"ns"``.
    allowed : str, optional
        Text of the allowed values (default: ``"a finite number <range>"``).
    why : str
        Appended to the problem when the value is above ``high``.
    """
    text = _range_text(low, high, low_open, high_open, unit)
    allowed = allowed or f"a finite number {text}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScenarioError(name, f"must be a number {text} (got {value!r})", allowed)
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        finite = False
    if not finite:
        raise ScenarioError(name, f"must be a finite number {text} (got {value!r:.40})",
                            allowed)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ScenarioError(name, f"must be {text} (got {value!r}){why if too_high else ''}",
                            allowed)


def check_seconds(value, name: str, *, allow_zero: bool = False) -> None:
    """A duration in simulated seconds: finite, > 0 (>= 0 with ``allow_zero``) and at most
    :data:`MAX_SECONDS`."""
    check_number(value, name, low=0, low_open=not allow_zero, high=MAX_SECONDS, unit="s",
                 why=" (a longer run would not end in practice)")


def check_name(value: str, name: str = "name") -> None:
    """Require a string matching :data:`NAME_RE` (letters, digits and ``_ . : + -``)."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ScenarioError(name, f"invalid name {value!r}",
                            "letters, digits and _ . : + - (no spaces)")


def check_bools(obj) -> None:
    """Require every field of dataclass ``obj`` annotated ``bool`` to hold a bool.

    ``"no"`` or ``1`` would otherwise be taken as true by the simulator.
    """
    for f in dataclasses.fields(obj):
        if f.type in ("bool", bool):
            value = getattr(obj, f.name)
            if not isinstance(value, bool):
                raise ScenarioError(f.name, f"must be true or false (got {value!r})",
                                    "True or False (true or false in TOML)")


def check_items(values, name: str, kind: type, *, optional: bool = False) -> tuple:
    """Require a tuple or list of ``kind`` instances; return it as a tuple.

    Parameters
    ----------
    values
        A tuple or list (any iterable but a string or a mapping).
    name : str
        Field name; an element's error names ``name[i]``.
    kind : type
        Class of every element.
    optional : bool
        Accept ``None`` (returned as is).
    """
    if values is None and optional:
        return None
    allowed = f"a tuple (or list) of {kind.__name__}"
    if isinstance(values, kind):
        raise ScenarioError(name, f"must be a tuple of {kind.__name__}, got a single "
                                  f"{kind.__name__} (write (x,) or [x])", allowed)
    problem = f"must be a tuple of {kind.__name__} (got {_short(values)})"
    if isinstance(values, (str, bytes, dict)):
        raise ScenarioError(name, problem, allowed)
    try:
        out = tuple(values)
    except TypeError:
        raise ScenarioError(name, problem, allowed) from None
    for i, item in enumerate(out):
        if not isinstance(item, kind):
            raise ScenarioError(f"{name}[{i}]", f"must be a {kind.__name__} (got {_short(item)})",
                                f"a {kind.__name__}")
    return out


def store_items(obj, **fields: tuple[type, str | None]) -> tuple[tuple, ...]:
    """Check, store and return the tuple fields of frozen dataclass ``obj``.

    Each keyword names a field and gives ``(kind, empty)``: the field must pass
    :func:`check_items` with ``kind`` (every field is checked before any is
    stored as a tuple), and if ``empty`` is a problem text it must not be
    empty. Returns the tuples in the order given.
    """
    values = tuple(check_items(getattr(obj, name), name, kind)
                   for name, (kind, _) in fields.items())
    for name, value in zip(fields, values, strict=True):
        object.__setattr__(obj, name, value)
    for (name, (_, empty)), value in zip(fields.items(), values, strict=True):
        if empty and not value:
            raise ScenarioError(name, empty)
    return values


def check_instance(value, name: str, kind: type, *, optional: bool = False) -> None:
    """Require ``value`` to be a ``kind`` (or ``None`` if ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, kind):
        raise ScenarioError(name, f"must be a {kind.__name__} (got {_short(value)})",
                            f"a {kind.__name__}" + (" or None" if optional else ""))


def check_text(obj, *names: str) -> None:
    """Require the fields ``names`` of dataclass ``obj`` to hold strings.

    A name or description that is not text (a number, a function) would
    otherwise fail much later, in a label, a file or a sweep's hash.
    """
    for name in names:
        value = getattr(obj, name)
        if not isinstance(value, str):
            raise ScenarioError(name, f"must be a string (got {_short(value)})", "a string")


def check_ids(values, name: str) -> tuple[int, ...]:
    """Require a list of distinct integer ids >= 0 (CPUs or nodes); return it as a tuple."""
    if isinstance(values, (str, bytes, dict)):
        raise ScenarioError(name, f"must be a list of integers (got {values!r})",
                            "a list of distinct ids >= 0")
    try:
        out = tuple(values)
    except TypeError:
        raise ScenarioError(name, f"must be a list of integers (got {values!r})",
                            "a list of distinct ids >= 0") from None
    for v in out:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ScenarioError(name, f"must be a list of integers >= 0 (got {values!r})",
                                "a list of distinct ids >= 0")
    if len(set(out)) != len(out):
        raise ScenarioError(name, f"lists an id twice ({values!r})", "a list of distinct ids")
    return tuple(int(v) for v in out)
