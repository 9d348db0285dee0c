"""The ``last_cpupid`` field (include/linux/mm.h): last accessing CPU and pid bits."""

from __future__ import annotations

from numaexp.sim.engine.jit import jit_inline
from numaexp.sim.kernel.constants import LAST__CPU_MASK, LAST__PID_MASK, LAST__PID_SHIFT


@jit_inline
def cpu_pid_to_cpupid(cpu, pid):
    """``cpu_pid_to_cpupid``: pack a CPU id and the low 8 bits of a pid."""
    return ((cpu & LAST__CPU_MASK) << LAST__PID_SHIFT) | (pid & LAST__PID_MASK)


@jit_inline
def cpupid_to_cpu(cpupid):
    """``cpupid_to_cpu``."""
    return (cpupid >> LAST__PID_SHIFT) & LAST__CPU_MASK


@jit_inline
def cpupid_to_pid(cpupid):
    """``cpupid_to_pid`` (low 8 bits only)."""
    return cpupid & LAST__PID_MASK


@jit_inline
def cpupid_pid_unset(cpupid):
    """``cpupid_pid_unset``: the pid bits are all ones."""
    return cpupid_to_pid(cpupid) == LAST__PID_MASK


@jit_inline
def cpupid_match_pid(pid, cpupid):
    """``cpupid_match_pid``: the low 8 bits of ``pid`` match."""
    return (pid & LAST__PID_MASK) == cpupid_to_pid(cpupid)


@jit_inline
def cpupid_valid(cpupid, nr_cpu_ids):
    """``cpupid_valid``: the CPU part names an existing CPU."""
    return cpupid_to_cpu(cpupid) < nr_cpu_ids
