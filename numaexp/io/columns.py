"""Column names of the frames, as :func:`numaexp.simulate` names them.

Kept here (rather than imported from the simulator) so that reading real
snapshots needs no simulator; ``tests/test_kernel_frames.py`` checks them
against a live simulation.
"""

from __future__ import annotations

VMSTAT = ("numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults",
          "numa_hint_faults_local", "numa_pages_migrated", "pgmigrate_success", "pgmigrate_fail",
          "numa_task_migrated", "numa_task_swapped", "thp_migration_success",
          "thp_migration_fail", "pgpromote_success", "pgpromote_candidate", "pgdemote_kswapd",
          "pgdemote_direct", "pgfault_first_touch", "alloc_fallback", "alloc_failed")
"""``vmstat`` columns (the last three are the simulator's own: NA from a kernel)."""

NODE_VMSTAT = ("pgpromote_success", "pgpromote_candidate", "pgdemote_kswapd")
"""Per-node counters of ``timeseries`` (``/sys/devices/system/node/nodeN/vmstat``), after
``hot_threshold_ms_N`` and ``promo_window_candidates_N`` (NA from a kernel)."""

MEMCG = ("numa_pages_migrated", "numa_pte_updates", "numa_hint_faults", "pgpromote_success",
         "pgdemote_kswapd", "pgdemote_direct", "numa_task_migrated", "numa_task_swapped")
"""``memory_stat`` counter columns (``memory.stat`` names)."""

SCHED = ("numa_scan_seq", "task_numa_scan_seq", "numa_pages_migrated", "numa_preferred_nid",
         "total_numa_faults", "current_node", "numa_group_id", "numa_task_migrated",
         "numa_task_swapped", "numa_scan_period_ms", "numa_scans")
"""``sched`` columns after ``process, thread, pid, cgroup`` (then per-node fault columns)."""

TASK_TIMESERIES = ("time_s", "process", "thread", "pid", "cgroup", "alive", "cpu", "node",
                   "preferred_node", "scan_period_ms", "scan_seq", "locality", "touches",
                   "user_s", "system_s", "numa_pages_migrated", "numa_task_migrated",
                   "numa_task_swapped", "numa_group")
"""``task_timeseries`` columns."""

EVENTS = ("time_s", "event", "task", "pid", "src_cpu", "dst_cpu", "partner", "vma", "reason")
"""``events`` columns."""

TIMES = ("level", "process", "thread", "pid", "cgroup", "user_s", "system_s", "elapsed_s",
         "touches", "finished", "throughput_per_s")
"""``times`` columns."""


def node_name(node: int) -> str:
    """Column suffix of a node, ``N0``, ``N1``, ..."""
    return f"N{node}"


def fault_columns(nodes) -> list[str]:
    """Per-node ``numa_faults`` columns of ``sched``, in the simulator's order."""
    out = []
    for nid in nodes:
        for label in ("private", "shared"):
            out += [f"faults_task_{label}_{node_name(nid)}",
                    f"faults_group_{label}_{node_name(nid)}"]
    return out
