"""Regression tests of the simulator defects of issue 16 that the fuzzer finds.

Each case is the issue's (or the fuzzer's) minimal scenario, run in a
sandbox process (a crash is an outcome, not the end of the test run) and
checked with the fuzzer's invariants. Items 1-5, 9, 10, the tunables of
2**63 and the fuzzer's own findings (a migration cost so small that a tick
over it overflows; think_ns = 1e307 with threads sharing CPUs) are fixed and
must pass. A defect found later gets an ``xfail(strict=True)`` test here and
an entry in :data:`fuzz_known.KNOWN` until it is fixed.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from fuzz_harness import Sandbox
from fuzz_invariants import violations
from helpers import small_machine

import numaexp
from numaexp.errors import ScenarioError
from numaexp.model import (
    CostModel,
    KernelConfig,
    Machine,
    MemPolicy,
    Node,
    Pattern,
    Phase,
    Process,
    Scenario,
    Stop,
    Thread,
    Vma,
    Workload,
)
from numaexp.model.toml_io import load_scenario


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(timeout=300) as box:
        yield box


@pytest.fixture(scope="module")
def checked_sandbox():
    """Bounds-checked numba (compiles into its own cache on first use: minutes)."""
    with Sandbox(boundscheck=True, timeout=300) as box:
        yield box


def tiny(machine=None, *, vma=None, thread_policy=None, phase=None, count=2, duration=0.5,
         kernel=None, costs=None, interval=0.1, seed=1) -> Scenario:
    """One process of ``count`` threads over one VMA, with a duration stop."""
    machine = machine or small_machine(nodes=2, cpus=2, memory="256 MiB")
    vma = vma or Vma(name="buf", size="4 MiB")
    phase = phase or Phase(patterns=(Pattern(vma=vma.name),))
    thread = Thread(name="t", count=count, phases=(phase,),
                    policy=thread_policy or MemPolicy())
    return Scenario(name="known", machine=machine,
                    workload=Workload(name="known", processes=(
                        Process(name="p", vmas=(vma,), threads=(thread,)),)),
                    kernel=kernel or KernelConfig(scan_delay_ms=10, scan_period_min_ms=10),
                    costs=costs or CostModel(), stop=Stop(kind="duration", duration_s=duration),
                    seed=seed, sample_interval_s=interval)


def assert_ok(outcome: dict) -> None:
    assert outcome["status"] == "ok", outcome


def _item1_scenario() -> Scenario:
    one_node = Machine(name="1 node", nodes=(Node(cpus=2, memory="256 MiB"),), distance=((10,),))
    return tiny(one_node, vma=Vma(name="buf", size="2 MiB", thp=True, policy=MemPolicy(
        mode="interleave", nodes=(0,), numa_balancing=True)),
                kernel=KernelConfig(numa_balancing=1, scan_delay_ms=10, scan_period_min_ms=10,
                                    variant="rfc-v2+interleave-as-posted"), duration=2.0)


def test_item1_as_posted_thp_interleave_on_one_node_is_bounds_checked(checked_sandbox):
    """Bounds-checked, the write out of bounds is an IndexError every time; unchecked it
    corrupts memory (SIGSEGV, a heap abort, or pages not conserved, or nothing visible)."""
    assert_ok(checked_sandbox.run(_item1_scenario()))


@pytest.mark.parametrize("checked", [False, True])
def test_item2_think_ns_1e308_runs(sandbox, checked_sandbox, checked):
    box = checked_sandbox if checked else sandbox
    assert_ok(box.run(tiny(phase=Phase(patterns=(Pattern(vma="buf"),), think_ns=1e308))))


def test_fuzz_subnormal_rates_of_a_mass_row_pick_a_stream_in_bounds(checked_sandbox):
    """Found by ``make fuzz`` (seed 1, case ~3,000): think_ns = 1e308 with several patterns
    leaves a mass row whose summed rate is subnormal; its guide scale (cells / total)
    overflowed to infinity and ``np.int64(x * inf)`` indexed the guide table at -2**63
    (bounds-checked: IndexError; unchecked: a wild read)."""
    scenario = load_scenario(Path(__file__).parent / "data" / "fuzz" / "subnormal_row_rates.toml")
    assert_ok(checked_sandbox.run(scenario))


def test_item2_think_ns_1e307_runs(sandbox):
    assert_ok(sandbox.run(tiny(phase=Phase(patterns=(Pattern(vma="buf"),), think_ns=1e307))))


def test_item3_a_64_node_machine_runs(sandbox):
    assert_ok(sandbox.run(tiny(small_machine(nodes=64, cpus=1, memory="64 MiB"))))


def test_a_63_node_machine_runs(sandbox):
    assert_ok(sandbox.run(tiny(small_machine(nodes=63, cpus=1, memory="64 MiB"))))


def _limited(code: str, limit_gib: int = 2, timeout: float = 120) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter with at most ``limit_gib`` GiB of address space."""
    prelude = ("import resource, sys\n"
               f"resource.setrlimit(resource.RLIMIT_AS, ({limit_gib} << 30, {limit_gib} << 30))\n"
               f"sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r})\n")
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("cpus", ["(1_000_000_000,)", "(30_000_000, 30_000_000)"])
def test_item4_huge_cpu_counts_are_refused_quickly(cpus):
    done = _limited(f"""
        from helpers import sweep_workload, scenario
        from numaexp.errors import ScenarioError
        from numaexp.model import Machine, Node
        try:
            nodes = tuple(Node(cpus=c, memory="1 GiB") for c in {cpus})
            m = Machine(name="huge", nodes=nodes,
                        distance=[[10 if a == b else 20 for b in range(len(nodes))]
                                  for a in range(len(nodes))])
            scenario(sweep_workload(m, threads=1, size="1 MiB"), m)
        except ScenarioError as err:
            print("refused:", err)
        """)
    assert done.returncode == 0 and done.stdout.startswith("refused:"), done


