"""TLB shootdowns: what ``flush_tlb_mm_range`` costs the initiator and the CPUs it interrupts.

x86 (``arch/x86/mm/tlb.c``, 6.12): a CPU sets its bit in ``mm_cpumask`` when it
switches to the mm and clears it when it switches to another mm; a CPU left
lazily on the mm (idle, a kernel thread) keeps it, but ``should_flush_tlb``
sends it no IPI. So a flush interrupts every other CPU whose running task
uses the mm: the initiator waits ``tlb_flush_ns`` plus
``tlb_flush_per_cpu_ns`` per such CPU, and each of those CPUs' tasks loses
``tlb_ipi_recv_ns`` (stolen time). With no other CPU the flush is local
(``flush_tlb_func``): ``tlb_flush_ns`` alone.

arm64 (``costs.tlb_broadcast``): ``TLBI ... IS`` is broadcast by hardware;
no CPU is interrupted, the initiator's DSB waits ``tlb_flush_ns`` plus
``tlb_flush_per_node_ns`` per other node with CPUs.

Departures: the running task of a CPU is the one running at the moment of
the flush in the simulator's tick (the task of that CPU's current turn, or
the last one of the tick for faults delivered after the turns); a CPU that
switched to another mm has left the cpumask (6.12's ``switch_mm_irqs_off``
clears its bit), and a lazy one gets no IPI (``should_flush_tlb``), so the
once-a-second trim (``should_trim_cpumask``) changes nothing here.
"""

from __future__ import annotations

from numaexp.sim.engine.account import charge
from numaexp.sim.engine.codes import SYS_SHOOTDOWN
from numaexp.sim.engine.jit import jit
from numaexp.sim.kernel.sched import charge_ipis


@jit
def flush_tlb_mm_range(s, t, mm):
    """Task ``t`` flushes a range of ``mm`` from every TLB: charge it the wait, and the
    interrupted CPUs' tasks the IPI (x86). Returns the number of CPUs interrupted.

    The IPIs are counted per mm (``mm.ipi_ns``: what each CPU running it has
    taken so far) and charged to each running task when it stops running
    (``sched.set_curr``) or at the end of the tick (:func:`charge_running_ipis`);
    the initiator's own CPU takes none.
    """
    if s.p.tlb_broadcast:
        others = 0
        for n in range(s.p.nr_nodes):
            if s.nd.cpus[n] > 0 and n != s.cpu.node[s.tk.cpu[t]]:
                others += 1
        charge(s, t, s.p.tlb_flush_ns + s.p.tlb_flush_per_node_ns * others, SYS_SHOOTDOWN)
        return 0
    own = s.cpu.curr[s.tk.cpu[t]]
    own_runs_mm = own >= 0 and s.tk.mm[own] == mm
    targets = s.mm.nr_running_cpus[mm] - (1 if own_runs_mm else 0)
    if targets > 0:
        s.mm.ipi_ns[mm] += s.p.tlb_ipi_recv_ns
        if own_runs_mm:
            s.tk.ipi_seen[own] += s.p.tlb_ipi_recv_ns
    charge(s, t, s.p.tlb_flush_ns + s.p.tlb_flush_per_cpu_ns * targets, SYS_SHOOTDOWN)
    return targets


@jit
def charge_running_ipis(s):
    """End of a tick: charge every running task the flush IPIs it has taken (so that the
    tick's samples include them)."""
    for c in range(s.p.nr_cpus):
        u = s.cpu.curr[c]
        if u >= 0 and s.tk.mm[u] >= 0:
            charge_ipis(s, u)
