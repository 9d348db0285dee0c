"""The simulator's own encodings: page flag bits, pattern and event kinds, run status,
random-stream salts, clock slots.

Kernel names and constants are in :mod:`numaexp.sim.kernel.constants`.
"""

from __future__ import annotations

from numaexp.readout import SYSTEM_TIME_SPECS
from numaexp.sim.kernel.constants import (
    MPOL_BIND,
    MPOL_DEFAULT,
    MPOL_INTERLEAVE,
    MPOL_LOCAL,
    MPOL_PREFERRED,
    MPOL_PREFERRED_MANY,
    MPOL_WEIGHTED_INTERLEAVE,
)

# page flags (uint8)
PG_PRESENT = 0x1  # a PTE maps the page (allocated)
PG_PROTNONE = 0x2  # PTE made PROT_NONE by change_prot_numa: the next access faults
PG_QUEUED = 0x4  # the page sits in a pending-fault list
PG_DIRTY_FILE = 0x8  # dirty page-cache page (file-backed VMA written to)
PG_CLEAR_QUEUED = 0xFF & ~PG_QUEUED  # masks that clear one flag of a uint8
PG_CLEAR_PROTNONE = 0xFF & ~PG_PROTNONE

POLICY_CODES = {
    "default": MPOL_DEFAULT,
    "preferred": MPOL_PREFERRED,
    "bind": MPOL_BIND,
    "interleave": MPOL_INTERLEAVE,
    "local": MPOL_LOCAL,
    "preferred_many": MPOL_PREFERRED_MANY,
    "weighted_interleave": MPOL_WEIGHTED_INTERLEAVE,
}
"""Memory policy mode of each model name."""

# access pattern kinds
PAT_UNIFORM, PAT_HOTSET, PAT_ZIPF, PAT_GAUSSIAN, PAT_SWEEP = 0, 1, 2, 3, 4
PATTERN_CODES = {"uniform": PAT_UNIFORM, "hotset": PAT_HOTSET, "zipf": PAT_ZIPF,
                 "gaussian": PAT_GAUSSIAN, "sweep": PAT_SWEEP}

# event kinds (the events table)
EV_MOVE_NUMA = 0  # sched_move_numa: a task moved to an idle CPU (migrate_task_to)
EV_SWAP_NUMA = 1  # sched_swap_numa: two tasks swapped (migrate_swap)
EV_STICK_NUMA = 2  # sched_stick_numa: no better CPU found
EV_SKIP_VMA = 3  # sched_skip_vma_numa
EV_PHASE = 4  # a thread entered a new phase
EV_EXIT = 5  # a thread finished its work
EV_MISSING_NODE = 6  # as posted, a THP fault's target NUMA_TASK_MIG is a node that does not exist
EV_MIGRATE = 7  # sched_migrate_task: set_task_cpu moved it (a, b: CPUs; c MOVE_*; d level)
EV_WAKEUP_NEW = 8  # sched_wakeup_new: a new task placed (a parent's CPU or -1, b its CPU)
EV_START = 9  # a thread was created and started its first phase
EVENT_FIELDS = ("time", "kind", "task", "a", "b", "c", "d")
EVENT_NAMES = ("sched_move_numa", "sched_swap_numa", "sched_stick_numa", "sched_skip_vma_numa",
               "phase", "exit", "as_posted_missing_node", "sched_migrate_task",
               "sched_wakeup_new", "start")

# why a task changed CPU (EV_MIGRATE's c)
MOVE_LB, MOVE_NEWIDLE, MOVE_ACTIVE, MOVE_WAKEUP, MOVE_NUMA, MOVE_SWAP, MOVE_AFFINITY = range(7)
MOVE_REASONS = ("load_balance", "newidle", "active_balance", "wakeup", "numa_move", "numa_swap",
                "affinity")
"""Names of the MOVE_* reasons (the events frame's ``reason``); fork placement is the
``sched_wakeup_new`` event."""

