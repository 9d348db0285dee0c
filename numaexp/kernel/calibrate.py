"""Fit a cost profile to kernel runs: per-event kernel costs and the access rate.

Under QEMU TCG the guest's CPUs are slow and its kernel work is costly, so
a simulation compared with a guest must use the guest's own figures. This
fits them by least squares from kernel results (``run_kernel``):

- the access rate: each thread's sweep bandwidth, ``touches x 4 KiB /
  user time`` (the simulator's ``stream_gbps``, user time only: kernel
  time is charged separately);
- the per-event costs: in every sampling interval of every run, the
  threads' system time against the events of that interval,
  ``system_s ~ hint_fault_ns x numa_hint_faults + migrate_folio_ns x
  numa_pages_migrated + pte_update_ns x numa_pte_updates + first_touch_ns
  x first touches + baseline x seconds`` (first touches: ``pgfault -
  numa_hint_faults``; the baseline is system time that comes with no counted
  event, kept in the profile's ``fit`` table but not in the CostModel),
  solved with non-negative least squares.

The other cost fields are 0 where their cost is inside the fitted ones
(:data:`FOLDED`) or the parameter table's defaults (:data:`NOT_FITTED`);
the profile's ``[sources]`` table says which for every figure
(:func:`fit_sources`).
"""

from __future__ import annotations

import dataclasses
import datetime
import warnings

import numpy as np
import pandas as pd

from numaexp.errors import ScenarioError
from numaexp.model.cost_profiles import CostProfile
from numaexp.model.costs import MAX_COST_NS, CostModel

EVENTS = ("numa_hint_faults", "numa_pages_migrated", "numa_pte_updates", "first_touch")
"""Regressors, in the order of :data:`COST_FIELDS`."""

COST_FIELDS = ("hint_fault_ns", "migrate_folio_ns", "pte_update_ns", "first_touch_ns")
"""CostModel fields fitted (the others: :data:`FOLDED` and :data:`NOT_FITTED`)."""

MEASURED = {"hint_fault_ns": "per NUMA hinting fault (numa_hint_faults)",
            "migrate_folio_ns": "per page migrated (numa_pages_migrated): the copy, the "
                                "shootdowns and the lock waits included",
            "pte_update_ns": "per PTE made PROT_NONE (numa_pte_updates): the PTE walk "
                             "included",
            "first_touch_ns": "per first touch (pgfault - numa_hint_faults)"}
"""What each fitted figure of :data:`COST_FIELDS` is per."""

FOLDED = {"migrate_copy_ns_per_page": "the copy is inside migrate_folio_ns",
          "pte_scan_ns": "walking the PTEs is inside pte_update_ns",
          "tlb_flush_ns": "the guest's shootdowns (IPIs between its vCPUs) are inside "
                          "migrate_folio_ns and pte_update_ns",
          "tlb_flush_per_cpu_ns": "the wait for each vCPU a shootdown interrupts is inside "
                                  "migrate_folio_ns and pte_update_ns",
          "tlb_ipi_recv_ns": "the vCPUs' time taking flush IPIs is system time, inside the "
                             "fitted per-event costs",
          "tlb_flush_per_node_ns": "unused, the guest being x86 (tlb_broadcast false)",
          "vma_lock_hold_ns": "lock waits in the runs fitted are inside the fitted per-event "
                              "costs",
          "ptl_hold_ns": "lock waits in the runs fitted are inside the fitted per-event costs",
          "lru_lock_hold_ns": "lock waits in the runs fitted are inside migrate_folio_ns",
          "numa_group_lock_hold_ns": "lock waits in the runs fitted are inside the fitted "
                                     "per-event costs"}
"""CostModel fields set to 0, each with where its cost is instead."""

NOT_FITTED = {"tlb_broadcast": "false: the guest runs an x86 (amd64) kernel, which flushes "
                               "remote TLBs by IPI",
              "task_move_ns": "not fitted (task moves are no regressor of the fit): the "
                              "parameter table's default, an x86 server figure",
              "clone_ns": "not fitted (thread creations are no regressor of the fit): the "
                          "parameter table's default, an x86 server figure"}
"""CostModel fields left at the parameter table's default, each with why."""


