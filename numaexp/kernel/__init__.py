"""The kernel backend: the same scenario on a real Linux kernel under QEMU.

:func:`run_kernel` builds a QEMU guest from the scenario's machine (NUMA
nodes, CPUs, memory, SLIT, CPU-less and kmem nodes), applies its kernel
settings, runs its workload with a static C executor, samples the guest and
returns a :class:`~numaexp.results.Result` with the simulator's frames.
See ``docs/kernel-backend.md``. Nothing here is needed by the simulator;
the host needs ``qemu-system-x86 busybox-static gcc cpio``.
"""

from __future__ import annotations


def run_kernel(*args, **kwargs):
    """See :func:`numaexp.kernel.run.run_kernel` (imported on first use)."""
    from numaexp.kernel.run import run_kernel as _run

    return _run(*args, **kwargs)


def __getattr__(name):
    if name in ("calibrate", "fit_profile"):
        from numaexp.kernel import calibrate as module

        return getattr(module, name)
    raise AttributeError(name)


__all__ = ["run_kernel"]
