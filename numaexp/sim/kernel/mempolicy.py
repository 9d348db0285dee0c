"""Memory policies (mm/mempolicy.c): placement of new pages and ``mpol_misplaced``.

Policies are ``(mode, node mask, flags)`` triples; the default policy is
``preferred_node_policy[this node]``: MPOL_PREFERRED of the local node with
MPOL_F_MOF | MPOL_F_MORON.
"""

from __future__ import annotations

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import CLK_TICK, SYS_RECLAIM
from numaexp.sim.engine.jit import jit, jit_inline
from numaexp.sim.kernel.constants import (
    ALLOC_FALLBACK,
    MPOL_BIND,
    MPOL_DEFAULT,
    MPOL_F_MOF,
    MPOL_F_MORON,
    MPOL_INTERLEAVE,
    MPOL_LOCAL,
    MPOL_NONE,
    MPOL_PREFERRED,
    MPOL_PREFERRED_MANY,
    MPOL_WEIGHTED_INTERLEAVE,
    NUMA_NO_NODE,
    SWAP_CLUSTER_MAX,
    VM_FILE,
)
from numaexp.sim.kernel.vmscan import can_demote, shrink_node


@jit_inline
def node_isset(mask, nid):
    """True if ``nid`` is in the node bitmask."""
    return (mask >> nid) & 1 == 1


@jit_inline
def first_node(mask):
    """Lowest node of the mask (NUMA_NO_NODE if empty)."""
    for nid in range(63):
        if (mask >> nid) & 1:
            return nid
    return NUMA_NO_NODE


@jit_inline
def interleave_nid(mask, ilx):
    """``interleave_nid``: the ``(ilx mod weight)``-th node of the mask."""
    weight = 0
    for nid in range(63):
        if (mask >> nid) & 1:
            weight += 1
    if weight == 0:
        return NUMA_NO_NODE
    target = ilx % weight
    for nid in range(63):
        if (mask >> nid) & 1:
            if target == 0:
                return nid
            target -= 1
    return NUMA_NO_NODE


@jit_inline
def get_vma_policy(s, t, v):
    """The VMA's policy, else the task's (``get_vma_policy``): (mode, nodes, flags)."""
    if s.vm.pol_mode[v] != MPOL_NONE:
        return s.vm.pol_mode[v], s.vm.pol_nodes[v], s.vm.pol_flags[v]
    return s.tk.pol_mode[t], s.tk.pol_nodes[t], s.tk.pol_flags[t]


@jit_inline
def vma_policy_mof(s, t, v):
    """``vma_policy_mof``: the effective policy has MPOL_F_MOF."""
    _mode, _nodes, flags = get_vma_policy(s, t, v)
    return (flags & MPOL_F_MOF) != 0


@jit_inline
def policy_ilx(s, v, off):
    """Interleave index of VMA page ``off``: virtual page for anon, file offset otherwise."""
    if s.vm.vm_flags[v] & VM_FILE:
        return off
    return s.vm.start[v] + off


@jit_inline
def mpol_policy_node(mode, nodes, flags, curnid, thisnid, ilx_nid, zonelist):
    """The policy switch of ``mpol_misplaced``: candidate node, or NUMA_NO_NODE.

    Parameters
    ----------
    mode, nodes, flags : int
        The policy (MPOL_DEFAULT stands for the default local-preferred policy).
    curnid : int
        Node of the folio.
    thisnid : int
        Node of the faulting CPU.
    ilx_nid : int
        Interleave node of the faulting address (for interleave policies).
    zonelist : array of int
        Nodes by distance from ``thisnid`` (``node_zonelist``), -1 padded.

    Returns
    -------
    int
        NUMA_NO_NODE where the kernel jumps to ``out`` (no MOF, folio
        already allowed, ...), else the policy node ``polnid``.
    """
    if mode == MPOL_DEFAULT:
        nodes = 1 << thisnid
        mode = MPOL_PREFERRED
    if not flags & MPOL_F_MOF:
        return NUMA_NO_NODE
    if mode == MPOL_INTERLEAVE or mode == MPOL_WEIGHTED_INTERLEAVE:
        return ilx_nid
    if mode == MPOL_PREFERRED:
        if node_isset(nodes, curnid):
            return NUMA_NO_NODE
        return first_node(nodes)
    if mode == MPOL_LOCAL:
        return thisnid
    if mode == MPOL_BIND or mode == MPOL_PREFERRED_MANY:
        if flags & MPOL_F_MORON:
            if node_isset(nodes, thisnid):
                return thisnid
            return NUMA_NO_NODE
        if node_isset(nodes, curnid):
            return NUMA_NO_NODE
        for k in range(len(zonelist)):
            nid = zonelist[k]
            if nid >= 0 and node_isset(nodes, nid):
                return nid
        return NUMA_NO_NODE
    return NUMA_NO_NODE


