"""Build the memory arrays: memory objects, VMAs and mms, the page array, pre-population."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numaexp.model.workload import MemPolicy, Workload
from numaexp.sim.engine.build.nodes import node_mask
from numaexp.sim.engine.codes import PENDING_SHIFT, PG_PRESENT, PG_PROTNONE, POLICY_CODES
from numaexp.sim.engine.dtypes import MM_DTYPE, OBJECT_DTYPE, PAGE_DTYPE, VMA_DTYPE
from numaexp.sim.kernel.constants import (
    CPUPID_UNSET,
    HPAGE_PMD_NR,
    MPOL_F_MOF,
    MPOL_F_MOFT,
    MPOL_F_MORON,
    MPOL_NONE,
    NUMA_NO_NODE,
    VM_EXEC,
    VM_FILE,
    VM_FILE_LRU,
    VM_SHARED,
    VM_THP,
    VM_WRITE,
)

OBJECT_FLAGS = VM_FILE | VM_FILE_LRU | VM_THP
"""VMA flags that belong to the memory object (the backing), not to one mapping."""


def policy_fields(pol: MemPolicy | None) -> tuple[int, int, int]:
    """(mode, node mask, flags) of a MemPolicy; the default policy carries MOF|MORON."""
    if pol is None:
        return MPOL_NONE, 0, 0
    mode = POLICY_CODES[pol.mode]
    flags = 0
    if pol.mode == "default":
        flags = MPOL_F_MOF | MPOL_F_MORON
    elif pol.numa_balancing and pol.mode in ("bind", "preferred_many"):
        flags = MPOL_F_MOF | MPOL_F_MORON
    elif pol.numa_balancing and pol.mode == "interleave":  # RFC patch 3
        flags = MPOL_F_MOF | MPOL_F_MOFT
    return mode, node_mask(pol.nodes), flags


def vma_flags(vma) -> int:
    """``vm_flags`` of a :class:`~numaexp.model.workload.Vma`."""
    flags = (VM_WRITE if vma.writable else 0) | (VM_SHARED if vma.shared else 0) | (
        VM_EXEC if vma.executable else 0)
    if vma.kind != "anon" or vma.shared:
        flags |= VM_FILE
    if vma.kind == "file":
        flags |= VM_FILE_LRU
    if vma.thp:
        flags |= VM_THP
    return flags


@dataclass
class Memory:
    """The memory arrays of a run and the names of its VMAs.

    Attributes
    ----------
    objects : ndarray
        ``OBJECT_DTYPE[O + 1]`` (the extra row ends the last object).
    vmas : ndarray
        ``VMA_DTYPE[V]``; an mm's VMAs are contiguous, in address order.
    mms : ndarray
        ``MM_DTYPE[M]``, one per process (users set by the task builder).
    vma_names : list of (process, vma)
    nr_pages : int
        Pages of all objects.
    """

    objects: np.ndarray
    vmas: np.ndarray
    mms: np.ndarray
    vma_names: list
    nr_pages: int


def build_memory(workload: Workload, cg_index: dict[str, int]) -> Memory:
    """Objects (anonymous VMAs, or segments shared by several VMAs), VMAs and mms.

    A process's VMAs are laid out in order, each on a 2 MiB boundary after
    a one-PMD gap; an object is one run of pages, shared by every VMA that
    names it.
    """
    obj_index: dict[str, int] = {}
    obj_rows: list[dict] = []
    vma_rows: list[dict] = []
    mm_rows: list[dict] = []
    vma_names = []
    nr_pages = 0
    for pi, proc in enumerate(workload.processes):
        vfirst = len(vma_rows)
        vstart = 0
        for vma in proc.vmas:
            key = f"obj:{vma.object}" if vma.object else f"{pi}:{vma.name}"
            flags = vma_flags(vma)
            if key not in obj_index:
                obj_index[key] = len(obj_rows)
                obj_rows.append({"first": nr_pages, "vm_flags": flags & OBJECT_FLAGS,
                                 "mapcount": 0, "first_touch": -1 if vma.first_touch_node is None
                                 else vma.first_touch_node})
                nr_pages += vma.pages
            o = obj_index[key]
            obj_rows[o]["mapcount"] += 1
            mode, nodes, pflags = policy_fields(vma.policy)
            vma_rows.append({"mm": pi, "obj": o, "start": vstart, "npages": vma.pages,
                             "vm_flags": flags, "pol_mode": mode, "pol_nodes": nodes,
                             "pol_flags": pflags})
            vma_names.append((proc.name, vma.name))
            vstart += -(-vma.pages // HPAGE_PMD_NR) * HPAGE_PMD_NR + HPAGE_PMD_NR
        mm_rows.append({"vma_first": vfirst, "vma_count": len(proc.vmas),
                        "cgroup": cg_index[proc.cgroup]})
    vmas = _table(VMA_DTYPE, vma_rows)
    objects = _table(OBJECT_DTYPE, [*obj_rows, {"first": nr_pages}])
    objects["vma"] = -1
    for v, row in enumerate(vma_rows):
        if objects["mapcount"][row["obj"]] == 1:
            objects["vma"][row["obj"]] = v
    return Memory(objects=objects, vmas=vmas, mms=_table(MM_DTYPE, mm_rows),
                  vma_names=vma_names, nr_pages=nr_pages)


def _table(dtype: np.dtype, rows: list[dict]) -> np.ndarray:
    """A structured array of ``rows`` (fields not given are zero)."""
    out = np.zeros(len(rows), dtype=dtype)
    for name in dtype.names:
        if any(name in row for row in rows):
            out[name] = [row.get(name, 0) for row in rows]
    return out


def build_pages(nr_pages: int) -> np.ndarray:
    """``PAGE_DTYPE[P]``, every page not present: no node, no cgroup, unset cpupid."""
    blank = np.zeros(1, dtype=PAGE_DTYPE)
    blank["node"] = NUMA_NO_NODE
    blank["last_cpupid"] = CPUPID_UNSET
    blank["next"] = -1
    blank["memcg"] = -1
    pages = np.empty(nr_pages, dtype=PAGE_DTYPE)
    _fill(pages.view(np.uint8), blank.view(np.uint8))
    return pages


def _fill(out: np.ndarray, pattern: np.ndarray) -> None:
    """Fill the bytes ``out`` with copies of ``pattern`` by doubling copies.

    No temporary, and memory-bound, unlike ``np.full`` with a structured
    record, which copies record by record (about 65 ns per page).
    """
    n = min(len(pattern), len(out))
    out[:n] = pattern[:n]
    while n < len(out):
        m = min(n, len(out) - n)
        out[n:n + m] = out[:m]
        n += m


def prepopulate(memory: Memory, pages: np.ndarray, nodes: np.ndarray,
                cg_node_pages: np.ndarray) -> None:
    """Allocate ``first_touch_node`` objects before the run (charged to the first mapper)."""
    objects, vmas, mms = memory.objects, memory.vmas, memory.mms
    for o in range(len(objects) - 1):
        node = int(objects[o]["first_touch"])
        if node < 0:
            continue
        lo, hi = objects[o]["first"], objects[o + 1]["first"]
        mappers = np.flatnonzero(vmas["obj"] == o)
        cg = mms[vmas[mappers[0]]["mm"]]["cgroup"]
        pages["node"][lo:hi] = node
        pages["pflags"][lo:hi] |= PG_PRESENT
        pages["memcg"][lo:hi] = cg
        nodes[node]["free"] -= hi - lo
        cg_node_pages[cg, node] += hi - lo
        for v in mappers:
            mms[vmas[v]["mm"]]["rss"] += hi - lo


def pending_counts(pages: np.ndarray) -> np.ndarray:
    """Pending pages (not present, or PROT_NONE) in each chunk of ``1 << PENDING_SHIFT`` pages.

    Counted a block of 256 chunks at a time, so that the temporaries stay a
    few MiB whatever the number of pages.
    """
    flags = pages["pflags"]
    size = 1 << PENDING_SHIFT
    counts = np.zeros(max(1, -(-len(pages) >> PENDING_SHIFT)), dtype=np.int32)
    for lo in range(0, len(pages), size * 256):
        block = flags[lo:lo + size * 256]
        pending = ((block & PG_PRESENT) == 0) | ((block & PG_PROTNONE) != 0)
        whole = len(block) // size
        first = lo >> PENDING_SHIFT
        counts[first:first + whole] = pending[:whole * size].reshape(whole, size).sum(axis=1)
        if whole * size < len(block):
            counts[first + whole] = pending[whole * size:].sum()
    return counts
