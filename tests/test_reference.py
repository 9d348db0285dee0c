"""The numba decision kernels against plain-Python references written from Linux 6.12.

``tests/naive.py`` re-expresses each kernel function from the C sources (with
C's unsigned wrap-around and truncating division); here hypothesis draws
inputs in realistic kernel ranges, edge values included, and the jitted
simulator functions must agree with the references. Hand-worked examples
(values derived from the C code by hand) make a failure readable.

Inputs for which the kernel itself has no defined answer (a division by
zero, a NULL zone, a CPU id past ``nr_cpu_ids`` ...) are discarded: the
references raise ``naive.KernelUndefined`` for them.
"""

from __future__ import annotations

import naive
import numpy as np
import pytest
from hypothesis import example, given, reject, settings
from hypothesis import strategies as st

from numaexp.sim.kernel import cpupid as sim_cpupid
from numaexp.sim.kernel import scan_period as sim_sp
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
    NODE_FULLY_BUSY,
    NODE_HAS_SPARE,
    NODE_OVERLOADED,
)
from numaexp.sim.kernel.mempolicy import interleave_nid, mpol_misplaced, mpol_policy_node
from numaexp.sim.kernel.placement import task_numa_placement_decay
from numaexp.sim.kernel.sched import adjust_numa_imbalance
from numaexp.sim.kernel.should_migrate import should_numa_migrate_memory_decide
from numaexp.sim.kernel.taskmig import (
    cdiv,
    load_too_imbalanced,
    numa_classify,
    task_numa_compare_score,
)

PROPERTY = settings(max_examples=200, deadline=None)

NO_NODE = naive.NUMA_NO_NODE
MOF_MORON = MPOL_F_MOF | MPOL_F_MORON
CPUPID_UNSET = naive.LAST_CPUPID_MASK  # "-1 & LAST_CPUPID_MASK"
LOAD_AVG_MAX = 47742


def ref(fn, *args):
    """Call a reference; discard the example where the kernel is undefined."""
    try:
        return fn(*args)
    except naive.KernelUndefined:
        reject()


# ---- strategies -----------------------------------------------------------------------

def edged(lo: int, hi: int, *edges: int) -> st.SearchStrategy[int]:
    """Integers in [lo, hi], with the bounds and the given edge values drawn often."""
    picks = sorted({lo, hi, *(e for e in edges if lo <= e <= hi)})
    return st.one_of(st.sampled_from(picks), st.integers(lo, hi))


C_INT = st.integers(-(2 ** 31), 2 ** 31 - 1)
FAULTS = edged(0, 2 ** 40, 1, 2, 3, 7, 10, 2 ** 20, 2 ** 32)
SCAN_SIZE_POW2 = st.sampled_from([1 << k for k in range(17)])  # 1 MB .. 64 GB
SCAN_SIZE_ANY = edged(1, 1 << 16, 2, 3, 58, 100, 255, 256, 257, 1000, 2559, 2560, 4096)
RSS = edged(0, 2 ** 36, 1, 255, 256, 257, 65535, 65536, 65537, 2 ** 20, 2 ** 24)
HZ = st.sampled_from([100, 250, 300, 1000])  # the Kconfig HZ choices


