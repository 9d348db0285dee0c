"""The parameter table: every kernel tunable and cost, declared once.

Each :class:`Param` names the scenario field it comes from (``kernel.X`` or
``costs.X``), its default, unit, bounds and one line of doc, the field of
the simulator's parameter record that holds it, and whether a ``tunable``
action may change it during a run. Everything else is derived from this
table: the dataclasses' defaults, range checks and docstrings
(:class:`~numaexp.model.kernel.KernelConfig`,
:class:`~numaexp.model.costs.CostModel`), the simulator's record type and
build step (``numaexp.sim.engine.params``), the run-time ``tunable``
action, the sweep widget's paths and the dashboard's controls.

Bounds follow the kernel's types: a debugfs ``u32`` takes 0..4294967295, a
sysctl handled by ``proc_dointvec_minmax`` takes an ``int``. A value the
kernel would refuse or wrap on storing is refused here with the kernel's
limit named; where the kernel's own arithmetic on an accepted value wraps
(``promote_rate_limit_MBps << 8`` in 32 bits), the simulator's mirror wraps
the same way.
"""

from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import dataclass

U32_MAX = 0xFFFFFFFF
"""Largest value of a kernel ``u32`` / ``unsigned int``."""

INT_MAX = 0x7FFFFFFF
"""Largest value of a kernel ``int``."""

MAX_COST_NS = 1e9
"""Largest cost of one event, ns (1 s; the simulator adds costs up in int64 ns)."""


@dataclass(frozen=True)
class Param:
    """One scenario parameter the simulator reads.

    Parameters
    ----------
    path : str
        Dotted path in a :class:`~numaexp.model.scenario.Scenario`, e.g.
        ``"kernel.scan_delay_ms"``; its last part is the dataclass field.
    kind : {"int", "float", "bool"}
        Python type of the scenario value.
    default : int, float or bool
        Default of the dataclass field.
    unit : str
        Unit of the value (``"ms"``, ``"MB/s"``, ``"ns"``, ...).
    doc : str
        One line: what it is, and the kernel interface it stands for.
    low, high : float, optional
        Inclusive bounds (``None``: none on that side; ints and floats must
        still be finite).
    limit : str
        Why the bounds are what they are (the kernel's type or handler).
    record : str
        Field of the simulator's parameter record, or ``""`` when a builder
        reads the value instead (e.g. watermarks).
    runtime : bool
        A ``tunable`` action may set it during a run.
    choices : tuple, optional
        The only values accepted (instead of bounds).
    optional : bool
        ``None`` is accepted too (the builder then computes the value).
    kernel_file : str
        The file a running kernel exposes it in (written by the kernel
        backend), or ``""`` for what is not a run-time setting of the kernel.
    """

    path: str
    kind: str
    default: object
    unit: str
    doc: str
    low: float | None = None
    high: float | None = None
    limit: str = ""
    record: str = ""
    runtime: bool = False
    choices: tuple = ()
    optional: bool = False
    kernel_file: str = ""

    @property
    def name(self) -> str:
        """The dataclass field (last part of :attr:`path`)."""
        return self.path.rsplit(".", 1)[1]

    @property
    def section(self) -> str:
        """The scenario part holding it (``"kernel"`` or ``"costs"``)."""
        return self.path.split(".", 1)[0]

    @property
    def allowed(self) -> str:
        """Text of the accepted values, for error messages and tooltips."""
        if self.kind == "bool":
            return "true or false"
        if self.choices:
            return ", ".join(str(c) for c in self.choices) + (f" ({self.limit})"
                                                              if self.limit else "")
        unit = f" {self.unit}" if self.unit else ""
        low = "" if self.low is None else _number(self.low)
        high = "" if self.high is None else _number(self.high)
        kind = "an integer" if self.kind == "int" else "a finite number"
        text = f"{kind} in [{low}, {high}]{unit}" if low and high else \
            f"{kind} >= {low}{unit}" if low else f"{kind} <= {high}{unit}"
        return f"{text} ({self.limit})" if self.limit else text

    def check(self, value, name: str | None = None) -> None:
        """Refuse ``value`` unless it is of the right type and within the bounds.

        Raises
        ------
        ScenarioError
            Naming ``name`` (default: the field) and :attr:`allowed`.
        """
        from numaexp.errors import ScenarioError

        name = name or self.name
        if value is None and self.optional:
            return
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ScenarioError(name, f"must be true or false (got {value!r})",
                                    "True or False (true or false in TOML)")
            return
        if self.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ScenarioError(name, f"must be an integer (got {value!r:.40})", self.allowed)
        if self.choices:
            if value not in self.choices:
                raise ScenarioError(name, f"unsupported value {value!r}", self.allowed)
            return
        if self.kind == "float" and not _finite(value):
            raise ScenarioError(name, f"must be a finite number (got {value!r:.40})",
                                self.allowed)
        if (self.low is not None and value < self.low) or \
                (self.high is not None and value > self.high):
            raise ScenarioError(name, f"{value!r:.40} is out of range", self.allowed)

    def to_record(self, value) -> int | float:
        """The value as the simulator's record holds it (bools as 0/1)."""
        return float(value) if self.kind == "float" else int(value)


