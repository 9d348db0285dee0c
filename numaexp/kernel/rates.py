"""The guest's own access rate: the simulator beside a kernel run runs at the rate the guest
achieved.

Under QEMU TCG a guest's speed follows the host's load (its vCPUs share the host's cores
with whatever else runs): the same numa02 guest made 12 to 41 million touches in 25 s
across runs. NUMA scanning fires on guest time, so a comparison made at one fixed rate
(a cost profile's ``stream_gbps``) compares the simulator with a guest that may have done
half or twice the work per scan. :func:`guest_rates` measures each thread's rate in a
kernel result; :func:`at_guest_rate` sets it on the simulated scenario. The per-event
kernel costs stay the profile's.

How it is measured: over the whole run, each thread's touches (the executor's work
counter, a 4 KiB page for a sweep, one access for random patterns) over its user seconds
(``/proc/<pid>/task/<tid>/stat``, USER_HZ ticks), summed over the replicas of a thread of
the scenario. User time only, because that is what the simulator's rate is: a task's
speed is touches per ns of *user* time (``sim/engine/perf.py``), and kernel time is
charged separately from the per-event costs. In the model's fields:

- a thread whose phases all sweep gets ``stream_gbps = touches x 4096 / user_s / 1e9``
  (GB/s per thread, what :func:`numaexp.kernel.calibrate.sweep_rate_gbps` fits over
  several runs);
- a thread whose phases all access at random gets ``think_ns = user_ns per touch -
  local latency / mlp`` (the simulator charges a random touch ``think_ns + latency /
  mlp``; the phase's own ``mlp`` and the machine's local latency);
- a thread with both kinds of phase, or with no touches or no user time in the guest
  (one never created), keeps its rate: the guest counts its touches per thread, not per
  phase.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from numaexp.errors import ScenarioError
from numaexp.model.scenario import Scenario

PAGE_BYTES = 4096
"""Bytes of one sweep touch."""

MIN_THINK_NS = 0.01
"""Smallest ``think_ns`` set (the field must be > 0): a guest faster than the stall alone."""


def _kind(thread) -> str:
    sweeps = {phase.is_sweep for phase in thread.phases}
    return "mixed" if len(sweeps) > 1 else ("sweep" if sweeps == {True} else "random")


def _local_latency_ns(machine) -> float:
    lat = machine.latency_matrix
    return float(min(lat[i][i] for i in range(len(lat))))


def guest_rates(scenario: Scenario, kernel) -> pd.DataFrame:
    """Each thread of ``scenario``'s measured access rate in the kernel run ``kernel``.

    Parameters
    ----------
    scenario : Scenario
        The scenario the kernel ran (its threads name the guest's: ``name`` or ``name.k``
        for the replicas of ``count > 1``).
    kernel : Result
        A kernel-backend result of it (its ``times`` frame: touches and user seconds of
        each task at the end of the run).

    Returns
    -------
    DataFrame
        One row per thread of the scenario: ``process``, ``thread``, ``kind`` (``sweep``,
        ``random`` or ``mixed``), ``replicas`` found in the guest, ``touches``,
        ``user_s``, ``touches_per_user_s``, and the field set: ``stream_gbps`` (sweep),
        ``think_ns`` (random), NaN where nothing is set; ``matched`` is False for a mixed
        thread or one without touches or user time.
    """
    times = kernel.times
    tasks = times[times["level"] == "task"]
    by_name = {(str(p), str(t)): (float(n), float(u)) for p, t, n, u in zip(
        tasks["process"], tasks["thread"],
        pd.to_numeric(tasks["touches"], errors="coerce").astype(float),
        pd.to_numeric(tasks["user_s"], errors="coerce").astype(float), strict=True)}
    local = _local_latency_ns(scenario.machine)
    rows = []
    for proc in scenario.workload.processes:
        for thread in proc.threads:
            found = [by_name[(proc.name, name)] for name in thread.replica_names
                     if (proc.name, name) in by_name]
            touches = float(pd.Series([n for n, _ in found], dtype=float).sum(min_count=1))
            user = float(pd.Series([u for _, u in found], dtype=float).sum(min_count=1))
            kind = _kind(thread)
            rate = touches / user if user > 0 and touches > 0 else float("nan")
            gbps = think = float("nan")
            matched = kind != "mixed" and math.isfinite(rate)
            if matched and kind == "sweep":
                gbps = rate * PAGE_BYTES / 1e9
            elif matched:
                mlp = thread.phases[0].mlp if len({p.mlp for p in thread.phases}) == 1 \
                    else None
                stall = local / mlp if mlp else 0.0
                think = max(MIN_THINK_NS, 1e9 / rate - stall)
            rows.append({"process": proc.name, "thread": thread.name, "kind": kind,
                         "replicas": len(found), "touches": touches, "user_s": user,
                         "touches_per_user_s": rate, "stream_gbps": gbps, "think_ns": think,
                         "matched": matched})
    return pd.DataFrame(rows)


def at_guest_rate(scenario: Scenario, kernel, rates: pd.DataFrame | None = None) -> Scenario:
    """``scenario`` with each thread's access rate set to the one measured in ``kernel``.

    Everything else (costs, latencies, the profile's rates of the threads that are not
    matched) is unchanged: apply a cost profile first (``apply_profile``), then this.

    Parameters
    ----------
    scenario : Scenario
        The simulated scenario (the kernel ran it, perhaps without the profile).
    kernel : Result
        The kernel run.
    rates : DataFrame, optional
        :func:`guest_rates` of them, if already computed.

    Returns
    -------
    Scenario
        Sweep phases of matched sweep threads get their ``stream_gbps``, random phases of
        matched random threads their ``think_ns`` (see the module's docstring).

    Raises
    ------
    ScenarioError
        When the kernel run holds none of the scenario's threads (another scenario's run).
    """
    if rates is None:
        rates = guest_rates(scenario, kernel)
    if not (rates["replicas"] > 0).any():
        raise ScenarioError("kernel", "the kernel run has none of the scenario's threads",
                            "a kernel run of this scenario")
    rate_of = {(r.process, r.thread): r for r in rates.itertuples() if r.matched}
    procs = []
    for proc in scenario.workload.processes:
        threads = []
        for thread in proc.threads:
            r = rate_of.get((proc.name, thread.name))
            if r is not None:
                phases = tuple(dataclasses.replace(p, stream_gbps=r.stream_gbps) if p.is_sweep
                               else dataclasses.replace(p, think_ns=r.think_ns)
                               for p in thread.phases)
                thread = dataclasses.replace(thread, phases=phases)
            threads.append(thread)
        procs.append(dataclasses.replace(proc, threads=tuple(threads)))
    workload = dataclasses.replace(scenario.workload, processes=tuple(procs))
    return dataclasses.replace(scenario, workload=workload)


def rate_meta(rates: pd.DataFrame) -> list[dict]:
    """:func:`guest_rates` as plain records for a result's ``meta["guest_rate"]``."""
    keep = ["process", "thread", "kind", "replicas", "touches", "user_s",
            "touches_per_user_s", "stream_gbps", "think_ns", "matched"]
    out = []
    for row in rates[keep].to_dict("records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else
                        (bool(v) if k == "matched" else v)) for k, v in row.items()})
    return out
