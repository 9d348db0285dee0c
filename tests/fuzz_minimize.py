"""Shrink a failing fuzz scenario to a minimal reproducer (for reports and regression tests).

Usage::

    python tests/fuzz_minimize.py FAILING.toml STATUS [TEXT] [--boundscheck]

Deletes one key (which then takes its default) or one list element (a
process, VMA, thread, phase, pattern, cgroup, action, ...) at a time, keeps
each deletion after which the scenario still loads and still fails with
``STATUS`` (``crash``, ``hang``, ``traceback``, ``violation``) and, if
given, ``TEXT`` in its detail, until no deletion does; prints the minimal
scenario as TOML and its outcome.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fuzz_harness import Sandbox

from numaexp.errors import ScenarioError
from numaexp.model.toml_io import scenario_from_dict, scenario_to_dict, scenario_to_toml


def _paths(data, prefix=()):
    """Every deletable place: dict keys and list elements, outermost first."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        for i, value in enumerate(data):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _without(data, path):
    out = copy.deepcopy(data)
    holder = out
    for step in path[:-1]:
        holder = holder[step]
    del holder[path[-1]]
    return out


def minimize(data: dict, fails) -> dict:
    """The smallest ``data`` (a scenario dict) found by deletions for which ``fails`` holds."""
    progress = True
    while progress:  # passes over every place, until one deletes nothing
        progress = False
        i = 0
        while i < len(paths := list(_paths(data))):
            candidate = _without(data, paths[i])
            try:
                scenario = scenario_from_dict(candidate)
            except ScenarioError:
                i += 1
                continue
            if fails(scenario):  # the places after this one move up: try the same index
                data, progress = candidate, True
                print(f"dropped {'.'.join(map(str, paths[i]))}", file=sys.stderr, flush=True)
            else:
                i += 1
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("toml", type=Path)
    parser.add_argument("status")
    parser.add_argument("text", nargs="?", default="")
    parser.add_argument("--boundscheck", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    from numaexp.model.toml_io import load_scenario

    start = scenario_to_dict(load_scenario(args.toml))
    with Sandbox(boundscheck=args.boundscheck, timeout=args.timeout) as box:
        def fails(scenario) -> bool:
            outcome = box.run(scenario)
            detail = outcome.get("detail", "")
            return outcome["status"] == args.status and args.text in str(detail)

        if not fails(scenario_from_dict(start)):
            sys.exit("the scenario does not fail that way")
        smallest = scenario_from_dict(minimize(start, fails))
        print(scenario_to_toml(smallest))
        print(box.run(smallest))


if __name__ == "__main__":
    main()
