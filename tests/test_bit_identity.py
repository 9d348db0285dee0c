"""The declare-once restructuring changed no result: every preset x mode x variant gives
the frames recorded before it, bit for bit (digests in tests/data/frame_digests.json)."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import bitid
import pytest

pytestmark = pytest.mark.slow


def _check(cases: list[str]) -> list[str]:
    """Run ``cases`` (ids) and return one line per frame whose digest differs."""
    recorded = json.loads(bitid.DIGESTS.read_text())
    wanted = set(cases)
    problems = []
    for case, scenario in bitid.cases():
        if case not in wanted:
            continue
        got = bitid.run_case(scenario)
        for frame, digest in recorded[case].items():
            if got.get(frame) != digest:
                problems.append(f"{case}: {frame} {got.get(frame)} != recorded {digest}")
    return problems


def test_every_preset_mode_and_variant_matches_the_recorded_frames():
    recorded = json.loads(bitid.DIGESTS.read_text())
    ids = [case for case, _ in bitid.cases()]
    assert sorted(ids) == sorted(recorded), "the set of cases changed: record the digests anew"
    halves = [ids[0::2], ids[1::2]]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        problems = [line for part in pool.map(_check, halves) for line in part]
    assert not problems, f"{len(problems)} frames differ:\n" + "\n".join(problems[:40])
