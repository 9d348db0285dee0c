"""Build the task arrays: the workload's threads, hidden main threads, background tasks.

Rows, in order: every listed thread replica (process by process: the ones
the results report), then the main thread of each ``main_thread = "sleeps"``
process, then the background (one kernel thread per CPU, the daemons, the
tenants). Every task starts ``TS_NEW``: the engine creates it at its time
(:mod:`numaexp.sim.engine.lifecycle`), places it and runs
``init_numa_balancing`` then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numaexp.model.scenario import Scenario, effective_cpusets
from numaexp.sim.engine.build.memory import policy_fields
from numaexp.sim.engine.build.nodes import node_mask
from numaexp.sim.engine.codes import TK_DAEMON, TK_KTHREAD, TK_MAIN_SLEEPER, TK_WORKER, TS_NEW
from numaexp.sim.engine.dtypes import PHASE_DTYPE, TASK_DTYPE
from numaexp.sim.kernel.constants import NUMA_NO_NODE

FIRST_PID = 1000
"""pid of the first process's main thread."""

NSEC_PER_SEC = 1_000_000_000


@dataclass
class Tasks:
    """The task arrays of a run and what labels them.

    Attributes
    ----------
    tasks : ndarray
        ``TASK_DTYPE[T]``.
    allowed : ndarray
        ``uint8[T, C]``: each task's ``cpus_ptr``.
    rows : list of (process index, Thread, replica, pid)
        The workload's listed threads (the first ``len(rows)`` tasks).
    names : list of (process, thread, pid, cgroup)
        Labels of those threads.
    specs : list of (process index, thread index)
    other_names : list of (process, thread, pid, cgroup)
        Labels of the other rows: hidden main threads (``main``), kernel
        threads (``[kernel]/kworker/N``), daemons and tenants (``[background]``).
    background_phases : ndarray
        ``PHASE_DTYPE`` rows of the background tasks (one each, no streams),
        to append to the workload's phases; ``tasks["phase"]`` of a background
        task is the index in this array until :func:`link_background_phases`.
    """

    tasks: np.ndarray
    allowed: np.ndarray
    rows: list
    names: list
    specs: list
    other_names: list
    background_phases: np.ndarray


def _clone_schedule(scenario: Scenario, pi: int) -> dict[tuple[int, int], tuple]:
    """(thread index, replica) -> (creator thread index or -1, creator phase or -1, delay ns)
    of process ``pi``: each creation point's threads in listed order, one clone apart (the
    main thread's own other replicas first, when it starts)."""
    proc = scenario.workload.processes[pi]
    clone = scenario.costs.clone_ns
    main = 0 if proc.main_thread == "works" else -1
    per_point: dict[tuple[int, int], int] = {}
    out = {}
    for ti, thread in enumerate(proc.threads):
        creator = proc.creator_of(thread)
        ci = -1 if creator is None else proc.threads.index(creator)
        phase = -1 if thread.created_after_phase is None else thread.created_after_phase
        for k in range(thread.count):
            if ti == main and k == 0:
                continue  # the main thread itself; it creates its other replicas first
            n = per_point.get((ci, phase), 0) + 1
            per_point[(ci, phase)] = n
            out[(ti, k)] = (ci, phase, int(n * clone + thread.start_s * NSEC_PER_SEC))
    return out


def build_tasks(scenario: Scenario, cg_index: dict[str, int]) -> Tasks:
    """Every task row; creators, creation delays and CPU masks."""
    workload, machine = scenario.workload, scenario.machine
    rows, names, specs = [], [], []
    main_pid = []
    pid = FIRST_PID
    for pi, proc in enumerate(workload.processes):
        if proc.main_thread == "sleeps":
            main_pid.append(pid)
            pid += 1
        else:
            main_pid.append(None)
        for ti, thread in enumerate(proc.threads):
            for k in range(thread.count):
                name = thread.name if thread.count == 1 else f"{thread.name}.{k}"
                rows.append((pi, thread, k, pid))
                specs.append((pi, ti))
                names.append((proc.name, name, pid, proc.cgroup))
                pid += 1
    sleepers = [pi for pi, proc in enumerate(workload.processes) if proc.main_thread == "sleeps"]
    bg = scenario.background
    nc = machine.nr_cpus
    kthreads = nc if bg.kthread_wakeups_per_s > 0 else 0
    daemons = bg.daemons
    tenants = bg.tenants(nc)
    nt = len(rows) + len(sleepers) + kthreads + daemons + tenants
    tasks = np.zeros(nt, dtype=TASK_DTYPE)
    allowed = np.zeros((nt, nc), dtype=np.uint8)
    tasks["state"] = TS_NEW
    tasks["finish_ns"] = -1
    tasks["numa_preferred_nid"] = NUMA_NO_NODE
    tasks["numa_group"] = -1
    tasks["rq_next"] = -1
    tasks["rq_prev"] = -1
    tasks["creator"] = -1
    tasks["create_phase"] = -1
    tasks["create_ns"] = -1
    tasks["burst_ns"] = -1
    tasks["last_wakee"] = -1
    tasks["recent_used_cpu"] = -1
    tasks["cpu"] = 0
    tasks["numa_scan_period"] = scenario.kernel.scan_delay_ms
    effective = effective_cpusets(workload, machine)
    index_of: dict[tuple[int, int, int], int] = {}  # (process, thread index, replica) -> row
    for t, (pi, _thread, k, _pid) in enumerate(rows):
        index_of[(pi, specs[t][1], k)] = t
    main_row = {}
    for j, pi in enumerate(sleepers):
        main_row[pi] = len(rows) + j
    for t, (pi, thread, _k, tpid) in enumerate(rows):
        _workload_task(tasks, allowed, t, scenario, pi, thread, tpid, cg_index, effective)
    for pi, t in main_row.items():
        proc = workload.processes[pi]
        _workload_task(tasks, allowed, t, scenario, pi, None, main_pid[pi], cg_index, effective)
        tasks[t]["kind"] = TK_MAIN_SLEEPER
    for pi, proc in enumerate(workload.processes):
        main = main_row.get(pi, index_of.get((pi, 0, 0)) if proc.main_thread == "works" else None)
        tasks[main]["create_ns"] = int(proc.start_s * NSEC_PER_SEC)
        for (ti, k), (ci, phase, delay) in _clone_schedule(scenario, pi).items():
            t = index_of[(pi, ti, k)]
            tasks[t]["creator"] = main if ci < 0 else index_of[(pi, ci, 0)]
            tasks[t]["create_phase"] = phase  # a phase index; made a row by link_phases
            tasks[t]["create_delay"] = delay
    background_phases = _background(tasks, allowed, len(rows) + len(sleepers), scenario,
                                    kthreads, daemons, tenants, pid, cg_index)
    other = [(workload.processes[pi].name, "main", main_pid[pi], workload.processes[pi].cgroup)
             for pi in sleepers]
    base = pid
    other += [("[kernel]", f"kworker/{c}", base + c, "/") for c in range(kthreads)]
    other += [("[background]", f"daemon.{i}", base + kthreads + i, "/") for i in range(daemons)]
    other += [("[background]", f"tenant.{i}", base + kthreads + daemons + i, "/")
              for i in range(tenants)]
    return Tasks(tasks=tasks, allowed=allowed, rows=rows, names=names, specs=specs,
                 other_names=other, background_phases=background_phases)