@st.composite
def scan_size_and_rss(draw, any_size: bool):
    """A scan size and an RSS for which ``round_up`` is an exact round-up.

    The kernel's ``round_up`` needs a power-of-two step; with any other scan
    size only RSS values that are 0 or whole multiples of the window are drawn
    (the rounding itself is checked by the ``task_nr_scan_windows`` tests).
    """
    size = draw(SCAN_SIZE_ANY if any_size else SCAN_SIZE_POW2)
    nr_scan_pages = size << 8
    if nr_scan_pages & (nr_scan_pages - 1) == 0:
        return size, draw(RSS)
    windows = draw(edged(0, 2 ** 36 // nr_scan_pages, 1, 2, 3))
    return size, windows * nr_scan_pages


# ---- include/linux/mm.h: cpupid -------------------------------------------------------

@pytest.mark.parametrize(
    "cpu, pid, expected",
    [
        pytest.param(3, 300, (3 << 8) | 44, id="pid keeps its low 8 bits: 300 -> 44"),
        pytest.param(8192, 5, 5, id="cpu keeps 13 bits: cpu 8192 packs as cpu 0"),
        pytest.param(8191, 255, CPUPID_UNSET, id="cpu 8191 with pid 0xff is the unset value"),
        pytest.param(0, 0, 0, id="zero"),
    ],
)
def test_cpu_pid_to_cpupid_examples(cpu, pid, expected):
    assert naive.cpu_pid_to_cpupid(cpu, pid) == expected
    assert sim_cpupid.cpu_pid_to_cpupid(cpu, pid) == expected


def test_cpupid_field_examples():
    packed = (3 << 8) | 44
    assert sim_cpupid.cpupid_to_cpu(packed) == 3
    assert sim_cpupid.cpupid_to_pid(packed) == 44
    assert sim_cpupid.cpupid_match_pid(300, packed), "300 & 0xff == 44"
    assert not sim_cpupid.cpupid_match_pid(301, packed)
    assert sim_cpupid.cpupid_pid_unset(CPUPID_UNSET)
    assert not sim_cpupid.cpupid_pid_unset(packed)
    assert sim_cpupid.cpupid_to_cpu(CPUPID_UNSET) == 8191
    assert sim_cpupid.cpupid_valid(CPUPID_UNSET, 8192), "cpu 8191 < nr_cpu_ids 8192"
    assert not sim_cpupid.cpupid_valid(CPUPID_UNSET, 64)
    assert sim_cpupid.cpupid_valid(packed, 4)
    assert not sim_cpupid.cpupid_valid(packed, 3)


@PROPERTY
@given(cpu=C_INT, pid=C_INT)
def test_cpu_pid_to_cpupid_matches_kernel(cpu, pid):
    assert sim_cpupid.cpu_pid_to_cpupid(cpu, pid) == naive.cpu_pid_to_cpupid(cpu, pid)


@PROPERTY
@given(cpupid=st.one_of(st.integers(0, naive.LAST_CPUPID_MASK), C_INT), pid=C_INT,
       nr_cpu_ids=edged(1, 8192, 2, 4, 64, 8191))
def test_cpupid_fields_match_kernel(cpupid, pid, nr_cpu_ids):
    assert sim_cpupid.cpupid_to_cpu(cpupid) == naive.cpupid_to_cpu(cpupid)
    assert sim_cpupid.cpupid_to_pid(cpupid) == naive.cpupid_to_pid(cpupid)
    assert sim_cpupid.cpupid_pid_unset(cpupid) == naive.cpupid_pid_unset(cpupid)
    assert sim_cpupid.cpupid_match_pid(pid, cpupid) == naive.cpupid_match_pid(pid, cpupid)
    assert sim_cpupid.cpupid_valid(cpupid, nr_cpu_ids) == \
        naive.cpupid_valid(cpupid, nr_cpu_ids)


# ---- kernel/sched/fair.c: scan windows and bounds --------------------------------------

@pytest.mark.parametrize(
    "rss, scan_size_mb, expected",
    [
        pytest.param(0, 256, 1, id="an empty mm counts as one window"),
        pytest.param(65536, 256, 1, id="exactly one 256 MB window"),
        pytest.param(65537, 256, 2, id="one page over a window needs a second one"),
        pytest.param(262144, 256, 4, id="1 GiB in 256 MB windows"),
        pytest.param(3 * 25600, 100, 3, id="3 x 100 MB is 3 windows"),
    ],
)
def test_task_nr_scan_windows_examples(rss, scan_size_mb, expected):
    assert naive.task_nr_scan_windows(rss, scan_size_mb) == expected
    assert sim_sp.task_nr_scan_windows(rss, scan_size_mb) == expected


def test_task_nr_scan_windows_non_power_of_two_uses_round_up_bit_trick():
    """scan_size_mb=100: nr_scan_pages = 25600, not a power of two.

    The kernel's round_up(25601, 25600) = ((25600 | 25599) + 1) = 26624, and
    26624 / 25600 = 1 window, where a true ceiling gives 2.
    """
    assert naive.task_nr_scan_windows(25601, 100) == 1
    assert sim_sp.task_nr_scan_windows(25601, 100) == 1


@PROPERTY
@given(rss=RSS, scan_size_mb=SCAN_SIZE_POW2)
def test_task_nr_scan_windows_matches_kernel_power_of_two_sizes(rss, scan_size_mb):
    assert sim_sp.task_nr_scan_windows(rss, scan_size_mb) == \
        naive.task_nr_scan_windows(rss, scan_size_mb)


@PROPERTY
@given(rss=RSS, scan_size_mb=SCAN_SIZE_ANY)
@example(rss=25601, scan_size_mb=100)
def test_task_nr_scan_windows_matches_kernel_any_size(rss, scan_size_mb):
    assert sim_sp.task_nr_scan_windows(rss, scan_size_mb) == \
        naive.task_nr_scan_windows(rss, scan_size_mb)


@pytest.mark.parametrize(
    "scan_size_mb, scan_period_min_ms, rss, expected",
    [
        pytest.param(256, 1000, 0, 1000, id="defaults, one window: scan_period_min"),
        pytest.param(256, 1000, 2 ** 20, 100, id="4 GiB: 1000/16=62 is under the 100 ms floor"),
        pytest.param(4096, 500, 0, 1000, id="scan size >= 2560 MB: floor is 1000 ms"),
        pytest.param(100, 1000, 25600 * 40, 40, id="100 MB: floor 1000/(2560/100)=40"),
        pytest.param(1, 1000, 2 ** 20, 0, id="1 MB windows: floor and scan are both 0"),
    ],
)
def test_task_scan_min_examples(scan_size_mb, scan_period_min_ms, rss, expected):
    assert naive.task_scan_min(scan_size_mb, scan_period_min_ms, rss) == expected
    assert sim_sp.task_scan_min(scan_size_mb, scan_period_min_ms, rss) == expected


@PROPERTY
@given(size_rss=scan_size_and_rss(any_size=True), scan_period_min_ms=edged(0, 600_000, 1000))
def test_task_scan_min_matches_kernel(size_rss, scan_period_min_ms):
    size, rss = size_rss
    assert sim_sp.task_scan_min(size, scan_period_min_ms, rss) == \
        naive.task_scan_min(size, scan_period_min_ms, rss)


@pytest.mark.parametrize(
    "smin, has_group, refcount, shared, private, expected",
    [
        pytest.param(100, False, 0, 0, 0, 100, id="no group: task_scan_min"),
        pytest.param(100, True, 4, 99, 100, 200, id="group of 4, half shared: 100*4*100/200"),
        pytest.param(100, True, 4, 0, 999, 100, id="all-private group: 400/1000=0, so smin"),
        pytest.param(100, True, 1, 0, 0, 100, id="group without faults: 100*1*1/1"),
    ],
)
def test_task_scan_start_examples(smin, has_group, refcount, shared, private, expected):
    assert naive.task_scan_start(smin, has_group, refcount, shared, private) == expected
    assert sim_sp.task_scan_start(smin, has_group, refcount, shared, private) == expected


@PROPERTY
@given(smin=edged(0, 100_000, 1, 100, 1000), has_group=st.booleans(),
       refcount=edged(1, 64, 2), shared=FAULTS, private=FAULTS)
def test_task_scan_start_matches_kernel(smin, has_group, refcount, shared, private):
    assert sim_sp.task_scan_start(smin, has_group, refcount, shared, private) == \
        naive.task_scan_start(smin, has_group, refcount, shared, private)


@pytest.mark.parametrize(
    "smin, period_max, rss, size, has_group, refcount, shared, private, expected",
    [
        pytest.param(1000, 60000, 0, 256, False, 0, 0, 0, 60000, id="defaults, one window"),
        pytest.param(100, 60000, 2 ** 20, 256, False, 0, 0, 0, 3750, id="16 windows: 60000/16"),
        pytest.param(1000, 60000, 2 ** 24, 256, False, 0, 0, 0, 1000,
                     id="256 windows: 234 is under smin"),
        pytest.param(1000, 60000, 0, 256, True, 2, 3, 0, 120000,
                     id="all-shared group of 2 doubles the maximum"),
        pytest.param(1000, 60000, 0, 256, True, 8, 0, 7, 60000,
                     id="all-private group: 60000*8/8 keeps smax"),
    ],
)
def test_task_scan_max_examples(smin, period_max, rss, size, has_group, refcount, shared,
                                private, expected):
    args = (smin, period_max, rss, size, has_group, refcount, shared, private)
    assert naive.task_scan_max(*args) == expected
    assert sim_sp.task_scan_max(*args) == expected


@PROPERTY
@given(smin=edged(0, 100_000, 1, 100, 1000), period_max=edged(0, 65536, 1000, 60000),
       size_rss=scan_size_and_rss(any_size=True), has_group=st.booleans(),
       refcount=edged(1, 64, 2), shared=FAULTS, private=FAULTS)
def test_task_scan_max_matches_kernel(smin, period_max, size_rss, has_group, refcount, shared,
                                      private):
    size, rss = size_rss
    args = (smin, period_max, rss, size, has_group, refcount, shared, private)
    assert sim_sp.task_scan_max(*args) == naive.task_scan_max(*args)


# ---- kernel/sched/fair.c: update_task_scan_period --------------------------------------

# (period, period_max, smin, smax, remote, local, failed, shared, private)
@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param((1000, 60000, 100, 60000, 0, 100, 0, 0, 100), (1300, False),
                     id="all-local private faults: ps_ratio 10 grows the period by 3 slots"),
        pytest.param((1000, 60000, 100, 60000, 0, 100, 0, 30, 70), (1100, False),
                     id="ps_ratio exactly 7 grows the period by one slot"),
        pytest.param((1000, 60000, 100, 60000, 20, 80, 0, 50, 50), (1100, False),
                     id="mostly shared but 80% local: lr_ratio 8 grows by one slot"),
        pytest.param((1000, 60000, 100, 60000, 100, 0, 0, 80, 20), (500, False),
                     id="remote shared faults: ratio 2 shrinks by 5 slots"),
        pytest.param((1000, 60000, 100, 60000, 100, 0, 1, 80, 20), (2000, True),
                     id="a failed migration doubles the period (slow path)"),
        pytest.param((1000, 1500, 100, 60000, 50, 0, 0, 0, 50), (1500, True),
                     id="no local and no shared faults: doubling capped at period_max"),
        pytest.param((1000, 60000, 100, 1050, 0, 100, 0, 0, 100), (1050, False),
                     id="growth clamped to task_scan_max"),
        pytest.param((150, 60000, 100, 60000, 100, 0, 0, 100, 0), (100, False),
                     id="shrink clamped to task_scan_min"),
        pytest.param((995, 60000, 100, 60000, 0, 100, 0, 0, 100), (1295, False),
                     id="period_slot is DIV_ROUND_UP(995, 10) = 100"),
    ],
)
def test_update_task_scan_period_examples(args, expected):
    assert naive.update_task_scan_period(*args) == expected
    assert sim_sp.update_task_scan_period(*args) == expected


