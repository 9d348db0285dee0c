"""Benchmark of the core simulator (issue #2): speed, memory per page, compile cost.

Prints, for (a) numa01_THREAD_ALLOC on the 4-node 96-CPU preset (mode 1, run
to completion) and (b) a 64 GiB (16 M pages), 4-node, 64-thread
random-access scenario (mode 1, 20 simulated seconds):

- events per wall second (numa_pte_updates + numa_hint_faults + numa_pages_migrated),
- simulated seconds per wall second,
- bytes of simulator state per page,
- cold time (first run in a fresh process with an empty numba cache) and
  warm time (fresh process, cache filled), medians over repeats,
- the speed ratio of the compiled kernels against the same kernels run as
  plain Python (``NUMBA_DISABLE_JIT=1``) on a small numa02 scenario (2 nodes,
  4 threads, 16 K pages, 5 simulated seconds with scanning and migrations).

The timed run ("wall s") starts once the scenario's state is built
("build s": allocating and initialising the arrays, printed apart) and
after a one-tick warm-up run of another scenario in the same process, so it
also excludes the one-off loading of the compiled kernels from the numba
cache ("load s"). "process s" counts everything, interpreter start included.
The timed run is also reported in two legs, split at 1 simulated second:
(b) first-touches all of its 16.8 M pages in the first half second, so its
second leg is the event rate once memory is placed.

Every measurement runs in a fresh subprocess; figures are medians of
``--repeats`` runs made in this one invocation. Usage::

    python bench/bench_core.py [--repeats 3] [--skip-cold]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

CHILD = textwrap.dedent("""
    import json, sys, time
    t_start = time.perf_counter()
    from numaexp.model import Scenario, Stop, four_node, two_socket
    from numaexp.model.presets import autonumabench_scenario, default_scenario, random_access
    from numaexp.sim.engine.runner import Runner
    from numaexp.sim.kernel.constants import (
        NUMA_HINT_FAULTS,
        NUMA_PAGES_MIGRATED,
        NUMA_PTE_UPDATES,
    )

    def small():
        # 5 simulated seconds with scanning, hinting faults and migrations (all
        # memory starts on node 0): kernel work, not start-up, dominates
        from numaexp.model.presets import numa02
        m = two_socket(cpus_per_node=2, memory_per_node="1 GiB")
        w = numa02(m, memory_scale=1 / 16, passes=10**6, first_touch_node=0)
        return Scenario(name="small", machine=m, workload=w,
                        stop=Stop(kind="duration", duration_s=5.0))

    which = sys.argv[1]
    PLACED_S = 1.0  # simulated seconds reported apart as "placement"
    if which == "a":
        sc = autonumabench_scenario("numa01_THREAD_ALLOC")
        until = sc.stop.limit_s
    elif which == "b":
        m = four_node(cpus_per_node=16)
        w = random_access(m, memory="64 GiB", threads=64, duration_s=1000)
        sc = Scenario(name="random64", machine=m, workload=w,
                      stop=Stop(kind="duration", duration_s=20.0))
        until = 20.0
    elif which == "default":
        sc = default_scenario()
        until = sc.stop.limit_s
    else:  # small scenario for the pure-Python comparison
        sc = small()
        until = 5.0
    # load the compiled kernels (a one-off cost per process, reported apart)
    t_load = time.perf_counter()
    if which != "default":  # the default scenario measures the whole process
        Runner(small()).advance(0.004)
    t0 = time.perf_counter()
    r = Runner(sc)
    def events_so_far():
        vm = r.arrays.cnt_vm
        return int(vm[NUMA_PTE_UPDATES] + vm[NUMA_HINT_FAULTS] + vm[NUMA_PAGES_MIGRATED])

    t_built = time.perf_counter()
    r.advance(PLACED_S)
    t_placed = time.perf_counter()
    events_placed = events_so_far()
    r.advance(until)
    t1 = time.perf_counter()
    events = events_so_far()
    state_bytes = sum(a.nbytes for a in r.arrays if hasattr(a, "nbytes"))
    print(json.dumps({
        "sim_s": r.now_s, "run_wall_s": t1 - t_built, "placed_wall_s": t_placed - t_built,
        "events_placed": events_placed, "build_wall_s": t_built - t0,
        "load_wall_s": t0 - t_load, "process_wall_s": t1 - t_start, "events": events,
        "pages": int(r.arrays.p["nr_pages"]),
        "state_bytes": int(state_bytes), "page_bytes": int(r.arrays.pg.nbytes),
    }))
