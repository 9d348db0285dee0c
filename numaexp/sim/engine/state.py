"""Simulator state: NumPy arrays, most of them structured, behind one reference.

Each kind of entity (pages, tasks, VMAs, ...) is one structured array whose
fields are named after the kernel's; numba reads ``s.tk.pid[t]`` as a field
view, exactly like a struct of arrays. Variable-width per-entity rows (CPU
masks, fault statistics) are separate 2-D arrays (``tk_allowed``,
``tk_faults``, ...). Python holds them in :class:`Arrays`; kernels receive a
:class:`State`, a numba StructRef pointing at the same arrays, which they
borrow: neither the struct nor its array views are reference counted
(:mod:`numaexp.sim.engine.unowned`).

Per 4 KiB page the state costs ``BYTES_PER_PAGE`` = 17 bytes (see
``PAGE_DTYPE``), plus ``POOL_BYTES_PER_PAGE`` = 4 for each page of a memory
object that a random (non-sweep) pattern covers: its slot in ``ls_pool``
(:mod:`numaexp.sim.engine.lists`, segments).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba.core import types
from numba.experimental import structref

from numaexp.model.policy import DECISIONS, POLICY_CONTEXT_DTYPE
from numaexp.sim.engine.dtypes import (
    CPU_DTYPE,
    EVENT_DTYPE,
    GROUP_DTYPE,
    LB_ENV_DTYPE,
    MASSROW_DTYPE,
    MM_DTYPE,
    NODE_DTYPE,
    NUMA_STATS_DTYPE,
    OBJECT_DTYPE,
    PAGE_DTYPE,
    PHASE_DTYPE,
    REGION_DTYPE,
    SD_DTYPE,
    SG_DTYPE,
    SG_LB_STATS_DTYPE,
    SPAN_DTYPE,
    STREAM_DTYPE,
    TASK_DTYPE,
    TASK_NUMA_ENV_DTYPE,
    VMA_DTYPE,
    f64,
    i32,
    i64,
    u8,
    u64,
)
from numaexp.sim.engine.jit import jit
from numaexp.sim.engine.params import PARAMS_DTYPE
from numaexp.sim.engine.policy import POLICY_SIGNATURE
from numaexp.sim.engine.unowned import (  # noqa: F401 (unowned: generated constructor)
    BorrowedStructRef,
    UnownedArray,
    register_borrowed,
    unowned,
)

STATE_FIELDS: tuple[tuple[str, object, int, str], ...] = (
    ("p", PARAMS_DTYPE, 0, "the run's parameters (one record, engine.params)"),
    ("pg", PAGE_DTYPE, 1, "[P] pages"),
    ("pg_pending", i32, 1, "[ceil(P / 4096)] pending pages per chunk (lists.pending_add)"),
    ("ob", OBJECT_DTYPE, 1, "[O + 1] memory objects (the extra row ends the last one)"),
    ("vm", VMA_DTYPE, 1, "[V] VMAs"),
    ("mm", MM_DTYPE, 1, "[M] address spaces"),
    ("tk", TASK_DTYPE, 1, "[T] threads"),
    ("tk_allowed", u8, 2, "[T, C] cpus_ptr"),
    ("tk_faults", i64, 2, "[T, 8 N] numa_faults (MEM, CPU, MEMBUF, CPUBUF)"),
    ("tk_share", f64, 2, "[T, N] share of the task's touches per node"),
    ("tk_sys", i64, 2, "[T, NR_SYS] kernel time charged per account (codes.SYS_*), ns"),
    ("ng", GROUP_DTYPE, 1, "[T] NUMA groups (slot = creating task)"),
    ("ng_faults", i64, 2, "[T, 4 N] group faults (MEM, CPU)"),
    ("nd", NODE_DTYPE, 1, "[N] nodes"),
    ("nd_nbp", i64, 2, "[N, NBP_FIELDS] promotion state (tiering.NBP_*)"),
    ("nd_distance", i64, 2, "[N, N] SLIT"),
    ("nd_zonelist", i64, 2, "[N, N] nodes with memory by distance, -1 padded"),
    ("nd_latency", f64, 2, "[N, N] ns from CPU node to memory node"),
    ("nd_link_bw", f64, 2, "[N, N] bytes per ns"),
    ("nd_link_demand", f64, 2, "[N, N] bytes per ns CPUs of node i drew from node j over the "
                               "last tick (perf)"),
    ("cpu", CPU_DTYPE, 1, "[C] CPUs and their runqueues"),
    ("sd", SD_DTYPE, 1, "[D] every CPU's sched domains, lowest first (build.domains)"),
    ("grp", SG_DTYPE, 1, "[G] sched groups (one per distinct span)"),
    ("sd_grp", i64, 1, "[sum of groups] each domain's groups, the local one first"),
    ("sd_grp_flags", i64, 1, "[sum of groups] each group's flags as its domain sees them"),
    ("spans", SPAN_DTYPE, 1, "[K] CPU sets of the domains and groups"),
    ("span_cpus", i64, 1, "[sum of span sizes] their CPUs, sorted"),
    ("st", STREAM_DTYPE, 1, "[S] access streams (patterns of thread phases)"),
    ("st_mass", f64, 2, "[R, N] weight of present positions per node, per mass row"),
    ("mr", MASSROW_DTYPE, 1, "[R] mass rows"),
    ("mr_streams", i64, 1, "[S] streams of each mass row"),
    ("ph", PHASE_DTYPE, 1, "[F] thread phases"),
    ("rg", REGION_DTYPE, 1, "[G] sweep regions"),
    ("sg_obj_first", i64, 1, "[O + 1] segment rows of each object (page -> streams index)"),
    ("sg_start", i64, 1, "[cap] first object page of the segment"),
    ("sg_list_first", i64, 1, "[cap + 1] CSR into sg_streams"),
    ("sg_streams", i64, 1, "[cap2] active streams covering the segment"),
    ("sg_mrow_first", i64, 1, "[cap + 1] CSR into sg_mrows"),
    ("sg_mrows", i64, 1, "[cap2] one stream per distinct mass row"),
    ("sg_region", i64, 1, "[cap] the one sweep region covering it, -1 none, -2 several"),
    ("sg_random", i64, 1, "[cap] distinct random (non-sweep) mass rows covering it"),
    ("sg_need", i64, 1, "[2] room needed (segments, entries) when full"),
    ("ls_heads", i32, 1, "[L] pending-fault lists: calendar ring, far list, sweep buckets, rows"),
    ("ls_sweep_bits", u64, 1, "bitmap of non-empty sweep buckets"),
    ("ls_pool", i32, 1, "[P] page ids of the lists' segments (-1: taken off)"),
    ("ls_seg", i64, 2, "[3, L - sweep buckets] each list's segment (lo, hi, pages in it)"),
    ("cg_nlb", i64, 1, "[CG] effective cpu.numa_load_balance (RFC patch 2)"),
    ("cnt_vm", i64, 1, "[NR_VM] /proc/vmstat"),
    ("cnt_memcg", i64, 2, "[CG, NR_MEMCG] memory.stat"),
    ("cnt_cg_node_pages", i64, 2, "[CG, N] memory.numa_stat"),
    ("cnt_node_vm", i64, 2, "[N, NR_VM] per-node vmstat"),
    ("ev", EVENT_DTYPE, 1, "[E] trace events"),
    ("ev_count", i64, 1, "[2] event rows used, rows dropped"),
    ("clk", i64, 1, "[NR_CLK] tick, index rebuild pending, alive tasks, ... (codes.CLK_*)"),
    ("pol", None, 0, "one compiled function per decision point (engine.policy.policy_slots)"),
    ("pol_ctx", POLICY_CONTEXT_DTYPE, 1, "[1] the context a policy reads"),
    ("pol_mem", i64, 1, "[P] ([1] without policies) the policies' memory, per page"),
    ("tmp_round_task", i64, 1, "[max(T, C)] work arrays: the turns of a round "
     "(cputime.run_cpus), the events of a tick (lifecycle.sched_events)"),
    ("tmp_round_cpu", i64, 1, "[max(T, C)] same"),
    ("tmp_round_start", i64, 1, "[max(T, C)] same"),
    ("tmp_round_key", f64, 1, "[max(T, C)] same: sort keys"),
    ("tmp_round_idx", i64, 1, "[max(T, C)] same: sorted order"),
    ("tmp_task_f", f64, 2, "[T, N] uncontended memory cost per touch (perf.compute_speeds)"),
    ("tmp_speed_key", i64, 2, "[T, 3] running, phase, CPU at the last compute_speeds"),
    ("tmp_node_f", f64, 2, "[3, N] demand, node factor, cost"),
    ("tmp_link_f", f64, 3, "[2, N, N] link demand, link factor"),
    ("tmp_env", TASK_NUMA_ENV_DTYPE, 1, "[1] task_numa_migrate's search state"),
    ("tmp_numa_stats", NUMA_STATS_DTYPE, 1, "[2] its source and destination node stats"),
    ("tmp_sgs", SG_LB_STATS_DTYPE, 1, "[3] sg_lb_stats: local, busiest or idlest, examined"),
    ("tmp_lb_env", LB_ENV_DTYPE, 1, "[2] lb_env of sched_balance_rq and of active balancing"),
    ("tmp_lb_cpus", u8, 1, "[C] env->cpus of sched_balance_rq"),
    ("tmp_bounds", i64, 2, "[2, 2 S + 2] segment boundaries"),
    ("tmp_mass", f64, 2, "[chunks, N] per-chunk partial masses (parallel.row_mass)"),
    ("tmp_pick", f64, 2, "[2, S] accessor pick by row (delivery.prepare_row_picks)"),
    ("tmp_guide", i64, 1, "[GUIDE_CELLS S] guide tables of the picks (same)"),
)
"""Every field of the state: name, element type (a record dtype or a NumPy scalar type),
dimensions (0: one record, or ``pol``'s tuple of functions) and what it holds (shape in
brackets: P pages, T threads, N nodes, C CPUs, S streams, R mass rows, ...). The
:class:`Arrays` tuple, the kernels' struct type and the checks of :func:`to_state` all
come from it; kernels never allocate, so the work arrays (``tmp_*``) are here too."""

Arrays = NamedTuple("Arrays", [(name, np.void if ndim == 0 and dtype is not None else
                                tuple if dtype is None else np.ndarray)
                               for name, dtype, ndim, _ in STATE_FIELDS])
Arrays.__doc__ = ("Every array of a run, as Python sees them (kernels get a :data:`State`); "
                  "fields: see :data:`STATE_FIELDS`.")

FIELDS = Arrays._fields


class _UnliteralFields:
    """Field types as the state's struct keeps them: literal types (of constants) widened."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class StateType(_UnliteralFields, types.StructRef):
    """numba type of the simulator state: a reference to a struct of arrays."""



