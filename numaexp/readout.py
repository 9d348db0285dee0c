"""The readout table: every output column, declared once.

Each :class:`Column` gives a column's name (the kernel's, where the kernel
has one), unit and meaning, and where the simulator reads it
(:attr:`Column.source`). Each :class:`Frame` lists its columns in order.
The simulator's sampling (``numaexp.sim.engine.readout``) evaluates the
sources; :mod:`numaexp.results` assembles frames from the evaluated
columns and :meth:`numaexp.Result.columns` lists this table. Nothing here
imports the simulator: a source is a string.

Sources
-------
``"tk.numa_scan_period"``
    A field of one of the simulator's structured arrays (per task here).
``"cnt_vm[numa_hint_faults]"``
    One counter of a counter array (by its name in :data:`VMSTAT` or
    :data:`MEMCG`).
``"cnt_cg_node_pages"``
    A whole array.
``"@current_node"``
    A decoder of ``numaexp.sim.engine.readout`` (a function of the state).
``""``
    A label (process, thread, pid, cgroup, node, time) or a figure computed
    from other columns (see its doc).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One output column.

    Parameters
    ----------
    name : str
        Column name; with ``per_node`` the frame holds ``<name>_N<node>``.
    unit : str
        Unit of the values.
    doc : str
        What the column holds, and where a real kernel reports it.
    source : str
        Where the simulator reads it (see the module docstring).
    per_node : bool
        One column per NUMA node.
    agg : str
        How the ``times`` frame adds tasks up into cgroup and total rows:
        ``"sum"``, ``"max"`` or ``"all"``.
    """

    name: str
    unit: str
    doc: str
    source: str = ""
    per_node: bool = False
    agg: str = ""

    @property
    def key(self) -> str:
        """Unique key of the column in its frame (``name_N`` for a per-node column, whose
        base name may also be a column of its own, like ``pgpromote_success``)."""
        return f"{self.name}_N" if self.per_node else self.name

    def names(self, node_names) -> list[str]:
        """The frame columns this stands for, given the machine's node names."""
        return [f"{self.name}_{n}" for n in node_names] if self.per_node else [self.name]


@dataclass(frozen=True)
class Frame:
    """One result frame: what a row is, and its columns in order."""

    name: str
    rows: str
    doc: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        """The column declared as ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


def _counters(array: str, specs) -> tuple[Column, ...]:
    return tuple(Column(name, unit, doc, source=f"{array}[{name}]") for name, unit, doc in specs)


VMSTAT_SPECS = (
    ("numa_pte_updates", "PTEs", "PTEs made PROT_NONE by the NUMA scanner (a PMD counts 512)"),
    ("numa_huge_pte_updates", "PMDs", "PMD-mapped THPs made PROT_NONE by the NUMA scanner"),
    ("numa_hint_faults", "faults", "NUMA hinting faults (one per folio)"),
    ("numa_hint_faults_local", "faults",
     "hinting faults on a page already on the faulting CPU's node"),
    ("numa_pages_migrated", "pages", "pages NUMA balancing migrated on hinting faults"),
    ("pgmigrate_success", "pages", "pages migrated for any reason (NUMA balancing, demotion)"),
    ("pgmigrate_fail", "pages", "pages a migration failed to move (demotion without room)"),
    ("numa_task_migrated", "moves", "tasks NUMA balancing moved to an idle CPU (RFC patch 1)"),
    ("numa_task_swapped", "swaps",
     "tasks NUMA balancing swapped with another (both count; RFC patch 1)"),
    ("thp_migration_success", "THPs", "THPs migrated whole"),
    ("thp_migration_fail", "THPs", "THP migrations that failed"),
    ("pgpromote_success", "pages", "pages promoted from a lower to a top memory tier"),
    ("pgpromote_candidate", "pages", "promotion candidates the rate limit counted"),
    ("pgdemote_kswapd", "pages", "pages kswapd demoted to a lower tier"),
    ("pgdemote_direct", "pages", "pages demoted by direct reclaim"),
    ("pgfault_first_touch", "faults",
     "first-touch page faults (simulator's own: the kernel counts every fault as pgfault)"),
    ("alloc_fallback", "allocations",
     "allocations placed on another node than the policy's first choice"),
    ("as_posted_missing_node", "faults",
     "THP faults whose as-posted NUMA_TASK_MIG target (node 1) does not exist (simulator's "
     "own: the posted kernel would dereference NODE_DATA(1))"),
    ("alloc_failed", "faults",
     "first touches that found no allowed node with room (simulator's own: the kernel "
     "would reclaim or OOM-kill)"),
)
"""``/proc/vmstat`` counters: (name, unit, doc), in the simulator's counter order."""

