"""Same scenario + same seed = identical frames, whatever the thread count."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap

import pandas as pd
from helpers import scenario, small_machine, sweep_workload

from numaexp import simulate
from numaexp.model import Pattern, Phase, Process, Thread, Vma, Workload
from numaexp.results import FRAME_NAMES


def mixed_scenario(seed: int = 7):
    """Sweeps and random access, time sharing (more threads than CPUs), mode 1."""
    machine = small_machine(nodes=2, cpus=2)
    sweeps = sweep_workload(machine, size="32 MiB", threads=3, passes=1e9).processes[0]
    rnd = Process(name="r", vmas=(Vma(name="heap", size="24 MiB"),), threads=(Thread(
        name="t", count=2, phases=(Phase(patterns=(
            Pattern(vma="heap", kind="hotset", share=3.0),
            Pattern(vma="heap", kind="uniform")), duration_s=4.0),)),))
    workload = Workload(name="mixed", processes=(sweeps, rnd))
    return scenario(workload, machine, mode=1, seed=seed, duration=4.0, scan_delay_ms=200,
                    scan_period_min_ms=200)


def frames_equal(a, b) -> None:
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(a.frames[name], b.frames[name], check_exact=True)


def test_same_seed_same_frames():
    sc = mixed_scenario()
    frames_equal(simulate(sc, progress=False), simulate(sc, progress=False))


def test_different_seed_different_run():
    a = simulate(mixed_scenario(seed=1), progress=False).vmstat
    b = simulate(mixed_scenario(seed=2), progress=False).vmstat
    assert not a.equals(b)


def test_chunking_does_not_change_results():
    sc = mixed_scenario()
    fine = simulate(dataclasses.replace(sc, sample_interval_s=0.1), progress=False)
    coarse = simulate(dataclasses.replace(sc, sample_interval_s=2.0), progress=False)
    for name in ("vmstat", "memory_stat", "sched", "numa_stat", "events", "times"):
        pd.testing.assert_frame_equal(fine.frames[name], coarse.frames[name], check_exact=True)


def test_identical_frames_with_one_and_two_numba_threads(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_determinism import mixed_scenario
        from numaexp import simulate
        simulate(mixed_scenario(), progress=False).save(sys.argv[1], formats=("parquet",))
    """)
    outs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True)
        outs.append(out)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(pd.read_parquet(outs[0] / f"{name}.parquet"),
                                      pd.read_parquet(outs[1] / f"{name}.parquet"),
                                      check_exact=True)


def test_pure_python_kernels_give_the_same_frames(tmp_path):
    """The kernels run as plain Python (NUMBA_DISABLE_JIT=1) give the jitted run's frames."""
    script = textwrap.dedent(f"""
        import sys, dataclasses
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from helpers import scenario, small_machine, sweep_workload
        from numaexp import simulate
        machine = small_machine(nodes=2, cpus=1)
        work = sweep_workload(machine, size="4 MiB", passes=3000, first_touch_node=0)
        sc = scenario(work, machine, mode=1, duration=1.5, scan_delay_ms=100,
                      scan_period_min_ms=100)
        simulate(sc, progress=False).save(sys.argv[1], formats=("parquet",))
    """)
    outs = []
    for disable in ("0", "1"):
        out = tmp_path / f"jit{disable}"
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
        subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True)
        outs.append(out)
    vm = pd.read_parquet(outs[0] / "vmstat.parquet")
    assert vm["numa_hint_faults"].iloc[0] > 0 and vm["numa_pages_migrated"].iloc[0] > 0
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(pd.read_parquet(outs[0] / f"{name}.parquet"),
                                      pd.read_parquet(outs[1] / f"{name}.parquet"),
                                      check_exact=True)