def test_update_task_scan_period_unsigned_wrap_clamps_to_max():
    """period 13, all-remote shared faults: diff = -(7 - 0) * DIV_ROUND_UP(13, 10) = -14.

    ``p->numa_scan_period + diff`` is unsigned int: 13 - 14 wraps to 2**32 - 1,
    and ``clamp(.., task_scan_min, task_scan_max)`` returns task_scan_max (1000),
    not task_scan_min (0). Reachable when task_scan_min < 24 (scan_size_mb < 59
    with a large RSS).
    """
    args = (13, 60000, 0, 1000, 10, 0, 0, 10, 0)
    assert naive.update_task_scan_period(*args) == (1000, False)
    assert sim_sp.update_task_scan_period(*args) == (1000, False)


@st.composite
def scan_period_inputs(draw, min_period: int):
    smin = draw(edged(0, 100_000, 1, 100, 1000))
    smax = draw(st.one_of(st.just(smin), edged(smin, 1_000_000, 60000)))
    period = draw(edged(min_period, 1_000_000, 24, 100, 1000, 60000))
    period_max = draw(edged(0, 1_000_000, 60000))
    failed = draw(st.one_of(st.just(0), FAULTS))
    remote, local, shared, private = (draw(FAULTS) for _ in range(4))
    return period, period_max, smin, smax, remote, local, failed, shared, private


@PROPERTY
@given(args=scan_period_inputs(min_period=24))
def test_update_task_scan_period_matches_kernel(args):
    """From period 24 on, a decrease (at most 7 * DIV_ROUND_UP(p, 10)) never exceeds p."""
    assert sim_sp.update_task_scan_period(*args) == ref(naive.update_task_scan_period, *args)


@PROPERTY
@given(args=scan_period_inputs(min_period=0))
@example(args=(1, 0, 0, 60000, 1, 0, 0, 1, 0))
def test_update_task_scan_period_matches_kernel_small_periods(args):
    assert sim_sp.update_task_scan_period(*args) == ref(naive.update_task_scan_period, *args)


@pytest.mark.parametrize(
    "ms, hz, expected",
    [
        pytest.param(1000, 250, 250, id="1 s at HZ=250"),
        pytest.param(1, 250, 1, id="1 ms rounds up to a tick"),
        pytest.param(0, 250, 0, id="zero"),
        pytest.param(5, 250, 2, id="5 ms is 2 ticks of 4 ms"),
        pytest.param(15, 100, 2, id="15 ms at HZ=100"),
        pytest.param(11, 300, 4, id="11 ms at HZ=300 is 3.3 ticks, rounded up"),
        pytest.param(7, 1000, 7, id="HZ=1000 is the identity"),
    ],
)
def test_msecs_to_jiffies_examples(ms, hz, expected):
    assert naive.msecs_to_jiffies(ms, hz) == expected
    assert sim_sp.msecs_to_jiffies(ms, hz) == expected


