"""The mutation fuzzer: scenario TOML files changed a little, then loaded (and run).

:func:`mutated_scenarios` takes a tiny generated scenario (or, in a quarter
of the cases, a preset file of ``data/scenarios/``), writes it as TOML,
applies one to four mutations (a number or string replaced by an extreme or
ill-typed value, a line deleted, repeated or moved, a key added, a table
header changed, a bit flipped, the text cut short) and loads the result.
Loading must end in a valid scenario or a ``ScenarioError``: anything else
is a failure (drawn as a :class:`LoadTraceback`). A valid mutated preset
is only loaded (too large to run many times); a valid mutated tiny scenario
is run and checked like a generated one, unless the mutation made it long
(a deleted stop limit runs to the default 3,600 s: with 12-ms samples that is
over 5 minutes), which is only loaded too.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path

from hypothesis import strategies as st
from strategies import scenarios

from numaexp.errors import ScenarioError
from numaexp.model.toml_io import scenario_from_toml, scenario_to_toml
from numaexp.sim.engine.build.estimate import estimate_run_seconds

RUN_LIMIT_S = 20.0
"""Estimated wall seconds above which a valid mutated scenario is only loaded, not run (the
sandbox's hang limit is 120 s, 60 s in ``make test``)."""

PRESETS = sorted((Path(__file__).parent.parent / "data" / "scenarios").glob("*.toml"))

NUMBERS = ("0", "-1", "1", "2", "64", "65", "4097", "2147483648", "9223372036854775807",
           "9223372036854775808", "18446744073709551616", "1e308", "1e-308", "-0.0", "nan",
           "inf", "-inf", "0.5", "1e-9", '"1 PiB"', '"128 PiB"', '"-4 KiB"', '"x"', "true",
           "[]", "{}", "[0, 0]", "[64]")
STRINGS = ('""', '"/.."', '"/a/../a"', '"a b"', '"' + "x" * 300 + '"', '"\\u00e9"', '"\\u0000"',
           "1", "true", '"interleave"', '"as-posted"', '"rfc-v2+interleave-as-posted"',
           '"sweep"', '"duration"', '"move_task"', '"/"')
KEYS = ("count", "cpus", "mems", "nodes", "thp", "policy", "numa_balancing", "first_touch_node",
        "think_ns", "duration_s", "passes", "stride", "variant", "hz", "sigma", "object",
        "shared", "adistance", "min_free_kbytes", "promote_rate_limit_mbps", "at_s", "bogus")

_NUMBER = re.compile(r"(?<![\w.\"])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.\"])")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


class LoadTraceback:
    """A mutated file whose loading raised something other than ScenarioError."""

    def __init__(self, text: str, detail: str):
        self.text, self.detail = text, detail

    def __repr__(self) -> str:
        return f"LoadTraceback({self.detail.strip().splitlines()[-1]!r})\n{self.text}"


def mutate(draw, text: str) -> str:
    """``text`` with one mutation drawn."""
    lines = text.split("\n")
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    line = lines[i]
    op = draw(st.sampled_from(["number", "number", "number", "string", "delete", "repeat",
                               "move", "key", "header", "bit", "cut"]))
    if op == "number" and _NUMBER.search(line):
        spans = [m.span() for m in _NUMBER.finditer(line)]
        a, b = draw(st.sampled_from(spans))
        lines[i] = line[:a] + draw(st.sampled_from(NUMBERS)) + line[b:]
    elif op == "string" and _STRING.search(line):
        spans = [m.span() for m in _STRING.finditer(line)]
        a, b = draw(st.sampled_from(spans))
        lines[i] = line[:a] + draw(st.sampled_from(STRINGS)) + line[b:]
    elif op == "delete":
        del lines[i]
    elif op == "repeat":
        lines.insert(i, line)
    elif op == "move":
        lines.insert(draw(st.integers(0, len(lines))), lines.pop(i))
    elif op == "key":
        value = draw(st.sampled_from(NUMBERS + STRINGS))
        lines.insert(i + 1, f"{draw(st.sampled_from(KEYS))} = {value}")
    elif op == "header" and line.startswith("["):
        lines[i] = line.strip("[]").join(draw(st.sampled_from([("[", "]"), ("[[", "]]")])))
    elif op == "bit" and text:  # an earlier "cut" may have left nothing
        data = bytearray(text.encode())
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] ^= 1 << draw(st.integers(0, 7))
        return data.decode(errors="replace")
    elif op == "cut":
        return text[:draw(st.integers(0, len(text)))]
    return "\n".join(lines)


def load(text: str):
    """The scenario of ``text``, None if refused, a LoadTraceback for any other exception."""
    try:
        return scenario_from_toml(text, "<mutated>")
    except ScenarioError:
        return None
    except Exception:
        return LoadTraceback(text, traceback.format_exc())


@st.composite
def mutated_texts(draw) -> tuple[str, bool]:
    """(mutated TOML text, whether it came from a preset)."""
    preset = bool(PRESETS) and draw(st.integers(0, 3)) == 0
    text = draw(st.sampled_from(PRESETS)).read_text() if preset else \
        scenario_to_toml(draw(scenarios()))
    for _ in range(draw(st.integers(1, 4))):
        text = mutate(draw, text)
    return text, preset


@st.composite
def mutated_scenarios(draw):
    """``(kind, value)``: ``("run", scenario)`` to run, ``("refused", None)``,
    ``("preset", scenario)`` (a valid mutated preset: loaded only), ``("long",
    scenario)`` (expected to run over :data:`RUN_LIMIT_S`: loaded only) or
    ``("load-traceback", LoadTraceback)``."""
    text, preset = draw(mutated_texts())
    scenario = load(text)
    if isinstance(scenario, LoadTraceback):
        return "load-traceback", scenario
    if scenario is None:
        return "refused", None
    if preset:
        return "preset", scenario
    return ("long" if estimate_run_seconds(scenario) > RUN_LIMIT_S else "run"), scenario
