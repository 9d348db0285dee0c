"""The simulator's record types: one structured dtype per kind of entity.

Fields are named after the kernel's (``numa_scan_seq``, ``numa_preferred_nid``,
``last_cpupid``, ...); widths are compact where an entity is numerous (a page
is 17 bytes, ``PAGE_DTYPE``). :mod:`numaexp.sim.engine.state` puts arrays of
these records behind one reference for the kernels.
"""

from __future__ import annotations

import numpy as np

i8, i16, i32, i64, u8, u64, f64 = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64,
                                   np.float64)

PAGE_DTYPE = np.dtype([
    ("node", i16),  # NUMA_NO_NODE while not present
    ("pflags", u8),  # PG_*
    ("last_cpupid", i32),  # LAST_CPUPID_MASK bits, or an access time (ms) in tiering
    ("next", i32),  # pending-fault list link
    ("prev", i32),  # previous page, or -(list id + 1) at the head
    ("memcg", i16),  # cgroup charged, -1 while not present
], align=False)
"""One 4 KiB page of a memory object (packed, 17 bytes)."""

BYTES_PER_PAGE = PAGE_DTYPE.itemsize
POOL_BYTES_PER_PAGE = 4  # int32 slot of ls_pool, for pages that random patterns cover

OBJECT_DTYPE = np.dtype([
    ("first", i64),  # first page (objects' pages are contiguous)
    ("vm_flags", i64),  # VM_FILE, VM_FILE_LRU, VM_THP of the backing
    ("mapcount", i64),  # mms mapping it
    ("first_touch", i64),  # node for pre-population, or -1
    ("vma", i64),  # the VMA mapping it when mapcount is 1 (fault.vma_of), else -1
])
"""A memory object: an anonymous VMA, or a segment shared by several VMAs."""

VMA_DTYPE = np.dtype([
    ("mm", i64),
    ("obj", i64),
    ("start", i64),  # first virtual page
    ("npages", i64),
    ("vm_flags", i64),  # VM_*
    ("pol_mode", i64),  # MPOL_* or MPOL_NONE
    ("pol_nodes", i64),  # node bitmask
    ("pol_flags", i64),  # MPOL_F_*
    ("has_state", i64),  # numab_state allocated
    ("start_scan_seq", i64),
    ("next_scan", i64),  # jiffies
    ("pids_active_reset", i64),  # jiffies
    ("pids_active", u64, (2,)),
    ("prev_scan_seq", i64),
    ("faults_cur", i64),  # faults taken in it this tick (locks: arrivals at its VMA lock)
    ("faults_prev", i64),  # ... in the previous tick
])
"""A VMA; an mm's VMAs are contiguous and sorted by address."""

MM_DTYPE = np.dtype([
    ("users", i64),  # mm_users
    ("nr_threads", i64),  # live threads (get_nr_threads)
    ("numa_next_scan", i64),  # jiffies
    ("numa_scan_offset", i64),  # virtual page
    ("numa_scan_seq", i64),
    ("vma_first", i64),
    ("vma_count", i64),
    ("cgroup", i64),  # memcg of mm->owner
    ("rss", i64),  # get_mm_rss, pages
    ("barrier_members", i64),  # threads in a phase with a barrier
    ("barrier_waiting", i64),  # of which waiting at it
    ("nr_running_cpus", i64),  # CPUs whose running task uses it (x86 mm_cpumask, non-lazy)
    ("ipi_ns", f64),  # ns of flush IPIs each running CPU of it has taken, since the start
])
"""An address space (one per process)."""

