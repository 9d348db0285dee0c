"""The kernel backend: the same scenario on a real Linux kernel under QEMU.

:func:`run_kernel` builds a QEMU guest from the scenario's machine (NUMA
nodes, CPUs, memory, SLIT, CPU-less and kmem nodes), applies its kernel
settings, runs its workload with a static C executor, samples the guest and
returns a :class:`~numaexp.results.Result` with the simulator's frames.
See ``docs/kernel-backend.md``. Nothing here is needed by the simulator;
the host needs ``qemu-system-x86 busybox-static gcc cpio``.
"""

from __future__ import annotations

import importlib


def run_kernel(*args, **kwargs):
    """See :func:`numaexp.kernel.run.run_kernel` (imported on first use)."""
    from numaexp.kernel.run import run_kernel as _run

    return _run(*args, **kwargs)


def __getattr__(name):
    """``numaexp.kernel.calibrate`` (the module, whose ``calibrate`` fits a profile) and
    ``numaexp.kernel.fit_profile``, imported on first use.

    ``calibrate`` is the submodule, not its function: importing a submodule binds its
    name on the package, so anything else would change once the module is imported.
    ``importlib.import_module`` imports it without looking the name up here again (a
    ``from numaexp.kernel import calibrate`` inside this hook re-entered it forever).
    """
    if name in ("calibrate", "fit_profile"):
        module = importlib.import_module("numaexp.kernel.calibrate")
        return module if name == "calibrate" else module.fit_profile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["run_kernel"]