MEMCG_SPECS = (
    ("numa_pages_migrated", "pages", "pages NUMA balancing migrated, charged to the cgroup"),
    ("numa_pte_updates", "PTEs", "PTEs the scanner made PROT_NONE in the cgroup's mms"),
    ("numa_hint_faults", "faults", "hinting faults on the cgroup's pages"),
    ("pgpromote_success", "pages", "pages of the cgroup promoted"),
    ("pgdemote_kswapd", "pages", "pages of the cgroup kswapd demoted"),
    ("pgdemote_direct", "pages", "pages of the cgroup direct reclaim demoted"),
    ("numa_task_migrated", "moves", "task moves of the cgroup's tasks (RFC patch 1)"),
    ("numa_task_swapped", "swaps", "task swaps of the cgroup's tasks (RFC patch 1)"),
)
"""``memory.stat`` NUMA counters of a cgroup: (name, unit, doc), in counter order."""

VMSTAT = _counters("cnt_vm", VMSTAT_SPECS)
MEMCG = _counters("cnt_memcg", MEMCG_SPECS)

# ---- labels (read from the run's layout, not from the state)
TIME = Column("time_s", "s", "simulated time of the sample")
PROCESS = Column("process", "", "process name")
THREAD = Column("thread", "", "thread name (replica i of a thread spec: name.i)")
PID = Column("pid", "", "pid of the thread")
CGROUP = Column("cgroup", "", "cgroup path")
NODE = Column("node", "", "NUMA node (N0, N1, ...)")
TASK_LABELS = (PROCESS, THREAD, PID, CGROUP)

FORK_REASON = "fork"
"""The events frame's ``reason`` on every ``sched_wakeup_new`` row: the new task's placement
(``select_task_rq_fair`` with ``WF_FORK``; ``src_cpu`` its creator's CPU, ``dst_cpu`` its own)."""

RUN_LABELS = (
    Column("mode", "", "kernel.numa_balancing of the run"),
    Column("variant", "", "kernel variant label (mainline, rfc-v1, rfc-v2, ...)"),
    Column("policy", "", "decision-point policies of the run (kernel: the kernel's own)"),
    Column("backend", "", "what produced the frame: sim (the simulator) or kernel"),
)
"""Columns every frame ends with."""

# ---- per-task columns shared by sched and task_timeseries
CURRENT_NODE = Column("current_node", "node", "node of the CPU the task is on "
                      "(/proc/<pid>/sched current_node)", source="@current_node")
PREFERRED = Column("numa_preferred_nid", "node", "preferred node, -1 none "
                   "(/proc/<pid>/sched numa_preferred_nid)", source="tk.numa_preferred_nid")
SCAN_PERIOD = Column("numa_scan_period_ms", "ms", "the task's NUMA scan period "
                     "(p->numa_scan_period)", source="tk.numa_scan_period")
TASK_SCAN_SEQ = Column("task_numa_scan_seq", "passes", "scan passes the task's statistics "
                       "have seen (p->numa_scan_seq)", source="tk.numa_scan_seq")
PAGES_MIGRATED = Column("numa_pages_migrated", "pages", "pages migrated on the task's faults "
                        "(/proc/<pid>/sched numa_pages_migrated)",
                        source="tk.numa_pages_migrated")
TASK_MIGRATED = Column("numa_task_migrated", "moves", "NUMA moves of the task (RFC patch 1)",
                       source="tk.numa_task_migrated")
TASK_SWAPPED = Column("numa_task_swapped", "swaps", "NUMA swaps of the task (RFC patch 1)",
                      source="tk.numa_task_swapped")
GROUP_ID = Column("numa_group_id", "", "NUMA group id (pid of its first task), 0 none "
                  "(/proc/<pid>/sched numa_group_id)", source="@numa_group_id")
USER_S = Column("user_s", "s", "user time", source="@user_s", agg="sum")
SYSTEM_S = Column("system_s", "s", "system time run so far (kernel work charged and paid)",
                  source="@system_s", agg="sum")