TASK_DTYPE = np.dtype([
    ("pid", i64),
    ("mm", i64),  # -1: no mm (a kernel thread or a background task without memory)
    ("cgroup", i64),
    ("cpu", i64),
    ("alive", i64),  # 1 from its creation until it exits
    ("kind", i64),  # TK_* (engine.codes): a workload thread, a sleeping main thread, background
    ("state", i64),  # TS_* (engine.codes): new, runnable, sleeping, waiting, dead
    ("on_rq", i64),  # queued on its CPU's runqueue
    ("rq_next", i64),  # rq->cfs_tasks list (most recently run first), -1 at the end
    ("rq_prev", i64),
    ("wake_ns", i64),  # a sleeping task wakes then
    ("avail_ns", i64),  # it may run from this time of the tick (woken or created within it)
    ("creator", i64),  # the thread that clones it, -1: forked by the launcher
    ("create_phase", i64),  # phase row of the creator after which it is created, -1: none
    ("create_ns", i64),  # creation time once known, -1 before
    ("create_delay", i64),  # ns from its creation point to its creation
    ("burst_ns", i64),  # CPU time until it next sleeps (duty cycle), -1: none
    ("exec_start", i64),  # ns: when it last started or stopped running (task_hot)
    ("ran_ns", i64),  # CPU time this tick
    ("slot_done", i64),  # it had its turn on a CPU this tick
    ("util_avg", f64),  # PELT utilization (running), 0..1024
    ("load_avg", f64),  # PELT load = runnable average of a nice-0 task, 0..1024
    ("nr_migrations", i64),  # se.nr_migrations
    ("nvcsw", i64),  # voluntary context switches
    ("nivcsw", i64),  # involuntary context switches
    ("wakee_flips", i64),
    ("wakee_flip_decay_ts", i64),  # jiffies
    ("last_wakee", i64),
    ("recent_used_cpu", i64),
    ("barrier_seq", i64),  # barrier rounds passed
    ("barrier_wait", i64),  # lifecycle.BARRIER_* it waits at, 0: none
    ("pol_mode", i64),  # task mempolicy
    ("pol_nodes", i64),
    ("pol_flags", i64),
    ("mems", i64),  # node mask of cpuset.mems
    ("vruntime", i64),  # ns
    ("sum_exec_runtime", i64),  # ns
    ("utime", i64),  # ns
    ("stime", i64),  # ns
    ("debt", i64),  # ns of kernel time charged but not yet run
    ("start_ns", i64),
    ("finish_ns", i64),  # end of the last finished phase, -1 before
    ("node_stamp", i64),  # ns of runtime
    ("numa_scan_period", i64),  # ms
    ("numa_scan_period_max", i64),  # ms
    ("numa_scan_seq", i64),
    ("numa_migrate_retry", i64),  # jiffies
    ("numa_preferred_nid", i64),
    ("has_faults", i64),  # numa_faults allocated
    ("total_numa_faults", i64),
    ("numa_faults_locality", i64, (3,)),  # remote, local, failed migrations
    ("numa_pages_migrated", i64),
    ("last_task_numa_placement", i64),  # ns
    ("last_sum_exec_runtime", i64),  # ns
    ("numa_group", i64),  # group slot or -1
    ("work_pending", i64),  # numa_work queued
    ("numa_task_migrated", i64),
    ("numa_task_swapped", i64),
    ("numa_scans", i64),  # task_numa_work runs that scanned
    ("phase", i64),  # current thread-phase row, -1 when done
    ("phase_last", i64),  # last thread-phase row of the task
    ("progress", f64),  # touches done in the phase
    ("sweep_pos", i64),  # int64(progress) % positions, in a sweep phase (events.sweep_position)
    ("target", f64),  # touches that end the phase (inf: none)
    ("phase_end_ns", i64),  # time that ends the phase (-1: none)
    ("phase_done", i64),  # the phase ended this tick
    ("touches", f64),  # touches done in all phases
    ("speed", f64),  # touches per ns of user time this tick
    ("rate", f64),  # touches per ns of wall time this tick
    ("max_rate", f64),  # upper bound of rate in the phase
    ("running", i64),  # ran this tick
    ("faults_cur", i64),  # faults it took this tick (locks: its own arrivals)
    ("faults_prev", i64),  # ... in the previous tick
    ("isolate_cur", i64),  # folios it isolated for migration this tick
    ("isolate_prev", i64),  # ... in the previous tick
    ("oncpu", i64),  # CPUs it is the running task of (cpu.curr; 2 during a swap)
    ("ipi_seen", f64),  # its mm's ipi_ns when its IPIs were last charged (sched.set_curr)
])
"""A thread. Its CPU mask, fault statistics and per-node shares are in
``tk_allowed``, ``tk_faults`` and ``tk_share``."""

