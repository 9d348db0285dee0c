"""Notices: why a run shows (almost) nothing, named before anyone wonders.

Each :class:`Notice` names a condition under which NUMA balancing cannot
act, or a kernel variant cannot differ from another, and what would change
it. :func:`scenario_notices` reads only the scenario (before running);
:func:`result_notices` adds what only the run tells (how long it lasted, whether
any task moved). They are shown by ``numaexp run``, by the notebook
representation of results and comparisons, and by the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from numaexp.model.kernel import (
    NUMA_BALANCING_CGROUP,
    NUMA_BALANCING_MEMORY_TIERING,
    NUMA_BALANCING_NORMAL,
)

SCAN_PERIODS = 3
"""Scan periods after the scan delay that a run needs before NUMA balancing shows."""


@dataclass(frozen=True)
class Notice:
    """One explanation of a run that shows nothing (or no difference).

    It has a stable ``code`` (``mode4-nothing-enabled``, ``mode4-mainline``,
    ``one-tier``, ``short-run``, ``no-slow-pages``, ``already-local``,
    ``stats-as-posted``, ``interleave-as-posted``, ``arch-costs`` or ``identical``) and a
    ``message`` of one or two sentences: the condition, its consequence, what changes it."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _modes(scenario) -> set[int]:
    """Every ``kernel.numa_balancing`` value the run passes through."""
    return {scenario.kernel.numa_balancing} | {
        a.value for a in scenario.actions if a.kind == "numa_balancing"}


def _enabled_cgroups(scenario) -> tuple[set[str], set[str]]:
    """``(enabled, blocked)``: populated cgroups whose effective ``cpu.numa_load_balance`` is
    1 at some point (own value or a run-time action), and those at 1 whose parent switches
    them off under the ``hierarchical`` variant."""
    from numaexp.sim.kernel.cgroup_gate import effective_numa_load_balance

    workload = scenario.workload
    populated = {p.cgroup for p in workload.processes} | {
        a.cgroup for a in scenario.actions if a.kind == "move_task"}
    raised = {a.cgroup for a in scenario.actions if a.kind == "numa_load_balance" and a.value}
    cgroups = workload.all_cgroups()
    on = tuple(type(cg)(**{**_fields(cg), "numa_load_balance": 1}) if cg.path in raised else cg
               for cg in cgroups)
    effective = effective_numa_load_balance(on, scenario.kernel.variant)
    enabled = {cg.path for cg, value in zip(on, effective, strict=True)
               if value and cg.path in populated}
    blocked = {cg.path for cg, value in zip(on, effective, strict=True)
               if cg.numa_load_balance and not value and cg.path in populated}
    return enabled, blocked


def _fields(cgroup) -> dict:
    import dataclasses

    return {f.name: getattr(cgroup, f.name) for f in dataclasses.fields(cgroup)}


def _mode4(scenario) -> list[Notice]:
    variant = scenario.kernel.variant
    if not variant.rfc:
        if all(scenario.machine.toptier):
            return [Notice("mode4-mainline", "mode 4 on mainline: 6.12 has no per-cgroup gate "
                           "and reads no bit 4, so NORMAL balancing stays off and scanning marks "
                           "only lower-tier pages; every node of this machine is top tier, so "
                           "no page is marked or migrated and the NUMA counters stay at 0 as in "
                           "mode 0, while the scanner still walks the address space, which can "
                           "leave the times slightly different from mode 0's (an RFC variant "
                           "such as rfc-v2 gives mode 4 its meaning)")]
        return []
    enabled, blocked = _enabled_cgroups(scenario)
    if enabled:
        return []
    why = ("" if not blocked else f" ({', '.join(sorted(blocked))} at 1 but switched off by a "
           "parent at 0: the hierarchical variant needs every ancestor at 1)")
    return [Notice("mode4-nothing-enabled",
                   "mode 4 (CGROUP): no cgroup with threads has cpu.numa_load_balance = 1"
                   f"{why} and no action enables one, so no task is balanced and the run is "
                   "mode 0's; set it on a cgroup (Cgroup(path, numa_load_balance=1), or "
                   "numaexp run --set 'workload.cgroups[\"/path\"].numa_load_balance=1')")]


NUMA_COUNTERS = ("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated",
                 "pgpromote_success", "pgdemote_kswapd", "numa_task_migrated",
                 "numa_task_swapped")
"""The NUMA balancing counters a one-tier mode 2 run leaves at 0, as mode 0 does."""


