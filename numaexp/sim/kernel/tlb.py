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
the last one of the tick for faults delivered after the turns); the
once-a-second trim of lazy CPUs (``should_trim_cpumask``) is not modelled
(lazy CPUs are never sent an IPI).
"""

from __future__ import annotations

from numaexp.sim.engine.account import charge, steal
from numaexp.sim.engine.codes import SYS_SHOOTDOWN
from numaexp.sim.engine.jit import jit


@jit
def flush_tlb_mm_range(s, t, mm):
    """Task ``t`` flushes a range of ``mm`` from every TLB: charge it the wait, and the
    interrupted CPUs' tasks the IPI (x86). Returns the number of CPUs interrupted."""
    if s.p.tlb_broadcast:
        others = 0
        for n in range(s.p.nr_nodes):
            if s.nd.cpus[n] > 0 and n != s.cpu.node[s.tk.cpu[t]]:
                others += 1
        charge(s, t, s.p.tlb_flush_ns + s.p.tlb_flush_per_node_ns * others, SYS_SHOOTDOWN)
        return 0
    self_cpu = s.tk.cpu[t]
    targets = 0
    for c in range(s.p.nr_cpus):
        u = s.cpu.curr[c]
        if c != self_cpu and u >= 0 and s.tk.mm[u] == mm:
            targets += 1
            steal(s, u, s.p.tlb_ipi_recv_ns)
    charge(s, t, s.p.tlb_flush_ns + s.p.tlb_flush_per_cpu_ns * targets, SYS_SHOOTDOWN)
    return targets
