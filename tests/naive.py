"""Slow, plain-Python references for the simulator's decision functions.

Each function here re-expresses one Linux 6.12 function (or the part of it
that the simulator isolates as a pure function) from the C sources, for
``tests/test_reference.py`` to hold the numba kernels against. They are
written from ``kernel/sched/fair.c``, ``mm/mempolicy.c`` and
``include/linux/mm.h``, not from the simulator, and keep C's integer
semantics where the kernel relies on them:

- ``unsigned int`` / ``unsigned long`` arithmetic wraps modulo 2**32 / 2**64
  (:func:`u32`, :func:`u64`); a value stored into a signed variable is
  reinterpreted in two's complement (:func:`s32`, :func:`s64`);
- signed division truncates toward zero (:func:`c_div`);
- ``DIV_ROUND_UP``, ``round_up`` (the power-of-two bit trick of
  ``include/linux/math.h``), ``clamp`` (``include/linux/minmax.h``) and
  ``max_t`` are spelled out.

Where the kernel would oops, trap or read memory it never initialised (a
division by zero, a NULL zone, ``BUG()``, a per-CPU slot of a CPU id past
``nr_cpu_ids``), a reference raises :class:`KernelUndefined`: the property
tests discard such inputs instead of inventing a kernel answer for them.

Only the *encodings* shared with the simulator (policy mode numbers, the
simulator's ``MPOL_F_*`` bit values, the ``CMP_*`` outcome codes) come from
``numaexp.sim.constants``; every kernel constant is restated here from the
kernel sources so that a wrong constant in the simulator shows up.
"""

from __future__ import annotations

from math import gcd

from numaexp.sim.kernel.constants import (
    CMP_MOVE,
    CMP_SKIP,
    CMP_SWAP,
    MPOL_BIND,
    MPOL_DEFAULT,
    MPOL_F_MOF,
    MPOL_F_MORON,
    MPOL_INTERLEAVE,
    MPOL_LOCAL,
    MPOL_PREFERRED,
    MPOL_PREFERRED_MANY,
    MPOL_WEIGHTED_INTERLEAVE,
)

# ---- kernel constants, restated from the 6.12 sources ------------------------------

NUMA_NO_NODE = -1  # include/linux/numa.h
MAX_NUMNODES = 1 << 10  # CONFIG_NODES_SHIFT=10 on Debian amd64
PAGE_SHIFT = 12
MSEC_PER_SEC = 1000
LONG_MAX = (1 << 63) - 1
MAX_JIFFY_OFFSET = (LONG_MAX >> 1) - 1  # include/linux/jiffies.h

# kernel/sched/fair.c
MAX_SCAN_WINDOW = 2560
NUMA_PERIOD_SLOTS = 10
NUMA_PERIOD_THRESHOLD = 7
ACTIVE_NODE_FRACTION = 3
SMALLIMP = 30
NUMA_IMBALANCE_MIN = 2
NUMA_MEM, NUMA_CPU, NUMA_MEMBUF, NUMA_CPUBUF = 0, 1, 2, 3  # enum numa_faults_stats
NR_NUMA_HINT_FAULT_TYPES = 2
NODE_HAS_SPARE, NODE_FULLY_BUSY, NODE_OVERLOADED = 0, 1, 2  # enum numa_type

# include/linux/page-flags-layout.h with NR_CPUS=8192 (NR_CPUS_BITS = 13)
NR_CPUS_BITS = 13
LAST__PID_SHIFT = 8
LAST__PID_MASK = (1 << LAST__PID_SHIFT) - 1
LAST__CPU_SHIFT = NR_CPUS_BITS
LAST__CPU_MASK = (1 << LAST__CPU_SHIFT) - 1
LAST_CPUPID_SHIFT = LAST__PID_SHIFT + LAST__CPU_SHIFT
LAST_CPUPID_MASK = (1 << LAST_CPUPID_SHIFT) - 1


class KernelUndefined(Exception):
    """The kernel has no defined answer for these inputs (oops, trap, garbage read)."""


# ---- C integer helpers --------------------------------------------------------------

def u32(x: int) -> int:
    """``(unsigned int)x``: reduce modulo 2**32."""
    return x & 0xFFFF_FFFF


def u64(x: int) -> int:
    """``(unsigned long)x`` on x86-64: reduce modulo 2**64."""
    return x & 0xFFFF_FFFF_FFFF_FFFF


def s32(x: int) -> int:
    """``(int)x``: the low 32 bits read as two's complement."""
    x = u32(x)
    return x - (1 << 32) if x >= 1 << 31 else x


def s64(x: int) -> int:
    """``(long)x``: the low 64 bits read as two's complement."""
    x = u64(x)
    return x - (1 << 64) if x >= 1 << 63 else x


def c_div(a: int, b: int) -> int:
    """C99 ``a / b`` on signed integers: the quotient truncated toward zero.

    Raises
    ------
    KernelUndefined
        If ``b == 0`` (a divide error trap in the kernel).
    """
    if b == 0:
        raise KernelUndefined("division by zero")
    q = a // b  # Python floors
    if q < 0 and q * b != a:
        q += 1  # C truncates: round the negative quotient back toward zero
    return q