# task kinds (TASK_DTYPE.kind)
TK_WORKER = 0  # a thread of the workload
TK_MAIN_SLEEPER = 1  # the main thread of a main_thread = "sleeps" process: creates, then sleeps
TK_KTHREAD = 2  # a per-CPU kernel thread of the background (bound to its CPU, no mm)
TK_DAEMON = 3  # a background process's thread (no mm modelled)
# task states (TASK_DTYPE.state)
TS_NEW = 0  # not created yet
TS_RUNNABLE = 1  # on its CPU's runqueue
TS_SLEEPING = 2  # sleeping until wake_ns
TS_WAITING = 3  # blocked until another task wakes it (barrier, join)
TS_DEAD = 4  # exited
# PHASE_DTYPE.barrier: where a phase's threads wait for each other
BARRIER_NONE, BARRIER_PASS, BARRIER_PHASE = 0, 1, 2

# kernel-time accounts of a task (State.tk_sys columns): one per readout.SYSTEM_TIME_SPECS
# entry, in its order, then the time stolen by flush IPIs (not system time)
SYS_NAMES = tuple(name for name, _, _ in SYSTEM_TIME_SPECS)
(SYS_HINT_FAULT, SYS_MIGRATE, SYS_MIGRATE_COPY, SYS_SCAN, SYS_SHOOTDOWN, SYS_LOCK_WAIT,
 SYS_TASK_MOVE, SYS_FIRST_TOUCH, SYS_CLONE, SYS_RECLAIM) = (SYS_NAMES.index(name) for name in (
    "hint_fault_s", "migrate_s", "migrate_copy_s", "scan_s", "shootdown_s", "lock_wait_s",
    "task_move_s", "first_touch_s", "clone_s", "reclaim_s"))
SYS_STOLEN = len(SYS_NAMES)
NR_SYS = SYS_STOLEN + 1

# status codes returned by the engine to Python
RUN_OK = 0  # reached the requested time
RUN_DONE = 1  # every thread finished
RUN_EVENTS_FULL = 2  # the events buffer is full: flush and resume
RUN_SEGMENTS_FULL = 3  # the segment index needs more room: grow and resume
RUN_POLICY_ERROR = 4  # a policy returned a value it may not (clk[CLK_POLICY_*])

# random streams (counter-based draws): the purpose salt of each
RNG_FAULT_TIME = 1
RNG_THIN = 2
RNG_ACCESSOR = 3
RNG_ORDER = 4
RNG_ZIPF_PERM = 5
RNG_REHOME = 6
RNG_WRITE = 7
RNG_REFERENCED = 8
RNG_DEMOTE_TARGET = 9
RNG_SLEEP = 10  # sleep lengths and background wake-ups
RNG_NEWIDLE = 11  # sched_balance_newidle's NI_RANDOM dice
RNG_STREAM_IN_ROW = RNG_ACCESSOR + 16  # the accessing stream within its mass row

# calls of events.schedule_page: which draw of a page's next access this is
SCHED_MARKED = 0  # change_prot_numa marked the page
SCHED_REDRAW = 2  # thinned (not an access), or no accessor runs: draw the next candidate
SCHED_FAR_REDRAW = 3  # the calendar's far list, redrawn every half turn
SCHED_ROW_FAR_REDRAW = 4  # a mass row's far list, redrawn every half turn of its ring
SCHED_ROW_REBASE = 5  # a mass row's queued pages, redrawn when its clock restarts at 0

# slots of State.clk
CLK_TICK = 0  # jiffies of the tick being simulated
CLK_PENDING = 1  # the stream index must be rebuilt
CLK_ALIVE = 2  # tasks still alive
CLK_POOL_TOP = 3  # first free slot of State.ls_pool (lists.py: segments)
CLK_POOL_SEGS = 4  # lists that hold a segment of State.ls_pool
CLK_SPEEDS_FRESH = 5  # 1 while no mass row changed since perf.compute_speeds last ran
CLK_POLICY_ERROR = 6  # 1 + the slot of a policy that returned a value it may not, 0 none
CLK_POLICY_VALUE = 7  # that value
CLK_POLICY_TICK = 8  # the tick it happened in
CLK_RD_OVERLOADED = 9  # rd->overloaded: some CPU had more than one task (set_rd_overloaded)
CLK_WORKERS_ALIVE = 10  # workload threads not yet finished (created or not)
NR_CLK = 11

GUIDE_CELLS = 4
"""Cells of a random row's guide table per stream of the row (tick.build_row_guide)."""

PENDING_SHIFT = 12
"""Pages per counted chunk of ``State.pg_pending`` (log2): 4096 pages."""

CACHE_LINE = 64
"""Bytes a random access moves (perf.compute_speeds)."""
