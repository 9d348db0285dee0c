"""Simulator state: NumPy arrays, most of them structured, behind one reference.

Each kind of entity (pages, tasks, VMAs, ...) is one structured array whose
fields are named after the kernel's; numba reads ``s.tk.pid[t]`` as a field
view, exactly like a struct of arrays. Variable-width per-entity rows (CPU
masks, fault statistics) are separate 2-D arrays (``tk_allowed``,
``tk_faults``, ...). Python holds them in :class:`Arrays`; kernels receive a
:class:`State`, a numba StructRef pointing at the same arrays, which they
borrow: neither the struct nor its array views are reference counted
(:mod:`numaexp.sim.unowned`).

Per 4 KiB page the state costs ``BYTES_PER_PAGE`` = 17 bytes (see
``PAGE_DTYPE``), plus ``POOL_BYTES_PER_PAGE`` = 4 for each page of a memory
object that a random (non-sweep) pattern covers: its slot in ``ls_pool``
(:mod:`numaexp.sim.lists`, segments).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba.core import types
from numba.experimental import structref

from numaexp.sim.unowned import (  # noqa: F401 (unowned: generated constructor)
    BorrowedStructRef,
    UnownedArray,
    register_borrowed,
    unowned,
)

i8, i16, i32, i64, u8, u64, f64 = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64,
                                   np.float64)

PARAMS_DTYPE = np.dtype([
    ("mode", i64),  # kernel.numa_balancing
    ("hz", i64),
    ("tick_ns", i64),  # TICK_NSEC
    ("scan_delay_ms", i64),
    ("scan_period_min_ms", i64),
    ("scan_period_max_ms", i64),
    ("scan_size_mb", i64),
    ("hot_threshold_ms", i64),
    ("promote_rate_limit_pages", i64),  # per second and target node
    ("locality_reset_fix", i64),  # 6.12.117 update_task_scan_period
    ("nr_nodes", i64),
    ("nr_cpus", i64),
    ("nr_tasks", i64),
    ("nr_pages", i64),
    ("nr_cgroups", i64),
    ("topology_type", i64),  # sched_numa_topology_type
    ("max_distance", i64),  # sched_max_numa_distance
    ("imb_numa_nr", i64),  # sd->imb_numa_nr of the lowest NUMA domain
    ("has_numa_domain", i64),  # 0 on a machine with one CPU node
    ("imbalance_pct", i64),  # 100 + (sd->imbalance_pct - 100) / 2
    ("seed", i64),
    ("seed_key", u64),  # rng.seed_key(seed): the first round of every draw's hash
    ("hint_fault_ns", f64),
    ("migrate_folio_ns", f64),
    ("migrate_copy_ns", f64),
    ("pte_scan_ns", f64),
    ("pte_update_ns", f64),
    ("tlb_flush_ns", f64),
    ("task_move_ns", f64),
    ("first_touch_ns", f64),
    ("ring_size", i64),  # calendar ticks (power of two)
    ("far_list", i64),  # list id of events beyond the ring
    ("sweep_list_base", i64),  # list id of the first sweep bucket
    ("sweep_shift", i64),  # log2 of positions per sweep bucket
    ("row_list_base", i64),  # list id of the first mass-row ring (after the sweep buckets)
    ("row_ring", i64),  # buckets in each mass row's ring (power of two)
    ("balance_interval", i64),  # ticks between cross-node balancing
    ("min_latency_ns", f64),  # lowest local latency of the machine
    ("cgroup_gate", i64),  # GATE_*: where tg_numa_balance_enabled is checked
    ("stats_vmstat", i64),  # 1: numa_task_migrated/swapped reach /proc/vmstat (0 as posted)
    ("numa_task_mig", i64),  # value of NUMA_TASK_MIG (1 as posted, collides with node 1)
    ("demotion_enabled", i64),  # /sys/kernel/mm/numa/demotion_enabled
    ("kswapd_batch", i64),  # pages kswapd can demote per tick per node
])
"""Scalars of a run; the state holds one record of this type as ``p``."""

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
])
"""An address space (one per process)."""

TASK_DTYPE = np.dtype([
    ("pid", i64),
    ("mm", i64),
    ("cgroup", i64),
    ("cpu", i64),
    ("alive", i64),  # 0 once exited
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
    ("nr_balance_failed", i64),
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
])
"""A thread. Its CPU mask, fault statistics and per-node shares are in
``tk_allowed``, ``tk_faults`` and ``tk_share``."""

GROUP_DTYPE = np.dtype([
    ("total_faults", i64),
    ("nr_tasks", i64),  # also the refcount
    ("active_nodes", i64),
    ("max_faults_cpu", i64),
    ("gid", i64),
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
])
"""A NUMA node. Distances, zonelists, latencies and links are 2-D arrays."""

CPU_DTYPE = np.dtype([
    ("node", i64),
    ("curr", i64),  # task running this tick, or -1
    ("nr_running", i64),  # tasks on the runqueue (running or waiting)
    ("numa_migrate_on", i64),
    ("min_vruntime", i64),
])
"""A CPU and its runqueue."""

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
])
"""A phase of a thread."""

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


class Arrays(NamedTuple):
    """Every array of a run, as Python sees them (kernels get a :data:`State`)."""

    p: np.void  # PARAMS_DTYPE record
    pg: np.ndarray  # PAGE_DTYPE[P]
    pg_pending: np.ndarray  # int32[ceil(P / 4096)], pending pages per chunk (lists.pending_add)
    ob: np.ndarray  # OBJECT_DTYPE[O + 1] (the extra row ends the last object)
    vm: np.ndarray  # VMA_DTYPE[V]
    mm: np.ndarray  # MM_DTYPE[M]
    tk: np.ndarray  # TASK_DTYPE[T]
    tk_allowed: np.ndarray  # uint8[T, C], cpus_ptr
    tk_faults: np.ndarray  # int64[T, 8 N], numa_faults (MEM, CPU, MEMBUF, CPUBUF)
    tk_share: np.ndarray  # float64[T, N], share of the task's touches per node
    ng: np.ndarray  # GROUP_DTYPE[T]
    ng_faults: np.ndarray  # int64[T, 4 N], group faults (MEM, CPU)
    nd: np.ndarray  # NODE_DTYPE[N]
    nd_nbp: np.ndarray  # int64[N, NBP_FIELDS], promotion state (tiering.NBP_*)
    nd_distance: np.ndarray  # int64[N, N], SLIT
    nd_zonelist: np.ndarray  # int64[N, N], nodes with memory by distance, -1 padded
    nd_latency: np.ndarray  # float64[N, N], ns from CPU node to memory node
    nd_link_bw: np.ndarray  # float64[N, N], bytes per ns
    cpu: np.ndarray  # CPU_DTYPE[C]
    st: np.ndarray  # STREAM_DTYPE[S]
    st_mass: np.ndarray  # float64[R, N], weight of present positions per node, per mass row
    mr: np.ndarray  # MASSROW_DTYPE[R]
    mr_streams: np.ndarray  # int64[S], streams of each mass row
    ph: np.ndarray  # PHASE_DTYPE[F]
    rg: np.ndarray  # REGION_DTYPE[R]
    # index from a page to the active streams covering it (phases.build_segments)
    sg_obj_first: np.ndarray  # int64[O+1], segment rows of each object
    sg_start: np.ndarray  # int64[cap], first object page of the segment
    sg_list_first: np.ndarray  # int64[cap+1], CSR into sg_streams
    sg_streams: np.ndarray  # int64[cap2], active streams covering the segment
    sg_mrow_first: np.ndarray  # int64[cap+1], CSR into sg_mrows
    sg_mrows: np.ndarray  # int64[cap2], one stream per distinct mass row
    sg_region: np.ndarray  # int64[cap], the one sweep region covering it, -1 none, -2 several
    sg_random: np.ndarray  # int64[cap], distinct random (non-sweep) mass rows covering it
    sg_need: np.ndarray  # int64[2], room needed (segments, entries) when full
    # pending-fault lists
    ls_heads: np.ndarray  # int32[L]: calendar ring, far list, sweep buckets
    ls_sweep_bits: np.ndarray  # uint64, bitmap of non-empty sweep buckets
    ls_pool: np.ndarray  # int32[P], page ids of the lists' segments (-1: taken off)
    ls_seg: np.ndarray  # int64[3, L - sweep buckets]: each list's segment (lo, hi, pages in it)
    # counters
    cg_nlb: np.ndarray  # int64[CG], effective cpu.numa_load_balance (RFC patch 2)
    cnt_vm: np.ndarray  # int64[NR_VM], /proc/vmstat
    cnt_memcg: np.ndarray  # int64[CG, NR_MEMCG], memory.stat
    cnt_cg_node_pages: np.ndarray  # int64[CG, N], memory.numa_stat
    cnt_node_vm: np.ndarray  # int64[N, NR_VM], per-node vmstat
    ev: np.ndarray  # EVENT_DTYPE[E]
    ev_count: np.ndarray  # int64[2]: rows used, rows dropped
    clk: np.ndarray  # int64[NR_CLK]: tick, index rebuild pending, alive tasks, segment pool
    # work arrays (kernels never allocate)
    tmp_order: np.ndarray  # int64[T]
    tmp_task_f: np.ndarray  # float64[T, N]: uncontended memory cost per touch (perf.compute_speeds)
    tmp_speed_key: np.ndarray  # int64[T, 3]: running, phase, CPU at the last compute_speeds
    tmp_node_f: np.ndarray  # float64[3, N]: demand, node factor, cost
    tmp_link_f: np.ndarray  # float64[2, N, N]: link demand, link factor
    tmp_ints: np.ndarray  # int64[32 + 2 N]: task_numa_env and per-node counts
    tmp_bounds: np.ndarray  # int64[2, 2 * streams + 2]: segment boundaries
    tmp_mass: np.ndarray  # float64[chunks, N]: per-chunk partial masses (parallel.row_mass)
    tmp_pick: np.ndarray  # float64[2, S]: accessor pick by row (engine.prepare_row_picks)
    tmp_guide: np.ndarray  # int64[GUIDE_CELLS * S]: guide tables of the picks (same)


FIELDS = Arrays._fields


@structref.register
class StateType(types.StructRef):
    """numba type of the simulator state: a reference to a struct of arrays."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class State(structref.StructRefProxy):
    """The state as the kernels see it: one pointer, whatever the number of arrays.

    A NamedTuple of arrays would be flattened into every kernel call (hundreds
    of arguments: slow to compile, slow to call); a StructRef is passed as one
    reference. Python code reads the same arrays through :class:`Arrays`.

    The arrays in the struct are unowned views (:mod:`numaexp.sim.unowned`);
    the proxy keeps the :class:`Arrays` they view alive as ``_arrays``.
    """


