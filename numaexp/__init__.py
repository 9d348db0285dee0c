"""numaexp: simulate Linux automatic NUMA balancing and compare its modes.

Quick start::

    import numaexp
    scenario = numaexp.presets.default_scenario()
    comparison = numaexp.compare(scenario, modes=[0, 1])
    comparison.frame            # one tidy row per mode
    comparison.results["mode 1"].vmstat

Layers: :mod:`numaexp.model` (plain-Python scenario description),
:mod:`numaexp.sim` (numba kernels named after the kernel's functions),
:mod:`numaexp.results` (pandas frames named after the kernel's counters),
:mod:`numaexp.experiment` (``simulate`` and ``compare``), :mod:`numaexp.sweep`
(``sweep``: many runs on local cores or Dask, resumable), :mod:`numaexp.viz`.
"""

from numaexp import model
from numaexp.comparison import Comparison, compare
from numaexp.errors import ScenarioError
from numaexp.experiment import simulate
from numaexp.kernel import run_kernel
from numaexp.model import (
    Action,
    Cgroup,
    CostModel,
    KernelConfig,
    KernelVariant,
    Machine,
    MemPolicy,
    Node,
    Pattern,
    Phase,
    Policy,
    Process,
    Scenario,
    Stop,
    Thread,
    Vma,
    Workload,
    four_node,
    load_scenario,
    presets,
    save_scenario,
    tiered,
    two_socket,
)
from numaexp.results import Result
from numaexp.sweep import SweepSpec, sweep

__all__ = sorted({*model.__all__, "Comparison", "Result", "ScenarioError", "SweepSpec",
                  "compare", "presets", "run_kernel", "simulate", "sweep"})