@PROPERTY
@given(ms=edged(0, 2 ** 31 - 1, 1, 999, 1000, 1001, 60000), hz=HZ)
def test_msecs_to_jiffies_matches_kernel(ms, hz):
    assert sim_sp.msecs_to_jiffies(ms, hz) == naive.msecs_to_jiffies(ms, hz)


JIFFIES_MS_FIT = (2 ** 32 - 1) // 10
"""The largest tick count whose ms fit ``unsigned int`` at every HZ (10 ms a tick at HZ 100,
~49.7 days): past it the kernel's result wraps, and the simulator's clock, which starts at 0,
never gets there."""


@pytest.mark.parametrize(
    "j, hz, expected",
    [
        pytest.param(1, 300, 4, id="1 tick at HZ=300 is 3.33 ms, rounded up"),
        pytest.param(2, 300, 7, id="2 ticks at HZ=300 is 6.67 ms, rounded up"),
        pytest.param(3, 300, 10, id="3 ticks at HZ=300 is exactly 10 ms"),
        pytest.param(300, 300, 1000, id="1 s at HZ=300"),
        pytest.param(1, 250, 4, id="HZ=250: 4 ms a tick, exact"),
        pytest.param(5, 100, 50, id="HZ=100: 10 ms a tick"),
        pytest.param(7, 1000, 7, id="HZ=1000 is the identity"),
        pytest.param(0, 300, 0, id="zero"),
    ],
)
def test_jiffies_to_msecs_examples(j, hz, expected):
    assert naive.jiffies_to_msecs(j, hz) == expected
    assert sim_sp.jiffies_to_msecs(j, hz) == expected


@PROPERTY
@given(j=edged(0, JIFFIES_MS_FIT, 1, 2, 3, 299, 300, 301, JIFFIES_MS_FIT - 1), hz=HZ)
def test_jiffies_to_msecs_matches_kernel(j, hz):
    assert sim_sp.jiffies_to_msecs(j, hz) == naive.jiffies_to_msecs(j, hz)


# ---- kernel/sched/fair.c: should_numa_migrate_memory ----------------------------------

CPU_NODE_2x2 = np.array([0, 0, 1, 1], dtype=np.int64)


def _smm(last_cpupid, pid, dst_nid, src_nid, *, tiering=False, src_toptier=True, pref=0,
         seq=10, has_group=False, gfc=(0, 0), gf=(0, 0), cpu_node=CPU_NODE_2x2):
    return (last_cpupid, pid, dst_nid, src_nid, tiering, src_toptier, len(cpu_node), pref,
            seq, has_group, gfc[0], gfc[1], gf[0], gf[1], cpu_node)


@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param(_smm(CPUPID_UNSET, 9, 1, 0, pref=NO_NODE), True,
                     id="first fault on the folio (pid unset) migrates before a preference"),
        pytest.param(_smm((100 << 8) | 5, 9, 1, 0, src_toptier=False), False,
                     id="slow-tier folio with an invalid cpu field (tiering off): no"),
        pytest.param(_smm((100 << 8) | 255, 9, 1, 0, tiering=True, src_toptier=False,
                          pref=NO_NODE, seq=0),
                     True, id="invalid cpu field not checked with tiering on; pid unset -> yes"),
        pytest.param(_smm((0 << 8) | 7, 9, 1, 0), False,
                     id="two-stage filter: previous fault from node 0, this one from node 1"),
        pytest.param(_smm((2 << 8) | 9, 9, 1, 0), True,
                     id="private fault (pid matches) from the same node migrates"),
        pytest.param(_smm((2 << 8) | 9, 265, 1, 0), True,
                     id="pid 265 matches cpupid pid bits 9 (low 8 bits)"),
        pytest.param(_smm((3 << 8) | 7, 9, 1, 0), True,
                     id="shared fault without a group migrates"),
        pytest.param(_smm((3 << 8) | 7, 9, 1, 0, has_group=True, gfc=(10, 3)), True,
                     id="group CPU faults on dst above 3x src: migrate"),
        pytest.param(_smm((3 << 8) | 7, 9, 1, 0, has_group=True, gfc=(9, 3), gf=(100, 100)),
                     True, id="9*100*3=2700 > 3*100*4=1200: migrate"),
        pytest.param(_smm((3 << 8) | 7, 9, 1, 0, has_group=True, gfc=(3, 3), gf=(100, 100)),
                     False, id="3*100*3=900 <= 3*100*4=1200: stay"),
        pytest.param(_smm((0 << 8) | 9, 9, 1, 0, seq=4), True,
                     id="numa_scan_seq <= 4 lets a private fault skip the two-stage filter"),
    ],
)
def test_should_numa_migrate_memory_examples(args, expected):
    assert naive.should_numa_migrate_memory_decide(*args) == expected
    assert should_numa_migrate_memory_decide(*_with_last_nid(args)) == expected


def _with_last_nid(args):
    """The jitted filter's arguments: ``cpu_node`` replaced by ``cpupid_to_nid(last_cpupid)``
    (the simulator looks the node up before the call; NUMA_NO_NODE when unset or off the
    machine)."""
    *head, cpu_node = args
    last_cpupid, nr_cpu_ids = args[0], args[6]
    cpu = naive.cpupid_to_cpu(last_cpupid)
    unset = naive.cpupid_pid_unset(last_cpupid)
    last_nid = -1 if unset or cpu >= nr_cpu_ids else int(cpu_node[cpu])
    return (*head, last_nid)