@jit
def mpol_misplaced(mode, nodes, flags, curnid, thisnid, ilx_nid, zonelist, should_migrate):
    """``mpol_misplaced``: the node a faulting folio should move to, or NUMA_NO_NODE.

    Same arguments as :func:`mpol_policy_node`, plus ``should_migrate``: what
    ``should_numa_migrate_memory`` returns for this fault (consulted only
    with MPOL_F_MORON; the simulator calls it lazily, since it has side
    effects, see ``fault.do_numa_page``).
    """
    polnid = mpol_policy_node(mode, nodes, flags, curnid, thisnid, ilx_nid, zonelist)
    if polnid == NUMA_NO_NODE:
        return NUMA_NO_NODE
    if mode == MPOL_DEFAULT or flags & MPOL_F_MORON:
        polnid = thisnid
        if not should_migrate:
            return NUMA_NO_NODE
    if curnid != polnid:
        return polnid
    return NUMA_NO_NODE


@jit_inline
def _alloc_pass(s, order, allowed, nr, level):
    """First node of ``order`` in ``allowed`` whose free pages stay above a watermark."""
    for k in range(len(order)):
        nid = order[k]
        if nid < 0 or not node_isset(allowed, nid):
            continue
        free = s.nd.free[nid] - nr
        if level == 0:
            ok = free > s.nd.wmark_low[nid]
        elif level == 1:
            ok = free > s.nd.wmark_min[nid]
        else:
            ok = free >= 0
        if ok:
            return nid
    return NUMA_NO_NODE


@jit_inline
def alloc_node(s, t, v, off, nr):
    """Node that receives a newly touched page (``alloc_pages_mpol``).

    Tries the policy's preferred node, then the others by distance, first
    above the LOW watermark (fast path: no kswapd wake-up, so pages spill to
    the next node), then (slow path) wakes kswapd of the allowed nodes and
    tries above MIN, then demotes by direct reclaim on the first choice
    (``pgdemote_direct``, charged to the task), then takes any free page.
    Allowed nodes are the policy's (bind) within the task's ``cpuset.mems``.
    Counts ``alloc_fallback`` when the page does not land on the first choice.

    Returns
    -------
    int
        The node, or NUMA_NO_NODE if no allowed node has ``nr`` free pages.
    """
    thisnid = s.cpu.node[s.tk.cpu[t]]
    mode, nodes, _flags = get_vma_policy(s, t, v)
    allowed = s.tk.mems[t]
    pref = thisnid
    if mode == MPOL_PREFERRED:
        pref = first_node(nodes)
    elif mode == MPOL_INTERLEAVE or mode == MPOL_WEIGHTED_INTERLEAVE:
        pref = interleave_nid(nodes, policy_ilx(s, v, off))
    elif mode == MPOL_BIND:
        if allowed & nodes:
            allowed = allowed & nodes
        else:
            allowed = nodes
    order = s.nd_zonelist[pref]
    nid = NUMA_NO_NODE
    if mode == MPOL_PREFERRED_MANY and allowed & nodes:
        for level in range(3):
            nid = _alloc_pass(s, s.nd_zonelist[thisnid], allowed & nodes, nr, level)
            if nid >= 0:
                break
    if nid < 0:
        nid = _alloc_pass(s, order, allowed, nr, 0)
    if nid < 0:
        # slow path: wake kswapd of every allowed node, retry above MIN, then
        # reclaim directly (demote) on the first choice, then take any free page
        for k in range(len(order)):
            if order[k] >= 0 and node_isset(allowed, order[k]):
                s.nd.kswapd_wake[order[k]] = 1
        nid = _alloc_pass(s, order, allowed, nr, 1)
        if nid < 0 and can_demote(s, order[0]) and node_isset(allowed, order[0]):
            now_ns = s.clk[CLK_TICK] * s.p.tick_ns
            done = shrink_node(s, order[0], max(SWAP_CLUSTER_MAX, nr), True, now_ns)
            charge(s, t, done * (s.p.migrate_folio_ns + s.p.migrate_copy_ns_per_page),
                   SYS_RECLAIM)
            nid = _alloc_pass(s, order, allowed, nr, 1)
        if nid < 0:
            nid = _alloc_pass(s, order, allowed, nr, 2)
    if nid >= 0 and nid != order[0]:
        s.cnt_vm[ALLOC_FALLBACK] += 1
    return nid