def test_item4_the_memory_guard_counts_threads():
    from numaexp.sim.engine.build.estimate import estimate_bytes

    def estimate(count: int) -> int:
        return estimate_bytes(tiny(small_machine(nodes=2, cpus=2, memory="4 PiB"),
                                   vma=Vma(name="buf", size="6 PiB"), count=count))

    assert estimate(4_194_304) - estimate(1) >= 4_194_304 * 256  # bytes per task at least
    with pytest.raises(ScenarioError, match="would take about"):  # and the guard refuses it
        numaexp.simulate(tiny(small_machine(nodes=2, cpus=2, memory="4 PiB"),
                              vma=Vma(name="buf", size="6 PiB"), count=4_194_304),
                         progress=False)


class _Started(Exception):
    """Raised by a stand-in Runner: the run got past its checks and warnings."""


def _warnings_before_the_run(sc, monkeypatch) -> list[str]:
    """The warnings ``simulate`` gives ``sc`` before it builds anything."""
    def started(*args, **kwargs):
        raise _Started

    monkeypatch.setattr(numaexp.experiment, "Runner", started)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(_Started):
            numaexp.simulate(sc, progress=False)
    return [str(w.message) for w in caught]


def test_item4_a_run_of_a_million_threads_warns_before_it_starts(monkeypatch):
    """The issue's 1 M threads (187 s of wall time for 0.2 simulated s) are warned of."""
    sc = tiny(small_machine(nodes=2, cpus=2, memory="64 GiB"), vma=Vma(name="buf", size="1 GiB"),
              count=1_000_000, duration=0.2)
    said = [m for m in _warnings_before_the_run(sc, monkeypatch) if "wall time" in m]
    assert len(said) == 1 and "1,000,00" in said[0] and "0.2 simulated s" in said[0], said


def test_item4_a_big_machine_for_an_hour_warns_but_a_small_run_does_not(monkeypatch):
    big = tiny(small_machine(nodes=2, cpus=512, memory="4 GiB"), count=2048, duration=3600)
    assert any("wall time" in m and "1,024 CPUs" in m
               for m in _warnings_before_the_run(big, monkeypatch))
    assert not any("wall time" in m for m in _warnings_before_the_run(tiny(), monkeypatch))


def test_item4_an_hour_of_small_samples_warns(monkeypatch):
    """Found by ``make fuzz``: a tiny scenario whose mutation dropped its stop limit ran 3,600
    simulated s sampled every 12.3 ms (292,684 samples: 324 s of wall time) without a word."""
    sc = tiny(duration=3600.0, interval=0.0123)
    assert any("wall time" in m and "3600 simulated s" in m
               for m in _warnings_before_the_run(sc, monkeypatch))


def test_item4_the_run_estimate_grows_with_cpus_tasks_and_time():
    from numaexp.sim.engine.build.estimate import estimate_run_seconds

    base = tiny(count=4, duration=10)
    more_cpus = tiny(small_machine(nodes=2, cpus=64), count=4, duration=10)
    more_tasks = tiny(count=400, duration=10)
    longer = tiny(count=4, duration=100)
    for bigger in (more_cpus, more_tasks, longer):
        assert estimate_run_seconds(bigger) > estimate_run_seconds(base)