def udiv(a: int, b: int) -> int:
    """Unsigned division; a zero divisor traps in the kernel."""
    if b == 0:
        raise KernelUndefined("division by zero")
    return a // b


def div_round_up_u32(n: int, d: int) -> int:
    """``DIV_ROUND_UP(n, d)`` = ``((n) + (d) - 1) / (d)`` with an ``unsigned int`` ``n``."""
    return udiv(u32(n + d - 1), d)


def round_up_u64(x: int, y: int) -> int:
    """``round_up(x, y)`` of include/linux/math.h for an ``unsigned long`` ``x``.

    ``((((x)-1) | __round_mask(x, y))+1)`` with ``__round_mask(x, y) =
    (typeof(x))((y)-1)``: a bit trick that is a true round-up only when ``y``
    is a power of two (the macro's documented precondition, which callers do
    not always meet).
    """
    mask = u64(y - 1)
    return u64((u64(x - 1) | mask) + 1)


def clamp(val: int, lo: int, hi: int) -> int:
    """``__clamp(val, lo, hi)`` of include/linux/minmax.h (values already in their C type)."""
    if val >= hi:
        return hi
    if val <= lo:
        return lo
    return val


# ---- include/linux/mm.h: last_cpupid -------------------------------------------------

def cpu_pid_to_cpupid(cpu: int, pid: int) -> int:
    """``cpu_pid_to_cpupid`` (include/linux/mm.h): pack a CPU id and a pid.

    Parameters
    ----------
    cpu, pid : int
        C ``int`` values.

    Returns
    -------
    int
        ``((cpu & LAST__CPU_MASK) << LAST__PID_SHIFT) | (pid & LAST__PID_MASK)``.
    """
    return s32(((s32(cpu) & LAST__CPU_MASK) << LAST__PID_SHIFT) | (s32(pid) & LAST__PID_MASK))


def cpupid_to_cpu(cpupid: int) -> int:
    """``cpupid_to_cpu`` (include/linux/mm.h): the CPU field of a cpupid.

    Parameters
    ----------
    cpupid : int
        A C ``int`` (``>>`` on a negative ``int`` is arithmetic in gcc).
    """
    return (s32(cpupid) >> LAST__PID_SHIFT) & LAST__CPU_MASK


def cpupid_to_pid(cpupid: int) -> int:
    """``cpupid_to_pid`` (include/linux/mm.h): the low pid bits of a cpupid."""
    return s32(cpupid) & LAST__PID_MASK


def cpupid_pid_unset(cpupid: int) -> bool:
    """``cpupid_pid_unset`` (include/linux/mm.h): pid bits equal ``-1 & LAST__PID_MASK``."""
    return cpupid_to_pid(cpupid) == (-1 & LAST__PID_MASK)


def cpupid_match_pid(pid: int, cpupid: int) -> bool:
    """``__cpupid_match_pid`` (include/linux/mm.h), behind ``cpupid_match_pid(task, cpupid)``.

    Parameters
    ----------
    pid : int
        ``task->pid``.
    cpupid : int
    """
    return (s32(pid) & LAST__PID_MASK) == cpupid_to_pid(cpupid)


def cpupid_valid(cpupid: int, nr_cpu_ids: int) -> bool:
    """``cpupid_valid`` (kernel/sched/fair.c): the CPU field is below ``nr_cpu_ids``.

    ``nr_cpu_ids`` is an ``unsigned int``; the CPU field is never negative, so
    the mixed comparison is an ordinary one.
    """
    return cpupid_to_cpu(cpupid) < u32(nr_cpu_ids)


def cpupid_to_nid(cpupid: int, cpu_node, nr_cpu_ids: int) -> int:
    """``cpupid_to_nid`` (include/linux/mm.h): ``cpu_to_node(cpupid_to_cpu(cpupid))``.

    Parameters
    ----------
    cpupid : int
    cpu_node : sequence of int
        ``cpu_to_node`` of every possible CPU (``nr_cpu_ids`` entries).
    nr_cpu_ids : int

    Raises
    ------
    KernelUndefined
        For a CPU id at or past ``nr_cpu_ids``: ``cpu_to_node`` then reads the
        per-CPU ``numa_node`` through a ``__per_cpu_offset`` slot that was never
        set up, so the answer is whatever the boot template holds.
    """
    cpu = cpupid_to_cpu(cpupid)
    if cpu >= nr_cpu_ids:
        raise KernelUndefined(f"cpu_to_node({cpu}) with nr_cpu_ids={nr_cpu_ids}")
    return int(cpu_node[cpu])


# ---- kernel/sched/fair.c: scan period ------------------------------------------------

