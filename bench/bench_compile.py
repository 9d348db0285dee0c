"""Where the cold compile goes (issue 19): seconds per jitted function, from numba's events.

Runs the warm-up scenario (``numaexp.warmup``: two nodes, one thread, every kernel
reached) in a fresh process with an empty cache directory, listens to numba's
``numba:compile`` events, and prints for the ``--top`` slowest functions their
exclusive seconds (their own compile, callees' compiles subtracted), their
inclusive seconds, and how many times they were compiled: more than once means
several type signatures, each compiled in full. The whole first run is printed
for scale, and the size of the compiled-kernel cache the run wrote. Usage::

    python bench/bench_compile.py [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import collections, json, time
from numba.core import event

records = []


def name(ev):
    func = ev.data["dispatcher"].py_func
    return f"{func.__module__}.{func.__qualname__}"


class Recorder(event.Listener):
    def on_start(self, ev):
        records.append(("start", name(ev), time.perf_counter()))

    def on_end(self, ev):
        records.append(("end", name(ev), time.perf_counter()))


event.register("numba:compile", Recorder())
started = time.perf_counter()
import numaexp
from numaexp.warmup import _tiny_scenario

numaexp.simulate(_tiny_scenario(), progress=False)
print(json.dumps({"total_s": time.perf_counter() - started, "records": records}))
"""


def profile(records: list) -> tuple[dict, dict, dict]:
    """Inclusive seconds, exclusive seconds and compile counts per function name."""
    inclusive, exclusive, count = (collections.Counter() for _ in range(3))
    stack: list[list] = []
    for kind, name, when in records:
        if kind == "start":
            stack.append([name, when, 0.0])
            continue
        name, start, callees = stack.pop()
        spent = when - start
        inclusive[name] += spent
        exclusive[name] += spent - callees
        count[name] += 1
        if stack:
            stack[-1][2] += spent
    return inclusive, exclusive, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMAEXP_CACHE_DIR": cache}
        env.pop("NUMBA_CACHE_DIR", None)
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True,
                             capture_output=True, text=True)
        wall = time.perf_counter() - started
        cached = sum(path.stat().st_size for path in Path(cache).rglob("*") if path.is_file())
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    inclusive, exclusive, count = profile(figures["records"])
    print(f"cold first run: {figures['total_s']:.1f} s in the child ({wall:.1f} s with start-up); "
          f"{len(count)} functions compiled {sum(count.values())} times; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"compiled-kernel cache written: {cached / 2**20:.1f} MiB")
    print(f"{'excl s':>8} {'incl s':>8} {'times':>5}  function")
    for name, seconds in exclusive.most_common(args.top):
        print(f"{seconds:8.2f} {inclusive[name]:8.2f} {count[name]:5d}  {name}")


if __name__ == "__main__":
    main()
