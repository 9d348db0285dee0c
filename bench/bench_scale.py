"""Benchmark of a single run at scale (issue #5): 1 M to 256 M pages.

Workload: ``random_access`` (uniform, 30 % writes) on an 8-node machine
(SLIT 10/16/32, nodes 25 % larger than the workload's share), mode 1, for
``--duration`` simulated seconds. Prints

1. scaling with pages (1 M to 256 M at 512 threads) and with threads (8
   to 512 at 16 M pages): wall time of the build, of the first settle (mass
   rows and the draw of every page's first access) and of the ticks; events
   (``numa_pte_updates + numa_hint_faults + numa_pages_migrated`` + first
   touches) and wall time per event; peak resident memory above the
   process's baseline (interpreter, numba, compiled kernels, measured after
   a small warm-up run) per page, and the whole process's peak per page;
2. the page-array kernels with ``NUMBA_NUM_THREADS`` 1 and 2: the first
   settle's passes over every page, each timed alone (parallel: mass row,
   queued count, draw of the lists; serial: linking in page order);
3. a whole run with 1 and 2 threads.

Every measurement runs in a fresh subprocess; figures are medians of
``--repeats`` runs made in this one invocation (the big sizes run once).
Targets: wall time per event flat (within 2x) from 1 M to 256 M pages;
>= 1.6x speed-up of the page-array kernels on 2 cores; <= 32 bytes per page.
Usage::

    python bench/bench_scale.py [--max-mpages 256] [--repeats 3] [--duration 2]

The 256 M-page run needs about 5 GB of memory and 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import gc, json, sys, time
    from numaexp.model import Machine, Node, Scenario, Stop
    from numaexp.model.presets import random_access
    from numaexp.sim.engine.runner import Runner
    from numaexp.sim.kernel.constants import (
        NUMA_HINT_FAULTS,
        NUMA_PAGES_MIGRATED,
        NUMA_PTE_UPDATES,
        PGFAULT_FIRST_TOUCH,
    )

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

    def scenario(pages, threads, duration):
        nodes = 8
        distance = tuple(tuple(10 if a == b else 16 if a // 4 == b // 4 else 32
                               for b in range(nodes)) for a in range(nodes))
        node = Node(cpus=max(1, threads // nodes), memory=pages * 4096 * 5 // 4 // nodes)
        machine = Machine(name="8-node", nodes=(node,) * nodes, distance=distance)
        workload = random_access(machine, memory=pages * 4096, threads=threads, duration_s=1e4)
        return Scenario(name="scale", machine=machine, workload=workload,
                        stop=Stop(kind="duration", duration_s=duration))

    def settle_passes(runner, pages):
        # time the first settle's page passes one by one, as settle_streams runs them
        from numaexp.sim.engine import parallel
        from numaexp.sim.engine.phases import build_segments, update_row_rates
        s = runner.state
        build_segments(s)
        update_row_rates(s, 1)
        timed = {}
        for name, call in (("row_mass", lambda: parallel.row_mass(s, 0)),
                           ("count_queued", lambda: parallel._count_queued(s, 0, pages)),
                           ("draw_lists", lambda: parallel._draw_lists(s, 0, pages, 7)),
                           ("link_range", lambda: parallel._link_range(s, 0, pages))):
            t = time.perf_counter()
            call()
            timed[name] = time.perf_counter() - t
        return timed

    what, pages, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    duration = float(sys.argv[4])
    warm = Runner(scenario(1 << 12, threads, 0.1))  # loads the kernels
    if what == "run":
        warm.advance(0.1)
    else:
        settle_passes(warm, 1 << 12)
    del warm
    gc.collect()
    base = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM restarts from here
    t0 = time.perf_counter()
    runner = Runner(scenario(pages, threads, duration))
    t1 = time.perf_counter()
    if what == "run":
        runner.advance(0.0)
        t2 = time.perf_counter()
        runner.advance(duration)
        t3 = time.perf_counter()
        vm = runner.arrays.cnt_vm
        out = dict(build_s=t1 - t0, settle_s=t2 - t1, ticks_s=t3 - t2, wall_s=t3 - t0,
                   events=int(vm[NUMA_PTE_UPDATES] + vm[NUMA_HINT_FAULTS]
                              + vm[NUMA_PAGES_MIGRATED] + vm[PGFAULT_FIRST_TOUCH]),
                   first_touches=int(vm[PGFAULT_FIRST_TOUCH]))
    else:
        out = settle_passes(runner, pages)
    out.update(pages=pages, state_peak=status("VmHWM") - base, process_peak=status("VmHWM"))
    print(json.dumps(out))
""")

M = 1 << 20
_RESULTS: dict[tuple, dict] = {}


