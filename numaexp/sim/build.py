"""Turn a :class:`~numaexp.model.Scenario` into simulator arrays.

Also models what happens before the first tick: process creation
(``init_numa_balancing`` for the main thread and each clone), placement of new
threads on CPUs, and pre-population of ``first_touch_node`` VMAs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numaexp.model.costs import CostModel
from numaexp.model.memory import watermarks
from numaexp.model.scenario import Scenario, effective_cpusets
from numaexp.model.units import PAGE_SIZE
from numaexp.sim import state as S
from numaexp.sim.access import gaussian_norm, zipf_norm, zipf_permutation
from numaexp.sim.constants import (
    CPUPID_UNSET,
    GATE_NONE,
    GATE_TICK,
    GATE_WORK,
    GUIDE_CELLS,
    HPAGE_PMD_NR,
    MPOL_F_MOF,
    MPOL_F_MOFT,
    MPOL_F_MORON,
    MPOL_NONE,
    NR_CLK,
    NR_MEMCG,
    NR_VM,
    NUMA_NO_NODE,
    NUMA_TASK_MIG_AS_POSTED,
    NUMA_TASK_MIG_FIXED,
    PAT_GAUSSIAN,
    PAT_HOTSET,
    PAT_SWEEP,
    PAT_ZIPF,
    PATTERN_CODES,
    PENDING_SHIFT,
    PG_PRESENT,
    PG_PROTNONE,
    POLICY_CODES,
    VM_EXEC,
    VM_FILE,
    VM_FILE_LRU,
    VM_SHARED,
    VM_THP,
    VM_WRITE,
)
from numaexp.sim.parallel import MASS_CHUNK
from numaexp.sim.rng import seed_key
from numaexp.sim.tiering import NBP_FIELDS

RING_SIZE = 4096
"""Ticks in the calendar ring (16.4 s at HZ 250); later events wait in the far list."""

SWEEP_SHIFT = 6
"""Sweep buckets hold 64 consecutive positions."""

ROW_RING = 1024
"""Buckets in the ring of each random mass row (one bucket ~ one tick at full rate)."""

FIRST_PID = 1000
EVENTS_CAPACITY = 1 << 16


@dataclass(frozen=True)
class Layout:
    """Names and indices that results need to label rows (plain Python)."""

    cgroups: tuple[str, ...]
    tasks: tuple[tuple[str, str, int, str], ...]  # (process, thread, pid, cgroup)
    processes: tuple[str, ...]
    vmas: tuple[tuple[str, str], ...]  # (process, vma)
    node_names: tuple[str, ...]
    task_specs: tuple[tuple[int, int], ...] = ()  # (process index, thread index) per task


def _mask(nodes) -> int:
    m = 0
    for n in nodes:
        m |= 1 << n
    return m


def _policy(pol) -> tuple[int, int, int]:
    """(mode, node mask, flags) of a MemPolicy; default policy carries MOF|MORON."""
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
    return mode, _mask(pol.nodes), flags


def effective_numa_load_balance(cgroups, variant) -> np.ndarray:
    """``cpu.numa_load_balance`` as the gate sees it, per cgroup of ``cgroups``.

    ``cgroups`` is ``Workload.all_cgroups()`` (every path with its parents).

    The RFC reads each group's own value; the ``hierarchical`` variant also
    needs every ancestor below the root at 1 (the root's own value only
    governs the root's tasks).
    """
    own = {cg.path: cg.numa_load_balance for cg in cgroups}
    out = np.zeros(len(cgroups), dtype=np.int64)
    for i, cg in enumerate(cgroups):
        value = own[cg.path]
        if variant.cgroup == "hierarchical":
            parent = cg.parent
            while parent is not None and parent != "/":
                value &= own[parent]
                parent = parent.rsplit("/", 1)[0] or "/"
        out[i] = value
    return out


def demotion_targets(machine) -> tuple[list[int], list[int]]:
    """``establish_demotion_targets``: (preferred, fallback) node masks per node.

    Preferred: the nodes of the next lower tier (that has memory) at the
    smallest distance; fallback: every node of every lower tier.
    """
    tiers = machine.tiers
    pref, fallback = [], []
    for a, tier in enumerate(tiers):
        lower = [b for b in range(machine.nr_nodes)
                 if tiers[b] > tier and machine.nodes[b].memory > 0]
        if not lower:
            pref.append(0)
            fallback.append(0)
            continue
        nxt = min(tiers[b] for b in lower)
        cand = [b for b in lower if tiers[b] == nxt]
        best = min(machine.distance[a][b] for b in cand)
        pref.append(_mask(b for b in cand if machine.distance[a][b] == best))
        fallback.append(_mask(lower))
    return pref, fallback


def _imb_numa_nr(scenario: Scenario) -> int:
    """``sd->imb_numa_nr`` of the lowest NUMA domain (one LLC per node assumed)."""
    cpus = [node.cpus for node in scenario.machine.nodes if node.cpus > 0]
    per_node = max(cpus) if cpus else 1
    return max(1, per_node >> 3)


def estimate_bytes(scenario: Scenario) -> int:
    """Bytes the simulator state of ``scenario`` will take (pages dominate).

    ``BYTES_PER_PAGE`` (17) per page, ``POOL_BYTES_PER_PAGE`` (4) more per
    page of a VMA that a random pattern covers (its slot in the lists'
    segments), the per-task rows, 4 bytes per pending-fault list (the
    calendar ring, a head per 64 positions of each distinct sweep, a ring per
    distinct random pattern) and 24 more per non-sweep list (its segment),
    the events buffer and a margin for the small arrays. Patterns are told
    apart by their fields, so the count of lists is an upper bound.
    """
    pages = scenario.memory_pages
    tasks = sum(p.nr_threads for p in scenario.workload.processes)
    n = scenario.machine.nr_nodes
    per_task = S.TASK_DTYPE.itemsize + S.GROUP_DTYPE.itemsize + scenario.machine.nr_cpus + 104 * n
    lists = RING_SIZE + 1
    seg_lists = RING_SIZE + 1
    seen = set()
    random_objects = {}
    for proc in scenario.workload.processes:
        vmas = {v.name: v for v in proc.vmas}
        for thread in proc.threads:
            for pat in (pat for phase in thread.phases for pat in phase.patterns):
                for k in range(thread.count if pat.slice_by_thread else 1):
                    key = (vmas[pat.vma].object or (proc.name, pat.vma), pat, k)
                    if key not in seen:
                        seen.add(key)
                        if pat.kind == "sweep":
                            lists += (vmas[pat.vma].pages // pat.stride >> SWEEP_SHIFT) + 1
                        else:
                            lists += ROW_RING + 1
                            seg_lists += ROW_RING + 1
                            random_objects[key[0]] = vmas[pat.vma].pages
    pool = sum(random_objects.values())
    return (pages * S.BYTES_PER_PAGE + pool * S.POOL_BYTES_PER_PAGE + tasks * per_task
            + 4 * lists + 24 * seg_lists
            + EVENTS_CAPACITY * S.EVENT_DTYPE.itemsize + (1 << 22))


def build_state(scenario: Scenario) -> tuple[S.Arrays, Layout]:
    """Allocate and fill the simulator state for ``scenario``.

    Returns
    -------
    arrays : Arrays
        Every array of the run (wrap with :func:`numaexp.sim.state.to_state`
        for the kernels).
    layout : Layout
        Names of cgroups, tasks, processes and VMAs, in array order.
    """
    machine, workload, kernel, costs = (scenario.machine, scenario.workload, scenario.kernel,
                                        scenario.costs)
    nn, nc = machine.nr_nodes, machine.nr_cpus
    tick_ns = 1_000_000_000 // kernel.hz
    wm = watermarks(machine, kernel)

    # ---- nodes and CPUs
    distance = np.array(machine.distance, dtype=np.int64)
    has_mem = [node.pages > 0 for node in machine.nodes]
    zonelist = np.full((nn, nn), -1, dtype=np.int64)
    for a in range(nn):
        order = sorted((b for b in range(nn) if has_mem[b]), key=lambda b: (distance[a, b], b))
        zonelist[a, : len(order)] = order
    nodes = np.zeros(nn, dtype=S.NODE_DTYPE)
    nodes["cpus"] = [node.cpus for node in machine.nodes]
    nodes["first_cpu"] = np.concatenate([[0], np.cumsum(nodes["cpus"])[:-1]])
    nodes["present"] = [node.pages for node in machine.nodes]
    nodes["free"] = nodes["present"]
    nodes["wmark_min"] = wm.min
    nodes["wmark_low"] = wm.low
    nodes["wmark_high"] = wm.high
    nodes["wmark_promo"] = wm.promo
    nodes["toptier"] = machine.toptier
    # pgdat_free_space_enough: max(1 GiB, node_present_pages / 16) above WMARK_PROMO
    nodes["promo_enough"] = np.maximum((1 << 30) // PAGE_SIZE, nodes["present"] >> 4)
    nodes["demote_pref"], nodes["demote_fallback"] = demotion_targets(machine)
    nodes["kswapd_lap_ns"] = 1_000_000_000  # until a first lap is measured
    nodes["bandwidth"] = [node.bandwidth_gbps for node in machine.nodes]  # GB/s = bytes/ns
    cpus = np.zeros(nc, dtype=S.CPU_DTYPE)
    cpus["node"] = machine.cpu_node
    cpus["curr"] = -1

    # ---- cgroups
    cgroups = workload.all_cgroups()
    cg_index = {cg.path: i for i, cg in enumerate(cgroups)}
    effective = effective_cpusets(workload, machine)

    # ---- objects, VMAs, mms
    obj_index: dict[str, int] = {}
    obj_rows: list[list[int]] = []  # first, flags, mapcount, first_touch
    vma_rows = []
    mm_rows = []
    vma_names = []
    npages_total = 0
    for pi, proc in enumerate(workload.processes):
        vfirst = len(vma_rows)
        vstart = 0
        for vma in proc.vmas:
            key = f"obj:{vma.object}" if vma.object else f"{pi}:{vma.name}"
            flags = (VM_WRITE if vma.writable else 0) | (VM_SHARED if vma.shared else 0) | (
                VM_EXEC if vma.executable else 0)
            if vma.kind != "anon" or vma.shared:
                flags |= VM_FILE
            if vma.kind == "file":
                flags |= VM_FILE_LRU
            if vma.thp:
                flags |= VM_THP
            if key not in obj_index:
                obj_index[key] = len(obj_rows)
                obj_rows.append([npages_total, flags & (VM_FILE | VM_FILE_LRU | VM_THP), 0,
                                 -1 if vma.first_touch_node is None else vma.first_touch_node])
                npages_total += vma.pages
            o = obj_index[key]
            obj_rows[o][2] += 1
            mode, nodes_mask, pflags = _policy(vma.policy)
            vma_rows.append((pi, o, vstart, vma.pages, flags, mode, nodes_mask, pflags))
            vma_names.append((proc.name, vma.name))
            # next VMA starts on a 2 MiB boundary after a one-PMD gap
            vstart += -(-vma.pages // HPAGE_PMD_NR) * HPAGE_PMD_NR + HPAGE_PMD_NR
        mm_rows.append((vfirst, len(proc.vmas), cg_index[proc.cgroup]))
    vmas = np.zeros(len(vma_rows), dtype=S.VMA_DTYPE)
    for col, name in enumerate(("mm", "obj", "start", "npages", "vm_flags", "pol_mode", "pol_nodes",
                                "pol_flags")):
        vmas[name] = [row[col] for row in vma_rows]
    objects = np.zeros(len(obj_rows) + 1, dtype=S.OBJECT_DTYPE)
    for col, name in enumerate(("first", "vm_flags", "mapcount", "first_touch")):
        objects[name][:-1] = [row[col] for row in obj_rows]
    objects["first"][-1] = npages_total
    objects["vma"] = -1
    for v, row in enumerate(vma_rows):
        if objects["mapcount"][row[1]] == 1:
            objects["vma"][row[1]] = v

    # ---- tasks
    task_rows = []  # (proc index, thread spec, replica, pid)
    task_names = []
    task_specs: list[tuple[int, int]] = []
    pid = FIRST_PID
    mm_users = []
    for pi, proc in enumerate(workload.processes):
        if proc.main_thread == "sleeps":
            pid += 1  # the sleeping main thread
        for ti, thread in enumerate(proc.threads):
            for k in range(thread.count):
                name = thread.name if thread.count == 1 else f"{thread.name}.{k}"
                task_rows.append((pi, thread, k, pid))
                task_specs.append((pi, ti))
                task_names.append((proc.name, name, pid, proc.cgroup))
                pid += 1
        mm_users.append(proc.nr_threads + (1 if proc.main_thread == "sleeps" else 0))
    nt = len(task_rows)

    tasks = np.zeros(nt, dtype=S.TASK_DTYPE)
    allowed = np.zeros((nt, nc), dtype=np.uint8)
    for t, (pi, thread, _k, tpid) in enumerate(task_rows):
        proc = workload.processes[pi]
        cg_cpus, cg_mems = effective[proc.cgroup]
        cpu_set = cg_cpus if thread.cpus is None else (set(thread.cpus) & cg_cpus)
        allowed[t, sorted(cpu_set)] = 1
        mode, nodes_mask, pflags = _policy(thread.policy)
        tasks[t]["pid"] = tpid
        tasks[t]["mm"] = pi
        tasks[t]["cgroup"] = cg_index[proc.cgroup]
        tasks[t]["pol_mode"] = mode
        tasks[t]["pol_nodes"] = nodes_mask
        tasks[t]["pol_flags"] = pflags
        tasks[t]["mems"] = _mask(cg_mems)
    tasks["alive"] = 1
    tasks["finish_ns"] = -1
    tasks["numa_scan_period"] = kernel.scan_delay_ms
    tasks["numa_preferred_nid"] = NUMA_NO_NODE
    tasks["numa_group"] = -1

    # ---- phases and streams
    phase_rows, stream_rows = [], []
    region_index: dict[tuple[int, int, int, int], int] = {}
    for t, (pi, thread, k, _pid) in enumerate(task_rows):
        proc = workload.processes[pi]
        vma_by_name = {v.name: (i, v) for i, v in enumerate(proc.vmas)}
        tasks[t]["phase"] = len(phase_rows)
        for phase in thread.phases:
            sfirst = len(stream_rows)
            total_share = sum(p.share for p in phase.patterns)
            n_first = None
            for pat in phase.patterns:
                vi, vma = vma_by_name[pat.vma]
                o = int(vmas["obj"][mm_rows[pi][0] + vi])
                start = pat.start // PAGE_SIZE
                length = vma.pages - start if pat.length is None else -(-pat.length // PAGE_SIZE)
                if pat.slice_by_thread:
                    per = length // thread.count
                    start += k * per
                    length = per
                n = max(1, length // pat.stride)
                kind = PATTERN_CODES[pat.kind]
                p1 = p2 = p3 = p4 = 0.0
                if kind == PAT_HOTSET:
                    hot_n = max(1, round(pat.hot_size * n))
                    p1, p2, p3 = pat.hot_fraction, float(min(n - hot_n,
                                                             int(pat.hot_offset * n))), float(hot_n)
                elif kind == PAT_ZIPF:
                    a, b = zipf_permutation(n, scenario.seed * 1_000_003 + len(stream_rows))
                    p1, p2, p3, p4 = pat.zipf_alpha, float(a), float(b), 1.0 / zipf_norm(
                        n, pat.zipf_alpha)
                elif kind == PAT_GAUSSIAN:
                    p1, p2, p3 = pat.mean, pat.sigma, gaussian_norm(pat.mean, pat.sigma)
                else:  # uniform, sweep: every position weighs 1 / n
                    p1 = 1.0 / n
                region = -1
                if kind == PAT_SWEEP:
                    rkey = (o, start, n, pat.stride)
                    region = region_index.setdefault(rkey, len(region_index))
                    n_first = n
                stream_rows.append((t, o, start, n, pat.stride, kind, pat.share / total_share,
                                    p1, p2, p3, p4, region, 1 if pat.write_fraction > 0 else 0))
            end_touches = math.inf
            if phase.touches is not None:
                end_touches = float(phase.touches)
            elif phase.passes is not None:
                end_touches = float(phase.passes) * n_first
            phase_rows.append((t, sfirst, len(stream_rows) - sfirst, end_touches,
                               math.inf if phase.duration_s is None else phase.duration_s * 1e9,
                               phase.think_ns, phase.mlp, phase.stream_gbps,
                               1 if phase.is_sweep else 0))
        tasks[t]["phase_last"] = len(phase_rows) - 1
    phases = np.zeros(len(phase_rows), dtype=S.PHASE_DTYPE)
    for col, name in enumerate(("task", "stream_first", "stream_count", "end_touches", "end_ns",
                                "think_ns", "mlp", "stream_bw", "sweep")):
        phases[name] = [row[col] for row in phase_rows]
    ns_ = len(stream_rows)
    streams = np.zeros(ns_, dtype=S.STREAM_DTYPE)
    for col, name in enumerate(("task", "obj", "first", "n", "stride", "kind", "share", "p1",
                                "p2", "p3", "p4", "region", "writes")):
        streams[name] = [row[col] for row in stream_rows]
    # streams with the same region and weights share one mass row
    mass_rows: dict[tuple, int] = {}
    for k, row in enumerate(stream_rows):
        streams[k]["mrow"] = mass_rows.setdefault((row[1], row[2], row[3], row[4], row[5],
                                                   *row[7:11]), len(mass_rows))
    nrows = len(mass_rows)
    massrows = np.zeros(nrows, dtype=S.MASSROW_DTYPE)
    order = np.argsort(streams["mrow"], kind="stable")
    counts = np.bincount(streams["mrow"], minlength=nrows)
    massrows["count"] = counts
    massrows["first"] = np.concatenate([[0], np.cumsum(counts)[:-1]])
    massrows["random"][streams["mrow"]] = streams["kind"] != PAT_SWEEP
    rkeys = sorted(region_index, key=region_index.get)
    nb = [-(-key[2] >> SWEEP_SHIFT) for key in rkeys]
    regions = np.zeros(len(rkeys), dtype=S.REGION_DTYPE)
    for col, name in enumerate(("obj", "first", "n", "stride")):
        regions[name] = [key[col] for key in rkeys]
    regions["nbuckets"] = nb
    regions["bucket_first"] = np.concatenate([[0], np.cumsum(nb)[:-1]]) if nb else []
    total_buckets = int(sum(nb))
    random_rows = np.flatnonzero(massrows["random"])
    row_list_base = RING_SIZE + 1 + total_buckets
    massrows["lists"][random_rows] = row_list_base + np.arange(len(random_rows)) * (ROW_RING + 1)
    heads = np.full(row_list_base + len(random_rows) * (ROW_RING + 1), -1, dtype=np.int32)
    sweep_bits = np.zeros(max(1, -(-total_buckets // 64)), dtype=np.uint64)
    # segments (lists.py) hold pages of objects that random patterns cover
    random_objs = np.unique(streams["obj"][streams["kind"] != PAT_SWEEP])
    pool_slots = int(np.sum(objects["first"][random_objs + 1] - objects["first"][random_objs]))
    seg_lists = len(heads) - total_buckets

    # ---- segments (filled by the first run); capacity grows on demand
    nobj = len(obj_rows)
    seg_cap = 2 * ns_ + nobj + 8
    ent_cap = 4 * ns_ + 64

    # ---- process creation and initial placement
    mms = np.zeros(len(mm_rows), dtype=S.MM_DTYPE)
    mms["users"] = mm_users
    mms["nr_threads"] = mm_users
    mms["vma_first"] = [r[0] for r in mm_rows]
    mms["vma_count"] = [r[1] for r in mm_rows]
    mms["cgroup"] = [r[2] for r in mm_rows]
    _init_numa_balancing(scenario, tasks, mms, task_rows, tick_ns)
    _place_new_tasks(tasks, allowed, cpus, nodes)

    blank = np.zeros(1, dtype=S.PAGE_DTYPE)
    blank["node"] = NUMA_NO_NODE
    blank["last_cpupid"] = CPUPID_UNSET
    blank["next"] = -1
    blank["memcg"] = -1
    pages = np.empty(npages_total, dtype=S.PAGE_DTYPE)
    _fill(pages.view(np.uint8), blank.view(np.uint8))
    cg_node_pages = np.zeros((len(cgroups), nn), dtype=np.int64)
    _prepopulate(objects, vmas, mms, pages, nodes, cg_node_pages)
    cpu_node_ids = [i for i, node in enumerate(machine.nodes) if node.cpus > 0]
    params = np.zeros(1, dtype=S.PARAMS_DTYPE)
    values = dict(
        mode=kernel.numa_balancing,
        hz=kernel.hz,
        tick_ns=tick_ns,
        scan_delay_ms=kernel.scan_delay_ms,
        scan_period_min_ms=kernel.scan_period_min_ms,
        scan_period_max_ms=kernel.scan_period_max_ms,
        scan_size_mb=kernel.scan_size_mb,
        hot_threshold_ms=kernel.hot_threshold_ms,
        promote_rate_limit_pages=kernel.promote_rate_limit_mbps << 8,
        locality_reset_fix=int(kernel.locality_reset_fix),
        nr_nodes=nn,
        nr_cpus=nc,
        nr_tasks=nt,
        nr_pages=npages_total,
        nr_cgroups=len(cgroups),
        topology_type=machine.numa_topology_type,
        max_distance=int(distance.max()),
        imb_numa_nr=_imb_numa_nr(scenario),
        has_numa_domain=int(len(cpu_node_ids) > 1),
        imbalance_pct=100 + (117 - 100) // 2,
        seed=scenario.seed,
        seed_key=seed_key(scenario.seed),
        hint_fault_ns=costs.hint_fault_ns,
        migrate_folio_ns=costs.migrate_folio_ns,
        migrate_copy_ns=costs.migrate_copy_ns_per_page,
        pte_scan_ns=costs.pte_scan_ns,
        pte_update_ns=costs.pte_update_ns,
        tlb_flush_ns=costs.tlb_flush_ns,
        task_move_ns=costs.task_move_ns,
        first_touch_ns=costs.first_touch_ns,
        ring_size=RING_SIZE,
        far_list=RING_SIZE,
        sweep_list_base=RING_SIZE + 1,
        sweep_shift=SWEEP_SHIFT,
        row_list_base=row_list_base,
        row_ring=ROW_RING,
        balance_interval=4,
        min_latency_ns=min(machine.latency_matrix[a][a] for a in cpu_node_ids),
        cgroup_gate={"mainline": GATE_NONE, "rfc-v1": GATE_TICK}.get(kernel.variant.cgroup,
                                                                     GATE_WORK),
        stats_vmstat=int(kernel.variant.stats == "fixed"),
        numa_task_mig=NUMA_TASK_MIG_AS_POSTED if kernel.variant.rfc
        and kernel.variant.interleave == "as-posted" else NUMA_TASK_MIG_FIXED,
        demotion_enabled=int(kernel.demotion_enabled),
        kswapd_batch=kswapd_batch(tick_ns, costs, npages_total),
    )
    for key, value in values.items():
        params[0][key] = value
    state = S.Arrays(
        p=params[0], pg=pages, pg_pending=pending_counts(pages), ob=objects, vm=vmas, mm=mms,
        tk=tasks, tk_allowed=allowed,
        tk_faults=np.zeros((nt, 8 * nn), dtype=np.int64),
        tk_share=np.zeros((nt, nn), dtype=np.float64),
        ng=np.zeros(nt, dtype=S.GROUP_DTYPE), ng_faults=np.zeros((nt, 4 * nn), dtype=np.int64),
        nd=nodes, nd_nbp=np.zeros((nn, NBP_FIELDS), dtype=np.int64), nd_distance=distance,
        nd_zonelist=zonelist,
        nd_latency=np.array(machine.latency_matrix, dtype=np.float64),
        nd_link_bw=np.full((nn, nn), machine.link_bandwidth_gbps, dtype=np.float64),
        cpu=cpus, st=streams, st_mass=np.zeros((nrows, nn), dtype=np.float64),
        mr=massrows, mr_streams=order.astype(np.int64), ph=phases, rg=regions,
        sg_obj_first=np.zeros(nobj + 1, dtype=np.int64),
        sg_start=np.zeros(seg_cap, dtype=np.int64),
        sg_list_first=np.zeros(seg_cap + 1, dtype=np.int64),
        sg_streams=np.zeros(ent_cap, dtype=np.int64),
        sg_mrow_first=np.zeros(seg_cap + 1, dtype=np.int64),
        sg_mrows=np.zeros(ent_cap, dtype=np.int64),
        sg_region=np.zeros(seg_cap, dtype=np.int64),
        sg_random=np.zeros(seg_cap, dtype=np.int64),
        sg_need=np.zeros(2, dtype=np.int64),
        ls_heads=heads, ls_sweep_bits=sweep_bits,
        ls_pool=np.full(max(pool_slots, 1), -1, dtype=np.int32),
        ls_seg=np.zeros((3, seg_lists), dtype=np.int64),
        cg_nlb=effective_numa_load_balance(cgroups, kernel.variant),
        cnt_vm=np.zeros(NR_VM, dtype=np.int64),
        cnt_memcg=np.zeros((len(cgroups), NR_MEMCG), dtype=np.int64),
        cnt_cg_node_pages=cg_node_pages,
        cnt_node_vm=np.zeros((nn, NR_VM), dtype=np.int64),
        ev=np.zeros(EVENTS_CAPACITY, dtype=S.EVENT_DTYPE), ev_count=np.zeros(2, dtype=np.int64),
        clk=np.zeros(NR_CLK, dtype=np.int64),
        tmp_order=np.arange(nt, dtype=np.int64),
        tmp_task_f=np.zeros((nt, nn), dtype=np.float64),
        tmp_speed_key=np.zeros((nt, 3), dtype=np.int64),
        tmp_node_f=np.zeros((3, nn), dtype=np.float64),
        tmp_link_f=np.zeros((2, nn, nn), dtype=np.float64),
        tmp_ints=np.zeros(32 + 2 * nn, dtype=np.int64),
        tmp_bounds=np.zeros((2, 2 * ns_ + 2), dtype=np.int64),
        tmp_mass=np.zeros((max(1, -(-int(streams["n"].max(initial=1)) // MASS_CHUNK)), nn),
                          dtype=np.float64),
        tmp_pick=np.zeros((2, max(len(order), 1)), dtype=np.float64),
        tmp_guide=np.zeros(GUIDE_CELLS * max(len(order), 1), dtype=np.int64),
    )
    layout = Layout(
        cgroups=tuple(cg.path for cg in cgroups),
        tasks=tuple(task_names),
        processes=tuple(p.name for p in workload.processes),
        vmas=tuple(vma_names),
        node_names=tuple(f"N{i}" for i in range(nn)),
        task_specs=tuple(task_specs),
    )
    return state, layout


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


def _init_numa_balancing(scenario: Scenario, tasks: np.ndarray, mms: np.ndarray, task_rows,
                         tick_ns: int) -> None:
    """``init_numa_balancing`` for each process's threads, created at time 0.

    A ``main_thread = "works"`` process's first thread is the exec'd main
    thread (``node_stamp`` 0, ``numa_next_scan`` 0 until its first
    ``task_numa_work``); every other thread is a clone made by the main thread.
    For a clone made while ``mm_users`` is 1, the mm gets
    ``numa_next_scan = now + scan_delay``. A clone's ``node_stamp`` is
    ``min(task_scan_max(parent), parent->numa_scan_period * mm_users * 1e6) +
    2 * TICK_NSEC`` in 32-bit unsigned arithmetic, as in the kernel (where it
    compares ms with ns: in practice the ms value of ``task_scan_max``).
    """
    kernel = scenario.kernel
    delay_jiffies = -(-kernel.scan_delay_ms * kernel.hz // 1000)
    # task_scan_max of the parent at time 0 (rss 0 -> one scan window, no group)
    windows = 1
    floor = 1000 // (2560 // kernel.scan_size_mb) if kernel.scan_size_mb < 2560 else 1000
    smin = max(floor, kernel.scan_period_min_ms // windows)
    smax = max(smin, kernel.scan_period_max_ms // windows)
    by_proc: dict[int, list[int]] = {}
    for t, row in enumerate(task_rows):
        by_proc.setdefault(row[0], []).append(t)
    for pi, proc in enumerate(scenario.workload.processes):
        users = 0
        members = by_proc.get(pi, [])
        if proc.main_thread == "works" and members:
            users = 1  # the exec'd main thread
            members = members[1:]
        elif proc.main_thread == "sleeps":
            users = 1
        for t in members:
            if users == 1:
                mms[pi]["numa_next_scan"] = delay_jiffies
                mms[pi]["numa_scan_seq"] = 0
            product = (kernel.scan_delay_ms * users * 1_000_000) & 0xFFFFFFFF
            tasks[t]["node_stamp"] = min(smax & 0xFFFFFFFF, product) + 2 * tick_ns
            users += 1


def _place_new_tasks(tasks: np.ndarray, allowed: np.ndarray, cpus: np.ndarray,
                     nodes: np.ndarray) -> None:
    """Wake up new tasks on the least loaded allowed CPU.

    Departure: fork balancing (``find_idlest_group``) keeps the first
    ``imb_numa_nr`` tasks on the parent's node; here each new task goes to the
    allowed node with the fewest tasks per allowed CPU, then its least loaded CPU.
    """
    per_node = np.zeros(len(nodes), dtype=np.int64)
    for t in range(len(tasks)):
        allowed_cpus = np.flatnonzero(allowed[t])
        where = cpus["node"][allowed_cpus]
        allowed_here = np.bincount(where, minlength=len(nodes))[where]
        # the least (tasks per allowed CPU of its node, nr_running, node, cpu)
        best = np.lexsort((allowed_cpus, where, cpus["nr_running"][allowed_cpus],
                           per_node[where] / allowed_here))[0]
        c = allowed_cpus[best]
        tasks[t]["cpu"] = c
        cpus[c]["nr_running"] += 1
        per_node[cpus[c]["node"]] += 1


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


def _prepopulate(objects: np.ndarray, vmas: np.ndarray, mms: np.ndarray, pages: np.ndarray,
                 nodes: np.ndarray, cg_node_pages: np.ndarray) -> None:
    """Allocate ``first_touch_node`` objects before the run (charged to the first mapper)."""
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


def kswapd_batch(tick_ns: int, costs: CostModel, npages: int) -> int:
    """Pages kswapd can demote per tick per node: a tick's time over one page's migration cost.

    A cost model whose migrations cost nothing puts no limit below every
    page of the scenario (``npages``, at least 1).
    """
    per_page = costs.migrate_folio_ns + costs.migrate_copy_ns_per_page
    if per_page <= 0:
        return max(1, npages)
    return max(1, int(tick_ns // per_page))
