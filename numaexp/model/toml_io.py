"""Scenarios as TOML files: exact round trip, every bad key named by its path.

The file mirrors the dataclasses of :mod:`numaexp.model`::

    name = "default"
    seed = 0
    sample_interval_s = 0.5

    [machine]                         # Machine
    distance = [[10, 21], [21, 10]]
    [[machine.nodes]]                 # Node, one table per node
    cpus = 8
    memory = "16 GiB"

    [workload]                        # Workload
    [[workload.cgroups]]              # Cgroup
    [[workload.processes]]            # Process
    [[workload.processes.vmas]]       # Vma (policy = { mode = ..., nodes = [...] })
    [[workload.processes.threads]]    # Thread (policy as for a VMA)
    [[workload.processes.threads.phases]]           # Phase
    [[workload.processes.threads.phases.patterns]]  # Pattern

    [kernel]                          # KernelConfig
    numa_balancing = 1
    [costs]                           # CostModel
    [stop]                            # Stop
    kind = "work"

``kernel.variant`` may also be given as a label, e.g. ``variant = "mainline"``
(any label :meth:`~numaexp.model.kernel.KernelVariant.parse` reads); it is
written back as a table.

Keys are the dataclass field names (the value kind of each is read from the
field's annotation, so a field added to a dataclass is stored too); the
docstrings of those classes are the field reference. Sizes are written as
strings such as ``"3 GiB"`` (bytes or any string
:func:`~numaexp.model.units.parse_size` accepts are read). TOML has
no null: an optional field that is ``None`` is left out, and so is any field
equal to its default, except ``kernel.numa_balancing``, ``stop.kind``,
``seed``, ``sample_interval_s``, a pattern's ``kind`` and a policy's ``mode``
(a ``[costs]`` table at its defaults is left out whole).

Every problem raises :class:`~numaexp.errors.ScenarioError` whose ``field`` is
the dotted path of the offending key, e.g.
``workload.processes[0].vmas[1].sizee: unknown key (allowed: name, size, ...)``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import tomli_w

from numaexp.errors import ScenarioError
from numaexp.model.actions import Action
from numaexp.model.costs import CostModel
from numaexp.model.kernel import KernelConfig, KernelVariant
from numaexp.model.machine import Machine, Node
from numaexp.model.policy import Policy
from numaexp.model.scenario import Scenario, Stop
from numaexp.model.units import format_size
from numaexp.model.workload import (
    Cgroup,
    MemPolicy,
    Pattern,
    Phase,
    Process,
    Thread,
    Vma,
    Workload,
)

__all__ = [
    "load_scenario",
    "save_scenario",
    "scenario_from_dict",
    "scenario_from_toml",
    "scenario_to_dict",
    "scenario_to_toml",
]

# ----- schema -------------------------------------------------------------
# Value kinds of a key. A key's kind is one of these strings, or a
# ``(dataclass, many)`` pair: a (sub)table, or an array of tables if ``many``.
STR, INT, FLOAT, BOOL = "str", "int", "float", "bool"
SIZE = "size"
IDS = "ids"
INT_MATRIX, FLOAT_MATRIX = "int_matrix", "float_matrix"

_KIND_TEXT = {
    STR: "a string",
    INT: "an integer",
    FLOAT: "a number",
    BOOL: "true or false",
    SIZE: 'a size: bytes or a string like "3 GiB"',
    IDS: "an array of integer ids, e.g. [0, 1]",
    INT_MATRIX: "an array of arrays of integers (one row per node)",
    FLOAT_MATRIX: "an array of arrays of numbers (one row per node)",
}

_CLASSES = (Scenario, Machine, Node, Workload, Cgroup, Process, Vma, MemPolicy, Thread, Phase,
            Pattern, KernelConfig, KernelVariant, Policy, CostModel, Stop, Action)
"""The dataclasses a scenario file is made of."""

_ORDER: dict[type, tuple[str, ...]] = {
    Scenario: ("name", "description", "seed", "sample_interval_s", "machine", "workload",
               "kernel", "costs", "stop", "actions"),
    Machine: ("name", "description", "local_latency_ns", "link_bandwidth_gbps", "distance",
              "latency_ns", "nodes"),
    Workload: ("name", "description", "cgroups", "processes"),
    Process: ("name", "cgroup", "main_thread", "vmas", "threads"),
    Vma: ("name", "size", "kind", "shared", "writable", "executable", "thp", "object",
          "first_touch_node", "policy"),
    Thread: ("name", "count", "cpus", "policy", "phases"),
    Phase: ("passes", "touches", "duration_s", "think_ns", "mlp", "stream_gbps", "patterns"),
}
"""Order keys are written in, where it differs from the field order; fields not
listed follow in field order."""

_ANNOTATION_KINDS = {
    "str": STR, "int": INT, "float": FLOAT, "bool": BOOL, "int | str": SIZE,
    "tuple[int, ...]": IDS, "tuple[tuple[int, ...], ...]": INT_MATRIX,
    "tuple[tuple[float, ...], ...]": FLOAT_MATRIX,
    "Callable | str": STR,  # a policy: only a registered policy's name can be saved
}


def _field_kind(cls: type, f: dataclasses.Field):
    """Value kind of a dataclass field, from its annotation (``X | None`` is optional X)."""
    text = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    text = text.removesuffix(" | None")
    if text in _ANNOTATION_KINDS:
        return _ANNOTATION_KINDS[text]
    by_name = {c.__name__: c for c in _CLASSES}
    if text in by_name:
        return (by_name[text], False)
    if text.startswith("tuple[") and text.endswith(", ...]") and text[6:-6] in by_name:
        return (by_name[text[6:-6]], True)
    raise TypeError(f"toml_io cannot store {cls.__name__}.{f.name}: {f.type!r}")


def _schema(cls: type) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    order = [k for k in _ORDER.get(cls, ()) if k in fields]
    order += [k for k in fields if k not in order]
    return {k: _field_kind(cls, fields[k]) for k in order}


_SCHEMA: dict[type, dict[str, Any]] = {cls: _schema(cls) for cls in _CLASSES}
"""Keys of each table, in the order they are written, with their value kind."""

_ALWAYS = {
    (Scenario, "seed"), (Scenario, "sample_interval_s"), (KernelConfig, "numa_balancing"),
    (Stop, "kind"), (Pattern, "kind"), (MemPolicy, "mode"), (Action, "at_s"), (Action, "kind"),
}
"""Keys written even when equal to their default, so files explain themselves."""

_NO_DEFAULT = object()

_LABELLED = {KernelVariant: KernelVariant.parse}
"""Tables that may also be given as a label string, with the function reading the label."""


def _defaults(cls: type) -> dict[str, Any]:
    """Default of each field of ``cls`` (``_NO_DEFAULT`` for required ones)."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = _NO_DEFAULT
    return out