structref.define_boxing(StateType, State)


@register_borrowed
class BorrowedStateType(BorrowedStructRef):
    """numba type of the state as kernels receive it: the same struct, not reference counted.

    :func:`to_state` builds the struct as a :class:`StateType` (owned by its
    Python proxy) and hands the kernels a :class:`State` of this type that
    points at the same struct (see :mod:`numaexp.sim.unowned`).
    """

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


_SAMPLES = {  # an empty array (or record) of each field's exact numba type
    "p": np.zeros(1, dtype=PARAMS_DTYPE)[0],
    "pg": np.zeros(1, dtype=PAGE_DTYPE),
    "ob": np.zeros(1, dtype=OBJECT_DTYPE),
    "vm": np.zeros(1, dtype=VMA_DTYPE),
    "mm": np.zeros(1, dtype=MM_DTYPE),
    "tk": np.zeros(1, dtype=TASK_DTYPE),
    "tk_allowed": np.zeros((1, 1), dtype=u8),
    "tk_faults": np.zeros((1, 1), dtype=i64),
    "tk_share": np.zeros((1, 1), dtype=f64),
    "ng": np.zeros(1, dtype=GROUP_DTYPE),
    "ng_faults": np.zeros((1, 1), dtype=i64),
    "nd": np.zeros(1, dtype=NODE_DTYPE),
    "nd_distance": np.zeros((1, 1), dtype=i64),
    "nd_nbp": np.zeros((1, 1), dtype=i64),
    "nd_zonelist": np.zeros((1, 1), dtype=i64),
    "nd_latency": np.zeros((1, 1), dtype=f64),
    "nd_link_bw": np.zeros((1, 1), dtype=f64),
    "cpu": np.zeros(1, dtype=CPU_DTYPE),
    "st": np.zeros(1, dtype=STREAM_DTYPE),
    "st_mass": np.zeros((1, 1), dtype=f64),
    "mr": np.zeros(1, dtype=MASSROW_DTYPE),
    "ph": np.zeros(1, dtype=PHASE_DTYPE),
    "rg": np.zeros(1, dtype=REGION_DTYPE),
    "ls_heads": np.zeros(1, dtype=i32),
    "pg_pending": np.zeros(1, dtype=i32),
    "ls_sweep_bits": np.zeros(1, dtype=u64),
    "ls_pool": np.zeros(1, dtype=i32),
    "ls_seg": np.zeros((1, 1), dtype=i64),
    "cnt_memcg": np.zeros((1, 1), dtype=i64),
    "cnt_cg_node_pages": np.zeros((1, 1), dtype=i64),
    "cnt_node_vm": np.zeros((1, 1), dtype=i64),
    "ev": np.zeros(1, dtype=EVENT_DTYPE),
    "tmp_node_f": np.zeros((1, 1), dtype=f64),
    "tmp_task_f": np.zeros((1, 1), dtype=f64),
    "tmp_speed_key": np.zeros((1, 1), dtype=i64),
    "tmp_link_f": np.zeros((1, 1, 1), dtype=f64),
    "tmp_bounds": np.zeros((1, 1), dtype=i64),
    "tmp_mass": np.zeros((1, 1), dtype=f64),
    "tmp_pick": np.zeros((1, 1), dtype=f64),
}
for _name in FIELDS:
    _SAMPLES.setdefault(_name, np.zeros(1, dtype=i64))