class State(structref.StructRefProxy):
    """The state as the kernels see it: one pointer, whatever the number of arrays.

    A NamedTuple of arrays would be flattened into every kernel call (hundreds
    of arguments: slow to compile, slow to call); a StructRef is passed as one
    reference. Python code reads the same arrays through :class:`Arrays`.

    The arrays in the struct are unowned views (:mod:`numaexp.sim.engine.unowned`);
    the proxy keeps the :class:`Arrays` they view alive as ``_arrays``.
    """


structref.define_boxing(StateType, State)


@register_borrowed
class BorrowedStateType(_UnliteralFields, BorrowedStructRef):
    """numba type of the state as kernels receive it: the same struct, not reference counted.

    :func:`to_state` builds the struct as a :class:`StateType` (owned by its
    Python proxy) and hands the kernels a :class:`State` of this type that
    points at the same struct (see :mod:`numaexp.sim.engine.unowned`).
    """





def _sample(dtype, ndim: int):
    """A value of the field's exact numba type (the sizes do not matter)."""
    if ndim == 0:
        return np.zeros(1, dtype=dtype)[0]
    return np.zeros((1,) * ndim, dtype=dtype)


_SAMPLES = {name: _sample(dtype, ndim) for name, dtype, ndim, _ in STATE_FIELDS
            if dtype is not None}