@st.composite
def smm_inputs(draw):
    nr_nodes = draw(st.integers(1, 8))
    nr_cpu_ids = draw(edged(1, 64, 2, 4))
    cpu_node = draw(st.lists(st.integers(0, nr_nodes - 1), min_size=nr_cpu_ids,
                             max_size=nr_cpu_ids))
    last_cpu = draw(st.one_of(st.integers(0, nr_cpu_ids - 1), edged(0, 8191, nr_cpu_ids)))
    last_pid_bits = draw(edged(0, 255, 254))
    last_cpupid = (last_cpu << 8) | last_pid_bits
    pid = draw(st.one_of(edged(0, 4_194_304, 255, 256),
                         st.integers(0, 16383).map(lambda k: k * 256 + last_pid_bits)))
    node = st.integers(0, nr_nodes - 1)
    gfc = edged(0, 2 ** 24, 1, 3)
    gf = edged(0, 2 ** 36, 1, 4)
    return (last_cpupid, pid, draw(node), draw(node), draw(st.booleans()),
            draw(st.booleans()), nr_cpu_ids, draw(st.integers(-1, nr_nodes - 1)),
            draw(st.one_of(edged(0, 10, 4, 5), st.integers(0, 2 ** 31 - 1))),
            draw(st.booleans()), draw(gfc), draw(gfc), draw(gf), draw(gf),
            np.array(cpu_node, dtype=np.int64))


@PROPERTY
@given(args=smm_inputs())
def test_should_numa_migrate_memory_matches_kernel(args):
    want = ref(naive.should_numa_migrate_memory_decide, *args)
    assert should_numa_migrate_memory_decide(*_with_last_nid(args)) == want


# ---- mm/mempolicy.c ---------------------------------------------------------------------

# zonelist of node 1 on four nodes, nearest first
ZL1 = np.array([1, 0, 2, 3], dtype=np.int64)
ZL2 = np.array([2, 3, 0, 1], dtype=np.int64)


def _mask(*nodes):
    return sum(1 << n for n in nodes)


# (mode, nodes, flags, curnid, thisnid, ilx_nid, zonelist, should_migrate)
MISPLACED_EXAMPLES = [
    pytest.param((MPOL_DEFAULT, 0, MOF_MORON, 0, 1, NO_NODE, ZL1, True), 1,
                 id="default policy, remote folio, filter agrees: move to this node"),
    pytest.param((MPOL_DEFAULT, 0, MOF_MORON, 1, 1, NO_NODE, ZL1, True), NO_NODE,
                 id="default policy, folio already local: no move"),
    pytest.param((MPOL_DEFAULT, 0, MOF_MORON, 0, 1, NO_NODE, ZL1, False), NO_NODE,
                 id="default policy, filter refuses: no move"),
    pytest.param((MPOL_BIND, _mask(0, 2), 0, 3, 1, NO_NODE, ZL1, True), NO_NODE,
                 id="bind without MPOL_F_MOF is never misplaced"),
    pytest.param((MPOL_BIND, _mask(0, 2), MOF_MORON, 0, 1, NO_NODE, ZL1, True), NO_NODE,
                 id="bind+numa_balancing, this node outside the mask: no move"),
    pytest.param((MPOL_BIND, _mask(0, 2), MOF_MORON, 0, 2, NO_NODE, ZL2, True), 2,
                 id="bind+numa_balancing, this node in the mask: move here"),
    pytest.param((MPOL_PREFERRED_MANY, _mask(0, 2), MOF_MORON, 0, 2, NO_NODE, ZL2, False),
                 NO_NODE, id="preferred_many+numa_balancing, filter refuses: no move"),
    pytest.param((MPOL_BIND, _mask(0, 2), MPOL_F_MOF, 3, 1, NO_NODE, ZL1, False), 0,
                 id="bind with MOF only: nearest allowed node of this node's zonelist"),
    pytest.param((MPOL_BIND, _mask(0, 2), MPOL_F_MOF, 2, 1, NO_NODE, ZL1, True), NO_NODE,
                 id="bind with MOF only: folio on an allowed node stays"),
    pytest.param((MPOL_INTERLEAVE, _mask(0, 1, 3), MPOL_F_MOF, 0, 1, 3, ZL1, False), 3,
                 id="interleave with MOF: the interleave node"),
    pytest.param((MPOL_WEIGHTED_INTERLEAVE, _mask(0, 3), MPOL_F_MOF, 3, 1, 3, ZL1, False),
                 NO_NODE, id="weighted interleave, folio already on its node"),
    pytest.param((MPOL_LOCAL, 0, MPOL_F_MOF, 0, 1, NO_NODE, ZL1, False), 1,
                 id="local with MOF: this node"),
    pytest.param((MPOL_PREFERRED, _mask(2), MPOL_F_MOF, 0, 1, NO_NODE, ZL1, False), 2,
                 id="preferred with MOF: its first node"),
    pytest.param((MPOL_PREFERRED, _mask(2), MOF_MORON, 0, 1, NO_NODE, ZL1, True), 1,
                 id="preferred with MORON: the referencing node wins"),
]


@pytest.mark.parametrize("args, expected", MISPLACED_EXAMPLES)
def test_mpol_misplaced_examples(args, expected):
    assert naive.mpol_misplaced(*args) == expected
    assert mpol_misplaced(*args) == expected


@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param((MPOL_DEFAULT, 0, MOF_MORON, 0, 1, NO_NODE, ZL1), (False, 1),
                     id="default: preferred node of this node"),
        pytest.param((MPOL_DEFAULT, 0, MOF_MORON, 1, 1, NO_NODE, ZL1), (True, NO_NODE),
                     id="default with a local folio jumps to out"),
        pytest.param((MPOL_BIND, _mask(0, 2), MPOL_F_MOF, 3, 1, NO_NODE, ZL1), (False, 0),
                     id="bind: first zonelist node in the mask"),
        pytest.param((MPOL_BIND, _mask(0, 2), 0, 3, 1, NO_NODE, ZL1), (True, NO_NODE),
                     id="no MOF jumps to out"),
    ],
)
def test_mpol_policy_node_examples(args, expected):
    assert naive.mpol_policy_node(*args) == expected
    out, polnid = expected
    assert mpol_policy_node(*args) == (NO_NODE if out else polnid)