def nnls(a: np.ndarray, b: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Non-negative least squares ``min |a x - b|, x >= 0`` (Lawson and Hanson's active set).

    Parameters
    ----------
    a : ndarray, shape (m, n)
    b : ndarray, shape (m,)

    Returns
    -------
    ndarray, shape (n,)
    """
    n = a.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    w = a.T @ (b - a @ x)
    for _ in range(iterations):
        if passive.all() or (w[~passive] <= 1e-12 * max(1.0, np.abs(w).max())).all():
            break
        j = np.argmax(np.where(passive, -np.inf, w))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            neg = passive & (z <= 0)
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            passive &= x > 1e-15
        w = a.T @ (b - a @ x)
    return x


def interval_rows(result) -> pd.DataFrame:
    """Per sampling interval of a kernel result: system seconds and event counts."""
    ts = result.timeseries.sort_values("time_s")
    tts = result.task_timeseries
    system = tts.groupby("time_s")["system_s"].sum().reindex(ts["time_s"]).to_numpy(float)
    frame = pd.DataFrame({"time_s": ts["time_s"].to_numpy(float), "system_s": system})
    for name in EVENTS[:3]:
        frame[name] = ts[name].astype("float64").to_numpy()
    pgfault = result.meta.get("pgfault")
    frame["first_touch"] = np.asarray(pgfault, float) - frame["numa_hint_faults"] \
        if pgfault is not None else 0.0
    deltas = frame.diff().iloc[1:]
    return deltas.clip(lower=0).fillna(0.0)


CONFOUNDED_CORRELATION = 0.95
"""Correlation of two events' per-interval counts above which the fit cannot tell their
costs apart."""


def confounded_events(rows: pd.DataFrame) -> list[tuple[str, str, float]]:
    """Pairs of events whose per-interval counts rise and fall together in ``rows``.

    Least squares then only knows the sum of their costs per event: how it is
    split between them is arbitrary (one of them may come out 0).

    Returns
    -------
    list of (str, str, float)
        Each pair with its correlation, at least :data:`CONFOUNDED_CORRELATION`.
    """
    pairs = []
    for i, first in enumerate(EVENTS):
        for second in EVENTS[i + 1:]:
            x, y = rows[first].to_numpy(float), rows[second].to_numpy(float)
            if x.std() > 0 and y.std() > 0:
                r = float(np.corrcoef(x, y)[0, 1])
                if r >= CONFOUNDED_CORRELATION:
                    pairs.append((first, second, r))
    return pairs


def _kinds(result) -> set:
    return set(result.meta.get("patterns", ["sweep"]))


def random_think_ns(results, latency_ns: float = 90.0, mlp: float = 4.0) -> float | None:
    """``think_ns`` of random accesses: user ns per access less the simulator's stall.

    The simulator charges a random access ``think_ns + latency / mlp``; with a
    flat latency of ``latency_ns`` (the machine's local latency, default 90 ns)
    and the phases' default ``mlp`` of 4. None without a random-access run.
    """
    runs = [r for r in results if _kinds(r) and "sweep" not in _kinds(r)]
    if not runs:
        return None
    touches = user = 0.0
    for r in runs:
        t = r.times[r.times["level"] == "task"]
        touches += float(t["touches"].astype("float64").sum())
        user += float(t["user_s"].sum())
    return max(0.0, user * 1e9 / max(touches, 1.0) - latency_ns / mlp)


def sweep_rate_gbps(results) -> float:
    """Mean per-thread sweep bandwidth, GB/s: touches x 4 KiB over user seconds."""
    touches = user = 0.0
    for r in results:
        if "sweep" not in _kinds(r):
            continue
        t = r.times[r.times["level"] == "task"]
        touches += float(t["touches"].astype("float64").sum())
        user += float(t["user_s"].sum())
    if user <= 0:
        raise ScenarioError("results", "the runs spent no user time", "kernel results of runs "
                            "with sweep phases")
    return touches * 4096 / user / 1e9


def fit_profile(results, name: str = "fitted", description: str = "") -> CostProfile:
    """A :class:`CostProfile` fitted to kernel ``results`` (see the module's docstring).

    Parameters
    ----------
    results : iterable of Result
        Kernel-backend results (``result.meta["backend"] == "kernel"``) with
        sweep workloads; at least one should have NUMA hint faults (mode 1)
        and one first touches.
    name, description : str
        Of the profile.
    """
    results = list(results)
    if not results or any(r.meta.get("backend") != "kernel" for r in results):
        raise ScenarioError("results", "calibration needs kernel-backend results",
                            "results of numaexp.run_kernel")
    rows = pd.concat([interval_rows(r) for r in results], ignore_index=True)
    # an intercept: system time that comes with no counted event (timer ticks, the
    # scheduler, page-table walks of the sampler's reads), per second of the interval
    a = np.column_stack([rows[list(EVENTS)].to_numpy(float), rows["time_s"].to_numpy(float)])
    b = rows["system_s"].to_numpy(float) * 1e9
    scale = np.maximum(a.max(axis=0), 1.0)
    x = nnls(a / scale, b) / scale
    pred = a @ x
    ss_res = float(((b - pred) ** 2).sum())
    ss_tot = float(((b - b.mean()) ** 2).sum()) or 1.0
    fitted = {f: float(min(v, MAX_COST_NS)) for f, v in zip(COST_FIELDS, x[:-1], strict=True)}
    costs = dataclasses.replace(CostModel(), **dict.fromkeys(FOLDED, 0.0), **fitted)
    kernels = sorted({str(r.meta.get("kernel_release", "")) for r in results})
    confounded = confounded_events(rows)
    for first, second, r in confounded:
        warnings.warn(f"{first} and {second} rise and fall together in these runs "
                      f"(correlation {r:.2f} over {len(rows)} intervals): the fit knows the sum "
                      "of their costs per event, not how it splits between them; add a run "
                      "where they differ (calibrate()'s third probe: random accesses to a hot "
                      "set)", stacklevel=2)
    fit = {"date": datetime.date.today().isoformat(), "kernels": kernels,
           "runs": [f"{r.meta.get('scenario')} mode {r.meta.get('mode')}" for r in results],
           "intervals": len(rows), "r2_system_time": 1 - ss_res / ss_tot,
           "baseline_system_s_per_s": float(x[-1]) / 1e9,
           "confounded": [f"{first} ~ {second} (r = {r:.2f})" for first, second, r in confounded]}
    think_ns = random_think_ns(results)
    sources = fit_sources(fit)
    if think_ns is None:
        del sources["think_ns"]
    return CostProfile(name=name, costs=costs, stream_gbps=sweep_rate_gbps(results),
                       sources=sources, think_ns=think_ns, flat_latency=True,
                       description=description, fit=fit)


def fit_sources(fit: dict) -> dict[str, str]:
    """The ``[sources]`` lines of a fitted profile, for every cost field and both rates.

    Parameters
    ----------
    fit : dict
        The profile's ``fit`` table (``date``, ``kernels``, ``runs``, ``intervals``).
    """
    runs = f"{'; '.join(fit['runs'])} (kernel {', '.join(fit['kernels'])}, {fit['date']})"
    sources = {name: f"measured: numaexp calibrate's non-negative least-squares fit of the "
                     f"guest's system time to its event counts, {per}; "
                     f"{fit['intervals']} sampling intervals of {runs}"
               for name, per in MEASURED.items()}
    sources |= {name: f"0, not fitted: {why}" for name, why in FOLDED.items()}
    sources |= NOT_FITTED
    sources["stream_gbps"] = ("measured: touches x 4 KiB over user seconds of the sweep "
                              f"threads (sweep_rate_gbps) of {runs}")
    sources["think_ns"] = ("measured: user ns per random access less the simulator's stall "
                           f"(90 ns / mlp 4) in the random-access runs (random_think_ns) of {runs}")
    return sources


PROBES = (("mode 1, first touched on node 0", {"mode": 1, "first_touch_node": 0}),
          ("mode 0, first touched by each thread", {"mode": 0, "first_touch_node": None}),
          ("mode 1, random accesses to 5 % of each slice", {"mode": 1, "first_touch_node": 0,
                                                             "hot_size": 0.05}))
"""The probe runs of :func:`calibrate`: numa02 on a 2 x 2-vCPU guest (hint faults,
migrations, PTE updates; first touches; PTE updates with few faults, and the
random access rate)."""


def calibrate(kernel="6.12", *, results=None, name: str = "qemu-tcg",
              out=None, progress: bool | None = None, log_dir=None,
              duration_s: float = 25.0) -> CostProfile:
    """Fit a cost profile to a kernel, running the probes or reading earlier results.

    Parameters
    ----------
    kernel : str or Path
        The kernel of the probes (see :func:`numaexp.run_kernel`).
    results : iterable of Result or of paths, optional
        Earlier kernel results (or directories written by ``Result.save``)
        to fit instead of running the probes.
    name : str
        The profile's name.
    out : str or Path, optional
        Write the profile there as TOML.
    progress, log_dir
        Passed to :func:`numaexp.run_kernel`.
    duration_s : float
        Length of each probe, seconds of guest time.

    Returns
    -------
    CostProfile
    """
    from numaexp.kernel.result import load_result
    from numaexp.kernel.run import run_kernel
    from numaexp.kernel.scenarios import numa02_guest

    if results is None:
        results = [run_kernel(numa02_guest(duration_s=duration_s, **probe), kernel=kernel,
                              progress=progress, log_dir=log_dir) for _what, probe in PROBES]
    else:
        results = [load_result(r) if not hasattr(r, "frames") else r for r in results]
    profile = fit_profile(results, name=name,
                          description=f"fitted by numaexp calibrate to {len(results)} kernel "
                                      "run(s) under QEMU TCG: the guest's per-event kernel "
                                      "costs and per-thread sweep rate")
    if out is not None:
        profile.save(out)
    return profile
