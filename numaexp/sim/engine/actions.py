"""Apply run-time actions (:class:`numaexp.model.Action`) to a running simulation.

Plain Python between ticks: each action edits the state arrays the way the
kernel interface it stands for would (the sysctl handler, the cgroup files,
``cgroup.procs``), then the next :meth:`Runner.advance` carries on.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from numaexp.model.actions import Action
from numaexp.model.scenario import effective_cpusets
from numaexp.model.workload import Cgroup, Workload
from numaexp.sim.engine.build.nodes import node_mask
from numaexp.sim.engine.codes import CLK_TICK, MOVE_AFFINITY
from numaexp.sim.engine.params import set_tunable
from numaexp.sim.kernel.cgroup_gate import effective_numa_load_balance
from numaexp.sim.kernel.constants import NUMA_BALANCING_MEMORY_TIERING
from numaexp.sim.kernel.scan_period import jiffies_to_msecs
from numaexp.sim.kernel.sched import set_task_cpu
from numaexp.sim.kernel.tiering import reset_memory_tiering


def _with_cgroup(workload: Workload, path: str, **changes) -> Workload:
    """``workload`` with cgroup ``path`` changed (added if it was only implicit)."""
    cgroups = list(workload.cgroups)
    for i, cg in enumerate(cgroups):
        if cg.path == path:
            cgroups[i] = dataclasses.replace(cg, **changes)
            break
    else:
        cgroups.append(Cgroup(path=path, **changes))
    return dataclasses.replace(workload, cgroups=tuple(cgroups))


class ActionApplier:
    """Applies the actions of one run, keeping the workload's cgroup settings current."""

    def __init__(self, runner):
        self.runner = runner
        self.workload = runner.scenario.workload
        self.machine = runner.scenario.machine
        self.variant = runner.scenario.kernel.variant

    def apply(self, action: Action) -> None:
        """Apply one action now (between ticks)."""
        getattr(self, f"_{action.kind}")(action)

    # ---- kernel.numa_balancing and tunables
    def _numa_balancing(self, action: Action) -> None:
        a = self.runner.arrays
        old = int(a.p["mode"])
        if action.value & NUMA_BALANCING_MEMORY_TIERING and \
                not old & NUMA_BALANCING_MEMORY_TIERING:
            now_ms = jiffies_to_msecs(int(a.clk[CLK_TICK]), int(a.p["hz"]))
            for nid in range(len(a.nd)):
                reset_memory_tiering(a.nd_nbp[nid], now_ms)
        a.p["mode"] = action.value
        self.runner.refresh_state()

    def _tunable(self, action: Action) -> None:
        set_tunable(self.runner.arrays.p, action.name, action.value)
        self.runner.refresh_state()

    # ---- cgroups
    def _numa_load_balance(self, action: Action) -> None:
        self.workload = _with_cgroup(self.workload, action.cgroup,
                                     numa_load_balance=action.value)
        self._sync_cgroups()

    def _cpuset(self, action: Action) -> None:
        changes = {}
        if action.cpus:
            changes["cpus"] = action.cpus
        if action.mems:
            changes["mems"] = action.mems
        self.workload = _with_cgroup(self.workload, action.cgroup, **changes)
        self._sync_cgroups()

    def _move_task(self, action: Action) -> None:
        a = self.runner.arrays
        layout = self.runner.layout
        index = layout.cgroups.index(action.cgroup)  # validated: every path has a slot
        pi = layout.processes.index(action.process)
        first = True
        for t, (process, thread, _pid, _cg) in enumerate(layout.tasks):
            if process != action.process:
                continue
            owner = first and self.workload.processes[pi].main_thread != "sleeps"
            first = False
            if action.thread and thread != action.thread:
                continue
            a.tk["cgroup"][t] = index
            if owner or not action.thread:  # mm->owner's memcg charges new pages
                a.mm["cgroup"][a.tk["mm"][t]] = index
        self._sync_cgroups()

    def _sync_cgroups(self) -> None:
        """Recompute the gate flags and every task's cpuset after a cgroup change."""
        a = self.runner.arrays
        layout = self.runner.layout
        cgroups = {cg.path: cg for cg in self.workload.all_cgroups()}
        ordered = [cgroups[path] for path in layout.cgroups]
        a.cg_nlb[:] = effective_numa_load_balance(ordered, self.variant)
        effective = effective_cpusets(self.workload, self.machine)
        state = self.runner.state
        for t, (pi, ti) in enumerate(layout.task_specs):
            cg_cpus, cg_mems = effective[layout.cgroups[a.tk["cgroup"][t]]]
            thread = self.workload.processes[pi].threads[ti]
            cpus = cg_cpus if thread.cpus is None else (set(thread.cpus) & cg_cpus) or cg_cpus
            a.tk_allowed[t, :] = 0
            a.tk_allowed[t, sorted(cpus)] = 1
            a.tk["mems"][t] = node_mask(cg_mems)
            cpu = int(a.tk["cpu"][t])
            if a.tk["alive"][t] and not a.tk_allowed[t, cpu]:
                # the cpuset no longer holds the task's CPU: move it to the least busy one
                allowed = np.flatnonzero(a.tk_allowed[t])
                target = int(allowed[np.argmin(a.cpu["nr_running"][allowed])])
                now = int(a.clk[CLK_TICK]) * int(a.p["tick_ns"])
                set_task_cpu(state, t, target, now, MOVE_AFFINITY, -1)
        self.runner.refresh_state()
