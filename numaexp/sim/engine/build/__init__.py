"""Turn a :class:`~numaexp.model.Scenario` into simulator arrays.

Each builder returns the arrays of one part of the state (:mod:`.nodes`,
:mod:`.memory`, :mod:`.tasks`, :mod:`.streams`, :mod:`.lists`, and the
parameter record of :mod:`numaexp.sim.engine.params`); :func:`build_state`
puts them together. The build also pre-populates of ``first_touch_node`` VMAs; the machine's
sched domains (:mod:`.domains`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numaexp.model.policy import POLICY_CONTEXT_DTYPE
from numaexp.model.scenario import Scenario
from numaexp.readout import Labels
from numaexp.sim.engine import state as S
from numaexp.sim.engine.build.domains import build_domains, level_names, llc_ids
from numaexp.sim.engine.build.lists import build_lists, initial_segment_index, list_layout
from numaexp.sim.engine.build.memory import build_memory, build_pages, pending_counts, prepopulate
from numaexp.sim.engine.build.nodes import (
    build_cpus,
    build_distance,
    build_latency,
    build_link_bandwidth,
    build_nodes,
    build_promotion_state,
    build_zonelist,
)
from numaexp.sim.engine.build.streams import build_streams
from numaexp.sim.engine.build.tasks import build_tasks, link_phases
from numaexp.sim.engine.codes import GUIDE_CELLS, NR_CLK, NR_SYS
from numaexp.sim.engine.dtypes import (
    EVENT_DTYPE,
    GROUP_DTYPE,
    LB_ENV_DTYPE,
    NUMA_STATS_DTYPE,
    NUMA_STATS_SLOTS,
    SG_LB_STATS_DTYPE,
    TASK_NUMA_ENV_DTYPE,
)
from numaexp.sim.engine.parallel import MASS_CHUNK
from numaexp.sim.engine.params import Facts, build_params
from numaexp.sim.engine.policy import policy_slots
from numaexp.sim.kernel.cgroup_gate import effective_numa_load_balance
from numaexp.sim.kernel.constants import NR_MEMCG, NR_VM

EVENTS_CAPACITY = 1 << 16
"""Rows of the events buffer; the runner flushes it before it fills."""


@dataclass(frozen=True)
class Layout(Labels):
    """Names and indices of a run's rows (plain Python): the result labels, and what
    the actions need to find processes, VMAs and thread specs."""

    processes: tuple[str, ...] = ()
    vmas: tuple[tuple[str, str], ...] = ()  # (process, vma)
    task_specs: tuple[tuple[int, int], ...] = ()  # (process index, thread index) per task
    other_tasks: tuple[tuple[str, str, int, str], ...] = ()  # hidden mains, background
    sched_levels: tuple[str, ...] = ()  # name of each sched-domain level (build.domains)


def build_state(scenario: Scenario) -> tuple[S.Arrays, Layout]:
    """Allocate and fill the simulator state for ``scenario``.

    Returns
    -------
    arrays : Arrays
        Every array of the run (wrap with :func:`numaexp.sim.engine.state.to_state`
        for the kernels).
    layout : Layout
        Names of cgroups, tasks, processes and VMAs, in array order.
    """
    machine, workload = scenario.machine, scenario.workload
    nn = machine.nr_nodes
    cgroups = workload.all_cgroups()
    cg_index = {cg.path: i for i, cg in enumerate(cgroups)}

    nodes = build_nodes(scenario)
    domains = build_domains(machine)
    cpus = build_cpus(scenario)
    cpus["sd"] = domains.cpu_sd
    cpus["sd_llc"] = domains.cpu_llc
    cpus["sd_numa"] = domains.cpu_numa
    cpus["llc_id"], cpus["llc_size"] = llc_ids(domains)
    memory = build_memory(workload, cg_index)
    tasks = build_tasks(scenario, cg_index)
    nt = len(tasks.tasks)
    streams = build_streams(scenario, tasks.rows, memory.vmas,
                            [int(x) for x in memory.mms["vma_first"]])
    link_phases(tasks, streams.first_phase, streams.last_phase, len(streams.phases))
    phases = np.concatenate([streams.phases, tasks.background_phases])
    row_list_base = list_layout(streams)

    pages = build_pages(memory.nr_pages)
    cg_node_pages = np.zeros((len(cgroups), nn), dtype=np.int64)
    prepopulate(memory, pages, nodes, cg_node_pages)
    facts = Facts(scenario=scenario, nr_tasks=nt, nr_pages=memory.nr_pages,
                  nr_cgroups=len(cgroups), row_list_base=row_list_base,
                  nr_work_tasks=len(tasks.rows))
    work = max(nt, machine.nr_cpus)
    nr_streams = len(streams.streams)
    picks = max(len(streams.mr_streams), 1)
    arrays = S.Arrays(
        p=build_params(facts), pg=pages, pg_pending=pending_counts(pages), ob=memory.objects,
        vm=memory.vmas, mm=memory.mms, tk=tasks.tasks, tk_allowed=tasks.allowed,
        tk_faults=np.zeros((nt, 8 * nn), dtype=np.int64),
        tk_share=np.zeros((nt, nn), dtype=np.float64),
        tk_sys=np.zeros((nt, NR_SYS), dtype=np.int64),
        ng=np.zeros(nt, dtype=GROUP_DTYPE), ng_faults=np.zeros((nt, 4 * nn), dtype=np.int64),
        nd=nodes, nd_nbp=build_promotion_state(scenario), nd_distance=build_distance(scenario),
        nd_zonelist=build_zonelist(scenario), nd_latency=build_latency(scenario),
        nd_link_bw=build_link_bandwidth(scenario),
        nd_link_demand=np.zeros((nn, nn), dtype=np.float64),
        cpu=cpus, sd=domains.sd, grp=domains.sg, sd_grp=domains.sd_groups,
        sd_grp_flags=domains.sd_group_flags, spans=domains.spans, span_cpus=domains.span_cpus,
        st=streams.streams,
        st_mass=np.zeros((len(streams.massrows), nn), dtype=np.float64),
        mr=streams.massrows, mr_streams=streams.mr_streams, ph=phases,
        rg=streams.regions,
        **initial_segment_index(nr_streams, len(memory.objects) - 1),
        **build_lists(streams, memory.objects, row_list_base),
        cg_nlb=effective_numa_load_balance(cgroups, scenario.kernel.variant),
        cnt_vm=np.zeros(NR_VM, dtype=np.int64),
        cnt_memcg=np.zeros((len(cgroups), NR_MEMCG), dtype=np.int64),
        cnt_cg_node_pages=cg_node_pages,
        cnt_node_vm=np.zeros((nn, NR_VM), dtype=np.int64),
        ev=np.zeros(EVENTS_CAPACITY, dtype=EVENT_DTYPE), ev_count=np.zeros(2, dtype=np.int64),
        clk=np.zeros(NR_CLK, dtype=np.int64),
        tmp_round_task=np.zeros(work, dtype=np.int64),
        tmp_round_cpu=np.zeros(work, dtype=np.int64),
        tmp_round_start=np.zeros(work, dtype=np.int64),
        tmp_round_key=np.zeros(work, dtype=np.float64),
        tmp_round_idx=np.zeros(work, dtype=np.int64),
        tmp_task_f=np.zeros((nt, nn), dtype=np.float64),
        tmp_speed_key=np.zeros((nt, 3), dtype=np.int64),
        tmp_node_f=np.zeros((3, nn), dtype=np.float64),
        tmp_link_f=np.zeros((2, nn, nn), dtype=np.float64),
        tmp_env=np.zeros(1, dtype=TASK_NUMA_ENV_DTYPE),
        tmp_numa_stats=np.zeros(NUMA_STATS_SLOTS, dtype=NUMA_STATS_DTYPE),
        tmp_sgs=np.zeros(3, dtype=SG_LB_STATS_DTYPE),
        tmp_lb_env=np.zeros(2, dtype=LB_ENV_DTYPE),
        tmp_lb_cpus=np.zeros(machine.nr_cpus, dtype=np.uint8),
        tmp_bounds=np.zeros((2, 2 * nr_streams + 2), dtype=np.int64),
        tmp_mass=np.zeros((max(1, -(-int(streams.streams["n"].max(initial=1)) // MASS_CHUNK)),
                           nn), dtype=np.float64),
        pol=policy_slots(scenario.kernel.policy),
        pol_ctx=np.zeros(1, dtype=POLICY_CONTEXT_DTYPE),
        pol_mem=np.zeros(memory.nr_pages if scenario.kernel.policy.mask else 1, dtype=np.int64),
        tmp_pick=np.zeros((2, picks), dtype=np.float64),
        tmp_guide=np.zeros(GUIDE_CELLS * picks, dtype=np.int64),
    )
    layout = Layout(
        cgroups=tuple(cg.path for cg in cgroups),
        tasks=tuple(tasks.names),
        node_names=tuple(f"N{i}" for i in range(nn)),
        processes=tuple(p.name for p in workload.processes),
        vmas=tuple(memory.vma_names),
        task_specs=tuple(tasks.specs),
        other_tasks=tuple(tasks.other_names),
        sched_levels=level_names(machine),
    )
    return arrays, layout
