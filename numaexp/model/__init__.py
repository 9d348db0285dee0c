"""Plain-Python description of an experiment: machine, workload, kernel, costs.

Knows nothing of numba; everything here is a frozen, validated dataclass.
"""

from numaexp.model.actions import Action
from numaexp.model.background import Background
from numaexp.model.costs import CostModel
from numaexp.model.kernel import KernelConfig, KernelVariant
from numaexp.model.machine import Machine, Node, four_node, tiered, two_socket
from numaexp.model.policy import Policy
from numaexp.model.scenario import Scenario, Stop
from numaexp.model.toml_io import load_scenario, save_scenario
from numaexp.model.workload import (
    Cgroup,
    MemPolicy,
    Pattern,
    Phase,
    Process,
    Thread,
    Vma,
    Workload,
)

__all__ = [
    "Action",
    "Background",
    "Cgroup",
    "CostModel",
    "KernelConfig",
    "KernelVariant",
    "Machine",
    "MemPolicy",
    "Node",
    "Pattern",
    "Phase",
    "Policy",
    "Process",
    "Scenario",
    "Stop",
    "Thread",
    "Vma",
    "Workload",
    "four_node",
    "load_scenario",
    "save_scenario",
    "tiered",
    "two_socket",
]