@pytest.mark.parametrize("value", [2**62, 2**63 - 1])
def test_item5_huge_promote_rate_limit_is_refused_or_runs(sandbox, value):
    try:
        sc = tiny(kernel=KernelConfig(numa_balancing=2, promote_rate_limit_mbps=value))
    except ScenarioError:
        return  # refused with the bound: fine
    assert sandbox.run(sc)["status"] in ("ok", "refused")


def test_item9_sample_times_are_strictly_increasing():
    sc = tiny(duration=0.2301, interval=0.01)
    result = numaexp.simulate(sc, progress=False)
    times = result.timeseries["time_s"]
    assert times.is_monotonic_increasing and times.is_unique, times.tail(3).tolist()


def test_item10_elapsed_stays_within_the_stop():
    sc = tiny(phase=Phase(patterns=(Pattern(vma="buf"),), duration_s=0.2),
              costs=CostModel(hint_fault_ns=1e9), duration=0.3)
    result = numaexp.simulate(sc, progress=False)
    assert result.vmstat["numa_hint_faults"].iloc[0] > 0
    assert result.times["elapsed_s"].max() <= 0.3, result.times[["elapsed_s", "system_s"]]
    assert not violations(sc, result)


@pytest.mark.parametrize("name", ["scan_delay_ms", "scan_period_max_ms", "scan_size_mb",
                                  "hot_threshold_ms"])
def test_fuzz_a_tunable_of_2_63_is_refused_or_runs(sandbox, name):
    try:
        sc = tiny(kernel=KernelConfig(**{name: 2**63}))
    except ScenarioError:
        return  # refused with a bound: fine
    assert sandbox.run(sc)["status"] in ("ok", "refused")


@pytest.mark.parametrize("cost", [1e-303, 5e-324])
def test_fuzz_a_tiny_migration_cost_runs(sandbox, cost):
    sc = tiny(costs=CostModel(migrate_folio_ns=cost, migrate_copy_ns_per_page=0.0))
    assert sandbox.run(sc)["status"] in ("ok", "refused")


def _quick_and_slow(think_ns: float) -> Scenario:
    """A thread of one touch beside one whose touch thinks for ``think_ns``."""
    pattern = (Pattern(vma="v"),)
    threads = (Thread(name="quick", phases=(Phase(patterns=pattern, touches=1.0),)),
               Thread(name="slow", phases=(Phase(patterns=pattern, touches=1.0,
                                                 think_ns=think_ns),)))
    return Scenario(name="hang", machine=small_machine(nodes=1, cpus=2, memory="1 GiB"),
                    workload=Workload(name="w", processes=(Process(
                        name="p", vmas=(Vma(name="v", size="1 MiB"),), threads=threads),)),
                    stop=Stop(kind="duration", duration_s=0.1), sample_interval_s=1.0)


def test_fuzz_huge_think_ns_beside_a_finished_thread_does_not_hang():
    with Sandbox(timeout=30) as box:
        assert_ok(box.run(_quick_and_slow(1e30)))


def test_think_ns_1e25_beside_a_finished_thread_runs(sandbox):
    assert_ok(sandbox.run(_quick_and_slow(1e25)))


def test_item2_think_ns_1e307_with_threads_sharing_cpus_runs(sandbox):
    pattern = (Pattern(vma="v0"),)
    threads = (Thread(name="t0", count=3, phases=(Phase(patterns=pattern, touches=1.0),)),
               Thread(name="t1", count=3, cpus=(0,), phases=(
                   Phase(patterns=pattern, touches=1.0, think_ns=1e307),)))
    machine = Machine(name="m", nodes=(Node(cpus=2, memory="1 GiB"), Node(cpus=1, memory="1 GiB")),
                      distance=((10, 11), (173, 10)))
    sc = Scenario(name="fuzz", machine=machine, workload=Workload(name="w", processes=(
        Process(name="p0", vmas=(Vma(name="v0", size=567240),), threads=threads),)),
        stop=Stop(kind="work"))
    assert_ok(sandbox.run(sc))


def test_invariants_hold_on_a_plain_tiny_run(sandbox):
    """The harness itself: a plain run passes every invariant (so the xfails above fail for
    their defect, not for the harness)."""
    assert_ok(sandbox.run(tiny()))
    assert_ok(sandbox.run(dataclasses.replace(tiny(), seed=2), threads_check=True))