_FIELD_TYPES = {name: numba.typeof(_SAMPLES[name]) for name in FIELDS}
"""numba type of each field as Python passes it (arrays are owned there)."""

_STATE_FIELDS = [(name, UnownedArray.of(typ) if isinstance(typ, types.Array) else typ)
                 for name, typ in _FIELD_TYPES.items()]

STATE_TYPE = StateType(_STATE_FIELDS)
"""numba type of the struct as built (field types do not depend on sizes)."""

KERNEL_STATE_TYPE = BorrowedStateType(_STATE_FIELDS)
"""The one numba type of the state every kernel receives."""


def _make_constructor():
    args = ", ".join(FIELDS)
    body = "".join(f"    state_.{name} = {name}\n" if name == "p" else
                   f"    state_.{name} = unowned({name})\n" for name in FIELDS)
    src = (f"def new_state({args}):\n    state_ = structref.new(STATE_TYPE)\n{body}"
           "    return state_\n")
    namespace = globals()  # so that numba's cache can rebuild the function's globals
    exec(compile(src, __file__, "exec"), namespace)
    return namespace.pop("new_state")


def to_state(arrays: Arrays) -> State:
    """Wrap ``arrays`` in the kernels' :data:`STATE_TYPE` (the arrays are shared, not copied)."""
    for name, value in zip(FIELDS, arrays, strict=True):
        expected = _FIELD_TYPES[name]
        got = numba.typeof(value)
        if got != expected:
            raise TypeError(f"state field {name}: {got} is not {expected}")
    owner = _new_state(*arrays)
    state = State._numba_box_(KERNEL_STATE_TYPE, owner._meminfo)
    state._owner = owner  # the kernels' state does not own its struct ...
    state._arrays = arrays  # ... nor do the struct's views own their memory
    return state


_new_state = numba.njit(cache=True)(_make_constructor())
