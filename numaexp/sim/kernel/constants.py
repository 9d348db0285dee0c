"""Constants of the kernel code the mirrors follow, under the kernel's names.

``TNF_*``, ``MPOL_*``, ``NUMAB_SKIP_*``, the vm event items, scheduler and
scan constants. Values are the kernel's, except flag bits that only need to
be distinct here (``VM_*``, ``MPOL_F_*``). The mode bits and the page size are
the model's (:mod:`numaexp.model.kernel`, :mod:`numaexp.model.units`); the
counter indices follow the readout table (:mod:`numaexp.readout`).
"""

from __future__ import annotations

from numaexp.model.kernel import (  # noqa: F401 (re-exported for the mirrors)
    NUMA_BALANCING_CGROUP,
    NUMA_BALANCING_MEMORY_TIERING,
    NUMA_BALANCING_NORMAL,
)
from numaexp.model.machine import NR_CPUS
from numaexp.model.units import PAGE_SIZE
from numaexp.readout import MEMCG_SPECS, VMSTAT_SPECS

NUMA_NO_NODE = -1

PAGE_SHIFT = PAGE_SIZE.bit_length() - 1  # 12
MB_TO_PAGES_SHIFT = 20 - PAGE_SHIFT  # "<< (20 - PAGE_SHIFT)": MB to pages
HPAGE_PMD_NR = 512  # pages of a PMD-mapped THP (2 MiB)
U32_MASK = 0xFFFFFFFF  # unsigned int arithmetic wraps here
INT_MAX = 0x7FFFFFFF
MAX_JIFFY_OFFSET = ((1 << 63) - 1 >> 1) - 1  # ((LONG_MAX >> 1) - 1): "never", in jiffies

# last_cpupid: ((cpu & LAST__CPU_MASK) << LAST__PID_SHIFT) | (pid & LAST__PID_MASK)
LAST__PID_SHIFT = 8
LAST__PID_MASK = 0xFF
LAST__CPU_SHIFT = NR_CPUS.bit_length() - 1  # NR_CPUS_BITS: 13 for Debian's 8192
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

# memory policy modes (uapi values) and flags
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

# VMA flags
VM_WRITE = 0x1
VM_SHARED = 0x2
VM_EXEC = 0x4
VM_FILE = 0x8  # has vm_file (file-backed or shmem)
VM_FILE_LRU = 0x10  # page cache of a regular file (not shmem)
VM_THP = 0x20  # PMD-mapped huge pages

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

# Counter indices, one constant per counter of the readout table, in its order:
# NUMA_PTE_UPDATES = index of "numa_pte_updates" in State.cnt_vm (/proc/vmstat), ...,
# ALLOC_FAILED; MC_NUMA_PAGES_MIGRATED = index of "numa_pages_migrated" in
# State.cnt_memcg (memory.stat), ..., MC_NUMA_TASK_SWAPPED.
VM_NAMES = tuple(name for name, _, _ in VMSTAT_SPECS)
MEMCG_NAMES = tuple(name for name, _, _ in MEMCG_SPECS)
NR_VM = len(VM_NAMES)
NR_MEMCG = len(MEMCG_NAMES)
globals().update({name.upper(): index for index, name in enumerate(VM_NAMES)})
globals().update({f"MC_{name.upper()}": index for index, name in enumerate(MEMCG_NAMES)})

# numa_classify
NODE_HAS_SPARE, NODE_FULLY_BUSY, NODE_OVERLOADED = 0, 1, 2

# task_numa_compare outcomes (the simulator's split of the function, see taskmig)
CMP_SKIP, CMP_MOVE, CMP_SWAP = 0, 1, 2

SWAP_CLUSTER_MAX = 32  # pages reclaimed per direct-reclaim batch

SCHED_CAPACITY_SCALE = 1024
LOAD_AVG_MAX = 47742
SMALLIMP = 30
NUMA_IMBALANCE_MIN = 2
ACTIVE_NODE_FRACTION = 3
NUMA_PERIOD_SLOTS = 10
NUMA_PERIOD_THRESHOLD = 7
MAX_SCAN_WINDOW = 2560
SD_NUMA_IMBALANCE_PCT = 117  # sd->imbalance_pct of a NUMA sched domain (sd_init)
MSEC_PER_SEC = 1000
NSEC_PER_MSEC = 1_000_000