def _workload_task(tasks, allowed, t, scenario, pi, thread, pid, cg_index, effective) -> None:
    """Fill row ``t``: a thread of process ``pi`` (``thread`` None: its hidden main thread)."""
    proc = scenario.workload.processes[pi]
    cg_cpus, cg_mems = effective[proc.cgroup]
    cpu_set = cg_cpus if thread is None or thread.cpus is None else (set(thread.cpus) & cg_cpus)
    allowed[t, sorted(cpu_set)] = 1
    policy = proc.threads[0].policy if thread is None else thread.policy
    mode, nodes, flags = policy_fields(policy)
    row = tasks[t]
    row["kind"] = TK_WORKER
    row["pid"] = pid
    row["mm"] = pi
    row["cgroup"] = cg_index[proc.cgroup]
    row["pol_mode"] = mode
    row["pol_nodes"] = nodes
    row["pol_flags"] = flags
    row["mems"] = node_mask(cg_mems)
    row["cpu"] = min(cpu_set)


def _background(tasks, allowed, first, scenario, kthreads, daemons, tenants, pid,
                cg_index) -> np.ndarray:
    """Fill the background rows from ``first`` on; returns their phase rows."""
    bg = scenario.background
    nc = scenario.machine.nr_cpus
    phases = np.zeros(kthreads + daemons + tenants, dtype=PHASE_DTYPE)
    phases["end_touches"] = np.inf
    phases["end_ns"] = np.inf
    phases["think_ns"] = 1.0
    phases["mlp"] = 1.0
    specs = ([(TK_KTHREAD, bg.kthread_run_us * 1e3, 1e9 / max(bg.kthread_wakeups_per_s, 1e-9),
               1)] * kthreads
             + [(TK_DAEMON, bg.daemon_run_ms * 1e6,
                 bg.daemon_period_s * 1e9 - bg.daemon_run_ms * 1e6, 0)] * daemons
             + [(TK_DAEMON, bg.tenant_run_ms * 1e6, bg.tenant_sleep_ms * 1e6, 1)] * tenants)
    for j, (kind, run_ns, sleep_ns, exp) in enumerate(specs):
        t = first + j
        row = tasks[t]
        row["kind"] = kind
        row["pid"] = pid + j
        row["mm"] = -1
        row["cgroup"] = cg_index["/"]
        row["phase"] = j
        row["phase_last"] = j
        row["create_ns"] = 0
        phases[j]["task"] = t
        phases[j]["run_ns"] = max(1, int(run_ns))
        phases[j]["sleep_ns"] = sleep_ns
        phases[j]["sleep_exp"] = exp
        if kind == TK_KTHREAD:
            allowed[t, j] = 1
            row["cpu"] = j
        else:
            allowed[t, :nc] = 1
            row["cpu"] = 0
    return phases


def link_phases(tasks: Tasks, first_phase: list[int], last_phase: list[int],
                nr_workload_phases: int) -> None:
    """Point each task at its phase rows: the workload threads' from ``build_streams``, the
    background tasks' after them; creation points become phase rows."""
    t = tasks.tasks
    n = len(first_phase)
    t["phase"][:n] = first_phase
    t["phase_last"][:n] = last_phase
    for i in range(n):
        creator = t["creator"][i]
        if t["create_phase"][i] >= 0 and creator >= 0:
            t["create_phase"][i] = first_phase[creator] + t["create_phase"][i]
    hidden = t["kind"] == TK_MAIN_SLEEPER
    t["phase"][hidden] = -1
    t["phase_last"][hidden] = -1
    bg = (t["kind"] == TK_KTHREAD) | (t["kind"] == TK_DAEMON)
    t["phase"][bg] += nr_workload_phases
    t["phase_last"][bg] += nr_workload_phases
    tasks.background_phases["task"] = np.flatnonzero(bg)