def child(what: str, pages: int, threads: int, duration: float, numba_threads: int = 2) -> dict:
    """Run one measurement in a fresh interpreter and return its figures."""
    env = {**os.environ, "NUMBA_NUM_THREADS": str(numba_threads)}
    out = subprocess.run([sys.executable, "-c", CHILD, what, str(pages), str(threads),
                          str(duration)], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measured(mpages: int, threads: int, duration: float, repeats: int) -> dict:
    """Per-key medians of ``repeats`` fresh runs (one above 16 M pages), measured once per key."""
    key = (mpages, threads, duration, repeats)
    if key not in _RESULTS:
        runs = [child("run", mpages * M, threads, duration)
                for _ in range(repeats if mpages <= 16 else 1)]
        _RESULTS[key] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    return _RESULTS[key]


def one_and_two_threads(what: str, mp: int, d: float, n: int) -> dict[int, dict]:
    """Medians of ``n`` runs with 1 and with 2 numba threads, alternated (512 threads)."""
    runs: dict[int, list[dict]] = {1: [], 2: []}
    for _ in range(n):
        for t in runs:
            runs[t].append(child(what, mp * M, 512, d, t))
    return {t: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for t, rs in runs.items()}


def scaling(points: list[tuple[int, int]], duration: float, repeats: int, title: str) -> None:
    """Print one scaling table over (M pages, threads) points."""
    print(f"\n{title}")
    print(f"{'M pages':>8} {'threads':>7} {'build s':>8} {'settle s':>8} {'ticks s':>8} "
          f"{'wall s':>8} {'M events':>9} {'ns/event':>9} {'state B/page':>12} "
          f"{'process B/page':>14}")
    costs = []
    for mp, threads in points:
        r = measured(mp, threads, duration, repeats)
        ns = r["wall_s"] / r["events"] * 1e9
        costs.append(ns)
        print(f"{mp:8d} {threads:7d} {r['build_s']:8.2f} {r['settle_s']:8.2f} {r['ticks_s']:8.2f} "
              f"{r['wall_s']:8.2f} {r['events'] / 1e6:9.1f} {ns:9.0f} "
              f"{r['state_peak'] / r['pages']:12.1f} {r['process_peak'] / r['pages']:14.1f}")
    print(f"wall time per event, max / min: {max(costs) / min(costs):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mpages", type=int, default=256, help="largest size, M pages")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.0, help="simulated seconds")
    parser.add_argument("--kernel-mpages", type=int, default=64,
                        help="size of the page-array kernel comparison, M pages")
    parser.add_argument("--run-mpages", type=int, default=16,
                        help="size of the whole-run thread comparison, M pages")
    parser.add_argument("--parts", default="1,2,3", help="parts to run, e.g. 2,3")
    args = parser.parse_args()
    parts = {int(x) for x in args.parts.split(",")}
    d, n = args.duration, args.repeats
    sizes = [mp for mp in (1, 4, 16, 64, 256) if mp <= args.max_mpages]
    child("run", M >> 4, 8, 0.1)  # fills the numba cache (outside every measurement)
    child("kernels", M >> 4, 8, 0.1)
    print(f"random access, 8 nodes, mode 1, {d:g} simulated s; {os.cpu_count()} cores; "
          f"medians of {n} runs up to 16 M pages; load average {os.getloadavg()[0]:.2f}")
    if 1 in parts:
        scaling([(mp, 512) for mp in sizes], d, n, "1. scaling with pages (512 threads; target: "
                "wall time per event within 2x, <= 32 state bytes per page)")
        mid = min(16, sizes[-1])
        scaling([(mid, t) for t in (8, 32, 128, 512)], d, n,
                f"   scaling with threads ({mid} M pages)")
    if 2 in parts:
        kernels(args.kernel_mpages, d, max(n, 3))
    if 3 in parts:
        whole_runs(args.run_mpages, d, n)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


def kernels(mp: int, d: float, n: int) -> None:
    """Print the page-array kernels' times with 1 and 2 threads."""
    print(f"\n2. page-array kernels of the first settle at {mp} M pages, 512 threads, "
          f"NUMBA_NUM_THREADS 1 and 2 (seconds; target: >= 1.6x)")
    times = one_and_two_threads("kernels", mp, d, n)
    names = ("row_mass", "count_queued", "draw_lists", "link_range")
    print(f"{'kernel':>22} {'1 thread':>9} {'2 threads':>9} {'speed-up':>9}")
    rows = [(name, times[1][name], times[2][name]) for name in names]
    rows.append(("parallel ones", *(sum(times[t][k] for k in names[:3]) for t in (1, 2))))
    rows.append(("with the serial link", *(sum(times[t][k] for k in names) for t in (1, 2))))
    for name, one, two in rows:
        print(f"{name:>22} {one:9.3f} {two:9.3f} {one / two:9.2f}")


def whole_runs(mp: int, d: float, n: int) -> None:
    """Print whole runs' times with 1 and 2 threads."""
    print(f"\n3. whole run at {mp} M pages, 512 threads, NUMBA_NUM_THREADS 1 and 2 (seconds)")
    runs = one_and_two_threads("run", mp, d, n)
    for key in ("build_s", "settle_s", "ticks_s", "wall_s"):
        print(f"{key:>22} {runs[1][key]:9.2f} {runs[2][key]:9.2f} "
              f"{runs[1][key] / runs[2][key]:9.2f}")


if __name__ == "__main__":
    main()