def _one_tier(scenario, mode: int) -> list[Notice]:
    if not mode & NUMA_BALANCING_MEMORY_TIERING or not all(scenario.machine.toptier):
        return []
    head = (f"mode {mode} on a machine with one memory tier: MEMORY_TIERING marks and promotes "
            "only pages on lower-tier nodes, and every node of "
            f"{scenario.machine.name} is top tier, so ")
    tail = ("(a machine with CPU-less slow nodes, numaexp.model.machine.tiered(), shows "
            "tiering at work)")
    if mode & NUMA_BALANCING_NORMAL:
        return [Notice("one-tier", head + "its tiering part does no work: no page is promoted "
                       "or demoted, and its NORMAL part balances as mode 1 does " + tail)]
    return [Notice("one-tier", head + "the run does no tiering work: no page is marked, "
                   "promoted or demoted, and its NUMA counters ("
                   + ", ".join(NUMA_COUNTERS) + ") stay at 0 as in mode 0; its scanner still "
                   "walks the address space every scan period, and that system time can leave "
                   "the throughput and times slightly different from mode 0's " + tail)]


def _balancing(scenario) -> bool:
    """NUMA balancing can migrate pages or move tasks in this run (some mode that acts)."""
    for mode in _modes(scenario):
        if mode & (NUMA_BALANCING_NORMAL | NUMA_BALANCING_MEMORY_TIERING):
            return True
        if mode & NUMA_BALANCING_CGROUP and scenario.kernel.variant.rfc \
                and _enabled_cgroups(scenario)[0]:
            return True
    return False


def _arch_costs(scenario) -> list[Notice]:
    """The machine's architecture and the costs' TLB shootdowns disagree (a hand-built
    scenario keeps the x86 defaults on an arm64 machine)."""
    broadcast = scenario.costs.tlb_broadcast
    arch = scenario.machine.arch
    if not _balancing(scenario) or broadcast == (arch == "arm64"):
        return []
    how = ("by IPI, as on x86: every other CPU running the process is interrupted"
           if not broadcast else "by hardware broadcast, as on arm64: no CPU is interrupted")
    return [Notice("arch-costs", f"{scenario.machine.name} is {arch}, but its costs flush TLBs "
                   f"{how} (costs.tlb_broadcast = {str(broadcast).lower()}), so shootdowns "
                   "cost what they would on the other architecture; "
                   "numaexp.model.cost_profiles.preset_costs(machine) gives the machine's own "
                   "profile")]


def needed_seconds(scenario) -> float:
    """Simulated seconds before NUMA balancing can show: the scan delay and
    :data:`SCAN_PERIODS` minimum scan periods."""
    kernel = scenario.kernel
    return (kernel.scan_delay_ms + SCAN_PERIODS * kernel.scan_period_min_ms) / 1000.0


def short_run(scenario, seconds: float) -> list[Notice]:
    """A notice when a run of ``seconds`` is too short for NUMA balancing to act."""
    need = needed_seconds(scenario)
    if not _balancing(scenario) or seconds >= need:
        return []
    kernel = scenario.kernel
    return [Notice("short-run", f"the run lasts {seconds:.3g} simulated s: scanning starts "
                   f"after kernel.scan_delay_ms = {kernel.scan_delay_ms} ms and then runs at "
                   f"most once per kernel.scan_period_min_ms = {kernel.scan_period_min_ms} ms, "
                   f"so fewer than {SCAN_PERIODS} scan periods fit and NUMA balancing barely "
                   f"acts; run at least {need:.3g} s (a longer stop.duration_s, more passes, or "
                   "numaexp run --duration 30)")]


def _migratable(scenario) -> bool:
    """Some VMA's pages may be migrated by NUMA balancing (a policy with MPOL_F_MOF: the
    default policy, or bind/preferred_many with MPOL_F_NUMA_BALANCING)."""
    for proc in scenario.workload.processes:
        thread_policies = [t.policy for t in proc.threads]
        for vma in proc.vmas:
            policies = [vma.policy] if vma.policy is not None else thread_policies
            for policy in policies:
                if policy is None or policy.mode == "default" or (
                        policy.numa_balancing and policy.mode != "interleave"):
                    return True
    return False


def _interleave_as_posted(scenario) -> list[Notice]:
    machine = scenario.machine
    thp = any(vma.thp and vma.policy is not None and vma.policy.mode == "interleave"
              and vma.policy.numa_balancing
              for proc in scenario.workload.processes for vma in proc.vmas)
    if thp and machine.nr_nodes > 1:
        return []
    if not _balancing(scenario):
        reason = "NUMA balancing does not act in this run"
    elif machine.nr_nodes < 2 or machine.nodes[1].cpus == 0:
        reason = "node 1 has no CPUs, so no fault can ask for node 1"
    elif not _migratable(scenario):
        reason = "no VMA has pages NUMA balancing migrates (interleaved memory never migrates)"
    else:
        return []
    return [Notice("interleave-as-posted", f"{scenario.kernel.variant.label}: patch 3 as "
                   "posted differs from the fixed form only where a page's NUMA migration "
                   "target is node 1 (NUMA_TASK_MIG == 1 then skips the migration) or where a "
                   "THP of an interleaved VMA with MPOL_F_NUMA_BALANCING faults (it then "
                   f"migrates to node 1); here {reason}, so this run equals the fixed form")]