def task_nr_scan_windows(rss: int, scan_size_mb: int) -> int:
    """``task_nr_scan_windows`` (kernel/sched/fair.c): scan windows covering the RSS.

    Parameters
    ----------
    rss : int
        ``get_mm_rss(p->mm)`` in pages (``unsigned long``).
    scan_size_mb : int
        ``sysctl_numa_balancing_scan_size`` (``unsigned int``).

    Returns
    -------
    int
        ``round_up(rss, nr_scan_pages) / nr_scan_pages`` as ``unsigned int``,
        where ``round_up`` is the power-of-two bit trick (see
        :func:`round_up_u64`), not an arithmetic ceiling.
    """
    # the shift is done on the unsigned int sysctl, then widened to unsigned long
    nr_scan_pages = u32(u32(scan_size_mb) << (20 - PAGE_SHIFT))
    rss = u64(rss)
    if not rss:
        rss = nr_scan_pages
    rss = round_up_u64(rss, nr_scan_pages)
    return u32(udiv(rss, nr_scan_pages))


def task_scan_min(scan_size_mb: int, scan_period_min_ms: int, rss: int) -> int:
    """``task_scan_min`` (kernel/sched/fair.c): lower bound of the scan period, ms.

    Parameters
    ----------
    scan_size_mb : int
        ``sysctl_numa_balancing_scan_size``.
    scan_period_min_ms : int
        ``sysctl_numa_balancing_scan_period_min``.
    rss : int
        ``get_mm_rss`` in pages.

    Returns
    -------
    int
        ``max_t(unsigned int, floor, scan)``.
    """
    scan_size = u32(scan_size_mb)
    windows = 1
    if scan_size < MAX_SCAN_WINDOW:
        windows = udiv(MAX_SCAN_WINDOW, scan_size)
    floor = udiv(1000, windows)
    scan = udiv(u32(scan_period_min_ms), task_nr_scan_windows(rss, scan_size_mb))
    return u32(floor) if u32(floor) > u32(scan) else u32(scan)


def _scale_by_group(period: int, refcount: int, shared: int, private: int) -> int:
    """The group scaling shared by ``task_scan_start`` and ``task_scan_max``.

    ``period *= refcount_read(&ng->refcount); period *= shared + 1;
    period /= private + shared + 1;`` on ``unsigned long``.
    """
    period = u64(period * u32(refcount))
    period = u64(period * u64(u64(shared) + 1))
    return udiv(period, u64(u64(private) + u64(shared) + 1))


def task_scan_start(smin: int, has_group: bool, refcount: int, shared: int,
                    private: int) -> int:
    """``task_scan_start`` (kernel/sched/fair.c): the first scan period of a task, ms.

    Parameters
    ----------
    smin : int
        ``task_scan_min(p)`` (held in an ``unsigned long``).
    has_group : bool
        ``p->numa_group`` is set.
    refcount : int
        ``refcount_read(&ng->refcount)``.
    shared, private : int
        ``group_faults_shared(ng)``, ``group_faults_priv(ng)``.

    Returns
    -------
    int
        ``max(smin, period)`` returned as ``unsigned int``.
    """
    smin = u64(smin)
    period = smin
    if has_group:
        period = _scale_by_group(period, refcount, shared, private)
    return u32(max(smin, period))


def task_scan_max(smin: int, scan_period_max_ms: int, rss: int, scan_size_mb: int,
                  has_group: bool, refcount: int, shared: int, private: int) -> int:
    """``task_scan_max`` (kernel/sched/fair.c): upper bound of the scan period, ms.

    Parameters
    ----------
    smin : int
        ``task_scan_min(p)``.
    scan_period_max_ms : int
        ``sysctl_numa_balancing_scan_period_max``.
    rss, scan_size_mb : int
        For ``task_nr_scan_windows``.
    has_group, refcount, shared, private
        As in :func:`task_scan_start`.

    Returns
    -------
    int
        ``max(smin, smax)`` returned as ``unsigned int``.
    """
    smin = u64(smin)
    # unsigned int / unsigned int, stored in an unsigned long
    smax = udiv(u32(scan_period_max_ms), task_nr_scan_windows(rss, scan_size_mb))
    if has_group:
        period = _scale_by_group(smax, refcount, shared, private)
        smax = max(smax, period)
    return u32(max(smin, smax))


