"""A process's mappings: VMAs and the NUMA memory policies they (or threads) carry.

:class:`Vma` is one virtual memory area (size, backing, flags, an optional
shared memory object); :class:`MemPolicy` is a ``set_mempolicy`` / ``mbind``
policy, held by a VMA or by a thread (:class:`~numaexp.model.process.Thread`).
"""

from __future__ import annotations

from dataclasses import dataclass

from numaexp.errors import ScenarioError
from numaexp.model.checks import check_bools, check_ids, check_instance, check_name
from numaexp.model.units import PAGE_SIZE, parse_size

POLICY_MODES = ("default", "preferred", "bind", "interleave", "local", "preferred_many",
                "weighted_interleave")
"""Memory policy modes (``MPOL_*``)."""

VMA_KINDS = ("anon", "file", "shmem")
"""Backing of a VMA."""


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
        check_name(self.name)
        object.__setattr__(self, "size", parse_size(self.size, "size"))
        if not isinstance(self.kind, str) or self.kind not in VMA_KINDS:
            raise ScenarioError("kind", f"unknown VMA kind {self.kind!r}", ", ".join(VMA_KINDS))
        check_bools(self)
        check_instance(self.policy, "policy", MemPolicy, optional=True)
        if self.object is not None:
            check_name(self.object, "object")
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