def _no_slow_pages(result) -> list[Notice]:
    """Memory tiering on a tiered machine, but no page ever on a lower tier to promote."""
    scenario = result.scenario
    machine = scenario.machine
    if not scenario.kernel.numa_balancing & NUMA_BALANCING_MEMORY_TIERING \
            or all(machine.toptier) or "cgroup_timeseries" not in result.frames:
        return []
    slow = {f"N{i}" for i, top in enumerate(machine.toptier) if not top}
    cts = result.cgroup_timeseries
    if cts.empty or cts.loc[cts["node"].isin(slow), "pages"].max() > 0:
        return []
    return [Notice("no-slow-pages", f"mode {scenario.kernel.numa_balancing}: memory tiering "
                   "promotes only pages on lower-tier nodes, and no page of this run was ever "
                   "on one (every page was first touched on a top-tier node, which never "
                   "filled), so nothing was promoted; place memory on a slow node "
                   "(Vma.first_touch_node, the dashboard's first-touch node) or use more memory "
                   "than the top tier holds")]


ALREADY_LOCAL_PCT = 95.0
"""Share of local accesses (%) above which a run that moved nothing had nothing to improve."""


def _already_local(result) -> list[Notice]:
    """NUMA balancing acted in a run whose accesses were local already: nothing moved."""
    scenario = result.scenario
    local = result.meta.get("local_access_pct")
    if local is None or not local >= ALREADY_LOCAL_PCT or not _balancing(scenario):
        return []  # not measured (NaN for a kernel run), or remote accesses to improve
    stat = result.memory_stat
    moved = stat[["numa_pages_migrated", "numa_task_migrated", "numa_task_swapped"]].sum().sum()
    if moved:
        return []
    return [Notice("already-local", f"mode {scenario.kernel.numa_balancing}: {local:.0f}% of "
                   "accesses were local already (each thread's memory was first touched on its "
                   "own node), so NUMA balancing migrated no page and moved no task: it had "
                   "nothing to improve; first-touch the memory on one node (Vma."
                   "first_touch_node, the dashboard's first-touch node) or move threads away "
                   "from their memory to see it act")]


def scenario_notices(scenario) -> list[Notice]:
    """Notices that the scenario alone tells (see the module docstring).

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    list of Notice
    """
    out: list[Notice] = []
    if any(a.kind == "numa_balancing" for a in scenario.actions):
        modes = []  # the mode changes during the run: no per-mode verdict
    else:
        modes = [scenario.kernel.numa_balancing]
    for mode in modes:
        if mode == NUMA_BALANCING_CGROUP:
            out += _mode4(scenario)
        out += _one_tier(scenario, mode)
    if scenario.stop.kind == "duration":
        out += short_run(scenario, scenario.stop.duration_s)
    if scenario.kernel.variant.rfc and scenario.kernel.variant.interleave == "as-posted":
        out += _interleave_as_posted(scenario)
    out += _arch_costs(scenario)
    return out


def result_notices(result) -> list[Notice]:
    """:func:`scenario_notices` and what the run adds: a run that ended too soon (measured
    on the simulated seconds it lasted: a ``"duration"`` run ends early when its work is
    done), and patch 1 as posted in a run where no task moved.

    Parameters
    ----------
    result : Result

    Returns
    -------
    list of Notice
    """
    scenario = result.scenario
    if scenario is None:  # a kernel snapshot
        return []
    out = scenario_notices(scenario)
    if not result.meta.get("interrupted"):  # the length it ran, not the planned duration
        seconds = float(result.meta.get("sim_seconds", 0.0))
        out = [n for n in out if n.code != "short-run"] + short_run(scenario, seconds)
    out += _no_slow_pages(result)
    if not any(n.code == "short-run" for n in out):
        out += _already_local(result)
    variant = scenario.kernel.variant
    if variant.rfc and variant.stats == "as-posted":
        stat = result.memory_stat
        moved = int(stat["numa_task_migrated"].sum() + stat["numa_task_swapped"].sum())
        if not moved:
            out.append(Notice("stats-as-posted", f"{variant.label}: patch 1 as posted differs "
                              "from the fixed form only in /proc/vmstat's numa_task_* counters "
                              "(spelt numa_task_swaped, never incremented), and no task was "
                              "moved or swapped in this run, so both read 0; it differs where "
                              "NUMA balancing moves tasks (modes 1, 3, or 4 with an enabled "
                              "cgroup, with tasks away from their memory)"))
    return out
