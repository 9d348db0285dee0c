"""CPU sets of the sched domains and groups (``sched_domain_span``, ``cpus_share_cache``).

A span (``State.spans``) lists its CPUs, sorted, in ``State.span_cpus``; a span
that is a union of whole nodes also answers membership from its node mask.
"""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.jit import jit_inline


@jit_inline
def span_cpus_of(s, span):
    """The CPUs of ``span``, ascending (``for_each_cpu(cpu, span)``): a view, no copy."""
    sp = s.spans[span]
    return s.span_cpus[sp.first:sp.first + sp.count]


@jit_inline
def span_test(s, span, cpu):
    """``cpumask_test_cpu(cpu, span)``."""
    sp = s.spans[span]
    if sp.whole_nodes:
        return (sp.nodes >> np.int64(s.cpu.node[cpu])) & 1 == 1
    for c in span_cpus_of(s, span):
        if c == cpu:
            return True
    return False


@jit_inline
def span_wrap_start(s, span, cpu):
    """Index (in the span) of its first CPU at or after ``cpu``, for ``for_each_cpu_wrap``."""
    sp = s.spans[span]
    lo = 0
    hi = sp.count
    while lo < hi:
        mid = (lo + hi) >> 1
        if s.span_cpus[sp.first + mid] < cpu:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < sp.count else 0


@jit_inline
def sd_span(s, sd):
    """``sched_domain_span(sd)``: the domain's span row."""
    return s.sd.span[sd]


@jit_inline
def cpus_share_cache(s, a, b):
    """``cpus_share_cache``: same LLC (``sd_llc_id``)."""
    return s.cpu.llc_id[a] == s.cpu.llc_id[b]


@jit_inline
def span_intersects_allowed(s, span, t):
    """``cpumask_intersects(span, p->cpus_ptr)``."""
    for cpu in span_cpus_of(s, span):
        if s.tk_allowed[t, cpu]:
            return True
    return False