GROUP_DTYPE = np.dtype([
    ("total_faults", i64),
    ("nr_tasks", i64),  # also the refcount
    ("active_nodes", i64),
    ("max_faults_cpu", i64),
    ("gid", i64),
    ("lock_cur", i64),  # acquisitions of its lock this tick (task_numa_placement)
    ("lock_prev", i64),  # ... in the previous tick
])
"""A NUMA group (slot = index of the creating task); faults in ``ng_faults``."""

NODE_DTYPE = np.dtype([
    ("cpus", i64),
    ("first_cpu", i64),
    ("present", i64),  # pages
    ("free", i64),  # pages
    ("wmark_min", i64),
    ("wmark_low", i64),
    ("wmark_high", i64),
    ("wmark_promo", i64),
    ("toptier", i64),
    ("promo_enough", i64),  # pgdat_free_space_enough margin above WMARK_PROMO, pages
    ("demote_pref", i64),  # node mask: demotion targets (next lower tier, nearest)
    ("demote_fallback", i64),  # node mask: every lower tier
    ("kswapd_hand", i64),  # next page kswapd's CLOCK hand examines
    ("kswapd_wake", i64),  # kswapd runs until the node is balanced
    ("kswapd_lap_start", i64),  # ns: the hand last wrapped around
    ("kswapd_lap_ns", i64),  # ns: duration of the hand's last full lap (age of its pages)
    ("bandwidth", f64),  # bytes per ns
    ("demand", f64),  # bytes per ns the tasks drew from it over the last tick (perf)
    ("isolate_cur", i64),  # folios isolated from its LRU this tick (locks: LRU lock arrivals)
    ("isolate_prev", i64),  # ... in the previous tick
])
"""A NUMA node. Distances, zonelists, latencies and links are 2-D arrays."""

CPU_DTYPE = np.dtype([
    ("node", i64),
    ("curr", i64),  # task running (at the tick, once the tick's work is done), or -1
    ("nr_running", i64),  # tasks on the runqueue (running or waiting)
    ("nr_numa_running", i64),  # of which with a preferred node
    ("nr_preferred_running", i64),  # of which on their preferred node
    ("numa_migrate_on", i64),
    ("min_vruntime", i64),
    ("rq_head", i64),  # cfs_tasks: first (most recently picked) task, -1 empty
    ("rq_tail", i64),
    ("clock", i64),  # ns into the tick up to which the CPU's time is handed out
    ("last", i64),  # task that ran last on it (context switches), -1: idle
    ("load_avg", f64),  # PELT sums of its tasks (cpu_load, cpu_util_cfs before capping)
    ("util_avg", f64),
    ("next_balance", i64),  # jiffies
    ("nr_switches", i64),
    ("idle_ns", i64),  # ns idle
    ("idle_stamp", i64),  # ns: when it last went idle, 0 while busy
    ("sd", i64),  # its lowest sched domain (rq->sd), -1: none
    ("sd_llc", i64),  # its LLC domain, -1: none
    ("sd_numa", i64),  # its lowest NUMA domain, -1: none
    ("llc_id", i64),  # sd_llc_id: first CPU of its LLC (itself without one)
    ("llc_size", i64),  # sd_llc_size
])
"""A CPU and its runqueue."""

SPAN_DTYPE = np.dtype([
    ("first", i64),  # its CPUs: span_cpus[first:first + count], sorted
    ("count", i64),
    ("nodes", i64),  # node mask of the nodes it touches
    ("whole_nodes", i64),  # 1 if it is a union of whole nodes
    ("nr_idle_scan", i64),  # sd_llc_shared->nr_idle_scan of the LLC with this span
])
"""A set of CPUs: the span of a sched domain or group."""

