"""What runs on the machine: cgroups, processes, VMAs, threads, access patterns.

A workload is a set of processes (one ``mm`` each) placed in cgroups. Each
process maps VMAs and runs threads; each thread runs a list of phases, and each
phase is a set of access patterns over the process's VMAs.

Units of work ("touches"): for a ``sweep`` pattern one touch is one 4 KiB page
written or read sequentially (a zero-fill loop); for random patterns one touch
is one cache-line access.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model.checks import (
    check_bools,
    check_ids,
    check_instance,
    check_items,
    check_number,
    check_seconds,
)
from numaexp.model.units import PAGE_SIZE, parse_size

POLICY_MODES = ("default", "preferred", "bind", "interleave", "local", "preferred_many",
                "weighted_interleave")
"""Memory policy modes (``MPOL_*``)."""

PATTERN_KINDS = ("uniform", "hotset", "zipf", "gaussian", "sweep")
"""Access pattern kinds."""

VMA_KINDS = ("anon", "file", "shmem")
"""Backing of a VMA."""

MAX_GAUSSIAN_SIGMA = 100.0
"""Widest gaussian pattern, in regions.

Over a region, a gaussian of sigma 100 differs from uniform by less than
0.005 %; a much wider one only loses precision: its normal mass over the
region, about ``1 / (2.5 sigma)``, is a difference of two values near 0.5 that
carry 16 digits, and is 0 from sigma ~ 1e16 on (then the simulator's
``gaussian_norm`` divides by zero). Each page's weight is the mass of one of
the region's ``n`` bins, so precision runs out ``n`` times sooner.
"""

_NAME_RE = re.compile(r"^[A-Za-z0-9_.:+-]+$")


def _check_name(value: str, name: str = "name") -> None:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ScenarioError(name, f"invalid name {value!r}",
                            "letters, digits and _ . : + - (no spaces)")


def _check_fraction(value: float, name: str, *, open_low: bool = False) -> None:
    check_number(value, name, low=0, high=1, low_open=open_low)


def _check_positive(value: float, name: str, unit: str = "") -> None:
    check_number(value, name, low=0, low_open=True, unit=unit)


PID_MAX_LIMIT = 4 * 1024 * 1024
"""Most tasks a 64-bit Linux can have (``PID_MAX_LIMIT``, include/linux/threads.h)."""


@dataclass(frozen=True)
class MemPolicy:
    """A NUMA memory policy (``set_mempolicy`` / ``mbind``).

    Parameters
    ----------
    mode : str
        One of ``default``, ``preferred``, ``bind``, ``interleave``, ``local``,
        ``preferred_many``, ``weighted_interleave``.
    nodes : tuple of int
        Node mask (required for every mode but ``default`` and ``local``).
    numa_balancing : bool
        ``MPOL_F_NUMA_BALANCING``: let NUMA balancing migrate pages within the
        mask (accepted with ``bind`` and ``preferred_many`` in mainline); with
        ``interleave`` (RFC patch 3 only) the memory is scanned and faults
        drive task placement, but pages are never migrated.
    """

    mode: str = "default"
    nodes: tuple[int, ...] = ()
    numa_balancing: bool = False

    def __post_init__(self):
        if not isinstance(self.mode, str) or self.mode not in POLICY_MODES:
            raise ScenarioError("mode", f"unknown policy mode {self.mode!r}",
                                ", ".join(POLICY_MODES))
        nodes = check_ids(self.nodes, "nodes")
        object.__setattr__(self, "nodes", nodes)
        check_bools(self)
        if self.mode in ("default", "local") and nodes:
            raise ScenarioError("nodes", f"policy {self.mode!r} takes no nodes (got {nodes})",
                                "no nodes with default and local")
        if self.mode not in ("default", "local") and not nodes:
            raise ScenarioError("nodes", f"policy {self.mode!r} needs a non-empty node list",
                                "a list of node ids, e.g. [0, 1]")
        if self.numa_balancing and self.mode not in ("bind", "preferred_many", "interleave"):
            raise ScenarioError("numa_balancing",
                                f"MPOL_F_NUMA_BALANCING is not valid with {self.mode!r}",
                                "bind or preferred_many (interleave with the RFC patch 3)")


@dataclass(frozen=True)
class Vma:
    """A virtual memory area of a process.

    Parameters
    ----------
    name : str
        Name, unique within the process; patterns refer to it.
    size : int or str
        Size in bytes or a string like ``"3 GiB"``, at most 128 PiB; rounded up
        to whole pages (to whole 2 MiB huge pages with ``thp``).
    kind : {"anon", "file", "shmem"}
        Backing. File-backed read-only mappings are skipped by the scanner
        (SHARED_RO).
    shared : bool
        ``MAP_SHARED`` (VM_SHARED).
    writable : bool
        Mapped writable (VM_WRITE). Faults on non-writable mappings carry
        ``TNF_NO_GROUP``.
    executable : bool
        Mapped executable (VM_EXEC).
    policy : MemPolicy, optional
        VMA memory policy (``mbind``); ``None`` falls back to the thread's.
    thp : bool
        Backed by PMD-mapped transparent huge pages (2 MiB).
    object : str, optional
        Name of a memory object; VMAs (in different processes) naming the same
        object map the same pages, like a shared memory segment.
    first_touch_node : int, optional
        Allocate every page on this node before the run starts (like
        autonumabench's NO_BIND_FORCE_SAME_NODE first zero-fill).
    """

    name: str
    size: int | str
    kind: str = "anon"
    shared: bool = False
    writable: bool = True
    executable: bool = False
    policy: MemPolicy | None = None
    thp: bool = False
    object: str | None = None
    first_touch_node: int | None = None

    def __post_init__(self):
        _check_name(self.name)
        object.__setattr__(self, "size", parse_size(self.size, "size"))
        if not isinstance(self.kind, str) or self.kind not in VMA_KINDS:
            raise ScenarioError("kind", f"unknown VMA kind {self.kind!r}", ", ".join(VMA_KINDS))
        check_bools(self)
        check_instance(self.policy, "policy", MemPolicy, optional=True)
        if self.object is not None:
            _check_name(self.object, "object")
            if not self.shared:
                raise ScenarioError("object", "a VMA mapping a shared object must be shared = true")
        if self.first_touch_node is not None and (
                isinstance(self.first_touch_node, bool)
                or not isinstance(self.first_touch_node, int) or self.first_touch_node < 0):
            raise ScenarioError("first_touch_node",
                                f"must be a node id >= 0 (got {self.first_touch_node!r})")

    @property
    def pages(self) -> int:
        """Size in 4 KiB pages, rounded up (to 512-page units with ``thp``)."""
        unit = 512 * PAGE_SIZE if self.thp else PAGE_SIZE
        return -(-self.size // unit) * (unit // PAGE_SIZE)


@dataclass(frozen=True)
class Pattern:
    """One access pattern of a phase, over a region of a VMA.

    Parameters
    ----------
    vma : str
        Name of the process's VMA accessed.
    kind : str
        ``uniform`` (random, equal weight), ``hotset`` (``hot_fraction`` of the
        accesses go to a hot subset of ``hot_size`` of the region), ``zipf``
        (page popularity ~ rank^-zipf_alpha over a fixed random ranking),
        ``gaussian`` (normal address distribution), or ``sweep`` (sequential
        pass over the region, e.g. a zero-fill loop).
    start : int or str
        Offset of the region in the VMA, bytes (default 0).
    length : int or str, optional
        Length of the region, bytes (default: to the end of the VMA).
    share : float
        Share of the phase's touches that go to this pattern (shares of a
        phase are normalised).
    write_fraction : float
        Fraction of touches that write (a zero-fill sweep writes: 1.0).
    stride : int
        Touch one page in every ``stride`` pages of the region (e.g. 2: 4 KiB
        of every 8 KiB).
    slice_by_thread : bool
        With a replicated thread (``Thread.count > 1``), replica ``i`` uses only
        the ``i``-th of ``count`` equal slices of the region.
    hot_fraction, hot_size, hot_offset : float
        ``hotset``: share of accesses to the hot set, its size and start as
        fractions of the region.
    zipf_alpha : float
        ``zipf``: exponent of the popularity law.
    mean, sigma : float
        ``gaussian``: centre and standard deviation as fractions of the region
        (sigma at most :data:`MAX_GAUSSIAN_SIGMA`, 100: wider is uniform).
    """

    vma: str
    kind: str = "uniform"
    start: int | str = 0
    length: int | str | None = None
    share: float = 1.0
    write_fraction: float = 0.5
    stride: int = 1
    slice_by_thread: bool = False
    hot_fraction: float = 0.9
    hot_size: float = 0.05
    hot_offset: float = 0.0
    zipf_alpha: float = 1.0
    mean: float = 0.5
    sigma: float = 0.1

    def __post_init__(self):
        if not isinstance(self.vma, str):
            raise ScenarioError("vma", f"must be the name of a VMA (got {self.vma!r})",
                                "the name of a VMA of the process")
        if not isinstance(self.kind, str) or self.kind not in PATTERN_KINDS:
            raise ScenarioError("kind", f"unknown pattern {self.kind!r}", ", ".join(PATTERN_KINDS))
        object.__setattr__(self, "start", parse_size(self.start, "start", allow_zero=True))
        if self.length is not None:
            object.__setattr__(self, "length", parse_size(self.length, "length"))
        check_bools(self)
        _check_positive(self.share, "share")
        _check_fraction(self.write_fraction, "write_fraction")
        if isinstance(self.stride, bool) or not isinstance(self.stride, int) or self.stride < 1:
            raise ScenarioError("stride", f"must be an integer >= 1 (got {self.stride!r})")
        _check_fraction(self.hot_fraction, "hot_fraction")
        _check_fraction(self.hot_size, "hot_size", open_low=True)
        _check_fraction(self.hot_offset, "hot_offset")
        if self.hot_offset + self.hot_size > 1 + 1e-12:
            raise ScenarioError("hot_offset", "hot_offset + hot_size must be <= 1")
        _check_positive(self.zipf_alpha, "zipf_alpha")
        _check_fraction(self.mean, "mean")
        check_number(self.sigma, "sigma", low=0, low_open=True, high=MAX_GAUSSIAN_SIGMA,
                     allowed=f"a finite fraction of the region, > 0 and <= {MAX_GAUSSIAN_SIGMA:g}",
                     why='; a wider gaussian is a uniform pattern: use kind = "uniform"')


@dataclass(frozen=True)
class Phase:
    """A stretch of a thread's life with fixed access patterns.

    Parameters
    ----------
    patterns : tuple of Pattern
        Either one ``sweep`` pattern, or one or more random patterns.
    passes : float, optional
        End after this many passes over the sweep region (sweep phases only).
    touches : float, optional
        End after this many touches (pages for a sweep, accesses otherwise).
    duration_s : float, optional
        End after this many seconds of wall time in the phase.
    think_ns : float
        CPU time per random access besides the memory stall, ns.
    mlp : float
        Memory-level parallelism of random accesses (misses in flight).
    stream_gbps : float
        Per-thread sequential bandwidth of a sweep from local, idle memory,
        GB/s (remote bandwidth scales down with the latency ratio).

    With none of ``passes``, ``touches``, ``duration_s``, the phase lasts until
    the run stops.
    """

    patterns: tuple[Pattern, ...]
    passes: float | None = None
    touches: float | None = None
    duration_s: float | None = None
    think_ns: float = 20.0
    mlp: float = 4.0
    stream_gbps: float = 8.0

    def __post_init__(self):
        patterns = check_items(self.patterns, "patterns", Pattern)
        object.__setattr__(self, "patterns", patterns)
        if not patterns:
            raise ScenarioError("patterns", "a phase needs at least one pattern")
        sweeps = sum(p.kind == "sweep" for p in patterns)
        if sweeps and len(patterns) > 1:
            raise ScenarioError("patterns", "a sweep pattern must be alone in its phase",
                                "one sweep, or any number of random patterns")
        ends = [x for x in (self.passes, self.touches, self.duration_s) if x is not None]
        if len(ends) > 1:
            raise ScenarioError("passes", "give at most one of passes, touches, duration_s")
        if self.passes is not None:
            if not sweeps:
                raise ScenarioError("passes", "passes is for sweep phases; use touches or "
                                              "duration_s for random patterns")
            _check_positive(self.passes, "passes")
        if self.touches is not None:
            _check_positive(self.touches, "touches")
        if self.duration_s is not None:
            check_seconds(self.duration_s, "duration_s")
        _check_positive(self.think_ns, "think_ns", "ns")
        _check_positive(self.mlp, "mlp")
        _check_positive(self.stream_gbps, "stream_gbps", "GB/s")
        if not math.isfinite(sum(p.share for p in patterns)):
            raise ScenarioError("patterns", "the shares of the patterns add up to more than the "
                                            "largest float", "shares with a finite sum, e.g. "
                                                             "fractions of 1")

    @property
    def is_sweep(self) -> bool:
        """True if this phase is a sequential sweep."""
        return self.patterns[0].kind == "sweep"


@dataclass(frozen=True)
class Thread:
    """A thread (task) of a process.

    Parameters
    ----------
    name : str
        Name, unique within the process (replicas get ``name.i``).
    phases : tuple of Phase
        What the thread does, in order. It exits after the last phase ends.
    cpus : tuple of int, optional
        CPU affinity (``sched_setaffinity``); ``None``: every CPU of its
        cgroup's cpuset.
    policy : MemPolicy
        Task memory policy (``set_mempolicy``), used where a VMA has none.
    count : int
        Number of identical replicas of this thread.
    """

    name: str
    phases: tuple[Phase, ...]
    cpus: tuple[int, ...] | None = None
    policy: MemPolicy = field(default_factory=MemPolicy)
    count: int = 1

    def __post_init__(self):
        _check_name(self.name)
        phases = check_items(self.phases, "phases", Phase)
        object.__setattr__(self, "phases", phases)
        check_instance(self.policy, "policy", MemPolicy)
        if not phases:
            raise ScenarioError("phases", "a thread needs at least one phase")
        if self.cpus is not None:
            cpus = check_ids(self.cpus, "cpus")
            if not cpus:
                raise ScenarioError("cpus", "empty CPU affinity", "a non-empty list of CPU ids")
            object.__setattr__(self, "cpus", cpus)
        if isinstance(self.count, bool) or not isinstance(self.count, int) \
                or not 1 <= self.count <= PID_MAX_LIMIT:
            raise ScenarioError("count", f"must be an integer in [1, {PID_MAX_LIMIT}] "
                                f"(got {self.count!r})",
                                f"1..{PID_MAX_LIMIT} (PID_MAX_LIMIT: Linux has no more tasks)")


@dataclass(frozen=True)
class Process:
    """A process: one address space (``mm``), its VMAs and threads.

    Parameters
    ----------
    name : str
        Name, unique within the workload.
    vmas : tuple of Vma
        Its mappings, laid out in this order in the address space.
    threads : tuple of Thread
        Its threads.
    cgroup : str
        Path of its cgroup (``"/"`` is the root).
    main_thread : {"works", "sleeps"}
        ``"works"``: the first thread is the main thread and creates the
        others. ``"sleeps"``: a main thread (not listed) creates every listed
        thread and then sleeps, as autonumabench does; it counts in
        ``mm_users`` but never runs.
    """

    name: str
    vmas: tuple[Vma, ...]
    threads: tuple[Thread, ...]
    cgroup: str = "/"
    main_thread: str = "works"

    def __post_init__(self):
        _check_name(self.name)
        vmas = check_items(self.vmas, "vmas", Vma)
        threads = check_items(self.threads, "threads", Thread)
        object.__setattr__(self, "vmas", vmas)
        object.__setattr__(self, "threads", threads)
        if not vmas:
            raise ScenarioError("vmas", "a process needs at least one VMA")
        if not threads:
            raise ScenarioError("threads", "a process needs at least one thread")
        if self.main_thread not in ("works", "sleeps"):
            raise ScenarioError("main_thread", f"unknown value {self.main_thread!r}",
                                '"works" or "sleeps"')
        _check_cgroup_path(self.cgroup, "cgroup")

    @property
    def nr_threads(self) -> int:
        """Number of worker threads, replicas included."""
        return sum(t.count for t in self.threads)


def _check_cgroup_path(path: str, name: str) -> None:
    if not isinstance(path, str) or not path.startswith("/") or (
            path != "/" and (path.endswith("/") or "//" in path
                             or not all(_NAME_RE.match(p) for p in path[1:].split("/")))):
        raise ScenarioError(name, f"invalid cgroup path {path!r}",
                            'an absolute path like "/" or "/batch/job1"')


@dataclass(frozen=True)
class Cgroup:
    """A cgroup-v2 group.

    Parameters
    ----------
    path : str
        Absolute path, e.g. ``"/mytest"``; parents are created implicitly.
    cpus : tuple of int, optional
        ``cpuset.cpus`` (``None``: inherit the parent's).
    mems : tuple of int, optional
        ``cpuset.mems`` (``None``: inherit the parent's).
    numa_load_balance : int
        ``cpu.numa_load_balance`` (RFC patch 2), 0 or 1; only read in
        ``kernel.numa_balancing`` mode 4.
    """

    path: str
    cpus: tuple[int, ...] | None = None
    mems: tuple[int, ...] | None = None
    numa_load_balance: int = 0

    def __post_init__(self):
        _check_cgroup_path(self.path, "path")
        for name in ("cpus", "mems"):
            value = getattr(self, name)
            if value is not None:
                ids = check_ids(value, name)
                if not ids:
                    raise ScenarioError(name, f"empty cpuset.{name}", "a non-empty list of ids")
                object.__setattr__(self, name, ids)
        if self.numa_load_balance not in (0, 1) or isinstance(self.numa_load_balance, bool):
            raise ScenarioError("numa_load_balance",
                                f"must be 0 or 1 (got {self.numa_load_balance!r})", "0 or 1")

    @property
    def parent(self) -> str | None:
        """Path of the parent group (``None`` for the root)."""
        if self.path == "/":
            return None
        head = self.path.rsplit("/", 1)[0]
        return head or "/"


@dataclass(frozen=True)
class Workload:
    """Everything that runs: cgroups and processes.

    Parameters
    ----------
    name : str
        Label used in results.
    processes : tuple of Process
        The processes.
    cgroups : tuple of Cgroup
        Cgroups with settings; a process's cgroup that is not listed is created
        with defaults, as are missing parents.
    description : str
        Free text.
    """

    name: str
    processes: tuple[Process, ...]
    cgroups: tuple[Cgroup, ...] = ()
    description: str = field(default="", compare=False)

    def __post_init__(self):
        processes = check_items(self.processes, "processes", Process)
        cgroups = check_items(self.cgroups, "cgroups", Cgroup)
        object.__setattr__(self, "processes", processes)
        object.__setattr__(self, "cgroups", cgroups)
        if not processes:
            raise ScenarioError("processes", "a workload needs at least one process")
        names = [p.name for p in processes]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ScenarioError(f"processes[{i}].name", f"duplicate process name {name!r}",
                                    "a name no other process has")
        paths = [c.path for c in cgroups]
        for i, path in enumerate(paths):
            if paths.index(path) != i:
                raise ScenarioError(f"cgroups[{i}].path", f"duplicate cgroup {path!r}",
                                    "each cgroup path listed once")

    def all_cgroups(self) -> tuple[Cgroup, ...]:
        """Every cgroup, parents first: the listed ones plus implicit ones."""
        by_path = {c.path: c for c in self.cgroups}
        wanted = set(by_path) | {p.cgroup for p in self.processes} | {"/"}
        for path in list(wanted):
            while path != "/":
                path = path.rsplit("/", 1)[0] or "/"
                wanted.add(path)
        ordered = sorted(wanted, key=lambda p: (0 if p == "/" else p.count("/"), p))
        return tuple(by_path.get(p, Cgroup(path=p)) for p in ordered)
