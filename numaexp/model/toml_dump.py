"""Writing scenario files: dataclasses -> plain dicts -> TOML text that reads back equal.

:func:`scenario_to_dict` leaves out ``None`` and most defaults (see
:mod:`numaexp.model.toml_io` for the format); :func:`scenario_to_toml` writes
short arrays and tables inline and the rest as (arrays of) tables.
"""

from __future__ import annotations

import os
from typing import Any

import tomli_w

from numaexp.errors import ScenarioError
from numaexp.model.policy import Policy
from numaexp.model.scenario import Scenario
from numaexp.model.toml_schema import (
    ALWAYS,
    DEFAULTS,
    FLOAT_MATRIX,
    IDS,
    INT_MATRIX,
    LABEL_OF,
    NO_DEFAULT,
    SCHEMA,
    SIZE,
    STR,
    join_path,
)
from numaexp.model.units import format_size


def _dump(obj, every: bool = False) -> dict:
    """Plain dict of a dataclass, without ``None`` values and (unless ``every``, most)
    defaults."""
    cls = type(obj)
    out: dict[str, Any] = {}
    defaults = DEFAULTS[cls]
    for key, kind in SCHEMA[cls].items():
        value = getattr(obj, key)
        default = defaults[key]
        if value is None:
            continue
        # The scenario's own tables are always written (kernel and stop have keys
        # that are always written); other keys at their default are left out.
        always = (cls, key) in ALWAYS or (cls is Scenario and isinstance(kind, tuple))
        if not (always or every) and default is not NO_DEFAULT and value == default:
            continue
        if isinstance(kind, tuple) and kind[0] in LABEL_OF and LABEL_OF[kind[0]](value):
            value = LABEL_OF[kind[0]](value)
        elif isinstance(kind, tuple):
            value = [_dump(v, every) for v in value] if kind[1] else _dump(value, every)
            if not value and default is not NO_DEFAULT:
                continue
        elif kind == STR and not isinstance(value, str):
            raise ScenarioError(f"kernel.policy.{key}" if cls is Policy else key,
                                f"{value!r:.60} is a function: a scenario file can only hold "
                                "the name of a registered policy",
                                "numaexp.model.policy.register_policy(name, decision, "
                                "function), then Policy(decision=name)")
        elif kind == SIZE:
            value = format_size(value, exact=True) if value else 0
        elif kind == IDS:
            value = list(value)
        elif kind in (INT_MATRIX, FLOAT_MATRIX):
            value = [list(row) for row in value]
        out[key] = value
    return out


def scenario_to_dict(scenario: Scenario, defaults: bool = False) -> dict:
    """Nested dicts and lists of a scenario, ready for a TOML writer.

    ``None`` values and fields equal to their defaults are left out (see
    :mod:`numaexp.model.toml_io` for the few always written); sizes become strings.

    Parameters
    ----------
    scenario : Scenario
    defaults : bool
        Write every field, those at their defaults too (``None`` is still left out).

    Returns
    -------
    dict
        ``scenario_from_dict(scenario_to_dict(s)) == s``.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"expected a Scenario, got {type(scenario).__name__}")
    return _dump(scenario, defaults)


# ----- dict -> TOML text --------------------------------------------------------
_MAX_LINE = 100
_INDENT = "    "


def _scalar(value) -> str:
    """TOML literal of a string, number or boolean (tomli_w does the escaping)."""
    return tomli_w.dumps({"v": value})[len("v = "):-1]


def _array(values: list, lead: int) -> str:
    """A TOML array on one line, or over several when longer than the line limit."""
    items = [_array(v, 0) if isinstance(v, list) else _scalar(v) for v in values]
    one_line = "[" + ", ".join(items) + "]"
    if lead + len(one_line) <= _MAX_LINE and "\n" not in one_line:
        return one_line
    if any(isinstance(v, list) for v in values):
        return "[\n" + "".join(f"{_INDENT}{item},\n" for item in items) + "]"
    lines, line = [], ""
    for item in items:
        piece = item + ","
        if line and len(_INDENT) + len(line) + 1 + len(piece) > _MAX_LINE:
            lines.append(line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    lines.append(line)
    return "[\n" + "".join(f"{_INDENT}{x}\n" for x in lines) + "]"


def _value(key: str, value, inline: bool) -> str | None:
    """``key = value`` for a plain value or a short inline table, else ``None``.

    Tables are written inline only if ``inline`` and they fit on one line.
    """
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return None
        return f"{key} = {_array(value, len(key) + 3)}"
    if isinstance(value, dict):
        if not inline:
            return None
        parts = []
        for k, v in value.items():
            if isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, dict)
                                                                   for x in v)):
                return None
            parts.append(f"{k} = {_array(v, 0) if isinstance(v, list) else _scalar(v)}")
        line = f"{key} = {{ " + ", ".join(parts) + " }" if parts else f"{key} = {{}}"
        return line if len(line) <= _MAX_LINE and "\n" not in line else None
    return f"{key} = {_scalar(value)}"


def _emit(lines: list[str], table: dict, path: str, header: str | None) -> None:
    if header is not None:
        if lines:
            lines.append("")
        lines.append(header)
    deferred = []
    for key, value in table.items():
        line = _value(key, value, inline=bool(path))
        if line is None:
            deferred.append((key, value))
        else:
            lines.append(line)
    for key, value in deferred:
        sub = join_path(path, key)
        if isinstance(value, dict):
            _emit(lines, value, sub, f"[{sub}]")
        else:
            for item in value:
                _emit(lines, item, sub, f"[[{sub}]]")


def _comment(text: str) -> list[str]:
    return ["# " + line if line else "#" for line in text.splitlines()]


def scenario_to_toml(scenario: Scenario, defaults: bool = False) -> str:
    """TOML text of a scenario, with a short comment header.

    Short arrays and tables (memory policies) are written inline; processes,
    VMAs, threads, phases and patterns as arrays of tables. With ``defaults``
    every field is written, those at their defaults too (to see and edit them).
    """
    data = scenario_to_dict(scenario, defaults)
    lines = _comment(f"numaexp scenario {_scalar(scenario.name)}. Load it with "
                     "numaexp.model.load_scenario(path);\nkeys are the fields of the "
                     "numaexp.model dataclasses (see their docstrings);\n"
                     + ("every field is written, defaults included." if defaults else
                        "left-out keys take their defaults."))
    lines.append("")
    _emit(lines, data, "", None)
    text = "\n".join(lines) + "\n"
    return text


def save_scenario(scenario: Scenario, path: str | os.PathLike) -> None:
    """Write a scenario to a TOML file that :func:`load_scenario` reads back equal.

    Parameters
    ----------
    scenario : Scenario
    path : str or path-like
        Destination ``.toml`` file (overwritten).
    """
    text = scenario_to_toml(scenario)
    with open(os.fspath(path), "w", encoding="utf-8", newline="\n") as fp:
        fp.write(text)