SD_DTYPE = np.dtype([
    ("cpu", i64),  # the CPU whose domain it is
    ("level", i64),  # topology level (build.domains: 0 MC, 1 NODE, 2.. NUMA)
    ("sd_flags", i64),  # SD_* (sd->flags)
    ("span", i64),
    ("group_first", i64),  # its groups: sd_groups[group_first:group_first + group_count]
    ("group_count", i64),
    ("span_weight", i64),
    ("min_interval", i64),  # ms
    ("max_interval", i64),  # ms
    ("busy_factor", i64),
    ("imbalance_pct", i64),
    ("cache_nice_tries", i64),
    ("imb_numa_nr", i64),
    ("balance_interval", i64),  # ms
    ("last_balance", i64),  # jiffies
    ("nr_balance_failed", i64),
    ("newidle_call", i64),
    ("newidle_success", i64),
    ("newidle_ratio", i64),
    ("distance", i64),  # NUMA levels: the SLIT distance they span
    ("parent", i64),  # -1 at the top
    ("child", i64),  # -1 at the bottom
])
"""A ``struct sched_domain`` of one CPU."""

SG_DTYPE = np.dtype([
    ("span", i64),
    ("weight", i64),  # group_weight
    ("cores", i64),
    ("capacity", i64),  # sgc->capacity
    ("imbalance", i64),  # sgc->imbalance
    ("balance_cpu", i64),  # group_balance_cpu
])
"""A sched group (with its ``sched_group_capacity``)."""

SG_LB_STATS_DTYPE = np.dtype([
    ("avg_load", i64),
    ("group_load", i64),
    ("group_capacity", i64),
    ("group_util", i64),
    ("group_runnable", i64),
    ("sum_nr_running", i64),
    ("sum_h_nr_running", i64),
    ("idle_cpus", i64),
    ("group_weight", i64),
    ("group_type", i64),
    ("group_misfit_task_load", i64),
    ("nr_numa_running", i64),
    ("nr_preferred_running", i64),
    ("cores", i64),
    ("group", i64),  # the group's row, -1: none
    ("grp_flags", i64),  # the group's flags (its child domain's)
])
"""``struct sg_lb_stats`` (plus the group it describes)."""

LB_ENV_DTYPE = np.dtype([
    ("sd", i64),
    ("src_cpu", i64),
    ("dst_cpu", i64),
    ("new_dst_cpu", i64),
    ("dst_group", i64),  # row of the local group (dst_grpmask)
    ("idle", i64),  # CPU_NOT_IDLE, CPU_IDLE, CPU_NEWLY_IDLE
    ("imbalance", i64),
    ("lbf", i64),  # env->flags: LBF_*
    ("loop", i64),
    ("loop_break", i64),
    ("loop_max", i64),
    ("fbq_type", i64),
    ("migration_type", i64),
    ("prefer_sibling", i64),  # sds->prefer_sibling
    ("total_load", i64),  # sds
    ("total_capacity", i64),
    ("avg_load", i64),
    ("now_ns", i64),
    ("reason", i64),  # MOVE_* of the moves it makes (engine.codes)
])
"""``struct lb_env`` with the scalars of ``struct sd_lb_stats``."""

STREAM_DTYPE = np.dtype([
    ("task", i64),
    ("obj", i64),
    ("first", i64),  # first page (object offset)
    ("n", i64),  # positions (pages touched per pass)
    ("stride", i64),
    ("kind", i64),  # PAT_*
    ("share", f64),  # share of the phase's touches
    ("p1", f64),  # kind parameters, see access.py
    ("p2", f64),
    ("p3", f64),
    ("p4", f64),
    ("region", i64),  # sweep region or -1
    ("mrow", i64),  # row of st_mass (shared by streams with identical regions and weights)
    ("writes", i64),  # the pattern writes
    ("active", i64),  # 0 off, 1 on, 2 activating, 3 deactivating
])
"""An access pattern of a thread phase; its per-node mass is ``st_mass[mrow]``."""