SYSTEM_TIME_SPECS = (
    ("hint_fault_s", "handling NUMA hinting faults: the trap, do_numa_page or "
                     "do_huge_pmd_numa_page, task_numa_fault", True),
    ("migrate_s", "migrating pages on hinting faults: isolation, unmap and remap (the copy "
                  "and the unmap's TLB shootdown are apart)", True),
    ("migrate_copy_s", "copying migrated pages, at the bandwidth the nodes and the link had "
                       "left in the tick", True),
    ("scan_s", "task_numa_work: walking PTEs and making them PROT_NONE (the shootdowns "
               "are apart)", True),
    ("shootdown_s", "TLB shootdowns sent by the scan and by page migrations: the initiator's "
                    "wait (x86: base + per target CPU running the mm; arm64: a broadcast)",
     True),
    ("lock_wait_s", "waiting for contended locks in NUMA balancing's paths: the VMA lock and "
                    "the page-table lock of hinting faults, the LRU lock of migrations, the "
                    "numa_group lock of task_numa_placement", True),
    ("task_move_s", "NUMA task moves and swaps (migration stop-work, cold caches)", True),
    ("first_touch_s", "first-touch faults (allocation, zeroing, and their lock waits): not "
                      "NUMA balancing's", False),
    ("clone_s", "creating threads: not NUMA balancing's", False),
    ("reclaim_s", "direct reclaim demoting pages to make room for an allocation: not NUMA "
                  "balancing's", False),
)
"""The ``times`` frame's breakdown of ``system_s``, in the simulator's charge order: (column,
meaning, whether mmtests' "AutoNUMA cost" counts it). The columns add up to ``system_s``."""

STOLEN_S = Column("stolen_s", "s", "time TLB-flush IPIs took from the task on the CPUs they "
                  "interrupted (x86), run so far: not in system_s, not NUMA balancing's own "
                  "work but caused by it (the scan's and migrations' shootdowns)",
                  source="@stolen_s", agg="sum")
SYSTEM_TIME_COLUMNS = tuple(Column(name, "s", doc + " (run so far)", source=f"@{name}",
                                   agg="sum") for name, doc, _ in SYSTEM_TIME_SPECS)
AUTONUMA_COST_S = Column(
    "autonuma_cost_s", "s", "mmtests' \"AutoNUMA cost\": the system time NUMA balancing "
    "spent, the sum of " + ", ".join(n for n, _, nb in SYSTEM_TIME_SPECS if nb)
    + " (stolen_s apart)", source="@autonuma_cost_s", agg="sum")
TOUCHES = Column("touches", "accesses", "memory accesses made (the work done)",
                 source="tk.touches", agg="sum")