def _finite(value) -> bool:
    """``value`` is an int or a finite float (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


def _number(value) -> str:
    """``value`` as an exact integer when it is one, else in ``%g`` form."""
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


DEBUGFS = "/sys/kernel/debug/sched/numa_balancing"
"""Where the kernel exposes the scan tunables (``CONFIG_SCHED_DEBUG``)."""


def _u32(path, default, unit, doc, *, low=0, high=U32_MAX, limit="a u32 in debugfs"):
    name = path.rsplit(".", 1)[1]
    return Param(path, "int", default, unit, doc, low=low, high=high, limit=limit,
                 record=name, runtime=True, kernel_file=f"{DEBUGFS}/{name}")


def _cost(name, default, doc):
    return Param(f"costs.{name}", "float", default, "ns", doc, low=0, high=MAX_COST_NS,
                 limit="at most 1 s per event", record=name)


PARAMS: tuple[Param, ...] = (
    Param("kernel.numa_balancing", "int", 1, "", "the sysctl kernel.numa_balancing: "
          "0 off, 1 NORMAL, 2 MEMORY_TIERING, 3 both, 4 CGROUP (the RFC)", low=0, high=4,
          limit="the RFC's sysctl refuses 5..7", record="mode",
          kernel_file="/proc/sys/kernel/numa_balancing"),
    _u32("kernel.scan_delay_ms", 1000, "ms",
         "debugfs sched/numa_balancing/scan_delay_ms: wait before a new mm is first scanned"),
    _u32("kernel.scan_period_min_ms", 1000, "ms",
         "debugfs sched/numa_balancing/scan_period_min_ms: shortest scan period"),
    _u32("kernel.scan_period_max_ms", 60000, "ms",
         "debugfs sched/numa_balancing/scan_period_max_ms: longest scan period"),
    _u32("kernel.scan_size_mb", 256, "MB",
         "debugfs sched/numa_balancing/scan_size_mb: address space with present PTEs "
         "made PROT_NONE per scan", low=1, high=(1 << 24) - 1,
         limit="0 divides by zero in task_scan_min; from 16777216 MB on, the 32-bit shift "
               "into pages of task_nr_scan_windows wraps (to 0: a division by zero)"),
    _u32("kernel.hot_threshold_ms", 1000, "ms",
         "debugfs sched/numa_balancing/hot_threshold_ms: memory-tiering hot threshold"),
    Param("kernel.promote_rate_limit_mbps", "int", 65536, "MB/s",
          "sysctl kernel.numa_balancing_promote_rate_limit_MBps, per target node",
          low=0, high=INT_MAX, limit="an int: proc_dointvec_minmax",
          record="promote_rate_limit_mbps", runtime=True,
          kernel_file="/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps"),
    Param("kernel.demotion_enabled", "bool", False, "",
          "/sys/kernel/mm/numa/demotion_enabled: kswapd demotes to lower tiers",
          record="demotion_enabled", runtime=True,
          kernel_file="/sys/kernel/mm/numa/demotion_enabled"),
    Param("kernel.hz", "int", 250, "Hz", "CONFIG_HZ: scheduler ticks per second (Debian: 250)",
          choices=(100, 250, 300, 1000), limit="the kernel's CONFIG_HZ choices", record="hz"),
    Param("kernel.watermark_scale_factor", "int", 10, "1/10000",
          "sysctl vm.watermark_scale_factor: gap between watermarks, in 1/10000 of memory",
          low=1, high=3000, limit="proc_dointvec_minmax, 1..3000",
          kernel_file="/proc/sys/vm/watermark_scale_factor"),
    Param("kernel.min_free_kbytes", "int", None, "KiB",
          "sysctl vm.min_free_kbytes (None: 4 * sqrt(lowmem KiB) clamped to [128, 262144], "
          "as the kernel computes it)", low=0, high=INT_MAX,
          limit="an int: proc_dointvec_minmax", optional=True,
          kernel_file="/proc/sys/vm/min_free_kbytes"),
    Param("kernel.locality_reset_fix", "bool", True, "",
          "model 6.12.117, whose update_task_scan_period slow path clears "
          "numa_faults_locality (False: 6.12.0-6.12.116 and 6.8)", record="locality_reset_fix"),
    _cost("hint_fault_ns", 1500.0,
          "handling one NUMA hinting fault (trap, do_numa_page, PTE restore, statistics): "
          "~1-3 us per fault in kernel discussions of AutoNUMA cost"),
    _cost("migrate_folio_ns", 5000.0,
          "fixed cost of migrating one folio apart from its copy and its TLB shootdown "
          "(isolation, unmap, remap): with them, a 4 KiB page costs ~5-20 us in kernel "
          "migration benchmarks"),
    _cost("migrate_copy_ns_per_page", 1000.0, "copying one 4 KiB page during a migration "
          "(~4 GB/s: a base page costs 6 us in all, a 2 MiB THP ~0.5 ms)"),
    _cost("pte_scan_ns", 5.0, "walking one PTE in change_prot_numa (present or not)"),
    _cost("pte_update_ns", 20.0, "making one PTE PROT_NONE"),
    _cost("tlb_flush_ns", 1000.0,
          "flush_tlb_mm_range's own part, paid by the initiator whatever the targets: the "
          "local flush and the IPI set-up (arch/x86/mm/tlb.c: 'each single flush is about "
          "100 ns'; a shootdown to one other CPU costs ~1-3 us in published measurements)"),
    _cost("tlb_flush_per_cpu_ns", 250.0,
          "x86: the initiator's wait per target CPU of a flush (each other CPU running the "
          "mm): published shootdowns grow from ~1-3 us for one target to tens of us for 64 "
          "CPUs and ~50-100 us on the largest machines (250 ns: 17 us at 64, 97 us at 384)"),
    _cost("tlb_ipi_recv_ns", 1000.0,
          "x86: time a flush IPI takes from the task running on each target CPU (interrupt "
          "entry, flush_tlb_func, exit: about one IPI round trip, ~1 us), stolen from its "
          "work"),
    Param("costs.tlb_broadcast", "bool", False, "",
          "arm64: TLB invalidations are broadcast in hardware (TLBI ...IS then DSB ISH), no "
          "IPIs: the initiator stalls tlb_flush_ns + tlb_flush_per_node_ns per other node "
          "with CPUs, and no other CPU is interrupted", record="tlb_broadcast"),
    _cost("tlb_flush_per_node_ns", 500.0,
          "arm64 (tlb_broadcast): the broadcast's stall per other node with CPUs, the DSB "
          "waiting for every node to complete (estimate: one cross-node round trip, ~0.5 us)"),
    _cost("vma_lock_hold_ns", 100.0,
          "the VMA lock's read side, per fault (lock_vma_under_rcu: an atomic on a cache line "
          "that every faulting thread of the VMA writes; mmap_lock's read side before 6.4): "
          "one cache-line transfer between cores, ~100 ns across sockets (Intel MLC)"),
    _cost("ptl_hold_ns", 300.0,
          "the split page-table lock of the faulting PMD, held per fault while the PTE is "
          "checked and set (do_numa_page, do_anonymous_page; estimate: a few cache misses)"),
    _cost("lru_lock_hold_ns", 300.0,
          "the source node's LRU lock, held per folio isolated for migration "
          "(folio_isolate_lru in migrate_misplaced_folio_prepare; estimate: a few cache "
          "misses)"),
    _cost("numa_group_lock_hold_ns", 2000.0,
          "the numa_group lock, held once per task_numa_placement of a grouped task while "
          "the group's per-node faults are updated (estimate: ~0.5 us per node, 4 nodes)"),
    _cost("task_move_ns", 30000.0, "a NUMA task move or swap, per task moved (migration "
          "stop-work, cold caches)"),
    _cost("clone_ns", 15000.0,
          "creating a thread (clone, the new stack's mmap, wake_up_new_task), charged to the "
          "creator; consecutive pthread_create calls are this far apart (~10-20 us)"),
    _cost("first_touch_ns", 1500.0,
          "first touch of a page (anonymous fault, allocation, zeroing 4 KiB): ~1 us trap "
          "plus ~0.5 us zeroing"),
)
"""Every parameter, in the order of the simulator's record."""