def update_task_scan_period(period: int, period_max: int, smin: int, smax: int, remote: int,
                            local: int, failed: int, shared: int,
                            private: int) -> tuple[int, bool]:
    """``update_task_scan_period`` (kernel/sched/fair.c): the next ``numa_scan_period``.

    Parameters
    ----------
    period : int
        ``p->numa_scan_period`` (``unsigned int``).
    period_max : int
        ``p->numa_scan_period_max`` (``unsigned int``).
    smin, smax : int
        ``task_scan_min(p)``, ``task_scan_max(p)`` (``unsigned int``).
    remote, local, failed : int
        ``p->numa_faults_locality[0]``, ``[1]``, ``[2]`` (``unsigned long``).
    shared, private : int
        The ``unsigned long`` arguments (``fault_types[0]``, ``[1]``).

    Returns
    -------
    (new_period, slow) : (int, bool)
        ``slow`` marks the early branch (``numa_next_scan`` pushed out).

    Notes
    -----
    ``diff`` is an ``int`` but ``slot * period_slot`` is computed in
    ``unsigned int``, and ``p->numa_scan_period + diff`` is ``unsigned int``
    too: a decrease larger than the current period wraps to a value near
    2**32, which ``clamp`` then turns into ``task_scan_max``.
    """
    period = u32(period)
    remote = u64(remote)
    local = u64(local)
    shared = u64(shared)
    private = u64(private)

    if u64(local + shared) == 0 or u64(failed):
        doubled = u32(period << 1)
        return min(u32(period_max), doubled), True

    period_slot = div_round_up_u32(period, NUMA_PERIOD_SLOTS)
    lr_ratio = s32(udiv(u64(local * NUMA_PERIOD_SLOTS), u64(local + remote)))
    ps_ratio = s32(udiv(u64(private * NUMA_PERIOD_SLOTS), u64(private + shared)))

    if ps_ratio >= NUMA_PERIOD_THRESHOLD:
        slot = ps_ratio - NUMA_PERIOD_THRESHOLD
        if not slot:
            slot = 1
        diff = s32(u32(slot * period_slot))  # int * unsigned int -> unsigned int -> int
    elif lr_ratio >= NUMA_PERIOD_THRESHOLD:
        slot = lr_ratio - NUMA_PERIOD_THRESHOLD
        if not slot:
            slot = 1
        diff = s32(u32(slot * period_slot))
    else:
        ratio = max(lr_ratio, ps_ratio)
        diff = s32(u32(-(NUMA_PERIOD_THRESHOLD - ratio) * period_slot))

    value = u32(period + diff)  # unsigned int + int -> unsigned int
    return clamp(value, u32(smin), u32(smax)), False


def msecs_to_jiffies(ms: int, hz: int) -> int:
    """``msecs_to_jiffies`` / ``__msecs_to_jiffies`` (include/linux/jiffies.h, kernel/time).

    Parameters
    ----------
    ms : int
        ``const unsigned int m``.
    hz : int
        ``CONFIG_HZ``, at most 1000 (the Kconfig choices are 100, 250, 300, 1000).

    Returns
    -------
    int
        ``MAX_JIFFY_OFFSET`` for ``(int)m < 0``; else the HZ-specific
        ``_msecs_to_jiffies``: ``(m + 1000/HZ - 1) / (1000/HZ)`` when HZ divides
        1000, otherwise the ``timeconst.bc`` multiply-shift
        ``(MSEC_TO_HZ_MUL32 * m + MSEC_TO_HZ_ADJ32) >> MSEC_TO_HZ_SHR32``.
    """
    m = u32(ms)
    if s32(m) < 0:
        return MAX_JIFFY_OFFSET
    if hz > MSEC_PER_SEC:
        raise ValueError("reference written for HZ <= 1000")
    if MSEC_PER_SEC % hz == 0:
        step = MSEC_PER_SEC // hz
        return udiv(u32(m + step - 1), step)
    # kernel/time/timeconst.bc: fmuls(32, hz, 1000), fmul(), fadj()
    shr = 0
    while (2 ** shr * hz + MSEC_PER_SEC - 1) // MSEC_PER_SEC < 2 ** 31:
        shr += 1
    mul32 = (2 ** shr * hz + MSEC_PER_SEC - 1) // MSEC_PER_SEC
    d = MSEC_PER_SEC // gcd(hz, MSEC_PER_SEC)
    adj32 = 2 ** shr * (d - 1) // d
    return u64(mul32 * m + adj32) >> shr


