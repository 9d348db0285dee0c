"""Benchmark of the cost of one tick against the machine's CPUs and the workload's threads.

The run-time estimate behind ``simulate``'s "this run will take long"
warning (:func:`numaexp.sim.engine.build.estimate.estimate_run_seconds`)
charges each tick a cost per CPU and per task. This script measures that
cost on a grid of machines (2 nodes, 8 to 1024 CPUs) and workloads (as many
CPU-bound threads as CPUs, and 4x and 16x more), each thread touching a
small VMA at random (1 MiB per thread: the ticks dominate), mode 1, for
``--duration`` simulated seconds after a 0.2 s warm-up. It prints, per
shape, the median wall time per tick over ``--repeats`` runs (each in its own
subprocess) beside the estimate's, and their ratio.

Usage::

    python bench/bench_tick.py [--repeats 3] [--duration 0.4] [--max-cpus 1024]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import json, sys, time
    from numaexp.model import (KernelConfig, Machine, Node, Pattern, Phase, Process, Scenario,
                               Stop, Thread, Vma, Workload)
    from numaexp.sim.engine.build.estimate import estimate_tick_seconds
    from numaexp.sim.engine.codes import CLK_TICK
    from numaexp.sim.engine.runner import Runner
    cpus, threads, duration = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    machine = Machine(name="bench", nodes=(Node(cpus=cpus // 2, memory="64 GiB"),) * 2,
                      distance=((10, 21), (21, 10)))
    workload = Workload(name="w", processes=(Process(
        name="p", vmas=(Vma(name="v", size="16 MiB"),),
        threads=(Thread(name="t", count=threads, phases=(
            Phase(patterns=(Pattern(vma="v"),), duration_s=3600.0),)),)),))
    scenario = Scenario(name="tick", machine=machine, workload=workload,
                        kernel=KernelConfig(numa_balancing=1),
                        stop=Stop(kind="duration", duration_s=0.2 + duration))
    runner = Runner(scenario)
    runner.advance(0.2)
    start_tick = int(runner.arrays.clk[CLK_TICK])
    start = time.perf_counter()
    runner.advance(0.2 + duration)
    wall = time.perf_counter() - start
    print(json.dumps({"per_tick": wall / (int(runner.arrays.clk[CLK_TICK]) - start_tick),
                      "estimate": estimate_tick_seconds(scenario)}))
""")


def measure(cpus: int, threads: int, duration: float) -> dict:
    """One run in a fresh process: wall seconds per tick, and the estimate's."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(cpus), str(threads), str(duration)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=0.4,
                        help="simulated seconds timed after the warm-up")
    parser.add_argument("--max-cpus", type=int, default=1024)
    args = parser.parse_args()
    print(f"{'CPUs':>6} {'threads':>8} {'us/tick':>10} {'estimate':>10} {'ratio':>7}")
    cpus = 8
    while cpus <= args.max_cpus:
        for factor in (1, 4, 16):
            threads = cpus * factor
            if threads > 8192:
                continue
            runs = [measure(cpus, threads, args.duration) for _ in range(args.repeats)]
            per_tick = statistics.median(r["per_tick"] for r in runs)
            estimate = runs[0]["estimate"]
            print(f"{cpus:>6} {threads:>8} {per_tick * 1e6:>10.1f} {estimate * 1e6:>10.1f} "
                  f"{estimate / per_tick:>7.2f}", flush=True)
        cpus *= 4


if __name__ == "__main__":
    main()
