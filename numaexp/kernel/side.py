"""The simulator and the kernel side by side: one :class:`Comparison`, a ratio table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from numaexp.comparison import Comparison
from numaexp.errors import ScenarioError
from numaexp.io.columns import VMSTAT
from numaexp.model.cost_profiles import CostProfile, apply_profile
from numaexp.model.scenario import Scenario

BACKENDS = ("sim", "kernel")
"""Backends a comparison can use."""

RATIO_COUNTERS = ("numa_pte_updates", "numa_hint_faults", "numa_hint_faults_local",
                  "numa_pages_migrated", "pgmigrate_success", "pgpromote_success",
                  "pgdemote_kswapd", "numa_task_migrated", "numa_task_swapped")
"""Counters in :func:`ratio_table`, when both sides have them."""


def check_backends(backends) -> list[str]:
    """``backends`` as a list of distinct names from :data:`BACKENDS`."""
    if isinstance(backends, str):
        backends = [b.strip() for b in backends.split(",") if b.strip()]
    backends = list(backends)
    if not backends:
        raise ScenarioError("backends", "no backend", ", ".join(BACKENDS))
    for i, b in enumerate(backends):
        if b not in BACKENDS:
            raise ScenarioError(f"backends[{i}]", f"unknown backend {b!r}", ", ".join(BACKENDS))
        if b in backends[:i]:
            raise ScenarioError(f"backends[{i}]", f"{b!r} given twice", "each backend once")
    return backends


def tag_backend(result, backend: str):
    """Give every frame of ``result`` a ``backend`` column (kept if it has one)."""
    for frame in result.frames.values():
        if "backend" not in frame.columns:
            frame["backend"] = backend
    result.meta.setdefault("backend", backend)
    return result


def compare_backends(scenario: Scenario, modes=(0, 1), variants=None, *,
                     backends=BACKENDS, kernel: str | Path = "6.12",
                     profile: CostProfile | str | Path | None = None,
                     progress: bool | None = None, timeout_s: float | None = None,
                     log_dir: str | Path | None = None, guest_rate: bool = True) -> Comparison:
    """Run ``scenario`` per mode on the simulator and/or a real kernel.

    With both backends the kernel runs first, and each mode's simulation runs at the access
    rate that mode's guest achieved (``guest_rate``): under QEMU TCG the guest's speed
    follows the host's load, and NUMA scanning fires on guest time, so a simulation at one
    fixed rate would compare with a guest that did more or less work per scan. The rate is
    measured over the whole guest run, per thread of the scenario: its touches (the
    executor's work counter) over its user seconds (``/proc/<pid>/task/<tid>/stat``), set
    as the sweep phases' ``stream_gbps`` (touches x 4 KiB / user seconds) or the random
    phases' ``think_ns`` (user ns per touch less the memory stall); see
    :mod:`numaexp.kernel.rates`. The per-event kernel costs stay the profile's. Each
    simulation's ``meta["guest_rate"]`` lists the rates set (thread, touches, user
    seconds, ``stream_gbps`` or ``think_ns``).

    Parameters
    ----------
    scenario, modes, variants
        As :func:`numaexp.compare` (variants apply to the simulator; the
        kernel is what ``kernel`` is).
    backends : sequence of {"sim", "kernel"} or str
        ``["sim", "kernel"]`` or ``"sim,kernel"``.
    kernel : str or Path
        The kernel (see :func:`numaexp.run_kernel`).
    profile : CostProfile, str or Path, optional
        A cost profile applied to the simulator's runs (e.g. ``"qemu-tcg"``: the guest's
        per-event costs and one latency for every pair of nodes; its rates are the
        simulator's alone, without a kernel run beside it).
    progress, timeout_s, log_dir
        Passed on.
    guest_rate : bool
        With both backends, run each simulation at its guest's measured rate (default);
        False keeps the scenario's (or the profile's) rates.

    Returns
    -------
    Comparison
        Labels ``"mode M sim"`` and ``"mode M kernel"`` (just ``"mode M"``
        with one backend); ``settings`` has a ``backend`` column.
    """
    from numaexp.comparison import compare
    from numaexp.kernel.rates import at_guest_rate, guest_rates, rate_meta
    from numaexp.kernel.run import run_kernel

    backends = check_backends(backends)
    several = len(backends) > 1
    mode_list = [modes] if isinstance(modes, int) else list(modes)
    results, settings, kernels = {}, [], {}
    if "kernel" in backends:
        for mode in mode_list:
            run = dataclasses.replace(scenario, kernel=dataclasses.replace(
                scenario.kernel, numa_balancing=mode))
            label = f"mode {mode} kernel" if several else f"mode {mode}"
            kernels[mode] = results[label] = run_kernel(
                run, kernel=kernel, progress=progress, timeout_s=timeout_s, log_dir=log_dir)
            settings.append({"label": label, "mode": mode,
                             "variant": run.kernel.variant.label, "backend": "kernel"})
    if "sim" in backends:
        base = apply_profile(scenario, profile) if profile is not None else scenario
        # with a kernel run beside it: one simulation per mode, at that mode's guest's rate
        parts = [(base, modes, None)] if not (guest_rate and kernels) else \
            [(base, [mode], kernels[mode]) for mode in mode_list]
        for run, run_modes, beside in parts:
            rates = guest_rates(run, beside) if beside is not None else None
            if rates is not None:
                run = at_guest_rate(run, beside, rates)
            sim = compare(run, modes=run_modes, variants=variants, progress=progress)
            for label, result in sim.results.items():
                row = sim.settings[sim.settings["label"] == label].iloc[0].to_dict()
                new = f"{label} sim" if several else label
                results[new] = tag_backend(result, "sim")
                if rates is not None:
                    result.meta["guest_rate"] = rate_meta(rates)
                settings.append({**row, "label": new, "backend": "sim"})
            if any(r.meta.get("interrupted") for r in sim.results.values()) or sim.dropped:
                break
    # mode by mode, each mode's backends in the order given
    rank = {row["label"]: (mode_list.index(row["mode"]), backends.index(row["backend"]), i)
            for i, row in enumerate(settings)}
    order = sorted(results, key=rank.__getitem__)
    frame = pd.DataFrame(settings).set_index("label").loc[order].reset_index()
    return Comparison(results={lb: results[lb] for lb in order}, settings=frame)


PLACEMENT_FRACTION = 0.99
"""Placement has converged once ``numa_pages_migrated`` reaches this share of its final value."""


def placement_time(result, fraction: float = PLACEMENT_FRACTION) -> float:
    """When a run's placement converged: the first sample at which its cumulative
    ``numa_pages_migrated`` reaches ``fraction`` of its value at the end of the run.

    The window up to it holds the balancing work that placed the memory; after it a kernel
    keeps scanning a placed buffer at a rate that varies from run to run (see
    ``docs/kernel-backend.md``). A run that migrated nothing has no placement to wait
    for: the window is the whole run (its last sample).

    Parameters
    ----------
    result : Result
        A simulation or a kernel run (its ``timeseries`` frame).
    fraction : float
        Share of the final ``numa_pages_migrated``.

    Returns
    -------
    float
        The sample's ``time_s``.
    """
    ts = result.timeseries
    migrated = pd.to_numeric(ts["numa_pages_migrated"], errors="coerce").astype(float)
    final = migrated.iloc[-1]
    if not final > 0:
        return float(ts["time_s"].iloc[-1])
    return float(ts["time_s"][migrated >= fraction * final].iloc[0])


def _sample(frame: pd.DataFrame, time_s: float) -> pd.DataFrame:
    """The rows of ``frame`` at its sample nearest ``time_s``."""
    times = frame["time_s"].astype(float)
    nearest = times.iloc[(times - time_s).abs().argmin()]
    return frame[times == nearest]


def _at_time(result, time_s: float, counters, nodes) -> dict:
    """Counters (cumulative), pages per node and user/system seconds and touches at the
    sample nearest ``time_s``."""
    row = _sample(result.timeseries, time_s).iloc[0]
    out = {name: float(row[name]) if not pd.isna(row[name]) else float("nan")
           for name in counters}
    pages = _sample(result.cgroup_timeseries, time_s).groupby("node")["pages"].sum()
    for node in nodes:
        out[f"pages_{node}"] = float(pages.get(node, float("nan")))
    tasks = _sample(result.task_timeseries, time_s)
    for name in ("user_s", "system_s", "touches"):
        out[name] = float(pd.to_numeric(tasks[name], errors="coerce").sum(min_count=1))
    return out


def ratio_table(sim, kernel, fraction: float = PLACEMENT_FRACTION) -> pd.DataFrame:
    """Sim/kernel ratio per counter, pages per node and time: over the whole run, and over
    each side's window until its placement converged.

    Parameters
    ----------
    sim, kernel : Result
        A simulation and a kernel run of the same scenario.
    fraction : float
        The placement rule of :func:`placement_time`.

    Returns
    -------
    DataFrame
        One row per quantity: ``quantity``; ``sim``, ``kernel`` and ``ratio`` (sim / kernel;
        NaN where the kernel has none or it is 0) at the end of the run (final pages per
        node, total seconds and touches); ``sim_placed``, ``kernel_placed`` and
        ``ratio_placed``, the same at each side's :func:`placement_time` (counters since
        the start, pages per node, seconds and touches then). The last row,
        ``placement_s``, holds the two placement times in both column groups. The
        kernel's counters after placement depend on how often it goes on scanning a
        placed buffer, which varies from run to run; the placed columns leave that out.
    """
    counters = [name for name in RATIO_COUNTERS if name in VMSTAT
                and not pd.isna(sim.vmstat[name].iloc[0])
                and not pd.isna(kernel.vmstat[name].iloc[0])]
    rows = []
    for name in counters:
        rows.append((name, float(sim.vmstat[name].iloc[0]), float(kernel.vmstat[name].iloc[0])))
    sp = sim.numa_stat.groupby("node")["pages"].sum()
    kp = kernel.numa_stat.groupby("node")["pages"].sum()
    for node in sp.index:
        rows.append((f"pages_{node}", float(sp[node]), float(kp.get(node, float("nan")))))
    for level_name in ("user_s", "system_s"):
        s = sim.times[sim.times["level"] == "total"][level_name].iloc[0]
        k = kernel.times[kernel.times["level"] == "total"][level_name].iloc[0]
        rows.append((level_name, float(s), float(k)))
    st = sim.times[sim.times["level"] == "total"]["touches"].iloc[0]
    kt = kernel.times[kernel.times["level"] == "total"]["touches"].iloc[0]
    rows.append(("touches", float(st), float(kt)))
    frame = pd.DataFrame(rows, columns=["quantity", "sim", "kernel"])
    frame["ratio"] = frame["sim"] / frame["kernel"].where(frame["kernel"] != 0)
    t_sim, t_kernel = placement_time(sim, fraction), placement_time(kernel, fraction)
    at_sim = _at_time(sim, t_sim, counters, sp.index)
    at_kernel = _at_time(kernel, t_kernel, counters, sp.index)
    frame["sim_placed"] = frame["quantity"].map(at_sim)
    frame["kernel_placed"] = frame["quantity"].map(at_kernel)
    frame.loc[len(frame)] = {"quantity": "placement_s", "sim": t_sim, "kernel": t_kernel,
                             "ratio": t_sim / t_kernel if t_kernel else float("nan"),
                             "sim_placed": t_sim, "kernel_placed": t_kernel}
    frame["ratio_placed"] = frame["sim_placed"] / frame["kernel_placed"].where(
        frame["kernel_placed"] != 0)
    return frame


def comparison_ratios(comparison: Comparison) -> pd.DataFrame:
    """:func:`ratio_table` for every mode that has both a sim and a kernel run."""
    parts = []
    settings = comparison.settings
    for mode in settings["mode"].unique():
        rows = settings[settings["mode"] == mode]
        sims = rows[rows["backend"] == "sim"]["label"].tolist()
        kernels = rows[rows["backend"] == "kernel"]["label"].tolist()
        if sims and kernels:
            part = ratio_table(comparison.results[sims[0]], comparison.results[kernels[0]])
            part.insert(0, "mode", mode)
            parts.append(part)
    if not parts:
        raise ScenarioError("comparison", "no mode has both a sim and a kernel run",
                            'a comparison made with backends=["sim", "kernel"]')
    return pd.concat(parts, ignore_index=True)