""")


def child(which: str, env: dict | None = None) -> dict:
    """Run one measurement in a fresh interpreter and return its figures."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, which], env={**os.environ, **(env or {})},
                         check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["total_wall_s"] = time.perf_counter() - t0
    return figures


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-compile run")
    args = parser.parse_args()
    rows, splits = [], []
    if not args.skip_cold:
        with tempfile.TemporaryDirectory() as cache:
            cold = child("default", {"NUMAEXP_CACHE_DIR": cache})
        print(f"cold: default scenario in a fresh process with an empty numba cache: "
              f"{cold['total_wall_s']:.1f} s wall (compile included)")
    child("default")  # make sure the normal cache is filled
    warm_default = [child("default") for _ in range(args.repeats)]
    print(f"warm: default scenario in a fresh process: median "
          f"{median_of(warm_default, 'total_wall_s'):.2f} s wall (target <= 5 s)")
    for which, label in (("a", "(a) numa01_THREAD_ALLOC, 4 nodes x 24 CPUs, mode 1"),
                         ("b", "(b) random access, 64 GiB, 4 nodes, 64 threads, mode 1")):
        runs = [child(which) for _ in range(args.repeats)]
        wall = median_of(runs, "run_wall_s")
        sim = runs[0]["sim_s"]
        events = runs[0]["events"]
        rows.append((label, sim, wall, sim / wall, events / wall / 1e6,
                     runs[0]["state_bytes"] / runs[0]["pages"], runs[0]["page_bytes"] /
                     runs[0]["pages"], median_of(runs, "build_wall_s"),
                     median_of(runs, "load_wall_s"), median_of(runs, "total_wall_s")))
        first = median_of(runs, "placed_wall_s")
        later = statistics.median(r["run_wall_s"] - r["placed_wall_s"] for r in runs)
        splits.append((label[:3], first, sim - 1.0, later,
                       (events - runs[0]["events_placed"]) / later / 1e6))
    print()
    print(f"{'scenario':58} {'sim s':>7} {'wall s':>7} {'sim s/s':>8} {'Mevents/s':>10} "
          f"{'B/page':>7} {'page B':>7} {'build s':>8} {'load s':>7} {'process s':>9}")
    for row in rows:
        print(f"{row[0]:58} {row[1]:7.1f} {row[2]:7.2f} {row[3]:8.1f} {row[4]:10.2f} "
              f"{row[5]:7.1f} {row[6]:7.1f} {row[7]:8.2f} {row[8]:7.2f} {row[9]:9.2f}")
    print("targets: >= 20 M events/s; >= 50 sim s/s on (a); <= 24 B/page")
    print("\nthe same runs split at 1 simulated second ((b) first-touches all its pages before):")
    for name, first, later_sim, later, rate in splits:
        print(f"{name} first 1 sim s: {first:.2f} s wall; the other {later_sim:.1f} sim s: "
              f"{later:.2f} s wall, {rate:.2f} M events/s")
    jit = [child("small") for _ in range(args.repeats)]
    nojit = child("small", {"NUMBA_DISABLE_JIT": "1"})
    ratio = nojit["run_wall_s"] / median_of(jit, "run_wall_s")
    print(f"\npure Python (NUMBA_DISABLE_JIT=1) vs compiled on a small numa02 scenario "
          f"({jit[0]['sim_s']:.1f} sim s): {nojit['run_wall_s']:.2f} s vs "
          f"{median_of(jit, 'run_wall_s'):.4f} s -> compiled is {ratio:.0f}x faster "
          f"({jit[0]['events']} events)")


if __name__ == "__main__":
    main()
