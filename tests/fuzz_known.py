"""Failures of fuzzed runs that match a known simulator defect (issue 16; fixed by the lead).

Items 1, 2, 3, 5, 9 and 10 of the issue are fixed; the entries left are
defects this fuzzer found in ``numaexp/sim`` that are still open (see
``tests/test_fuzz_known.py`` for their minimal reproducers).

:func:`known_defect` names the item a failure belongs to, or returns None
for a new failure. The fuzz tests in ``make test`` excuse known ones (and
count them); each has its own regression test marked
``xfail(strict=True)`` in ``tests/test_fuzz_known.py``. When an item is
fixed, that test passes (an XPASS, which strict makes a failure): remove
its ``xfail`` marker and its entry here, and the fuzzer holds the fix too.
"""

from __future__ import annotations

FAILURES = ("crash", "hang", "traceback", "violation", "nondeterministic")
"""Outcomes that are failures (``ok`` and ``refused`` are not)."""


def _traceback(outcome, *parts: str) -> bool:
    return outcome["status"] == "traceback" and all(p in outcome["detail"] for p in parts)


def _tiny_migration_cost(scenario, outcome) -> bool:
    """Found by this fuzzer: migrate_folio_ns + migrate_copy_ns_per_page > 0 but so small
    that a tick over it is >= 2**63 pages: kswapd_batch is infinite (OverflowError converting
    it) or too large for its int64 parameter (OverflowError storing it)."""
    costs = scenario.costs
    per_page = costs.migrate_folio_ns + costs.migrate_copy_ns_per_page
    return 0 < per_page and 1e9 / scenario.kernel.hz / per_page >= 2**63 and _traceback(
        outcome, "OverflowError")


def _huge_think_ns(scenario, outcome) -> bool:
    """Found by this fuzzer (item 2's family, below its 1e308): a phase's think_ns >= ~1e30
    beside a thread that finishes makes simulate hang; 1e307 with threads sharing CPUs
    crashes (SIGSEGV)."""
    return any(phase.think_ns >= 1e25 for proc in scenario.workload.processes
               for thread in proc.threads for phase in thread.phases) and (
        outcome["status"] in ("hang", "crash") or _traceback(outcome, "IndexError"))


KNOWN = {"fuzz: tiny migration cost": _tiny_migration_cost,
         "fuzz: huge think_ns": _huge_think_ns}
"""Known defect -> whether a failure of a scenario belongs to it (its scenario and its
outcome: the status and where it failed)."""


def known_defect(scenario, outcome: dict) -> str | None:
    """The known defect a failure belongs to (``"item N"``), or None."""
    return next((item for item, matches in KNOWN.items() if matches(scenario, outcome)), None)
