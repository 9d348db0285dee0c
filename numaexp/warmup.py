"""Compiling the simulator's kernels, said as such: the first run's wait, with its own progress.

numba compiles the kernels at their first call and caches them on disk
(``numaexp.sim.engine.jit.cache_dir``); a fresh environment therefore spends
minutes compiling before its first simulation. :func:`warm_up` does that
compile up front, on a tiny scenario, under its own progress bar
("compiling simulator kernels (first run only, about N min)"), so that a
run's own progress bar and ETA measure the run alone.
"""

from __future__ import annotations

import threading
import time

COMPILE_MINUTES = 3
"""What the first compile takes, in whole minutes, as said to users (README, notebook 01,
the progress bar): :data:`COMPILE_MEASURED`."""

COMPILE_MEASURED = "measured 145-215 s on one core of the 2-core build VM"
"""The measured first compile behind :data:`COMPILE_MINUTES` (``bench/bench_compile.py``,
2026-12-07, with other work on the machine: load average 2.2-3.5; 244-437 s before issue
19's compile work)."""

COMPILE_MESSAGE = f"compiling simulator kernels (first run only, about {COMPILE_MINUTES} min)"
"""What a first run says while it compiles."""

TICK_S = 1.0
"""Interval of the compile progress updates, wall seconds."""


def kernels_cached() -> bool:
    """The compiled kernels of this version of the simulator are in numba's cache (or numba
    runs without compiling, ``NUMBA_DISABLE_JIT=1``)."""
    import numba

    if numba.config.DISABLE_JIT:
        return True
    from numaexp.sim.engine.jit import SIM, module_cache_dir

    # module_cache_dir reads numba.config.CACHE_DIR, jit.cache_dir() as computed once at
    # import: computing it again parses every simulator source (slow, and CPython 3.11's
    # ast is not thread-safe: simulate calls this from sweep threads)
    return any(module_cache_dir(SIM / "engine" / "tick.py").glob("tick.run-*.nbi"))


def _tiny_scenario():
    """The smallest scenario that calls every kernel, those Python calls between ticks too:
    two nodes, one thread, 1 MiB; mode 3 switched on mid-run (``reset_memory_tiering``) and
    a cpuset change that moves the thread (``set_task_cpu``)."""
    from numaexp.model.actions import Action
    from numaexp.model.cgroups import Cgroup
    from numaexp.model.kernel import KernelConfig
    from numaexp.model.machine import two_socket
    from numaexp.model.scenario import Scenario, Stop
    from numaexp.model.workload import Pattern, Phase, Process, Thread, Vma, Workload

    machine = two_socket(cpus_per_node=1, memory_per_node="64 MiB")
    workload = Workload(name="warm-up", processes=(Process(
        name="w", vmas=(Vma(name="b", size="1 MiB"),), cgroup="/w",
        threads=(Thread(name="t", phases=(Phase(patterns=(Pattern(vma="b"),)),)),)),),
        cgroups=(Cgroup(path="/w", cpus=(0,)),))
    return Scenario(name="warm-up", machine=machine, workload=workload,
                    kernel=KernelConfig(numa_balancing=1),
                    stop=Stop(kind="duration", duration_s=0.02), sample_interval_s=0.01,
                    actions=(Action(at_s=0.005, kind="numa_balancing", value=3),
                             Action(at_s=0.01, kind="cpuset", cgroup="/w", cpus=(1,))))


def warm_up(progress: bool = True, on_status=None) -> bool:
    """Compile (or load) the kernels before a run, saying so when it compiles.

    Parameters
    ----------
    progress : bool
        Show a tqdm bar while compiling: elapsed time against the
        :data:`COMPILE_MINUTES` estimate (it stops at 99 % until done).
    on_status : callable, optional
        ``on_status(message, fraction)`` when compiling starts (``fraction``
        0.0), about once a second while it lasts and once when done
        (``fraction`` 1.0), for widgets.

    Returns
    -------
    bool
        True when this call compiled the kernels, False when they were cached.
    """
    if kernels_cached():
        return False
    from tqdm.auto import tqdm

    from numaexp.sim.engine.runner import Runner

    estimate = 60.0 * COMPILE_MINUTES
    bar = tqdm(total=estimate, desc=COMPILE_MESSAGE, disable=not progress, leave=False,
               bar_format="{desc}: {elapsed} |{bar}|")
    done = threading.Event()
    start = time.perf_counter()

    def tick():
        while not done.wait(TICK_S):
            share = min(0.99, (time.perf_counter() - start) / estimate)
            bar.update(share * estimate - bar.n)
            if on_status is not None:
                on_status(COMPILE_MESSAGE, share)

    if on_status is not None:  # at once: a widget shows it before the first tick
        on_status(COMPILE_MESSAGE, 0.0)
    watcher = threading.Thread(target=tick, name="numaexp-compile", daemon=True)
    watcher.start()
    try:
        runner = Runner(_tiny_scenario())
        runner.advance(0.02)
        runner.sample()
    finally:
        done.set()
        watcher.join()
        bar.close()
    if on_status is not None:
        on_status(f"compiled the simulator kernels in {time.perf_counter() - start:.0f} s",
                  1.0)
    return True
