"""Dotted paths to scenario fields: read them, and set several at once.

A path names a field of a :class:`~numaexp.model.scenario.Scenario` the way
Python would reach it, for example::

    kernel.scan_period_min_ms
    stop.duration_s
    machine.nodes[0].memory
    machine.distance[0][1]
    workload.processes["numa02"].vmas["buf"].first_touch_node
    workload.cgroups["/mytest"].numa_load_balance

``.name`` steps into a dataclass field, ``[i]`` indexes a tuple, and
``["key"]`` picks the element of a tuple of dataclasses whose ``name`` (or,
for cgroups, ``path``) is ``key``. A cgroup that the workload uses without
listing it (a process's cgroup or a parent) can be addressed by its path;
setting one of its fields lists it.

Setting builds a new scenario with :func:`dataclasses.replace`, changing each
dataclass once with all the values meant for it (so ``stop.kind`` and
``stop.duration_s`` can change together), and every dataclass validates its
new values as usual. A value may be given as in a scenario TOML file: a dict
for a dataclass field (e.g. ``stop = {kind = "duration", duration_s = 10}``
builds a new ``Stop``; fields not given take their defaults), a list for a
tuple.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from typing import Any

from numaexp.errors import ScenarioError

PATH_EXAMPLES = ('kernel.scan_period_min_ms, machine.nodes[0].memory, '
                 'workload.cgroups["/mytest"].numa_load_balance')
"""Examples quoted in error messages."""

_TOKEN = re.compile(r"""\.?([A-Za-z_][A-Za-z0-9_]*)|\[\s*(\d+)\s*\]|\[\s*(["'])(.*?)\3\s*\]""")


def parse_path(path: str) -> tuple[str | int | tuple[str], ...]:
    """Split a dotted path into steps.

    Parameters
    ----------
    path : str
        E.g. ``'workload.cgroups["/mytest"].numa_load_balance'``.

    Returns
    -------
    tuple
        One step per component: a ``str`` field name, an ``int`` index, or a
        1-tuple ``(key,)`` for a ``["key"]`` lookup.

    Raises
    ------
    ScenarioError
        If ``path`` is not a well-formed path starting with a field name.
    """
    if not isinstance(path, str):
        raise ScenarioError(str(path), f"a parameter path must be a string, got {path!r}",
                            PATH_EXAMPLES)
    steps: list[str | int | tuple[str]] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        dotted = match is not None and match.group(1) is not None
        if match is None or (dotted and (path[pos] == ".") == (pos == 0)):
            raise ScenarioError(path, f"malformed path at character {pos + 1}", PATH_EXAMPLES)
        name, index, _, key = match.groups()
        steps.append(name if dotted else int(index) if index is not None else (key,))
        pos = match.end()
    if not steps:
        raise ScenarioError(path, "empty path", PATH_EXAMPLES)
    return tuple(steps)


def format_path(steps) -> str:
    """The text of a path from its steps (inverse of :func:`parse_path`)."""
    out = ""
    for step in steps:
        if isinstance(step, str):
            out += f".{step}" if out else step
        elif isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f'["{step[0]}"]'
    return out


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _dataclass_in(hint) -> tuple[type | None, bool]:
    """The dataclass a type hint refers to, and whether it is a ``tuple[X, ...]`` of them."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for arg in args:
            cls, many = _dataclass_in(arg)
            if cls is not None:
                return cls, many
        return None, False
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        inner, _ = _dataclass_in(args[0])
        return inner, inner is not None
    return (hint, False) if dataclasses.is_dataclass(hint) else (None, False)


def _element_hint(hint):
    """Type of the elements of a ``tuple[X, ...]`` hint (``| None`` allowed), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next((a for a in typing.get_args(hint) if a is not type(None)), None)
    args = typing.get_args(hint)
    return args[0] if typing.get_origin(hint) is tuple and args else None


def _field_names(obj) -> list[str]:
    return [f.name for f in dataclasses.fields(obj)]


def _from_value(hint, value, where: str):
    """``value`` as given in a spec (dicts for dataclasses, lists for tuples) -> field value."""
    cls, many = _dataclass_in(hint)
    if cls is not None and many and isinstance(value, (list, tuple)):
        return tuple(_from_value(cls, item, f"{where}[{i}]") for i, item in enumerate(value))
    if cls is not None and isinstance(value, dict):
        return _build(cls, value, where)
    if isinstance(value, list):
        return tuple(_from_value(None, item, where) for item in value)
    return value


def _build(cls: type, data: dict, where: str):
    """A new ``cls`` from a dict of its fields (others at their defaults)."""
    names = _field_names(cls)
    for key in data:
        if key not in names:
            raise ScenarioError(f"{where}.{key}", f"{cls.__name__} has no field {key!r}",
                                ", ".join(names))
    kwargs = {key: _from_value(_hints(cls)[key], value, f"{where}.{key}")
              for key, value in data.items()}
    try:
        return cls(**kwargs)
    except ScenarioError as err:
        raise err.under(where) from None
    except TypeError as err:
        raise ScenarioError(where, f"cannot build a {cls.__name__}: {err}",
                            ", ".join(names)) from None


def _keyed(items: tuple) -> dict[str, int]:
    """Index of each element of ``items`` by its ``name`` or ``path``."""
    out = {}
    for i, item in enumerate(items):
        for attr in ("name", "path"):
            if dataclasses.is_dataclass(item) and isinstance(getattr(item, attr, None), str):
                out[getattr(item, attr)] = i
                break
    return out


def _implicit(parent, field: str | None) -> dict[str, Any]:
    """Elements a keyed tuple holds implicitly (cgroups a workload uses but does not list)."""
    if field == "cgroups" and hasattr(parent, "all_cgroups"):
        return {c.path: c for c in parent.all_cgroups()}
    return {}


def _index(items: tuple, step, parent, field: str | None, where: str) -> tuple[tuple, int]:
    """Resolve an index or key step on ``items``; may append an implicit element."""
    if isinstance(step, int):
        if step >= len(items):
            raise ScenarioError(where, f"index {step} is out of range ({len(items)} elements)",
                                f"0..{len(items) - 1}" if items else "no index: the tuple is empty")
        return items, step
    key = step[0]
    keys = _keyed(items)
    if key in keys:
        return items, keys[key]
    implicit = _implicit(parent, field)
    if key in implicit:
        return (*items, implicit[key]), len(items)
    known = list(keys) + [k for k in implicit if k not in keys]
    if not known:
        raise ScenarioError(where, f"cannot look up {key!r}: elements here have no name",
                            f"an index 0..{len(items) - 1}" if items else "nothing (empty)")
    raise ScenarioError(where, f"no element named {key!r}", ", ".join(map(repr, known)))


def _step_error(obj, steps: tuple) -> ScenarioError:
    """Error for a step (the last of ``steps``) that does not apply to ``obj``."""
    what = "has no fields" if isinstance(steps[-1], str) else "cannot be indexed"
    return ScenarioError(format_path(steps), f"{format_path(steps[:-1])} is "
                                             f"{type(obj).__name__} {obj!r:.40}, which {what}")


def get_path(scenario, path: str):
    """The value of the field at ``path``.

    Parameters
    ----------
    scenario : Scenario
        Any dataclass (usually a scenario).
    path : str
        Dotted path, see the module docstring.

    Raises
    ------
    ScenarioError
        Naming the path and the fields, indexes or keys allowed where it fails.
    """
    steps = parse_path(path)
    obj, parent, field = scenario, None, None
    for depth, step in enumerate(steps):
        where = format_path(steps[:depth + 1])
        if isinstance(step, str) and dataclasses.is_dataclass(obj):
            if step not in _field_names(obj):
                raise ScenarioError(where, f"{type(obj).__name__} has no field {step!r}",
                                    ", ".join(_field_names(obj)))
            obj, parent, field = getattr(obj, step), obj, step
        elif not isinstance(step, str) and isinstance(obj, tuple):
            items, i = _index(obj, step, parent, field, where)
            obj, parent, field = items[i], obj, None
        else:
            raise _step_error(obj, steps[:depth + 1])
    return obj


def set_paths(scenario, values: dict[str, Any]):
    """A copy of ``scenario`` with the field at each path set to its value.

    Parameters
    ----------
    scenario : Scenario
        The scenario to change (any frozen dataclass).
    values : dict of str to object
        Path -> new value. Dicts and lists are read as in a scenario file
        (a dict builds a new dataclass, a list becomes a tuple).

    Returns
    -------
    Scenario
        Built with :func:`dataclasses.replace`, so every changed dataclass
        (and the scenario as a whole) is validated again.

    Raises
    ------
    ScenarioError
        For a malformed or unknown path, two paths of which one contains the
        other, or a value the field rejects (the error names the field).
    """
    tree: dict = {}
    for path, value in values.items():
        steps = parse_path(path)
        node = tree
        for depth, step in enumerate(steps[:-1]):
            node = node.setdefault(step, {})
            if isinstance(node, _Leaf):
                raise ScenarioError(path, f"{format_path(steps[:depth + 1])} is set as a whole "
                                          "and in part", "one of the two paths")
        if steps[-1] in node:
            raise ScenarioError(path, "set twice (or set as a whole and in part)",
                                "each field once")
        node[steps[-1]] = _Leaf(value)
    return _rebuild(scenario, tree, (), None, None, type(scenario))


@dataclasses.dataclass(frozen=True)
class _Leaf:
    value: Any


def _rebuild(obj, tree, steps: tuple, parent, field: str | None, hint):
    """``obj`` with the changes in ``tree`` (step -> subtree or _Leaf) applied."""
    where = format_path(steps)
    if isinstance(tree, _Leaf):
        return _from_value(hint, tree.value, where)
    if dataclasses.is_dataclass(obj):
        changes = {}
        for step, sub in tree.items():
            here = format_path((*steps, step))
            if not isinstance(step, str):
                raise _step_error(obj, (*steps, step))
            if step not in _field_names(obj):
                raise ScenarioError(here, f"{type(obj).__name__} has no field {step!r}",
                                    ", ".join(_field_names(obj)))
            changes[step] = _rebuild(getattr(obj, step), sub, (*steps, step), obj, step,
                                     _hints(type(obj))[step])
        try:
            return dataclasses.replace(obj, **changes)
        except ScenarioError as err:
            # a whole scenario names fields by their full path already
            raise (err if not steps else err.under(where)) from None
    if isinstance(obj, tuple):
        items = list(obj)
        element_hint = _element_hint(hint)
        for step, sub in tree.items():
            here = format_path((*steps, step))
            if isinstance(step, str):
                raise _step_error(obj, (*steps, step))
            current, i = _index(tuple(items), step, parent, field, here)
            items = list(current)
            items[i] = _rebuild(items[i], sub, (*steps, step), obj, None, element_hint)
        return tuple(items)
    raise _step_error(obj, (*steps, next(iter(tree))))
