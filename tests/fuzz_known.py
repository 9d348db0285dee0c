"""Failures of fuzzed runs that match a known simulator defect (issue 16; fixed by the lead).

Every item of the issue and every defect this fuzzer found in ``numaexp/sim``
is fixed, so the registry is empty; a defect found later is entered here
until it is fixed (with its minimal reproducer in ``tests/test_fuzz_known.py``).

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


KNOWN: dict = {}
"""Known defect -> whether a failure of a scenario belongs to it (its scenario and its
outcome: the status and where it failed). Empty: every defect the fuzzer found is fixed
(the last two, a migration cost so small that a tick over it overflows and think_ns = 1e307
beside threads sharing CPUs, have regression tests in ``tests/test_fuzz_known.py``)."""


def known_defect(scenario, outcome: dict) -> str | None:
    """The known defect a failure belongs to (``"item N"``), or None."""
    return next((item for item, matches in KNOWN.items() if matches(scenario, outcome)), None)