@st.composite
def policy_inputs(draw):
    nr_nodes = draw(st.integers(1, 8))
    node = st.integers(0, nr_nodes - 1)
    mode = draw(st.sampled_from([MPOL_DEFAULT, MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE,
                                 MPOL_LOCAL, MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE]))
    nodes = draw(st.integers(1, (1 << nr_nodes) - 1))
    # the default policy always carries MOF|MORON (preferred_node_policy)
    flags = MOF_MORON if mode == MPOL_DEFAULT else \
        draw(st.sampled_from([0, MPOL_F_MOF, MPOL_F_MORON, MOF_MORON]))
    thisnid = draw(node)
    ilx_nid = NO_NODE
    if mode in (MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE):
        ilx_nid = draw(st.sampled_from([n for n in range(nr_nodes) if nodes >> n & 1]))
    order = draw(st.permutations(range(nr_nodes)))
    keep = draw(st.integers(0, nr_nodes))  # nodes without memory drop out of the zonelist
    zonelist = np.full(nr_nodes, -1, dtype=np.int64)
    zonelist[:keep] = order[:keep]
    return mode, nodes, flags, draw(node), thisnid, ilx_nid, zonelist


@PROPERTY
@given(args=policy_inputs(), should_migrate=st.booleans())
def test_mpol_misplaced_matches_kernel(args, should_migrate):
    want = ref(naive.mpol_misplaced, *args, should_migrate)
    assert mpol_misplaced(*args, should_migrate) == want


@PROPERTY
@given(args=policy_inputs())
def test_mpol_policy_node_matches_kernel(args):
    out, polnid = ref(naive.mpol_policy_node, *args)
    got = mpol_policy_node(*args)
    if out:
        assert got == NO_NODE
    elif polnid == NO_NODE:
        # BIND/PREFERRED_MANY with MORON break out of the switch with polnid unset;
        # the simulator only has to say "not out" (MORON then sets polnid = thisnid)
        assert got != NO_NODE
    else:
        assert got == polnid


@pytest.mark.parametrize(
    "mask, ilx, expected",
    [
        pytest.param(_mask(0, 1, 3), 0, 0, id="ilx 0: first node"),
        pytest.param(_mask(0, 1, 3), 2, 3, id="ilx 2: third node"),
        pytest.param(_mask(0, 1, 3), 3, 0, id="ilx 3 wraps to the first node"),
        pytest.param(_mask(0, 1, 3), 5, 3, id="ilx 5 = 2 mod 3"),
        pytest.param(_mask(5), 12345, 5, id="single node"),
    ],
)
def test_interleave_nid_examples(mask, ilx, expected):
    assert naive.interleave_nid(mask, ilx) == expected
    assert interleave_nid(mask, ilx) == expected


@PROPERTY
@given(mask=st.one_of(st.integers(1, 255), st.integers(1, 2 ** 63 - 1)),
       ilx=edged(0, 2 ** 63 - 1, 1, 2, 3))
def test_interleave_nid_matches_kernel(mask, ilx):
    assert interleave_nid(mask, ilx) == naive.interleave_nid(mask, ilx)


# ---- kernel/sched/fair.c: task_numa_placement decay ------------------------------------

def _idx(stat, nid, priv, nr_nodes=2):
    return 2 * (stat * nr_nodes + nid) + priv


MEM, CPU, MEMBUF, CPUBUF = 0, 1, 2, 3


def _decay_example(has_group):
    """Two nodes; worked by hand from the C loop.

    Task: MEM[n0,priv] = 100, MEMBUF[n0,priv] = 40, MEMBUF[n1,shared] = 10,
    CPU[n0,priv] = 50, CPUBUF[n0,priv] = 30; runtime 1000 ns over period 999 ns
    gives f_scale = (1000 << 16) / 1000 = 65536; total_faults 39.
    - MEM[n0,priv]: diff = 40 - 100/2 = -10 -> 90; MEM[n1,shared]: diff 10 -> 10.
    - CPU[n0,priv]: f_weight = 65536 * 30 / 40 = 49152, f_diff = 49152 - 25 -> 49177.
    - fault_types = (10, 40); total diff = -10 + 10 = 0.
    Group: the task's MEM/CPU plus another member's MEM[n1,shared] = 1000.
    """
    faults = [0] * 16
    faults[_idx(MEM, 0, 1)] = 100
    faults[_idx(MEMBUF, 0, 1)] = 40
    faults[_idx(MEMBUF, 1, 0)] = 10
    faults[_idx(CPU, 0, 1)] = 50
    faults[_idx(CPUBUF, 0, 1)] = 30
    gfaults = faults[:8]
    gfaults[_idx(MEM, 1, 0)] += 1000
    after = [0] * 16
    after[_idx(MEM, 0, 1)] = 90
    after[_idx(MEM, 1, 0)] = 10
    after[_idx(CPU, 0, 1)] = 49177
    gafter = list(gfaults)
    if has_group:
        gafter[_idx(MEM, 0, 1)] = 90
        gafter[_idx(MEM, 1, 0)] = 1010
        gafter[_idx(CPU, 0, 1)] = 49177
    return faults, gfaults, after, gafter


@pytest.mark.parametrize(
    "has_group, expected",
    [
        pytest.param(False, (0, 90, 10, 40, 0), id="task alone: node 0 has the most faults"),
        pytest.param(True, (1, 1010, 10, 40, 0),
                     id="in a group: the group's faults choose node 1"),
    ],
)
def test_task_numa_placement_decay_examples(has_group, expected):
    faults, gfaults, after, gafter = _decay_example(has_group)
    ref_f, ref_g = list(faults), list(gfaults)
    assert naive.task_numa_placement_decay(ref_f, ref_g, has_group, 2, 1000, 999, 39) == \
        expected
    assert (ref_f, ref_g) == (after, gafter)
    arr_f = np.array(faults, dtype=np.int64)
    arr_g = np.array(gfaults, dtype=np.int64)
    got = task_numa_placement_decay(arr_f, arr_g, has_group, 2, 1000, 999, 39)
    assert tuple(got) == expected
    assert arr_f.tolist() == after
    assert arr_g.tolist() == gafter


