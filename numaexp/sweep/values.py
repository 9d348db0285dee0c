"""The values of a sweep parameter: a list of values, or a random distribution.

A ``product`` or ``zip`` parameter takes a list (:func:`check_values`); a
``sample`` parameter a distribution (:data:`DISTRIBUTIONS`,
:func:`check_distribution`), from which :func:`draw` takes one value.
"""

from __future__ import annotations

import math

import numpy as np

from numaexp.errors import ScenarioError

DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint")
"""Kinds of random parameter: ``choice = [values]`` (one of them, equally likely),
``uniform = [low, high]``, ``loguniform = [low, high]`` (both floats, or rounded
integers with ``integer = true``), ``randint = [low, high]`` (integers, both ends
included)."""


def check_values(where: str, values) -> int:
    """Require a non-empty list (or tuple) of values; return its length."""
    if not isinstance(values, (list, tuple)) or not values:
        raise ScenarioError(where, f"expected a non-empty list of values, got {values!r:.60}",
                            'a list, e.g. [100, 1000]; quote dotted paths: "kernel.x" = [...]')
    return len(values)


def check_distribution(where: str, dist) -> None:
    """Require one distribution of :data:`DISTRIBUTIONS` with valid arguments."""
    kinds = [k for k in DISTRIBUTIONS if isinstance(dist, dict) and k in dist]
    if not isinstance(dist, dict) or len(kinds) != 1 \
            or set(dist) - {kinds[0], "integer"}:
        raise ScenarioError(where, f"expected one distribution, got {dist!r:.60}",
                            "{choice = [...]}, {uniform = [low, high]}, {loguniform = [low, "
                            "high]} or {randint = [low, high]}, optionally integer = true")
    kind, args = kinds[0], dist[kinds[0]]
    if kind == "choice":
        check_values(f"{where}.choice", args)
        return
    numbers = isinstance(args, (list, tuple)) and len(args) == 2 and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in args)
    if not numbers or not args[0] < args[1] or (kind == "loguniform" and args[0] <= 0) \
            or (kind == "randint" and not all(isinstance(x, int) for x in args)):
        raise ScenarioError(f"{where}.{kind}", f"expected [low, high] with low < high, got "
                                               f"{args!r}",
                            "integers for randint, low > 0 for loguniform")
    if not isinstance(dist.get("integer", False), bool):
        raise ScenarioError(f"{where}.integer", "must be true or false")


def draw(rng: np.random.Generator, dist: dict):
    """One value from a distribution checked by :func:`check_distribution`."""
    if "choice" in dist:
        return dist["choice"][int(rng.integers(len(dist["choice"])))]
    if "randint" in dist:
        low, high = dist["randint"]
        return int(rng.integers(low, high + 1))
    low, high = dist.get("uniform") or dist["loguniform"]
    if "uniform" in dist:
        value = float(rng.uniform(low, high))
    else:
        value = float(math.exp(rng.uniform(math.log(low), math.log(high))))
    return round(value) if dist.get("integer") else value
