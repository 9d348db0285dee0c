"""Reading scenario files: TOML text -> checked dataclasses, every bad key named by its path.

Each table is checked against :data:`~numaexp.model.toml_schema.SCHEMA` (unknown
and missing keys, TOML value types) before its dataclass checks the values;
errors name the dotted path of the key, e.g. ``workload.processes[0].name``.
The file format is described in :mod:`numaexp.model.toml_io`.
"""

from __future__ import annotations

import os

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from numaexp.errors import ScenarioError
from numaexp.model.files import MAX_INPUT_BYTES, read_input
from numaexp.model.scenario import Scenario
from numaexp.model.toml_schema import (
    BOOL,
    DEFAULTS,
    FLOAT,
    FLOAT_MATRIX,
    IDS,
    INT,
    INT_MATRIX,
    LABELLED,
    NO_DEFAULT,
    SCHEMA,
    SIZE,
    STR,
    describe,
    join_path,
    kind_text,
)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value, path: str) -> float:
    """``float(value)``, or an error naming ``path`` for an integer beyond the float range."""
    try:
        return float(value)
    except OverflowError:
        raise ScenarioError(path, f"{value!r:.40} is too large for a float",
                            "a finite number") from None


def _wrong(path: str, kind, value) -> ScenarioError:
    return ScenarioError(path, f"expected {kind_text(kind)}, got {describe(value)}",
                         kind_text(kind))


def _convert(kind, value, path: str):
    """Check the TOML type of ``value`` and convert it to the field's Python type."""
    if isinstance(kind, tuple):
        cls, many = kind
        if not many:
            if isinstance(value, str) and cls in LABELLED:
                try:
                    return LABELLED[cls](value)
                except ScenarioError as exc:
                    raise ScenarioError(path, exc.problem, exc.allowed) from None
            return _build(cls, value, path)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _wrong(path, kind, value)
        return tuple(_build(cls, item, f"{path}[{i}]") for i, item in enumerate(value))
    if kind == STR:
        ok = isinstance(value, str)
    elif kind == INT:
        ok = _is_int(value)
    elif kind == FLOAT:
        if _is_number(value):
            return _float(value, path)
        ok = False
    elif kind == BOOL:
        ok = isinstance(value, bool)
    elif kind == SIZE:
        ok = _is_number(value) or isinstance(value, str)
    elif kind == IDS:
        if not isinstance(value, list):
            raise _wrong(path, kind, value)
        for i, item in enumerate(value):
            if not _is_int(item):
                raise _wrong(f"{path}[{i}]", INT, item)
        return tuple(value)
    elif kind in (INT_MATRIX, FLOAT_MATRIX):
        check = _is_int if kind == INT_MATRIX else _is_number
        if not isinstance(value, list):
            raise _wrong(path, kind, value)
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, list):
                raise _wrong(f"{path}[{i}]", kind, row)
            for j, item in enumerate(row):
                if not check(item):
                    raise _wrong(f"{path}[{i}][{j}]", INT if kind == INT_MATRIX else FLOAT, item)
            rows.append(tuple(row) if kind == INT_MATRIX
                        else tuple(_float(x, f"{path}[{i}][{j}]") for j, x in enumerate(row)))
        return tuple(rows)
    else:  # pragma: no cover - schema error
        raise AssertionError(f"unknown kind {kind!r}")
    if not ok:
        raise _wrong(path, kind, value)
    return value


def _build(cls: type, data, path: str):
    """Build a ``cls`` from a TOML table, naming any bad key by its full path."""
    schema = SCHEMA[cls]
    if not isinstance(data, dict):
        raise _wrong(path, (cls, False), data)
    for key in data:
        if key not in schema:
            raise ScenarioError(join_path(path, key), "unknown key", ", ".join(schema))
    kwargs = {}
    defaults = DEFAULTS[cls]
    for key, kind in schema.items():
        if key in data:
            kwargs[key] = _convert(kind, data[key], join_path(path, key))
        elif defaults[key] is NO_DEFAULT:
            raise ScenarioError(join_path(path, key), f"missing required key of {cls.__name__}",
                                kind_text(kind))
    try:
        return cls(**kwargs)
    except ScenarioError as exc:
        # Scenario-level checks already use full paths; the others are relative.
        raise (exc if cls is Scenario else exc.under(path)) from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(path, f"invalid {cls.__name__}: {exc}") from None


def scenario_from_dict(data: dict, source: str = "<dict>") -> Scenario:
    """Build a :class:`~numaexp.model.scenario.Scenario` from nested dicts (parsed TOML).

    Parameters
    ----------
    data : dict
        Tables and values as produced by ``tomllib`` or :func:`scenario_to_dict`.
    source : str
        Where ``data`` comes from; named in error messages unless ``"<dict>"``.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        For an unknown or missing key, a value of the wrong type, or an invalid
        value; ``field`` is the dotted path, e.g. ``workload.processes[0].name``.
    """
    try:
        if not isinstance(data, dict):
            raise ScenarioError("", f"a scenario must be a table, got {describe(data)}")
        return _build(Scenario, data, "")
    except ScenarioError as exc:
        if source == "<dict>":
            raise
        raise ScenarioError(exc.field or source, f"{exc.problem} (in {source})",
                            exc.allowed) from None


def scenario_from_toml(text: str, source: str = "<string>") -> Scenario:
    """Parse TOML text into a scenario.

    Parameters
    ----------
    text : str
        TOML document.
    source : str
        Name of the document (a file path) for error messages.

    Raises
    ------
    ScenarioError
        For malformed TOML (``field`` is ``source``, the message gives the
        parser's line and column) or an invalid scenario.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, f"malformed TOML: {exc}",
                            "a TOML document (https://toml.io)") from None
    return scenario_from_dict(data, source)


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read a scenario from a TOML file.

    Parameters
    ----------
    path : str or path-like
        The ``.toml`` file.

    Returns
    -------
    Scenario

    Raises
    ------
    FileNotFoundError
        If there is no such file (the message names it).
    ScenarioError
        If the file is not a regular file (a FIFO, a device), is larger than
        :data:`~numaexp.model.files.MAX_INPUT_BYTES`, is not UTF-8 TOML or
        does not describe a valid scenario.
    """
    path = os.fspath(path)
    try:
        raw = read_input(path, "scenario", f"a regular TOML file of at most "
                                           f"{MAX_INPUT_BYTES // 2**20} MiB")
    except FileNotFoundError:
        raise FileNotFoundError(f"scenario file not found: {path}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, f"not UTF-8 text: {exc}", "a UTF-8 TOML file") from None
    return scenario_from_toml(text, path)