FRAMES: dict[str, Frame] = {f.name: f for f in (
    Frame("vmstat", "one row", "/proc/vmstat NUMA counters at the end of the run", VMSTAT),
    Frame("memory_stat", "one per cgroup",
          "memory.stat NUMA counters, each cgroup's own events (not its descendants'; "
          "Result.hierarchical adds them as the kernel's file does)", (CGROUP, *MEMCG)),
    Frame("sched", "one per task",
          "/proc/<pid>/sched NUMA fields as of the task's last tick alive (a finished "
          "task keeps the values it had when it exited). total_numa_faults, the per-node "
          "faults_* and numa_preferred_nid stay 0 / -1 until task_numa_placement first runs: "
          "that happens on the task's first hint fault after its mm completes a scan pass "
          "(task_numa_scan_seq < numa_scan_seq), so a run shorter than "
          "numa_balancing_scan_delay_ms plus one pass, or mode 0, shows them so", (
              *TASK_LABELS,
              Column("numa_scan_seq", "passes", "scan passes over the task's mm "
                     "(/proc/<pid>/sched mm->numa_scan_seq)", source="@mm_numa_scan_seq"),
              TASK_SCAN_SEQ, PAGES_MIGRATED, PREFERRED,
              Column("total_numa_faults", "faults", "decayed faults of the task's statistics "
                     "(/proc/<pid>/sched total_numa_faults)", source="tk.total_numa_faults"),
              CURRENT_NODE, GROUP_ID, TASK_MIGRATED, TASK_SWAPPED, SCAN_PERIOD,
              Column("numa_scans", "scans", "task_numa_work runs that scanned",
                     source="tk.numa_scans"),
              Column("nr_migrations", "moves", "CPU changes of the task, for any reason "
                     "(/proc/<pid>/sched se.nr_migrations)", source="tk.nr_migrations"),
              Column("nr_switches", "switches", "context switches (/proc/<pid>/sched "
                     "nr_switches)", source="@nr_switches"),
              Column("nr_voluntary_switches", "switches", "switches away because it slept or "
                     "waited (/proc/<pid>/sched nr_voluntary_switches)", source="tk.nvcsw"),
              Column("nr_involuntary_switches", "switches", "switches away while runnable "
                     "(/proc/<pid>/sched nr_involuntary_switches)", source="tk.nivcsw"),
              Column("faults_task_private", "faults", "the task's decayed private memory "
                     "faults on the node (numa_faults task_private)",
                     source="@faults_task_private", per_node=True),
              Column("faults_group_private", "faults", "its group's (numa_faults "
                     "group_private)", source="@faults_group_private", per_node=True),
              Column("faults_task_shared", "faults", "the task's decayed shared memory "
                     "faults (numa_faults task_shared)", source="@faults_task_shared",
                     per_node=True),
              Column("faults_group_shared", "faults", "its group's (numa_faults group_shared)",
                     source="@faults_group_shared", per_node=True),
          )),
    Frame("numa_stat", "one per (cgroup, node)",
          "memory.numa_stat: each cgroup's own pages per node", (
              CGROUP, NODE, Column("pages", "pages", "pages of the cgroup on the node",
                                   source="cnt_cg_node_pages"))),
    Frame("timeseries", "one per sample", "vmstat counters and per-node figures over time", (
        TIME, *VMSTAT,
        Column("free_pages", "pages", "free pages of the node", source="nd.free",
               per_node=True),
        Column("hot_threshold_ms", "ms", "the node's memory-tiering hot threshold "
               "(pgdat->nbp_threshold, or hot_threshold_ms until adjusted)",
               source="@hot_threshold_ms", per_node=True),
        Column("promo_window_candidates", "pages", "promotion candidates counted in the "
               "node's current rate-limit window", source="@promo_window_candidates",
               per_node=True),
        Column("pgpromote_success", "pages", "pages promoted to the node",
               source="cnt_node_vm[pgpromote_success]", per_node=True),
        Column("pgpromote_candidate", "pages", "promotion candidates for the node",
               source="cnt_node_vm[pgpromote_candidate]", per_node=True),
        Column("pgdemote_kswapd", "pages", "pages the node's kswapd demoted",
               source="cnt_node_vm[pgdemote_kswapd]", per_node=True),
    )),
    Frame("task_timeseries", "one per (sample, task)", "per-task state over time", (
        TIME, *TASK_LABELS,
        Column("alive", "", "the thread has not exited", source="@alive"),
        Column("cpu", "cpu", "CPU the task is on", source="tk.cpu"),
        CURRENT_NODE, PREFERRED, SCAN_PERIOD, TASK_SCAN_SEQ,
        Column("locality", "share", "share of the task's accesses that hit its node "
               "(simulator's own)", source="@locality"),
        TOUCHES, USER_S, SYSTEM_S, PAGES_MIGRATED, TASK_MIGRATED, TASK_SWAPPED, GROUP_ID,
        Column("numa_scans", "scans", "task_numa_work runs of the task that scanned so far",
               source="tk.numa_scans"),
        Column("access_share", "share", "share of the task's accesses that land on the node "
               "(simulator's own)", source="tk_share", per_node=True),
    )),
    Frame("cgroup_timeseries", "one per (sample, cgroup, node)", "pages per cgroup and node "
          "over time (each cgroup's own)", (
              TIME, CGROUP, NODE, Column("pages", "pages", "pages of the cgroup on the node",
                                         source="cnt_cg_node_pages"))),
    Frame("events", "one per event", "trace events (sched_move_numa, sched_swap_numa, "
          "sched_stick_numa, sched_skip_vma_numa, sched_migrate_task, sched_wakeup_new, "
          "start, phase, exit, as_posted_missing_node)", (
              Column("time_s", "s", "simulated time of the event", source="@event_time_s"),
              Column("event", "", "tracepoint name", source="@event_name"),
              Column("task", "", "process/thread of the event's task", source="@event_task"),
              Column("pid", "", "pid of the event's task", source="@event_pid"),
              Column("src_cpu", "cpu", "CPU the task left, -1 where not a move",
                     source="@event_src_cpu"),
              Column("dst_cpu", "cpu", "CPU the task went to, -1 where not a move",
                     source="@event_dst_cpu"),
              Column("partner", "", "process/thread swapped with (sched_swap_numa)",
                     source="@event_partner"),
              Column("vma", "", "process:vma skipped (sched_skip_vma_numa)",
                     source="@event_vma"),
              Column("reason", "", "why the VMA was skipped (numa_vmaskip_reason), or why "
                     "the task changed CPU (sched_migrate_task: load_balance, newidle, "
                     "active_balance, wakeup, numa_move, numa_swap, affinity), or fork "
                     "(sched_wakeup_new: a new task placed; src_cpu is its creator's CPU, "
                     "-1 for a process's first thread)",
                     source="@event_reason"),
              Column("level", "", "sched-domain level of a balancer's move (MC, NODE, "
                     "NUMA-<distance>)", source="@event_level"),
          )),
    Frame("times", "one per task, one per cgroup and a total (level)",
          "user, system and elapsed seconds as mmtests reports them, work and throughput", (
              Column("level", "", "task, cgroup or total"), *TASK_LABELS,
              USER_S, SYSTEM_S, *SYSTEM_TIME_COLUMNS, STOLEN_S, AUTONUMA_COST_S,
              Column("elapsed_s", "s", "until the task finished (or the run stopped)",
                     source="@elapsed_s", agg="max"),
              TOUCHES,
              Column("finished", "", "every thread of the row finished its work",
                     source="@finished", agg="all"),
              Column("throughput_per_s", "accesses/s", "touches / elapsed_s"),
          )),
)}
"""Every frame of a :class:`numaexp.Result`, in order."""