BY_PATH: dict[str, Param] = {p.path: p for p in PARAMS}
"""Parameters by dotted path."""


def section(name: str) -> dict[str, Param]:
    """The parameters of one scenario part (``"kernel"`` or ``"costs"``), by field name."""
    return {p.name: p for p in PARAMS if p.section == name}


def runtime_tunables() -> dict[str, Param]:
    """Parameters a ``tunable`` action may set, by field name."""
    return {p.name: p for p in PARAMS if p.runtime}


def check_fields(obj, section_name: str) -> None:
    """Check every field of ``obj`` that the table declares for ``section_name``."""
    for name, param in section(section_name).items():
        param.check(getattr(obj, name))


def declare_fields(section_name: str):
    """Class decorator: add one field per table parameter of ``section_name`` (before
    the class's own fields), with the table's default, and append their docs.

    Apply it under ``@dataclass`` so that the dataclass sees the fields.
    """
    types = {"int": int, "float": float, "bool": bool}

    def decorate(cls):
        own = dict(inspect.get_annotations(cls))
        annotations = {}
        for name, param in section(section_name).items():
            annotations[name] = types[param.kind] | None if param.optional else \
                types[param.kind]
            setattr(cls, name, param.default)
        annotations.update(own)
        cls.__annotations__ = annotations
        cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n" + docstring_block(section_name) + "\n"
        return cls

    return decorate


def docstring_block(section_name: str) -> str:
    """NumPy-style parameter lines for the fields of one section (for class docstrings)."""
    lines = []
    for name, p in section(section_name).items():
        lines.append(f"    {name} : {p.kind}")
        unit = f" [{p.unit}]" if p.unit else ""
        lines.append(f"        {p.doc}{unit}; default {p.default!r}; {p.allowed}.")
    return "\n".join(lines)