def jiffies_to_msecs(j: int, hz: int) -> int:
    """``jiffies_to_msecs`` (kernel/time/time.c) on a 64-bit kernel.

    Parameters
    ----------
    j : int
        ``const unsigned long j``.
    hz : int
        ``CONFIG_HZ``, at most 1000 (the Kconfig choices are 100, 250, 300, 1000).

    Returns
    -------
    int
        The ``unsigned int`` the kernel returns: ``(1000/HZ) * j`` when HZ divides
        1000 (exact), otherwise ``DIV_ROUND_UP(j * HZ_TO_MSEC_NUM, HZ_TO_MSEC_DEN)``
        (``BITS_PER_LONG == 64``), where ``timeconst.bc`` reduces 1000/HZ by their
        gcd (HZ 300: 10/3, so 1 tick is 4 ms and 2 ticks 7 ms).
    """
    jl = u64(j)
    if hz > MSEC_PER_SEC:
        raise ValueError("reference written for HZ <= 1000")
    if MSEC_PER_SEC % hz == 0:
        return u32((MSEC_PER_SEC // hz) * jl)
    g = gcd(hz, MSEC_PER_SEC)
    num, den = MSEC_PER_SEC // g, hz // g  # HZ_TO_MSEC_NUM, HZ_TO_MSEC_DEN
    return u32(udiv(u64(u64(jl * num) + den - 1), den))  # DIV_ROUND_UP on unsigned long


# ---- kernel/sched/fair.c: should_numa_migrate_memory --------------------------------

def should_numa_migrate_memory_decide(last_cpupid: int, pid: int, dst_nid: int, src_nid: int,
                                      tiering: bool, src_toptier: bool, nr_cpu_ids: int,
                                      preferred_nid: int, numa_scan_seq: int,
                                      has_group: bool, gfc_dst: int, gfc_src: int,
                                      gf_dst: int, gf_src: int, cpu_node) -> bool:
    """The cpupid branch of ``should_numa_migrate_memory`` (kernel/sched/fair.c).

    Everything after ``last_cpupid = folio_xchg_last_cpupid(folio, this_cpupid)``
    (the memoryless-node test and the tiering branch come before it).

    Parameters
    ----------
    last_cpupid : int
        The value the exchange returned.
    pid : int
        ``current->pid`` (``p`` is the faulting task).
    dst_nid, src_nid : int
        ``cpu_to_node(dst_cpu)`` and the folio's node.
    tiering : bool
        ``sysctl_numa_balancing_mode & NUMA_BALANCING_MEMORY_TIERING``.
    src_toptier : bool
        ``node_is_toptier(src_nid)``.
    nr_cpu_ids : int
    preferred_nid, numa_scan_seq : int
        ``p->numa_preferred_nid``, ``p->numa_scan_seq``.
    has_group : bool
        ``ng = deref_curr_numa_group(p)`` is not NULL.
    gfc_dst, gfc_src : int
        ``group_faults_cpu(ng, dst_nid)``, ``group_faults_cpu(ng, src_nid)``.
    gf_dst, gf_src : int
        ``group_faults(p, dst_nid)``, ``group_faults(p, src_nid)``.
    cpu_node : sequence of int
        ``cpu_to_node`` of CPUs ``0 .. nr_cpu_ids - 1``.

    Returns
    -------
    bool
    """
    if not tiering and not src_toptier and not cpupid_valid(last_cpupid, nr_cpu_ids):
        return False

    early = preferred_nid == NUMA_NO_NODE or s32(numa_scan_seq) <= 4
    if early and (cpupid_pid_unset(last_cpupid) or cpupid_match_pid(pid, last_cpupid)):
        return True

    # two-stage filter: the previous fault must have come from the same node
    if not cpupid_pid_unset(last_cpupid) and \
            cpupid_to_nid(last_cpupid, cpu_node, nr_cpu_ids) != dst_nid:
        return False

    if cpupid_match_pid(pid, last_cpupid):
        return True

    if not has_group:
        return True

    # group_faults_cpu() and group_faults() are unsigned long
    if u64(gfc_dst) > u64(u64(gfc_src) * ACTIVE_NODE_FRACTION):
        return True

    lhs = u64(u64(u64(gfc_dst) * u64(gf_src)) * 3)
    rhs = u64(u64(u64(gfc_src) * u64(gf_dst)) * 4)
    return lhs > rhs


# ---- mm/mempolicy.c -----------------------------------------------------------------

def _node_isset(node: int, mask: int) -> bool:
    """``node_isset(node, mask)`` for a nodemask held as a Python int."""
    return node >= 0 and (mask >> node) & 1 == 1


def _first_node(mask: int) -> int:
    """``first_node``: lowest set node, or ``MAX_NUMNODES`` for an empty mask."""
    for nid in range(MAX_NUMNODES):
        if _node_isset(nid, mask):
            return nid
    return MAX_NUMNODES


def _next_node(n: int, mask: int) -> int:
    """``next_node(n, mask)``: the next set node after ``n``, or ``MAX_NUMNODES``."""
    for nid in range(n + 1, MAX_NUMNODES):
        if _node_isset(nid, mask):
            return nid
    return MAX_NUMNODES


def _nodes_weight(mask: int) -> int:
    """``nodes_weight``: number of nodes in the mask."""
    return sum(1 for nid in range(MAX_NUMNODES) if _node_isset(nid, mask))


def interleave_nid(mask: int, ilx: int) -> int:
    """``interleave_nid`` (mm/mempolicy.c): the ``ilx``-th node of the policy, wrapping.

    Parameters
    ----------
    mask : int
        ``pol->nodes`` as a bitmask.
    ilx : int
        The interleave index (``pgoff_t``, unsigned long).

    Raises
    ------
    KernelUndefined
        For an empty mask (the kernel then returns ``numa_node_id()``, which a
        mask-only signature cannot express).
    """
    nnodes = _nodes_weight(mask)
    if not nnodes:
        raise KernelUndefined("empty interleave mask: numa_node_id()")
    target = u32(u64(ilx) % nnodes)
    nid = _first_node(mask)
    for _ in range(target):
        nid = _next_node(nid, mask)
    return nid


def _get_policy(mode: int, nodes: int, flags: int, thisnid: int) -> tuple[int, int, int]:
    """The policy ``get_vma_policy`` yields: MPOL_DEFAULT means ``preferred_node_policy``.

    ``get_task_policy`` falls back to ``preferred_node_policy[numa_node_id()]``,
    initialised in ``numa_policy_init`` as MPOL_PREFERRED of that node with
    ``MPOL_F_MOF | MPOL_F_MORON``.
    """
    if mode == MPOL_DEFAULT:
        return MPOL_PREFERRED, 1 << thisnid, MPOL_F_MOF | MPOL_F_MORON
    return mode, nodes, flags


def _mpol_misplaced_switch(mode: int, nodes: int, flags: int, curnid: int, thisnid: int,
                           ilx_nid: int, zonelist) -> tuple[bool, int]:
    """The part of ``mpol_misplaced`` before the MPOL_F_MORON block.

    Returns
    -------
    (goto_out, polnid) : (bool, int)
        ``goto_out`` where the C code jumps to ``out``; ``polnid`` as the
        switch leaves it (NUMA_NO_NODE after ``break`` in the MORON case of
        BIND / PREFERRED_MANY).
    """
    polnid = NUMA_NO_NODE
    if not flags & MPOL_F_MOF:
        return True, polnid

    if mode in (MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE):
        # interleave_nid() / weighted_interleave_nid() of the faulting address
        polnid = ilx_nid
    elif mode == MPOL_PREFERRED:
        if _node_isset(curnid, nodes):
            return True, polnid
        polnid = _first_node(nodes)
    elif mode == MPOL_LOCAL:
        polnid = thisnid  # numa_node_id()
    elif mode in (MPOL_BIND, MPOL_PREFERRED_MANY):
        if flags & MPOL_F_MORON:
            if _node_isset(thisnid, nodes):
                return False, polnid  # break: polnid is replaced below
            return True, polnid
        if _node_isset(curnid, nodes):
            return True, polnid
        # first_zones_zonelist(node_zonelist(thisnid, GFP_HIGHUSER), ..., &pol->nodes)
        for nid in zonelist:
            if nid >= 0 and _node_isset(int(nid), nodes):
                return False, int(nid)
        raise KernelUndefined("no zone of the policy nodes: zonelist_node_idx(NULL zone)")
    else:
        raise KernelUndefined(f"BUG() on policy mode {mode}")
    return False, polnid


def mpol_policy_node(mode: int, nodes: int, flags: int, curnid: int, thisnid: int,
                     ilx_nid: int, zonelist) -> tuple[bool, int]:
    """The policy ``switch`` of ``mpol_misplaced`` (mm/mempolicy.c).

    Parameters
    ----------
    mode, nodes, flags : int
        The policy (MPOL_DEFAULT: the default local-preferred policy).
    curnid : int
        ``folio_nid(folio)``.
    thisnid : int
        ``numa_node_id()`` of the faulting CPU.
    ilx_nid : int
        ``interleave_nid(pol, ilx)`` of the faulting address.
    zonelist : sequence of int
        Nodes of ``node_zonelist(thisnid)`` in order (-1 entries ignored).

    Returns
    -------
    (goto_out, polnid) : (bool, int)
        See :func:`_mpol_misplaced_switch`.
    """
    mode, nodes, flags = _get_policy(mode, nodes, flags, thisnid)
    return _mpol_misplaced_switch(mode, nodes, flags, curnid, thisnid, ilx_nid, zonelist)


def mpol_misplaced(mode: int, nodes: int, flags: int, curnid: int, thisnid: int, ilx_nid: int,
                   zonelist, should_migrate: bool) -> int:
    """``mpol_misplaced`` (mm/mempolicy.c): the node a faulting folio should move to.

    Parameters
    ----------
    mode, nodes, flags, curnid, thisnid, ilx_nid, zonelist
        As in :func:`mpol_policy_node`.
    should_migrate : bool
        What ``should_numa_migrate_memory(current, folio, curnid, thiscpu)``
        would return (consulted only with MPOL_F_MORON).

    Returns
    -------
    int
        The target node, or NUMA_NO_NODE.
    """
    mode, nodes, flags = _get_policy(mode, nodes, flags, thisnid)
    goto_out, polnid = _mpol_misplaced_switch(mode, nodes, flags, curnid, thisnid, ilx_nid,
                                              zonelist)
    if goto_out:
        return NUMA_NO_NODE
    # migrate the folio towards the node whose CPU is referencing it
    if flags & MPOL_F_MORON:
        polnid = thisnid
        if not should_migrate:
            return NUMA_NO_NODE
    if curnid != polnid:
        return polnid
    return NUMA_NO_NODE


# ---- kernel/sched/fair.c: task_numa_placement --------------------------------------

def task_faults_idx(stat: int, nid: int, priv: int, nr_node_ids: int) -> int:
    """``task_faults_idx`` (kernel/sched/fair.c): index into ``numa_faults``."""
    return NR_NUMA_HINT_FAULT_TYPES * (stat * nr_node_ids + nid) + priv


def task_numa_placement_decay(faults: list[int], gfaults: list[int], has_group: bool,
                              nr_nodes: int, runtime: int, period: int,
                              total_faults: int) -> tuple[int, int, int, int, int]:
    """The ``for_each_online_node`` loop of ``task_numa_placement`` (kernel/sched/fair.c).

    Parameters
    ----------
    faults : list of int
        ``p->numa_faults`` (``unsigned long``, 8 * nr_nodes), updated in place.
    gfaults : list of int
        ``ng->faults`` (4 * nr_nodes), updated in place when ``has_group``.
    has_group : bool
    nr_nodes : int
        Every node is online.
    runtime, period : int
        ``numa_get_avg_runtime`` (``u64``).
    total_faults : int
        ``p->numa_faults_locality[0] + p->numa_faults_locality[1]``.

    Returns
    -------
    (max_nid, max_faults, shared, private, total_diff) : tuple of int
        The node with the most (group) faults before ``numa_nearest_node``,
        those faults, ``fault_types[0]``, ``fault_types[1]`` (all unsigned),
        and the sum of the ``diff`` values added to ``p->total_numa_faults``
        (and to ``ng->total_faults``).
    """
    max_nid = NUMA_NO_NODE
    max_faults = 0
    fault_types = [0, 0]
    total_diff = 0
    total_faults = u64(total_faults)

    for nid in range(nr_nodes):
        node_faults = 0  # "faults" in the C code
        group_faults = 0
        for priv in range(NR_NUMA_HINT_FAULT_TYPES):
            mem_idx = task_faults_idx(NUMA_MEM, nid, priv, nr_nodes)
            membuf_idx = task_faults_idx(NUMA_MEMBUF, nid, priv, nr_nodes)
            cpu_idx = task_faults_idx(NUMA_CPU, nid, priv, nr_nodes)
            cpubuf_idx = task_faults_idx(NUMA_CPUBUF, nid, priv, nr_nodes)

            # decay existing window, copy faults since last scan
            diff = s64(faults[membuf_idx] - faults[mem_idx] // 2)
            fault_types[priv] = u64(fault_types[priv] + faults[membuf_idx])
            faults[membuf_idx] = 0

            # f_weight = div64_u64(runtime << 16, period + 1), held in a long
            f_weight = s64(udiv(u64(u64(runtime) << 16), u64(u64(period) + 1)))
            # long * unsigned long / unsigned long: computed unsigned, stored in a long
            f_weight = s64(udiv(u64(f_weight * faults[cpubuf_idx]), u64(total_faults + 1)))
            f_diff = s64(f_weight - faults[cpu_idx] // 2)
            faults[cpubuf_idx] = 0

            faults[mem_idx] = u64(faults[mem_idx] + diff)
            faults[cpu_idx] = u64(faults[cpu_idx] + f_diff)
            node_faults = u64(node_faults + faults[mem_idx])
            total_diff += diff
            if has_group:
                gfaults[mem_idx] = u64(gfaults[mem_idx] + diff)
                gfaults[cpu_idx] = u64(gfaults[cpu_idx] + f_diff)
                group_faults = u64(group_faults + gfaults[mem_idx])

        if not has_group:
            if node_faults > max_faults:
                max_faults = node_faults
                max_nid = nid
        elif group_faults > max_faults:
            max_faults = group_faults
            max_nid = nid

    return max_nid, max_faults, fault_types[0], fault_types[1], total_diff


# ---- kernel/sched/fair.c: task_numa_migrate helpers --------------------------------

def numa_classify(imbalance_pct: int, nr_running: int, weight: int, capacity: int, util: int,
                  runnable: int) -> int:
    """``numa_classify`` (kernel/sched/fair.c) of a ``struct numa_stats``.

    Parameters
    ----------
    imbalance_pct : int
        ``unsigned int``.
    nr_running, weight : int
        ``ns->nr_running``, ``ns->weight`` (``unsigned int``).
    capacity, util, runnable : int
        ``ns->compute_capacity``, ``ns->util``, ``ns->runnable`` (``unsigned long``).

    Returns
    -------
    int
        ``node_has_spare`` (0), ``node_fully_busy`` (1) or ``node_overloaded`` (2).
    """
    pct = u32(imbalance_pct)
    nr = u32(nr_running)
    w = u32(weight)
    cap100 = u64(u64(capacity) * 100)
    cap_pct = u64(u64(capacity) * pct)
    util_pct = u64(u64(util) * pct)
    runnable100 = u64(u64(runnable) * 100)

    if nr > w and (cap100 < util_pct or cap_pct < runnable100):
        return NODE_OVERLOADED
    if nr < w or (cap100 > util_pct and cap_pct > runnable100):
        return NODE_HAS_SPARE
    return NODE_FULLY_BUSY


def _long(x: int) -> int:
    """A C ``long`` result; signed overflow is undefined behaviour."""
    if not -(1 << 63) <= x < 1 << 63:
        raise KernelUndefined("signed long overflow")
    return x


def load_too_imbalanced(src_load: int, dst_load: int, src_capacity: int, dst_capacity: int,
                        orig_src_load: int, orig_dst_load: int) -> bool:
    """``load_too_imbalanced`` (kernel/sched/fair.c): would the move worsen the imbalance?

    Parameters
    ----------
    src_load, dst_load : int
        The loads after the move (``long``).
    src_capacity, dst_capacity : int
        ``env->src_stats.compute_capacity``, ``env->dst_stats.compute_capacity``.
    orig_src_load, orig_dst_load : int
        ``env->src_stats.load``, ``env->dst_stats.load``.
    """
    imb = abs(_long(_long(dst_load * src_capacity) - _long(src_load * dst_capacity)))
    old_imb = abs(_long(_long(orig_dst_load * src_capacity)
                        - _long(orig_src_load * dst_capacity)))
    return imb > old_imb


def task_numa_compare_score(taskimp: int, groupimp: int, maymove: bool, p_group: int,
                            cur_group: int, cur_pref: int, has_best_task: bool, best_pref: int,
                            best_imp: int, src_nid: int, dst_nid: int, dst_has_spare: bool,
                            cur_tw_src: int, cur_tw_dst: int, cur_gw_src: int, cur_gw_dst: int,
                            load: int, src_load: int, dst_load: int, src_capacity: int,
                            dst_capacity: int) -> tuple[int, int]:
    """``task_numa_compare`` (kernel/sched/fair.c) from ``cur != NULL`` to ``assign``.

    Starts after the checks that need the runqueue (``numa_migrate_on``,
    ``cur == env->p``, ``cur`` allowed on the source CPU).

    Parameters
    ----------
    taskimp, groupimp : int
        The ``long`` arguments.
    maymove : bool
    p_group, cur_group : int
        Identity of ``p``'s and ``cur``'s ``numa_group`` (-1: NULL).
    cur_pref : int
        ``cur->numa_preferred_nid``.
    has_best_task : bool
        ``env->best_task != NULL``.
    best_pref : int
        ``env->best_task->numa_preferred_nid``.
    best_imp : int
        ``env->best_imp`` (``long``).
    src_nid, dst_nid : int
    dst_has_spare : bool
        ``env->dst_stats.node_type == node_has_spare``.
    cur_tw_src, cur_tw_dst, cur_gw_src, cur_gw_dst : int
        ``task_weight(cur, ...)`` / ``group_weight(cur, ...)`` (``unsigned long``)
        on the source and destination nodes.
    load : int
        ``task_h_load(env->p) - task_h_load(cur)``.
    src_load, dst_load, src_capacity, dst_capacity : int
        ``env->src_stats`` / ``env->dst_stats`` load and capacity.

    Returns
    -------
    (action, imp) : (int, int)
        ``CMP_SKIP`` (``goto unlock``, imp 0), ``CMP_MOVE`` (``assign`` with
        ``cur = NULL``) or ``CMP_SWAP`` (``assign`` with ``cur``), and the
        ``imp`` passed to ``task_numa_assign``.
    """
    p_ng = None if p_group < 0 else p_group
    cur_ng = None if cur_group < 0 else cur_group
    imp = groupimp if p_ng is not None else taskimp
    moveimp = imp

    # skip this swap candidate if it is not moving to its preferred node and the best task is
    if has_best_task and best_pref == src_nid and cur_pref != src_nid:
        return CMP_SKIP, 0

    if cur_ng == p_ng:
        # no swap within a group (or between group-less tasks) while dst has spare capacity
        if dst_has_spare:
            return CMP_SKIP, 0
        # long + unsigned long - unsigned long, stored in a long
        imp = s64(taskimp + u64(cur_tw_src) - u64(cur_tw_dst))
        if cur_ng is not None:
            imp -= c_div(imp, 16)
    elif cur_ng is not None and p_ng is not None:
        imp = s64(imp + u64(cur_gw_src) - u64(cur_gw_dst))
    else:
        imp = s64(imp + u64(cur_tw_src) - u64(cur_tw_dst))

    if cur_pref == dst_nid:
        imp -= c_div(imp, 16)
    if cur_pref == src_nid:
        imp += c_div(imp, 8)

    if maymove and moveimp > imp and moveimp > best_imp:
        return CMP_MOVE, moveimp

    if has_best_task and cur_pref == src_nid and best_pref != src_nid:
        return CMP_SWAP, imp

    if imp < SMALLIMP or imp <= best_imp + c_div(SMALLIMP, 2):
        return CMP_SKIP, 0

    if not load:
        return CMP_SWAP, imp
    new_dst_load = dst_load + load
    new_src_load = src_load - load
    if load_too_imbalanced(new_src_load, new_dst_load, src_capacity, dst_capacity,
                           src_load, dst_load):
        return CMP_SKIP, 0
    return CMP_SWAP, imp


def adjust_numa_imbalance(imbalance: int, dst_running: int, imb_numa_nr: int) -> int:
    """``adjust_numa_imbalance`` (kernel/sched/fair.c): forgive a small NUMA imbalance.

    Parameters
    ----------
    imbalance, dst_running, imb_numa_nr : int
        The ``int`` arguments.

    Returns
    -------
    int
        0 when the destination is lightly loaded (``dst_running <= imb_numa_nr``)
        and ``imbalance <= NUMA_IMBALANCE_MIN``; else ``imbalance``.
    """
    imbalance = s32(imbalance)
    if s32(dst_running) > s32(imb_numa_nr):
        return imbalance
    if imbalance <= NUMA_IMBALANCE_MIN:
        return 0
    return imbalance