# ---- figures derived from the frames above (computed in numaexp.summary, not read from a run)
_TT = "sum over the cgroup's threads of task_timeseries."
CGROUP_COUNTERS = Frame(
    "cgroup_counters", "one per (sample, cgroup)",
    "per-cgroup NUMA balancing activity over time (Result.cgroup_counters(); each cgroup's "
    "own threads)", (
        TIME, CGROUP,
        Column("numa_scans", "scans", _TT + "numa_scans"),
        Column("numa_pages_migrated", "pages", _TT + "numa_pages_migrated"),
        Column("numa_task_migrated", "moves", _TT + "numa_task_migrated"),
        Column("numa_task_swapped", "swaps", _TT + "numa_task_swapped"),
        Column("touches", "accesses", _TT + "touches"),
        Column("system_s", "s", _TT + "system_s"),
        Column("throughput_per_s", "accesses/s", "touches of the interval ending at the sample "
               "per simulated second"),
        Column("locality", "share", "share of the interval's accesses that hit the accessing "
               "thread's node (task_timeseries.locality weighted by touches)"),
    ))
"""Per-cgroup counters over time, derived from ``task_timeseries`` (the simulator samples
``memory.stat`` only at the end; the cgroup's hinting faults and PTE updates over time would
need it sampled)."""

_VMSTAT_UNITS_DOCS = {name: (unit, doc) for name, unit, doc in VMSTAT_SPECS}


def _counter(name: str) -> Column:
    """A summary column read from the counters (vmstat or memory.stat), as vmstat declares it."""
    unit, doc = _VMSTAT_UNITS_DOCS[name]
    return Column(name, unit, doc, source="counters")


def _times(name: str) -> Column:
    """A summary column read from the ``times`` frame, as that frame declares it."""
    col = FRAMES["times"].column(name)
    return Column(name, col.unit, col.doc, source=f"times.{name}")


SUMMARY = Frame(
    "summary", "one per run; with by='cgroup' one per (run, cgroup)",
    "headline figures of a run (numaexp.summary): times from the times frame (total or "
    "cgroup row), counters from vmstat (a run) or memory_stat (a cgroup)", (
        Column("finished", "", "the run ended as planned: every thread finished its work "
                                "(stop.kind work, or duration when the work ends first) or "
                                "the whole duration ran (duration); False when an interrupt "
                                "or stop.max_duration_s cut it off"),
        Column("sim_s", "s", "simulated seconds the run lasted"),
        *(_times(name) for name in ("elapsed_s", "user_s", "system_s", "autonuma_cost_s",
                                    "stolen_s", "throughput_per_s")),
        Column("speedup", "x", "throughput relative to the baseline run's (same cgroup with "
                               "by='cgroup'): 1.21 is 21 % faster"),
        *(_counter(name) for name in ("numa_pte_updates", "numa_hint_faults")),
        Column("hint_local_pct", "%", "share of hinting faults that were local (runs only: "
                                      "memory.stat has no local count)"),
        *(_counter(name) for name in ("numa_pages_migrated", "pgpromote_success",
                                      "pgdemote_kswapd", "numa_task_migrated",
                                      "numa_task_swapped")),
        Column("local_access_pct", "%", "share of all accesses that hit the accessing "
                                        "thread's node, weighted by work"),
    ))
"""The summary's columns: ``source`` names the frame each is read from (``counters``:
vmstat for a run, memory_stat for a cgroup; empty: computed)."""

FRAME_NAMES = tuple(FRAMES)
"""Frames every result carries."""


@dataclass(frozen=True)
class Labels:
    """Names that label a run's rows, in the order of its arrays.

    Attributes
    ----------
    cgroups : tuple of str
        Cgroup paths.
    tasks : tuple of (process, thread, pid, cgroup)
        One entry per thread.
    node_names : tuple of str
        ``N0``, ``N1``, ...
    """

    cgroups: tuple[str, ...]
    tasks: tuple[tuple[str, str, int, str], ...]
    node_names: tuple[str, ...]

