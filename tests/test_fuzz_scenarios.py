"""The scenario fuzzer's share of ``make test`` (issue 16); ``make fuzz`` is the long profile.

- generated valid scenarios (:func:`strategies.scenarios`), run in a sandbox
  process and checked against the invariants (:mod:`fuzz_invariants`);
- mutated scenario files: loading gives a scenario or a ScenarioError,
  nothing else; the valid tiny ones are run and checked too;
- a bounds-checked subset (``NUMBA_BOUNDSCHECK=1``, its own numba cache
  directory: the first run compiles it, several minutes);
- frames identical with 1 and 2 numba threads on a few cases.

Failures of known simulator defects (:mod:`fuzz_known`, each with its
strict-xfail regression test) are excused; anything else fails, and
hypothesis shrinks it to a minimal scenario. Cases are derandomized, so
``make test`` runs the same ones every time.
"""

from __future__ import annotations

from collections import Counter

import pytest
from fuzz_harness import Sandbox
from fuzz_known import FAILURES, known_defect
from fuzz_mutate import LoadTraceback, load, mutated_scenarios, mutated_texts
from hypothesis import HealthCheck, given, settings
from strategies import scenarios

from numaexp.model import Scenario


def fuzz_settings(cases: int):
    return settings(max_examples=cases, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


TALLY: Counter = Counter()
"""Outcomes of this module's cases (known defects by item), reported at its end."""


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    TALLY.clear()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and TALLY:
        reporter.write_line("fuzz cases: " + ", ".join(f"{k} {n}" for k, n in
                                                       sorted(TALLY.items())))


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(timeout=60) as box:
        yield box


@pytest.fixture(scope="module")
def checked_sandbox():
    with Sandbox(boundscheck=True, timeout=300) as box:
        yield box


def assert_clean(scenario, outcome: dict) -> None:
    """The outcome is ok, refused, or a failure of a known defect."""
    known = known_defect(scenario, outcome) if outcome["status"] in FAILURES else None
    TALLY[known or outcome["status"]] += 1
    if outcome["status"] in FAILURES:
        assert known, outcome


@fuzz_settings(150)
@given(scenarios())
def test_generated_scenarios_run_clean(sandbox, scenario):
    assert_clean(scenario, sandbox.run(scenario))


@fuzz_settings(300)
@given(mutated_texts())
def test_mutated_scenario_files_load_or_are_refused(drawn):
    text, _preset = drawn
    loaded = load(text)
    assert not isinstance(loaded, LoadTraceback), loaded
    assert loaded is None or isinstance(loaded, Scenario)


@fuzz_settings(60)
@given(mutated_scenarios())
def test_mutated_tiny_scenarios_run_clean(sandbox, drawn):
    kind, value = drawn
    assert kind != "load-traceback", value
    if kind == "run":
        assert_clean(value, sandbox.run(value))


@fuzz_settings(25)
@given(scenarios())
def test_bounds_checked_subset_runs_clean(checked_sandbox, scenario):
    assert_clean(scenario, checked_sandbox.run(scenario))


@fuzz_settings(8)
@given(scenarios())
def test_frames_do_not_depend_on_the_thread_count(sandbox, scenario):
    assert_clean(scenario, sandbox.run(scenario, threads_check=True))
