"""The one error type users see for bad input.

Every invalid scenario, machine, workload or kernel setting raises
:class:`ScenarioError` naming the offending field (a dotted path such as
``workload.processes[0].vmas[1].size``) and what is allowed, before the
simulator allocates any array.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """Invalid scenario input.

    Parameters
    ----------
    field : str
        Dotted path of the offending field, e.g. ``kernel.numa_balancing``.
    problem : str
        What is wrong, e.g. ``"unknown mode 7"``.
    allowed : str, optional
        What would be accepted, e.g. ``"0, 1, 2, 3 or 4"``.
    """

    def __init__(self, field: str, problem: str, allowed: str | None = None):
        self.field = field
        self.problem = problem
        self.allowed = allowed
        text = f"{field}: {problem}" if field else problem
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)

    def under(self, prefix: str) -> ScenarioError:
        """Return the same error with ``prefix`` prepended to its field path."""
        if not prefix:
            return self
        if not self.field:
            field = prefix
        elif self.field.startswith("["):
            field = prefix + self.field
        else:
            field = f"{prefix}.{self.field}"
        return ScenarioError(field, self.problem, self.allowed)
