"""The fuzzer's sandbox process: runs scenarios sent by :mod:`fuzz_harness`, one at a time.

Reads length-prefixed pickles ``(scenario, threads_check)`` on stdin and
answers each with a pickled outcome dict on the stdout it had at start (its
``sys.stdout`` goes to stderr, so nothing else lands in the protocol):

- ``refused``: ``ScenarioError`` (the scenario was checked and refused);
- ``traceback``: any other exception, with its traceback;
- ``violation``: the run broke invariants (:mod:`fuzz_invariants`);
- ``nondeterministic``: frames differ between 1 and 2 numba threads;
- ``ok``.

A crash (a signal) or a hang is seen by the parent, which then starts a new
sandbox. Before the first case it runs a tiny scenario, so that compiling
or loading the kernels does not count against a case's time limit, and
answers ``ready``.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import traceback
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def _send(out, obj) -> None:
    data = pickle.dumps(obj)
    out.write(struct.pack("<Q", len(data)) + data)
    out.flush()


def _receive(inp):
    head = inp.read(8)
    if len(head) < 8:
        return None
    return pickle.loads(inp.read(struct.unpack("<Q", head)[0]))


def run_case(scenario, threads_check: bool) -> dict:
    """Simulate ``scenario`` and check it; the outcome (see the module docstring)."""
    import numba
    from fuzz_invariants import same_frames, violations

    import numaexp
    from numaexp.errors import ScenarioError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = numaexp.simulate(scenario, progress=False, on_interrupt="raise")
    except ScenarioError as err:
        return {"status": "refused", "detail": str(err)}
    except Exception:
        return {"status": "traceback", "detail": traceback.format_exc()}
    broken = violations(scenario, result)
    if broken:
        return {"status": "violation", "detail": broken}
    if threads_check:
        results = {}
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results[threads] = numaexp.simulate(scenario, progress=False,
                                                    on_interrupt="raise")
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        differ = same_frames(results[1], results[2]) or same_frames(result, results[2])
        if differ:
            return {"status": "nondeterministic", "detail": differ}
    return {"status": "ok"}


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints go to stderr, not into the protocol
    inp = sys.stdin.buffer
    sys.path.insert(0, str(Path(__file__).parent))
    from helpers import scenario, small_machine, sweep_workload

    machine = small_machine(nodes=2, cpus=1, memory="64 MiB")
    warm = run_case(scenario(sweep_workload(machine, size="1 MiB", passes=2), machine), False)
    _send(out, {"status": "ready", "warm": warm})
    while (message := _receive(inp)) is not None:
        _send(out, run_case(*message))


if __name__ == "__main__":
    main()
