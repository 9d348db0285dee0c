"""Build the task arrays: one row per thread, its CPU mask, creation and first placement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numaexp.model.scenario import Scenario, effective_cpusets
from numaexp.sim.engine.build.memory import policy_fields
from numaexp.sim.engine.build.nodes import node_mask
from numaexp.sim.engine.dtypes import TASK_DTYPE
from numaexp.sim.engine.params import tick_ns
from numaexp.sim.kernel.constants import NSEC_PER_MSEC, NUMA_NO_NODE, U32_MASK
from numaexp.sim.kernel.scan_period import msecs_to_jiffies, task_scan_max, task_scan_min

FIRST_PID = 1000
"""pid of the first process's main thread."""


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
    names : list of (process, thread, pid, cgroup)
    specs : list of (process index, thread index)
    mm_users : list of int
        ``mm_users`` of each process (its threads, plus a sleeping main thread).
    """

    tasks: np.ndarray
    allowed: np.ndarray
    rows: list
    names: list
    specs: list
    mm_users: list


def build_tasks(scenario: Scenario, cg_index: dict[str, int]) -> Tasks:
    """One row per thread replica, in process order; pids as ``fork`` would hand them out."""
    workload, machine = scenario.workload, scenario.machine
    rows, names, specs, mm_users = [], [], [], []
    pid = FIRST_PID
    for pi, proc in enumerate(workload.processes):
        if proc.main_thread == "sleeps":
            pid += 1  # the sleeping main thread
        for ti, thread in enumerate(proc.threads):
            for k in range(thread.count):
                name = thread.name if thread.count == 1 else f"{thread.name}.{k}"
                rows.append((pi, thread, k, pid))
                specs.append((pi, ti))
                names.append((proc.name, name, pid, proc.cgroup))
                pid += 1
        mm_users.append(proc.nr_threads + (1 if proc.main_thread == "sleeps" else 0))
    effective = effective_cpusets(workload, machine)
    tasks = np.zeros(len(rows), dtype=TASK_DTYPE)
    allowed = np.zeros((len(rows), machine.nr_cpus), dtype=np.uint8)
    for t, (pi, thread, _k, tpid) in enumerate(rows):
        proc = workload.processes[pi]
        cg_cpus, cg_mems = effective[proc.cgroup]
        cpu_set = cg_cpus if thread.cpus is None else (set(thread.cpus) & cg_cpus)
        allowed[t, sorted(cpu_set)] = 1
        mode, nodes, flags = policy_fields(thread.policy)
        tasks[t]["pid"] = tpid
        tasks[t]["mm"] = pi
        tasks[t]["cgroup"] = cg_index[proc.cgroup]
        tasks[t]["pol_mode"] = mode
        tasks[t]["pol_nodes"] = nodes
        tasks[t]["pol_flags"] = flags
        tasks[t]["mems"] = node_mask(cg_mems)
    tasks["alive"] = 1
    tasks["finish_ns"] = -1
    tasks["numa_scan_period"] = scenario.kernel.scan_delay_ms
    tasks["numa_preferred_nid"] = NUMA_NO_NODE
    tasks["numa_group"] = -1
    return Tasks(tasks=tasks, allowed=allowed, rows=rows, names=names, specs=specs,
                 mm_users=mm_users)


def init_numa_balancing(scenario: Scenario, tasks: Tasks, mms: np.ndarray) -> None:
    """``init_numa_balancing`` for each process's threads, created at time 0.

    A ``main_thread = "works"`` process's first thread is the exec'd main
    thread (``node_stamp`` 0, ``numa_next_scan`` 0 until its first
    ``task_numa_work``); every other thread is a clone made by the main thread.
    For a clone made while ``mm_users`` is 1, the mm gets
    ``numa_next_scan = now + scan_delay``. A clone's ``node_stamp`` is
    ``min(task_scan_max(parent), parent->numa_scan_period * mm_users * 1e6) +
    2 * TICK_NSEC`` in 32-bit unsigned arithmetic, as in the kernel (where it
    compares ms with ns: in practice the ms value of ``task_scan_max``).
    The parent's ``task_scan_max`` at time 0 is that of an mm with no RSS
    and no NUMA group.
    """
    kernel = scenario.kernel
    delay_jiffies = msecs_to_jiffies(kernel.scan_delay_ms, kernel.hz)
    smin = task_scan_min(kernel.scan_size_mb, kernel.scan_period_min_ms, 0)
    smax = task_scan_max(smin, kernel.scan_period_max_ms, 0, kernel.scan_size_mb, False, 0, 0, 0)
    by_proc: dict[int, list[int]] = {}
    for t, row in enumerate(tasks.rows):
        by_proc.setdefault(row[0], []).append(t)
    for pi, proc in enumerate(scenario.workload.processes):
        users = 0
        members = by_proc.get(pi, [])
        if proc.main_thread == "works" and members:
            users = 1  # the exec'd main thread
            members = members[1:]
        elif proc.main_thread == "sleeps":
            users = 1
        for t in members:
            if users == 1:
                mms[pi]["numa_next_scan"] = delay_jiffies
                mms[pi]["numa_scan_seq"] = 0
            product = (kernel.scan_delay_ms * users * NSEC_PER_MSEC) & U32_MASK
            tasks.tasks[t]["node_stamp"] = min(smax & U32_MASK, product) + 2 * tick_ns(kernel.hz)
            users += 1


def place_new_tasks(tasks: np.ndarray, allowed: np.ndarray, cpus: np.ndarray,
                    nodes: np.ndarray) -> None:
    """Wake up new tasks on the least loaded allowed CPU.

    Departure: fork balancing (``find_idlest_group``) keeps the first
    ``imb_numa_nr`` tasks on the parent's node; here each new task goes to the
    allowed node with the fewest tasks per allowed CPU, then its least loaded CPU.
    """
    per_node = np.zeros(len(nodes), dtype=np.int64)
    for t in range(len(tasks)):
        allowed_cpus = np.flatnonzero(allowed[t])
        where = cpus["node"][allowed_cpus]
        allowed_here = np.bincount(where, minlength=len(nodes))[where]
        # the least (tasks per allowed CPU of its node, nr_running, node, cpu)
        best = np.lexsort((allowed_cpus, where, cpus["nr_running"][allowed_cpus],
                           per_node[where] / allowed_here))[0]
        c = allowed_cpus[best]
        tasks[t]["cpu"] = c
        cpus[c]["nr_running"] += 1
        per_node[cpus[c]["node"]] += 1
