"""Benchmark of the dashboard's answer time (issue #18): nine runs drawn in under 2 s.

Runs the dashboard model on ``per_cgroup`` with modes 0, 1 and 4 times the three
cgroup variants (nine runs), ``--repeats`` times in this one invocation, and prints
for each repeat the seconds spent from the last finished run to the summary table
and first figure on screen (``DashboardModel.draw_seconds``), then their median
against the 2 s target. The simulation time is printed beside it for scale. The
load average is printed too: other work on the machine stretches both. Usage::

    python bench/bench_dashboard.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from numaexp.widgets.comparison import DashboardModel
from numaexp.widgets.scenarios import DashboardSettings

TARGET_SECONDS = 2.0


def one_run() -> tuple[float, float]:
    """(draw seconds, whole seconds) of one nine-run comparison."""
    model = DashboardModel(DashboardSettings(
        workload="per_cgroup", modes=(0, 1, 4),
        cgroup_variants=("rfc-v1", "rfc-v2", "hierarchical")))
    started = time.perf_counter()
    model.run()
    if not (model.wait(600) and model.status == "done"):
        raise SystemExit(f"the dashboard run did not finish: {model.message}")
    return model.draw_seconds, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("warming up (compiles on a cold cache)…", flush=True)
    one_run()
    draws, wholes = [], []
    for i in range(args.repeats):
        draw, whole = one_run()
        draws.append(draw)
        wholes.append(whole)
        print(f"repeat {i + 1}: drawn in {draw:.2f} s, whole comparison {whole:.2f} s",
              flush=True)
    median = statistics.median(draws)
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"median draw {median:.2f} s (target {TARGET_SECONDS:.1f} s: "
          f"{median / TARGET_SECONDS:.2f}x of it); median whole comparison "
          f"{statistics.median(wholes):.2f} s")


if __name__ == "__main__":
    main()