def test_task_numa_placement_decay_ties_and_empty():
    """Equal faults: the strict '>' keeps the lowest node; no faults: NUMA_NO_NODE."""
    for faults, expected in (([0] * 16, (NO_NODE, 0, 0, 0, 0)),
                             ([0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 6, 0, 0, 0, 0],
                              (0, 6, 0, 12, 12))):
        assert naive.task_numa_placement_decay(list(faults), [0] * 8, False, 2, 0, 0, 0) == \
            expected
        got = task_numa_placement_decay(np.array(faults, dtype=np.int64),
                                        np.zeros(8, dtype=np.int64), False, 2, 0, 0, 0)
        assert tuple(got) == expected


@st.composite
def decay_inputs(draw):
    """A task's fault array and a consistent group array.

    A group's MEM/CPU counters are the sums over its members, so each is at
    least the task's own counter (the kernel keeps them that way in
    ``task_numa_group``); ``runtime <= period`` (CPU time within wall time;
    the first placement uses load_sum <= LOAD_AVG_MAX over LOAD_AVG_MAX).
    """
    nr_nodes = draw(st.integers(1, 4))
    faults = draw(st.lists(FAULTS, min_size=8 * nr_nodes, max_size=8 * nr_nodes))
    others = draw(st.lists(FAULTS, min_size=4 * nr_nodes, max_size=4 * nr_nodes))
    gfaults = [f + o for f, o in zip(faults[:4 * nr_nodes], others, strict=True)]
    period = draw(edged(0, 2 ** 44, LOAD_AVG_MAX, 10 ** 9))
    runtime = draw(edged(0, period, period // 2))
    total_faults = draw(edged(0, 2 ** 41, 1))
    return faults, gfaults, draw(st.booleans()), nr_nodes, runtime, period, total_faults


@PROPERTY
@given(args=decay_inputs())
def test_task_numa_placement_decay_matches_kernel(args):
    faults, gfaults, has_group, nr_nodes, runtime, period, total_faults = args
    ref_f, ref_g = list(faults), list(gfaults)
    want = ref(naive.task_numa_placement_decay, ref_f, ref_g, has_group, nr_nodes, runtime,
               period, total_faults)
    arr_f = np.array(faults, dtype=np.int64)
    arr_g = np.array(gfaults, dtype=np.int64)
    got = task_numa_placement_decay(arr_f, arr_g, has_group, nr_nodes, runtime, period,
                                    total_faults)
    assert tuple(int(v) for v in got) == want
    assert arr_f.view(np.uint64).tolist() == ref_f
    assert arr_g.view(np.uint64).tolist() == ref_g
    if not has_group:
        assert arr_g.tolist() == gfaults


# ---- kernel/sched/fair.c: task_numa_migrate helpers ----------------------------------

@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param((117, 2, 4, 4096, 4096, 4096), NODE_HAS_SPARE,
                     id="fewer tasks than CPUs: spare"),
        pytest.param((117, 4, 4, 4096, 4096, 4096), NODE_FULLY_BUSY,
                     id="one task per CPU, fully used: busy"),
        pytest.param((117, 5, 4, 4096, 4096, 4096), NODE_OVERLOADED,
                     id="more tasks than CPUs and 409600 < 4096*117: overloaded"),
        pytest.param((117, 5, 4, 4096, 1000, 1000), NODE_HAS_SPARE,
                     id="more tasks than CPUs but little util and runnable: spare"),
    ],
)
def test_numa_classify_examples(args, expected):
    assert naive.numa_classify(*args) == expected
    assert numa_classify(*args) == expected


@PROPERTY
@given(pct=edged(100, 200, 108, 117, 125), nr=edged(0, 65536, 1, 2, 3, 4),
       weight=edged(0, 1024, 1, 2, 4), capacity=edged(0, 2 ** 30, 1024, 4096),
       util=edged(0, 2 ** 30, 1024, 4096), runnable=edged(0, 2 ** 30, 1024, 4096))
def test_numa_classify_matches_kernel(pct, nr, weight, capacity, util, runnable):
    assert numa_classify(pct, nr, weight, capacity, util, runnable) == \
        naive.numa_classify(pct, nr, weight, capacity, util, runnable)


@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param((1024, 1024, 2048, 2048, 2048, 0), False,
                     id="moving 1024 from a loaded to an empty node evens it out"),
        pytest.param((0, 3072, 2048, 2048, 1024, 2048), True,
                     id="moving 1024 onto the busier node makes it worse"),
        pytest.param((1024, 1024, 2048, 2048, 1024, 1024), False,
                     id="no change is not worse"),
    ],
)
def test_load_too_imbalanced_examples(args, expected):
    assert naive.load_too_imbalanced(*args) == expected
    assert load_too_imbalanced(*args) == expected


LOADS = edged(-(2 ** 30), 2 ** 30, 0, 1024)  # products stay inside a C long
CAPS = edged(0, 2 ** 30, 1024)


@PROPERTY
@given(src=LOADS, dst=LOADS, src_cap=CAPS, dst_cap=CAPS, osrc=LOADS, odst=LOADS)
def test_load_too_imbalanced_matches_kernel(src, dst, src_cap, dst_cap, osrc, odst):
    assert load_too_imbalanced(src, dst, src_cap, dst_cap, osrc, odst) == \
        naive.load_too_imbalanced(src, dst, src_cap, dst_cap, osrc, odst)


def _score(taskimp=0, groupimp=0, maymove=False, p_group=-1, cur_group=-1, cur_pref=NO_NODE,
           has_best_task=False, best_pref=NO_NODE, best_imp=0, src_nid=0, dst_nid=1,
           dst_has_spare=False, cur_tw=(0, 0), cur_gw=(0, 0), load=0,
           loads=(2048, 2048), caps=(2048, 2048)):
    return (taskimp, groupimp, maymove, p_group, cur_group, cur_pref, has_best_task,
            best_pref, best_imp, src_nid, dst_nid, dst_has_spare, cur_tw[0], cur_tw[1],
            cur_gw[0], cur_gw[1], load, loads[0], loads[1], caps[0], caps[1])


