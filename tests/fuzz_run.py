"""The long fuzz profile (``make fuzz``): many generated and mutated scenarios, counted.

Usage::

    python tests/fuzz_run.py --cases 10000 --boundscheck --threads-every 50 --log out/fuzz

Draws ``--cases`` valid scenarios (:func:`strategies.scenarios`) and as many
mutated scenario files (:mod:`fuzz_mutate`), runs each in a sandbox
(:mod:`fuzz_harness`; bounds-checked with ``--boundscheck``), checks the
invariants (:mod:`fuzz_invariants`), compares frames with 1 and 2 numba
threads on every ``--threads-every``-th case, and prints the figures:
cases, outcomes (ok, refused with ScenarioError, crash, hang, traceback,
violation, nondeterministic), and the failures that match a known defect
of issue 16 (:mod:`fuzz_known`). Every failure is written to
``LOG/failures.jsonl`` with its scenario as TOML. Exits 1 if any failure
is not a known defect.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fuzz_harness import Sandbox
from fuzz_known import FAILURES, known_defect
from fuzz_mutate import LoadTraceback, mutated_scenarios
from hypothesis import HealthCheck, Phase, given, settings
from strategies import scenarios

from numaexp.model.toml_io import scenario_to_toml


class Campaign:
    """Counts outcomes of the cases it is given and logs the failures."""

    def __init__(self, sandbox: Sandbox, threads_every: int, log: Path | None):
        self.sandbox, self.threads_every, self.log = sandbox, threads_every, log
        self.counts: Counter = Counter()
        self.known: Counter = Counter()
        self.new: list[dict] = []
        self.cases = 0
        self.threads_checked = 0
        self.mutated: Counter = Counter()
        self.started = time.monotonic()

    PROGRESS_EVERY = 250
    """Cases between two progress lines on stderr."""

    def _counted(self) -> None:
        self.cases += 1
        if self.cases % self.PROGRESS_EVERY == 0:
            failures = sum(self.counts[status] for status in FAILURES)
            print(f"fuzz: {self.cases} cases in {(time.monotonic() - self.started) / 60:.1f} "
                  f"min, {failures} failures ({len(self.new)} new)", file=sys.stderr, flush=True)

    def __call__(self, scenario, source: str) -> None:
        self._counted()
        check = self.threads_every > 0 and self.cases % self.threads_every == 0
        self.threads_checked += check
        outcome = self.sandbox.run(scenario, threads_check=check)
        self.counts[outcome["status"]] += 1
        if outcome["status"] not in FAILURES:
            return
        item = known_defect(scenario, outcome)
        if item:
            self.known[item] += 1
        else:
            self.new.append(outcome)
        if self.log is not None:
            with open(self.log / "failures.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps({"source": source, "known": item, **outcome,
                                    "scenario": scenario_to_toml(scenario)}) + "\n")

    def load_failed(self, failure: LoadTraceback) -> None:
        """A mutated file whose loading raised something other than ScenarioError."""
        self._counted()
        self.counts["traceback"] += 1
        outcome = {"status": "traceback", "detail": failure.detail}
        self.new.append(outcome)
        if self.log is not None:
            with open(self.log / "failures.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps({"source": "mutated-load", "known": None, **outcome,
                                    "scenario": failure.text}) + "\n")

    def report(self, wall: float) -> str:
        lines = [f"cases: {self.cases} ({wall / 60:.1f} min), threads compared on "
                 f"{self.threads_checked}, sandbox starts {self.sandbox.starts}, "
                 f"boundscheck {self.sandbox.boundscheck}"]
        if self.mutated:
            lines.append(f"mutated files: {sum(self.mutated.values())} (refused at load "
                         f"{self.mutated['refused']}, valid presets loaded "
                         f"{self.mutated['preset']}, long ones loaded "
                         f"{self.mutated['long']}, run {self.mutated['run']}, load "
                         f"tracebacks {self.mutated['load-traceback']})")
        lines += [f"  {status}: {self.counts[status]}" for status in
                  ("ok", "refused", *FAILURES)]
        lines += [f"  known defect {item}: {n}" for item, n in sorted(self.known.items())]
        lines.append(f"  new failures: {len(self.new)}")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10000,
                        help="generated cases (and as many mutated files)")
    parser.add_argument("--boundscheck", action="store_true")
    parser.add_argument("--threads-every", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=120.0, help="hang limit per case, s")
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("generated", "mutated"), default=None,
                        help="run one half of the campaign (e.g. to finish one that stopped)")
    args = parser.parse_args(argv)
    if args.log is not None:
        args.log.mkdir(parents=True, exist_ok=True)
        (args.log / "failures.jsonl").unlink(missing_ok=True)
    warnings.simplefilter("ignore")
    started = time.monotonic()
    profile = settings(max_examples=args.cases, deadline=None, database=None,
                       phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                       derandomize=False)
    with Sandbox(boundscheck=args.boundscheck, timeout=args.timeout) as sandbox:
        campaign = Campaign(sandbox, args.threads_every, args.log)

        @profile
        @given(scenarios())
        def generated(scenario):
            campaign(scenario, "generated")

        @profile
        @given(mutated_scenarios())
        def mutated(drawn):
            kind, value = drawn
            campaign.mutated[kind] += 1
            if kind == "load-traceback":
                campaign.load_failed(value)
            elif kind == "run":
                campaign(value, "mutated")

        for test in (generated, mutated):
            if args.only and test.__name__ != args.only:
                continue
            test._hypothesis_internal_use_seed = args.seed
            test()
            print(campaign.report(time.monotonic() - started), flush=True)
    return 1 if campaign.new else 0


if __name__ == "__main__":
    sys.exit(main())
