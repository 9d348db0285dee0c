"""Scenarios as TOML files: exact round trip, every bad key named by its path.

The file mirrors the dataclasses of :mod:`numaexp.model`::

    name = "default"
    seed = 0
    sample_interval_s = 0.5

    [machine]                         # Machine
    distance = [[10, 21], [21, 10]]
    [[machine.nodes]]                 # Node, one table per node
    cpus = 8
    memory = "16 GiB"

    [workload]                        # Workload
    [[workload.cgroups]]              # Cgroup
    [[workload.processes]]            # Process
    [[workload.processes.vmas]]       # Vma (policy = { mode = ..., nodes = [...] })
    [[workload.processes.threads]]    # Thread (policy as for a VMA)
    [[workload.processes.threads.phases]]           # Phase
    [[workload.processes.threads.phases.patterns]]  # Pattern

    [kernel]                          # KernelConfig
    numa_balancing = 1
    [costs]                           # CostModel
    [stop]                            # Stop
    kind = "work"

``kernel.variant`` may also be given as a label, e.g. ``variant = "mainline"``
(any label :meth:`~numaexp.model.kernel.KernelVariant.parse` reads); it is
written back as a table.

Keys are the dataclass field names (the value kind of each is read from the
field's annotation, so a field added to a dataclass is stored too); the
docstrings of those classes are the field reference. Sizes are written as
strings such as ``"3 GiB"`` (bytes or any string
:func:`~numaexp.model.units.parse_size` accepts are read). TOML has
no null: an optional field that is ``None`` is left out, and so is any field
equal to its default, except ``kernel.numa_balancing``, ``stop.kind``,
``seed``, ``sample_interval_s``, a pattern's ``kind`` and a policy's ``mode``
(a ``[costs]`` table at its defaults is left out whole).

Every problem raises :class:`~numaexp.errors.ScenarioError` whose ``field`` is
the dotted path of the offending key, e.g.
``workload.processes[0].vmas[1].sizee: unknown key (allowed: name, size, ...)``.

Reading is in :mod:`~numaexp.model.toml_load`, writing in
:mod:`~numaexp.model.toml_dump`, the keys and kinds they share in
:mod:`~numaexp.model.toml_schema`; this module gathers their public functions.
"""

from numaexp.model.toml_dump import save_scenario, scenario_to_dict, scenario_to_toml
from numaexp.model.toml_load import load_scenario, scenario_from_dict, scenario_from_toml

__all__ = [
    "load_scenario",
    "save_scenario",
    "scenario_from_dict",
    "scenario_from_toml",
    "scenario_to_dict",
    "scenario_to_toml",
]