@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param(_score(taskimp=500, p_group=1, cur_group=1, dst_has_spare=True),
                     (CMP_SKIP, 0), id="same group and dst has spare capacity: no swap"),
        pytest.param(_score(taskimp=100, cur_tw=(300, 100)), (CMP_SWAP, 300),
                     id="no groups: imp = 100 + 300 - 100"),
        pytest.param(_score(taskimp=100, p_group=1, cur_group=1, cur_tw=(300, 100)),
                     (CMP_SWAP, 282), id="same group: 300 - 300/16 = 282"),
        pytest.param(_score(groupimp=-100, p_group=1, cur_group=2, cur_pref=0,
                            has_best_task=True, best_pref=1),
                     (CMP_SWAP, -112),
                     id="cur moves to its preferred node: -100 + (-100/8 = -12, truncated)"),
        pytest.param(_score(taskimp=320, cur_pref=1), (CMP_SWAP, 300),
                     id="cur already on its preferred dst: 320 - 320/16"),
        pytest.param(_score(taskimp=200, maymove=True, cur_tw=(0, 300)), (CMP_MOVE, 200),
                     id="a plain move (200) beats a swap (-100)"),
        pytest.param(_score(taskimp=500, cur_pref=1, has_best_task=True, best_pref=0),
                     (CMP_SKIP, 0), id="best task prefers the source and cur does not"),
        pytest.param(_score(taskimp=29), (CMP_SKIP, 0), id="imp 29 < SMALLIMP"),
        pytest.param(_score(taskimp=45, best_imp=30), (CMP_SKIP, 0),
                     id="imp 45 <= best_imp + 15"),
        pytest.param(_score(taskimp=46, best_imp=30), (CMP_SWAP, 46),
                     id="imp 46 > best_imp + 15"),
        pytest.param(_score(taskimp=300, load=1024, loads=(1024, 2048)), (CMP_SKIP, 0),
                     id="moving 1024 of load onto the busier node: too imbalanced"),
        pytest.param(_score(taskimp=300, load=1024, loads=(3072, 1024)), (CMP_SWAP, 300),
                     id="moving 1024 of load onto the idler node is fine"),
    ],
)
def test_task_numa_compare_score_examples(args, expected):
    assert naive.task_numa_compare_score(*args) == expected
    assert task_numa_compare_score(*args) == expected


@st.composite
def compare_inputs(draw):
    src_nid = draw(st.integers(0, 3))
    dst_nid = draw(st.integers(0, 3).filter(lambda n: n != src_nid))
    pref = st.sampled_from([NO_NODE, src_nid, dst_nid, 4])
    group = st.integers(-1, 3)
    imp = edged(-3000, 3000, -17, -16, -15, -1, 0, 1, 15, 16, 17, 29, 30, 31)
    weight = edged(0, 2000, 1000)
    load = st.one_of(st.just(0), edged(-4096, 4096, 1024, -1024))
    return (draw(imp), draw(imp), draw(st.booleans()), draw(group), draw(group), draw(pref),
            draw(st.booleans()), draw(pref), draw(edged(-3000, 3000, 0, 15)), src_nid,
            dst_nid, draw(st.booleans()), draw(weight), draw(weight), draw(weight),
            draw(weight), draw(load), draw(edged(0, 2 ** 24, 1024)),
            draw(edged(0, 2 ** 24, 1024)), draw(edged(0, 2 ** 24, 1024)),
            draw(edged(0, 2 ** 24, 1024)))


@PROPERTY
@given(args=compare_inputs())
def test_task_numa_compare_score_matches_kernel(args):
    got = task_numa_compare_score(*args)
    assert (int(got[0]), int(got[1])) == ref(naive.task_numa_compare_score, *args)


@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param((2, 3, 4), 0, id="imbalance 2 on a lightly loaded dst is forgiven"),
        pytest.param((3, 3, 4), 3, id="imbalance 3 is kept"),
        pytest.param((1, 5, 4), 1, id="dst busier than imb_numa_nr: kept"),
        pytest.param((0, 0, 0), 0, id="zero"),
        pytest.param((-5, 1, 4), 0, id="negative imbalance on a light dst: 0"),
    ],
)
def test_adjust_numa_imbalance_examples(args, expected):
    assert naive.adjust_numa_imbalance(*args) == expected
    assert adjust_numa_imbalance(*args) == expected


@PROPERTY
@given(imbalance=edged(-(2 ** 31), 2 ** 31 - 1, -1, 0, 1, 2, 3),
       dst_running=edged(0, 65536, 1, 2, 3, 4), imb_numa_nr=edged(0, 1024, 1, 2, 4, 8))
def test_adjust_numa_imbalance_matches_kernel(imbalance, dst_running, imb_numa_nr):
    assert adjust_numa_imbalance(imbalance, dst_running, imb_numa_nr) == \
        naive.adjust_numa_imbalance(imbalance, dst_running, imb_numa_nr)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        pytest.param(-17, 16, -1, id="-17/16 truncates to -1 (floor would be -2)"),
        pytest.param(17, -16, -1, id="17/-16 = -1"),
        pytest.param(-16, 16, -1, id="exact negative"),
        pytest.param(-15, 16, 0, id="-15/16 truncates to 0"),
        pytest.param(-7, 2, -3, id="-7/2 = -3"),
        pytest.param(-7, -2, 3, id="-7/-2 = 3"),
    ],
)
def test_cdiv_examples(a, b, expected):
    assert naive.c_div(a, b) == expected
    assert cdiv(a, b) == expected


@PROPERTY
@given(a=edged(-(2 ** 62), 2 ** 62, -17, -16, -1, 0, 1, 16, 17),
       b=edged(-(2 ** 31), 2 ** 31, -16, -8, -1, 1, 8, 16).filter(bool))
def test_cdiv_matches_c(a, b):
    assert cdiv(a, b) == naive.c_div(a, b)
