"""Kernel-time costs charged to tasks: hinting faults, migrations, scanning, moves.

Every default comes with its source (see also
``shared/reference/workloads-and-costs.md``). All times are nanoseconds of CPU
time charged as system time to the task that caused them; each must be
finite, >= 0 and at most :data:`MAX_COST_NS` (1 s).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from numaexp.model.checks import check_number

MAX_COST_NS = 1e9
"""Largest cost of one event, ns (1 s; the simulator adds costs up in int64 ns)."""


@dataclass(frozen=True)
class CostModel:
    """Costs of NUMA balancing work, ns of CPU time.

    Parameters
    ----------
    hint_fault_ns : float
        Handling one NUMA hinting fault (trap, ``do_numa_page``, PTE restore,
        task statistics): ~1-3 us per fault in kernel discussions of AutoNUMA
        cost; default 1500.
    migrate_folio_ns : float
        Fixed cost of migrating one folio (isolation, unmap, TLB shootdown,
        remap); with the copy, a 4 KiB page costs ~5-20 us in kernel migration
        benchmarks; default 5000.
    migrate_copy_ns_per_page : float
        Copying one 4 KiB page (~4 GB/s); default 1000, so a base page costs
        6 us and a 2 MiB THP ~0.5 ms.
    pte_scan_ns : float
        Walking one PTE in ``change_prot_numa`` (present or not); default 5.
    pte_update_ns : float
        Making one PTE PROT_NONE; default 20.
    tlb_flush_ns : float
        ``flush_tlb_range`` after a ``change_prot_numa`` chunk that changed
        PTEs (IPIs to CPUs running the mm); default 2000 (HeMem memsim: TLB
        shootdown 4000 ns for a full shootdown).
    task_move_ns : float
        A NUMA task move or swap, per task moved (migration stop-work, cold
        caches); default 30000.
    first_touch_ns : float
        First touch of a page (anonymous page fault, allocation, zeroing
        4 KiB): ~1 us trap plus ~0.5 us zeroing; default 1500.
    """

    hint_fault_ns: float = 1500.0
    migrate_folio_ns: float = 5000.0
    migrate_copy_ns_per_page: float = 1000.0
    pte_scan_ns: float = 5.0
    pte_update_ns: float = 20.0
    tlb_flush_ns: float = 2000.0
    task_move_ns: float = 30000.0
    first_touch_ns: float = 1500.0

    def __post_init__(self):
        for f in fields(self):
            check_number(getattr(self, f.name), f.name, low=0, high=MAX_COST_NS, unit="ns",
                         allowed=f"a finite cost in ns, >= 0 and <= {MAX_COST_NS:g} (1 s)")
