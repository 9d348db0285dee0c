"""Integer codes shared by the kernels: flags, counters, event kinds, reasons.

Names follow the kernel where it has one (``TNF_*``, ``MPOL_*``,
``NUMAB_SKIP_*``, vm event items).
"""

from __future__ import annotations

NUMA_NO_NODE = -1

# kernel.numa_balancing bits
NUMA_BALANCING_NORMAL = 0x1
NUMA_BALANCING_MEMORY_TIERING = 0x2
NUMA_BALANCING_CGROUP = 0x4

# page flags (uint8)
PG_PRESENT = 0x1  # a PTE maps the page (allocated)
PG_PROTNONE = 0x2  # PTE made PROT_NONE by change_prot_numa: the next access faults
PG_QUEUED = 0x4  # the page sits in a pending-fault list
PG_DIRTY_FILE = 0x8  # dirty page-cache page (file-backed VMA written to)
PG_CLEAR_QUEUED = 0xFF & ~PG_QUEUED  # masks that clear one flag of a uint8
PG_CLEAR_PROTNONE = 0xFF & ~PG_PROTNONE

# last_cpupid: ((cpu & LAST__CPU_MASK) << LAST__PID_SHIFT) | (pid & LAST__PID_MASK)
LAST__PID_SHIFT = 8
LAST__PID_MASK = 0xFF
LAST__CPU_SHIFT = 13  # NR_CPUS 8192 on Debian amd64
LAST__CPU_MASK = (1 << LAST__CPU_SHIFT) - 1
LAST_CPUPID_MASK = (1 << (LAST__PID_SHIFT + LAST__CPU_SHIFT)) - 1  # 21 bits
CPUPID_UNSET = LAST_CPUPID_MASK  # "-1 & LAST_CPUPID_MASK"

# task_numa_fault flags
TNF_MIGRATED = 0x01
TNF_NO_GROUP = 0x02
TNF_SHARED = 0x04
TNF_FAULT_LOCAL = 0x08
TNF_MIGRATE_FAIL = 0x10

# numa_faults[] layout: NR_NUMA_HINT_FAULT_TYPES (2) x nodes x stats
NUMA_MEM, NUMA_CPU, NUMA_MEMBUF, NUMA_CPUBUF = 0, 1, 2, 3

# memory policy modes and flags
MPOL_DEFAULT = 0
MPOL_PREFERRED = 1
MPOL_BIND = 2
MPOL_INTERLEAVE = 3
MPOL_LOCAL = 4
MPOL_PREFERRED_MANY = 5
MPOL_WEIGHTED_INTERLEAVE = 6
MPOL_NONE = -1  # no VMA policy: fall back to the task's
MPOL_F_MOF = 0x1  # "migrate on fault": NUMA balancing may act on the policy
MPOL_F_MORON = 0x2  # migrate towards the referencing CPU's node
MPOL_F_MOFT = 0x4  # RFC patch 3: task placement on fault, but no page migration
NUMA_TASK_MIG_AS_POSTED = 1  # RFC patch 3's NUMA_TASK_MIG: also the id of node 1
NUMA_TASK_MIG_FIXED = -2  # a value no node id can take

# where the RFC's tg_numa_balance_enabled gate sits (besides task_numa_fault)
GATE_NONE = 0  # mainline: no per-cgroup control
GATE_TICK = 1  # rfc-v1: task_tick_numa
GATE_WORK = 2  # rfc-v2 (and hierarchical): task_numa_work
GATE_FAULT = 3  # task_numa_fault: gated by every RFC variant
POLICY_CODES = {
    "default": MPOL_DEFAULT,
    "preferred": MPOL_PREFERRED,
    "bind": MPOL_BIND,
    "interleave": MPOL_INTERLEAVE,
    "local": MPOL_LOCAL,
    "preferred_many": MPOL_PREFERRED_MANY,
    "weighted_interleave": MPOL_WEIGHTED_INTERLEAVE,
}

# VMA flags (uint32)
VM_WRITE = 0x1
VM_SHARED = 0x2
VM_EXEC = 0x4
VM_FILE = 0x8  # has vm_file (file-backed or shmem)
VM_FILE_LRU = 0x10  # page cache of a regular file (not shmem)
VM_THP = 0x20  # PMD-mapped huge pages

# access pattern kinds
PAT_UNIFORM, PAT_HOTSET, PAT_ZIPF, PAT_GAUSSIAN, PAT_SWEEP = 0, 1, 2, 3, 4
PATTERN_CODES = {"uniform": PAT_UNIFORM, "hotset": PAT_HOTSET, "zipf": PAT_ZIPF,
                 "gaussian": PAT_GAUSSIAN, "sweep": PAT_SWEEP}

# sched_skip_vma_numa reasons (include/trace/events/sched.h numa_vmaskip_reason)
NUMAB_SKIP_UNSUITABLE = 0
NUMAB_SKIP_SHARED_RO = 1
NUMAB_SKIP_INACCESSIBLE = 2
NUMAB_SKIP_SCAN_DELAY = 3
NUMAB_SKIP_PID_INACTIVE = 4
NUMAB_SKIP_IGNORE_PID = 5
NUMAB_SKIP_SEQ_COMPLETED = 6
SKIP_REASONS = ("UNSUITABLE", "SHARED_RO", "INACCESSIBLE", "SCAN_DELAY", "PID_INACTIVE",
                "IGNORE_PID", "SEQ_COMPLETED")