PHASE_DTYPE = np.dtype([
    ("task", i64),
    ("stream_first", i64),
    ("stream_count", i64),
    ("end_touches", f64),  # inf if none
    ("end_ns", f64),  # duration, inf if none
    ("think_ns", f64),
    ("mlp", f64),
    ("stream_bw", f64),  # bytes per ns
    ("sweep", i64),
    ("barrier", i64),  # lifecycle.BARRIER_*: none, after each pass, at the end
    ("run_ns", i64),  # duty cycle: CPU time between sleeps, -1: none
    ("sleep_ns", f64),  # the sleeps' length (mean)
    ("sleep_exp", i64),  # 1: exponential sleeps
])
"""A phase of a thread (a background task has one, without streams: CPU bursts only)."""

MASSROW_DTYPE = np.dtype([
    ("first", i64),  # its streams: mr_streams[first:first + count]
    ("count", i64),
    ("random", i64),  # 1 for random patterns, 0 for sweeps
    ("rate", f64),  # sum over its active streams of rate(task) * share, this tick
    ("rate_max", f64),  # the same with max_rate: the bound used to draw access times
    ("clock", f64),  # touches made by the row's streams since the start (its operational time)
    ("width", f64),  # clock span of one bucket of its ring: rate_max * TICK_NSEC
    ("pos", i64),  # next bucket of its ring to fire
    ("lists", i64),  # list id of its ring's first bucket; the far list follows the ring
    ("pick_scale", f64),  # guide cells per unit of draw, this tick (engine.build_row_guide)
])
"""Streams with the same region and weights share a mass row: its per-node mass
(``st_mass``) and, for random patterns, the sum of their access rates, so that
a page's access rate costs one weight per row, not one per thread. A random
row also has its own clock (touches made by its streams) and a ring of
pending-access buckets over that clock."""

REGION_DTYPE = np.dtype([
    ("obj", i64),
    ("first", i64),
    ("n", i64),
    ("stride", i64),
    ("bucket_first", i64),  # global sweep-bucket index
    ("nbuckets", i64),
])
"""A distinct sweep region; it owns a range of sweep buckets."""

EVENT_DTYPE = np.dtype([
    ("time", i64),  # ns
    ("kind", i64),  # EV_*
    ("task", i64),
    ("a", i64),
    ("b", i64),
    ("c", i64),
    ("d", i64),
])
"""A trace event (sched_move_numa, sched_swap_numa, ...)."""


TASK_NUMA_ENV_DTYPE = np.dtype([
    ("p", i64),  # the task being placed
    ("src_cpu", i64),
    ("src_nid", i64),
    ("dst_cpu", i64),
    ("dst_nid", i64),
    ("imb_numa_nr", i64),
    ("imbalance_pct", i64),
    ("dist", i64),
    ("best_task", i64),  # -1: none
    ("best_imp", i64),
    ("best_cpu", i64),  # -1: none
])
"""``struct task_numa_env`` of ``task_numa_migrate`` (its numa_stats are separate rows)."""

NUMA_STATS_DTYPE = np.dtype([
    ("load", i64),
    ("runnable", i64),
    ("util", i64),
    ("compute_capacity", i64),
    ("nr_running", i64),
    ("weight", i64),
    ("node_type", i64),  # NODE_HAS_SPARE, NODE_FULLY_BUSY, NODE_OVERLOADED
    ("idle_cpu", i64),  # -1: none
])
"""``struct numa_stats``: ``State.tmp_numa_stats`` holds ``src_stats`` and ``dst_stats``."""

NUMA_STATS_SLOTS = 2
"""Rows of ``State.tmp_numa_stats`` (source and destination node)."""
