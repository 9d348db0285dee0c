"""Stable hashes: the identity of a sweep point and the seed it runs with.

Both are computed from a canonical JSON text, so they are the same in every
process, on every machine and in every Python session (unlike ``hash()``).
Numbers are canonical: an integral float is written as the integer (a
``duration_s`` of ``5`` and ``5.0`` are the same setting), tuples and lists
are both arrays, dict keys are sorted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

SEED_LIMIT = 2**63
"""Seeds are integers in ``[0, SEED_LIMIT)`` (what :class:`~numaexp.model.Scenario` accepts)."""


def canonical(value):
    """Plain JSON-ready form of ``value``: dataclasses as dicts of their compared fields.

    Fields declared with ``compare=False`` (descriptions) are left out, so two
    scenarios that are equal as dataclasses have the same canonical form.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"@": type(value).__name__}
        for f in dataclasses.fields(value):
            if f.compare:
                out[f.name] = canonical(getattr(value, f.name))
        return out
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if hasattr(value, "item") and callable(value.item):  # NumPy scalar
        return canonical(value.item())
    return value


def canonical_json(value) -> str:
    """Canonical JSON text of ``value`` (see :func:`canonical`)."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=True)


def digest(value) -> bytes:
    """SHA-256 of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).digest()


def scenario_hash(scenario) -> str:
    """Identity of a fully resolved scenario (its seed included), 16 hex digits.

    Two points with the same hash are the same simulation: a results store
    keeps one record per hash.
    """
    return digest(scenario).hex()[:16]


def point_seed(sweep_seed: int, params: dict, repeat: int) -> int:
    """Seed of one sweep point, from the sweep's seed and the point's parameters.

    Parameters
    ----------
    sweep_seed : int
        The sweep's seed.
    params : dict of str to object
        Parameter path -> value of the point (pass ``{}`` for seeds common to
        every parameter combination).
    repeat : int
        Repeat number, 0-based.

    Returns
    -------
    int
        In ``[0, 2**63)``; the same for the same inputs whatever the order of
        the points or of ``params``.
    """
    key = {"sweep_seed": sweep_seed, "params": params, "repeat": repeat}
    return int.from_bytes(digest(key)[:8], "little") % SEED_LIMIT
