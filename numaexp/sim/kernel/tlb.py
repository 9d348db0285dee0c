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

from numaexp.sim.engine.account import charge, steal
from numaexp.sim.engine.codes import (
    CLK_CURR_GEN,
    CLK_FLUSH_GEN,
    CLK_FLUSH_MM,
    CLK_FLUSH_NR,
    SYS_SHOOTDOWN,
)
from numaexp.sim.engine.jit import jit


@jit
def mm_running_cpus(s, mm):
    """How many CPUs run a task of ``mm`` now; ``tmp_flush_cpus`` lists them.

    The list is kept until a CPU's running task changes (``sched.set_curr``)
    or another mm asks: a task's consecutive flushes reuse it.
    """
    if s.clk[CLK_FLUSH_MM] != mm or s.clk[CLK_FLUSH_GEN] != s.clk[CLK_CURR_GEN]:
        n = 0
        for c in range(s.p.nr_cpus):
            u = s.cpu.curr[c]
            if u >= 0 and s.tk.mm[u] == mm:
                s.tmp_flush_cpus[n] = c
                n += 1
        s.clk[CLK_FLUSH_MM] = mm
        s.clk[CLK_FLUSH_GEN] = s.clk[CLK_CURR_GEN]
        s.clk[CLK_FLUSH_NR] = n
    return s.clk[CLK_FLUSH_NR]


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
    recv = s.p.tlb_ipi_recv_ns
    for k in range(mm_running_cpus(s, mm)):
        c = s.tmp_flush_cpus[k]
        if c != self_cpu:
            targets += 1
            if recv > 0.0:
                steal(s, s.cpu.curr[c], recv)
    charge(s, t, s.p.tlb_flush_ns + s.p.tlb_flush_per_cpu_ns * targets, SYS_SHOOTDOWN)
    return targets
