"""Benchmark of sweep throughput (issue #5): points per minute, local process pool vs Dask.

Runs one spec (default ``data/sweeps/modes_scan_size.toml``, 20 points) with:

- ``serial``: every point in this process, one after another (baseline);
- ``pool, fresh``: ``numaexp.sweep(spec)`` as a user calls it, a new local
  process pool per sweep (spawn start-up and each worker's numba-cache
  load included);
- ``pool, warm``: one local pool, created and warmed once, reused;
- ``dask, fresh``: a new ``dask.distributed.LocalCluster`` per sweep
  (cluster start-up included);
- ``dask, warm``: one LocalCluster, warmed once, reused (a running cluster,
  as with ``numaexp sweep --scheduler``).

Pools and clusters have ``--workers`` single-threaded worker processes
(default: one per CPU). Figures are medians of ``--repeats`` sweeps made in
this one invocation, configurations interleaved; ratios are against
``pool, warm``. No results store is written. The load average is printed:
other work on the machine shrinks the parallel speed-up. Usage::

    python bench/bench_sweep.py [--repeats 3] [--workers N] [--spec FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numaexp
from numaexp.sweep import SweepSpec
from numaexp.sweep.executors import default_workers, local_pool

SPEC = Path(__file__).resolve().parent.parent / "data" / "sweeps" / "modes_scan_size.toml"


def timed(run) -> float:
    """Wall seconds of ``run()``."""
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def serial(spec: SweepSpec) -> None:
    """Every point in this process, one after another."""
    for point in spec.points():
        numaexp.simulate(point.scenario, progress=False)


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--spec", default=str(SPEC))
    args = parser.parse_args()
    spec = SweepSpec.load(args.spec)
    n = args.workers
    cluster_kwargs = {"n_workers": n, "threads_per_worker": 1, "processes": True,
                      "dashboard_address": ":0"}

    def sweep(executor) -> None:
        frame = numaexp.sweep(spec, executor=executor, progress=False)
        assert (frame["status"] == "ok").all(), frame[frame["status"] != "ok"]

    def dask_fresh() -> None:
        with LocalCluster(**cluster_kwargs) as cluster, Client(cluster) as client:
            sweep(client)

    load_before = os.getloadavg()[0]
    serial(spec)  # fill the numba cache and the OS page cache before timing anything
    pool = local_pool(n)
    with pool, LocalCluster(**cluster_kwargs) as cluster, Client(cluster) as client:
        sweep(pool)
        sweep(client)
        configs = {
            "serial": lambda: serial(spec),
            "pool, fresh": lambda: sweep(n),
            "pool, warm": lambda: sweep(pool),
            "dask, fresh": dask_fresh,
            "dask, warm": lambda: sweep(client),
        }
        walls: dict[str, list[float]] = {name: [] for name in configs}
        for _ in range(args.repeats):
            for name, run in configs.items():
                walls[name].append(timed(run))
    print(f"spec {spec.name}: {len(spec)} points; {n} worker processes on "
          f"{default_workers()} CPUs; median of {args.repeats} sweeps each; 1-minute load "
          f"average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'configuration':14} {'wall s':>8} {'points/min':>11} {'vs pool, warm':>14}")
    reference = statistics.median(walls["pool, warm"])
    for name, values in walls.items():
        wall = statistics.median(values)
        print(f"{name:14} {wall:8.2f} {len(spec) / wall * 60:11.1f} {reference / wall:13.2f}x")


if __name__ == "__main__":
    main()