# sched_domain flags (include/linux/sched/sd_flags.h, bit order of the SD_FLAG list)
SD_BALANCE_NEWIDLE = 1 << 0
SD_BALANCE_EXEC = 1 << 1
SD_BALANCE_FORK = 1 << 2
SD_BALANCE_WAKE = 1 << 3
SD_WAKE_AFFINE = 1 << 4
SD_ASYM_CPUCAPACITY = 1 << 5
SD_ASYM_CPUCAPACITY_FULL = 1 << 6
SD_SHARE_CPUCAPACITY = 1 << 7
SD_CLUSTER = 1 << 8
SD_SHARE_LLC = 1 << 9
SD_SERIALIZE = 1 << 10
SD_ASYM_PACKING = 1 << 11
SD_PREFER_SIBLING = 1 << 12
SD_OVERLAP = 1 << 13
SD_NUMA = 1 << 14
SD_DEGENERATE_GROUPS_MASK = (SD_BALANCE_NEWIDLE | SD_BALANCE_EXEC | SD_BALANCE_FORK
                             | SD_BALANCE_WAKE | SD_ASYM_CPUCAPACITY | SD_ASYM_CPUCAPACITY_FULL
                             | SD_SHARE_CPUCAPACITY | SD_CLUSTER | SD_SHARE_LLC | SD_SERIALIZE
                             | SD_ASYM_PACKING | SD_PREFER_SIBLING | SD_OVERLAP | SD_NUMA)
"""Flags marked SDF_NEEDS_GROUPS: meaningless in a domain with one group."""
SD_FLAG_NAMES = ("SD_BALANCE_NEWIDLE", "SD_BALANCE_EXEC", "SD_BALANCE_FORK", "SD_BALANCE_WAKE",
                 "SD_WAKE_AFFINE", "SD_ASYM_CPUCAPACITY", "SD_ASYM_CPUCAPACITY_FULL",
                 "SD_SHARE_CPUCAPACITY", "SD_CLUSTER", "SD_SHARE_LLC", "SD_SERIALIZE",
                 "SD_ASYM_PACKING", "SD_PREFER_SIBLING", "SD_OVERLAP", "SD_NUMA")
"""Names of the flag bits, in bit order (debugfs ``sched/domains/cpuN/domainM/flags``)."""
RECLAIM_DISTANCE = 30  # node_reclaim_distance: NUMA levels beyond it neither fork- nor wake-balance

# enum cpu_idle_type
CPU_NOT_IDLE, CPU_IDLE, CPU_NEWLY_IDLE = 0, 1, 2
# enum group_type, in pulling priority
GROUP_HAS_SPARE, GROUP_FULLY_BUSY, GROUP_MISFIT_TASK, GROUP_SMT_BALANCE, GROUP_ASYM_PACKING, \
    GROUP_IMBALANCED, GROUP_OVERLOADED = range(7)
GROUP_TYPE_NAMES = ("has_spare", "fully_busy", "misfit_task", "smt_balance", "asym_packing",
                    "imbalanced", "overloaded")
# enum migration_type
MIGRATE_LOAD, MIGRATE_UTIL, MIGRATE_TASK, MIGRATE_MISFIT = range(4)
# enum fbq_type
FBQ_REGULAR, FBQ_REMOTE, FBQ_ALL = range(3)
# lb_env flags
LBF_ALL_PINNED = 0x01
LBF_NEED_BREAK = 0x02
LBF_DST_PINNED = 0x04
LBF_SOME_PINNED = 0x08
LBF_ACTIVE_LB = 0x10

SCHED_NR_MIGRATE_BREAK = 32  # tasks detached before a breather (8 under PREEMPT_RT)
SYSCTL_SCHED_NR_MIGRATE = 32  # sysctl_sched_nr_migrate: most tasks examined per balance
SYSCTL_SCHED_MIGRATION_COST_NS = 500_000  # task_hot's window
MAX_PINNED_INTERVAL = 512  # ms: most a balance interval grows while every task is pinned
SYSCTL_SCHED_BASE_SLICE_NS = 700_000  # normalized; times 1 + ilog2(min(CPUs, 8))
NICE_0_LOAD = 1024  # scale_load_down(NICE_0_LOAD): load of one busy nice-0 task
WAKEE_FLIPS_DECAY_JIFFIES_HZ = 1  # record_wakee halves wakee_flips once per HZ jiffies