# event kinds (the events table)
EV_MOVE_NUMA = 0  # sched_move_numa: a task moved to an idle CPU (migrate_task_to)
EV_SWAP_NUMA = 1  # sched_swap_numa: two tasks swapped (migrate_swap)
EV_STICK_NUMA = 2  # sched_stick_numa: no better CPU found
EV_SKIP_VMA = 3  # sched_skip_vma_numa
EV_LB_MOVE = 4  # the regular load balancer moved a task
EV_PHASE = 5  # a thread entered a new phase
EV_EXIT = 6  # a thread finished its work
EVENT_FIELDS = ("time", "kind", "task", "a", "b", "c", "d")
EVENT_NAMES = ("sched_move_numa", "sched_swap_numa", "sched_stick_numa", "sched_skip_vma_numa",
               "load_balance", "phase", "exit")

# system-wide counters (/proc/vmstat names), index into Counters.vm
VM_NAMES = (
    "numa_pte_updates",
    "numa_huge_pte_updates",
    "numa_hint_faults",
    "numa_hint_faults_local",
    "numa_pages_migrated",
    "pgmigrate_success",
    "pgmigrate_fail",
    "numa_task_migrated",
    "numa_task_swapped",
    "thp_migration_success",
    "thp_migration_fail",
    "pgpromote_success",
    "pgpromote_candidate",
    "pgdemote_kswapd",
    "pgdemote_direct",
    "pgfault_first_touch",
    "alloc_fallback",
    "alloc_failed",  # simulator's own: first touches that found no allowed node with room
)
(NUMA_PTE_UPDATES, NUMA_HUGE_PTE_UPDATES, NUMA_HINT_FAULTS, NUMA_HINT_FAULTS_LOCAL,
 NUMA_PAGES_MIGRATED, PGMIGRATE_SUCCESS, PGMIGRATE_FAIL, NUMA_TASK_MIGRATED, NUMA_TASK_SWAPPED,
 THP_MIGRATION_SUCCESS, THP_MIGRATION_FAIL, PGPROMOTE_SUCCESS, PGPROMOTE_CANDIDATE,
 PGDEMOTE_KSWAPD, PGDEMOTE_DIRECT, PGFAULT_FIRST_TOUCH, ALLOC_FALLBACK,
 ALLOC_FAILED) = range(len(VM_NAMES))
NR_VM = len(VM_NAMES)

# per-cgroup counters (memory.stat names), index into Counters.memcg
MEMCG_NAMES = (
    "numa_pages_migrated",
    "numa_pte_updates",
    "numa_hint_faults",
    "pgpromote_success",
    "pgdemote_kswapd",
    "pgdemote_direct",
    "numa_task_migrated",
    "numa_task_swapped",
)
(MC_NUMA_PAGES_MIGRATED, MC_NUMA_PTE_UPDATES, MC_NUMA_HINT_FAULTS, MC_PGPROMOTE_SUCCESS,
 MC_PGDEMOTE_KSWAPD, MC_PGDEMOTE_DIRECT, MC_NUMA_TASK_MIGRATED,
 MC_NUMA_TASK_SWAPPED) = range(len(MEMCG_NAMES))
NR_MEMCG = len(MEMCG_NAMES)

# numa_classify
NODE_HAS_SPARE, NODE_FULLY_BUSY, NODE_OVERLOADED = 0, 1, 2

# task_numa_compare outcomes
CMP_SKIP, CMP_MOVE, CMP_SWAP = 0, 1, 2

# status codes returned by the engine to Python
RUN_OK = 0  # reached the requested time
RUN_DONE = 1  # every thread finished
RUN_EVENTS_FULL = 2  # the events buffer is full: flush and resume
RUN_SEGMENTS_FULL = 3  # the segment index needs more room: grow and resume

# random stream purposes (counter-based draws)
RNG_FAULT_TIME = 1
RNG_THIN = 2
RNG_ACCESSOR = 3
RNG_ORDER = 4
RNG_ZIPF_PERM = 5
RNG_REHOME = 6
RNG_WRITE = 7
RNG_REFERENCED = 8
RNG_DEMOTE_TARGET = 9

SWAP_CLUSTER_MAX = 32  # pages reclaimed per direct-reclaim batch

SCHED_CAPACITY_SCALE = 1024
LOAD_AVG_MAX = 47742
SMALLIMP = 30
NUMA_IMBALANCE_MIN = 2
ACTIVE_NODE_FRACTION = 3
NUMA_PERIOD_SLOTS = 10
NUMA_PERIOD_THRESHOLD = 7
MAX_SCAN_WINDOW = 2560
HPAGE_PMD_NR = 512
PAGE_SIZE = 4096
CACHE_LINE = 64
CACHE_NICE_TRIES = 2

# slots of State.clk
CLK_TICK = 0  # jiffies of the tick being simulated
CLK_PENDING = 1  # the stream index must be rebuilt
CLK_ALIVE = 2  # tasks still alive
CLK_POOL_TOP = 3  # first free slot of State.ls_pool (lists.py: segments)
CLK_POOL_SEGS = 4  # lists that hold a segment of State.ls_pool
CLK_SPEEDS_FRESH = 5  # 1 while no mass row changed since perf.compute_speeds last ran
NR_CLK = 6

GUIDE_CELLS = 4
"""Cells of a random row's guide table per stream of the row (engine.build_row_guide)."""

PENDING_SHIFT = 12
"""Pages per counted chunk of ``State.pg_pending`` (log2): 4096 pages."""
