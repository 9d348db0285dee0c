"""The schema of scenario files: each table's keys, their value kinds and defaults.

Shared by :mod:`~numaexp.model.toml_load` (TOML -> dataclasses) and
:mod:`~numaexp.model.toml_dump` (dataclasses -> TOML); the file format itself
is described in :mod:`numaexp.model.toml_io`. A key's kind is read from its
dataclass field's annotation, so a field added to a dataclass is stored too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from numaexp.model.actions import Action
from numaexp.model.background import BACKGROUNDS, Background
from numaexp.model.background import background as background_of
from numaexp.model.checks import short_repr
from numaexp.model.costs import CostModel
from numaexp.model.kernel import KernelConfig, KernelVariant
from numaexp.model.machine import Machine, Node
from numaexp.model.policy import Policy
from numaexp.model.scenario import Scenario, Stop
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
            Pattern, KernelConfig, KernelVariant, Policy, CostModel, Stop, Action, Background)
"""The dataclasses a scenario file is made of."""

LABELLED = {KernelVariant: KernelVariant.parse, Background: background_of}
"""Tables that may also be given as a label string, with the function reading the label."""

LABEL_OF = {Background: lambda b: b.name if BACKGROUNDS.get(b.name) == b else None}
"""Tables written as their label when they have one (a preset)."""

_ORDER: dict[type, tuple[str, ...]] = {
    Scenario: ("name", "description", "seed", "sample_interval_s", "background", "machine",
               "workload", "kernel", "costs", "stop", "actions"),
    Machine: ("name", "description", "local_latency_ns", "link_bandwidth_gbps", "distance",
              "latency_ns", "nodes"),
    Workload: ("name", "description", "cgroups", "processes"),
    Process: ("name", "cgroup", "main_thread", "start_s", "vmas", "threads"),
    Vma: ("name", "size", "kind", "shared", "writable", "executable", "thp", "object",
          "first_touch_node", "policy"),
    Thread: ("name", "count", "created_by", "created_after_phase", "start_s", "cpus", "policy",
             "phases"),
    Phase: ("passes", "touches", "duration_s", "think_ns", "mlp", "stream_gbps", "barrier",
            "run_s", "sleep_s", "sleep_dist", "patterns"),
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
    if text.endswith(" | str") and text[:-len(" | str")] in {c.__name__ for c in LABELLED}:
        text = text[:-len(" | str")]  # a table or its label
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


SCHEMA: dict[type, dict[str, Any]] = {cls: _schema(cls) for cls in _CLASSES}
"""Keys of each table, in the order they are written, with their value kind."""

ALWAYS = {
    (Scenario, "seed"), (Scenario, "sample_interval_s"), (Scenario, "background"),
    (KernelConfig, "numa_balancing"),
    (Stop, "kind"), (Pattern, "kind"), (MemPolicy, "mode"), (Action, "at_s"), (Action, "kind"),
}
"""Keys written even when equal to their default, so files explain themselves."""

NO_DEFAULT = object()


def _defaults(cls: type) -> dict[str, Any]:
    """Default of each field of ``cls`` (``NO_DEFAULT`` for required ones)."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = NO_DEFAULT
    return out


DEFAULTS = {cls: _defaults(cls) for cls in SCHEMA}


def join_path(path: str, key: str) -> str:
    """Dotted path of ``key`` in the table at ``path`` (``""``: the top level)."""
    return f"{path}.{key}" if path else key


def kind_text(kind) -> str:
    """What a value of ``kind`` is, for error messages."""
    if isinstance(kind, tuple):
        cls, many = kind
        if many:
            return f"an array of tables ([[...]], one per {cls.__name__})"
        if cls in LABELLED:
            return f"a table ({cls.__name__}) or its label, e.g. \"mainline\""
        return f"a table ({cls.__name__})"
    return _KIND_TEXT[kind]


def describe(value) -> str:
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
    return f"{kind} {short_repr(value)}"