_FIELD_TYPES = {name: numba.typeof(_SAMPLES[name]) for name in FIELDS if name != "pol"}
_FIELD_TYPES["pol"] = types.UniTuple(types.FunctionType(POLICY_SIGNATURE), len(DECISIONS))
"""numba type of each field as Python passes it (arrays are owned there)."""


def dtype_of(field: str) -> np.dtype:
    """The dtype of state field ``field`` (its record type for structured arrays)."""
    return _SAMPLES[field].dtype

_STATE_FIELDS = [(name, UnownedArray.of(typ) if isinstance(typ, types.Array) else typ)
                 for name, typ in _FIELD_TYPES.items()]

STATE_TYPE = StateType(_STATE_FIELDS)
"""numba type of the struct as built (field types do not depend on sizes)."""

KERNEL_STATE_TYPE = BorrowedStateType(_STATE_FIELDS)
"""The one numba type of the state every kernel receives."""


def _make_constructor():
    args = ", ".join(FIELDS)
    body = "".join(f"    state_.{name} = {name}\n" if name in ("p", "pol") else
                   f"    state_.{name} = unowned({name})\n" for name in FIELDS)
    src = (f"def new_state({args}):\n    state_ = structref.new(STATE_TYPE)\n{body}"
           "    return state_\n")
    namespace = globals()  # so that numba's cache can rebuild the function's globals
    exec(compile(src, __file__, "exec"), namespace)
    return namespace.pop("new_state")


def to_state(arrays: Arrays) -> State:
    """Wrap ``arrays`` in the kernels' :data:`STATE_TYPE` (the arrays are shared, not copied)."""
    for name, value in zip(FIELDS, arrays, strict=True):
        if name == "pol":  # compiled policies: the constructor turns them into functions
            continue
        expected = _FIELD_TYPES[name]
        got = numba.typeof(value)
        if got != expected:
            raise TypeError(f"state field {name}: {got} is not {expected}")
    owner = _new_state(*arrays)
    state = State._numba_box_(KERNEL_STATE_TYPE, owner._meminfo)
    state._owner = owner  # the kernels' state does not own its struct ...
    state._arrays = arrays  # ... nor do the struct's views own their memory
    return state


_new_state = jit(_make_constructor())