_DEFAULTS = {cls: _defaults(cls) for cls in _SCHEMA}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind_text(kind) -> str:
    if isinstance(kind, tuple):
        cls, many = kind
        if many:
            return f"an array of tables ([[...]], one per {cls.__name__})"
        if cls in _LABELLED:
            return f"a table ({cls.__name__}) or its label, e.g. \"mainline\""
        return f"a table ({cls.__name__})"
    return _KIND_TEXT[kind]


def _describe(value) -> str:
    """TOML type and (shortened) value of ``value`` for error messages."""
    if isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, int):
        kind = "an integer"
    elif isinstance(value, float):
        kind = "a float"
    elif isinstance(value, str):
        kind = "a string"
    elif isinstance(value, list):
        kind = "an array"
    elif isinstance(value, dict):
        return "a table"
    else:
        kind = f"a {type(value).__name__}"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"


# ----- dict -> dataclasses --------------------------------------------------
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
    return ScenarioError(path, f"expected {_kind_text(kind)}, got {_describe(value)}",
                         _kind_text(kind))


def _convert(kind, value, path: str):
    """Check the TOML type of ``value`` and convert it to the field's Python type."""
    if isinstance(kind, tuple):
        cls, many = kind
        if not many:
            if isinstance(value, str) and cls in _LABELLED:
                try:
                    return _LABELLED[cls](value)
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
    schema = _SCHEMA[cls]
    if not isinstance(data, dict):
        raise _wrong(path, (cls, False), data)
    for key in data:
        if key not in schema:
            raise ScenarioError(_join(path, key), "unknown key", ", ".join(schema))
    kwargs = {}
    defaults = _DEFAULTS[cls]
    for key, kind in schema.items():
        if key in data:
            kwargs[key] = _convert(kind, data[key], _join(path, key))
        elif defaults[key] is _NO_DEFAULT:
            raise ScenarioError(_join(path, key), f"missing required key of {cls.__name__}",
                                _kind_text(kind))
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
            raise ScenarioError("", f"a scenario must be a table, got {_describe(data)}")
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
        If the file is not UTF-8 TOML or does not describe a valid scenario.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fp:
            raw = fp.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"scenario file not found: {path}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, f"not UTF-8 text: {exc}", "a UTF-8 TOML file") from None
    return scenario_from_toml(text, path)


# ----- dataclasses -> dict ----------------------------------------------------
def _dump(obj) -> dict:
    """Plain dict of a dataclass, without ``None`` values and (most) defaults."""
    cls = type(obj)
    out: dict[str, Any] = {}
    defaults = _DEFAULTS[cls]
    for key, kind in _SCHEMA[cls].items():
        value = getattr(obj, key)
        default = defaults[key]
        if value is None:
            continue
        # The scenario's own tables are always written (kernel and stop have keys
        # that are always written); other keys at their default are left out.
        always = (cls, key) in _ALWAYS or (cls is Scenario and isinstance(kind, tuple))
        if not always and default is not _NO_DEFAULT and value == default:
            continue
        if isinstance(kind, tuple):
            value = [_dump(v) for v in value] if kind[1] else _dump(value)
            if not value and default is not _NO_DEFAULT:
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


def scenario_to_dict(scenario: Scenario) -> dict:
    """Nested dicts and lists of a scenario, ready for a TOML writer.

    ``None`` values and fields equal to their defaults are left out (see the
    module docstring for the few always written); sizes become strings.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    dict
        ``scenario_from_dict(scenario_to_dict(s)) == s``.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"expected a Scenario, got {type(scenario).__name__}")
    return _dump(scenario)


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
        sub = _join(path, key)
        if isinstance(value, dict):
            _emit(lines, value, sub, f"[{sub}]")
        else:
            for item in value:
                _emit(lines, item, sub, f"[[{sub}]]")


def _comment(text: str) -> list[str]:
    return ["# " + line if line else "#" for line in text.splitlines()]


def scenario_to_toml(scenario: Scenario) -> str:
    """TOML text of a scenario, with a short comment header.

    Short arrays and tables (memory policies) are written inline; processes,
    VMAs, threads, phases and patterns as arrays of tables.
    """
    data = scenario_to_dict(scenario)
    lines = _comment(f"numaexp scenario {_scalar(scenario.name)}. Load it with "
                     "numaexp.model.load_scenario(path);\nkeys are the fields of the "
                     "numaexp.model dataclasses (see their docstrings);\nleft-out keys "
                     "take their defaults.")
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
