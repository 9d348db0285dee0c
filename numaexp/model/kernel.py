"""Kernel configuration: the ``kernel.numa_balancing`` mode, its tunables, the kernel variant.

The tunables (defaults, units, bounds) are declared in the parameter table
(:mod:`numaexp.model.params`); defaults are those of the 6.12 LTS kernel as
built by Debian (HZ 250).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model.params import check_fields, declare_fields
from numaexp.model.policy import DECISIONS, Policy

NUMA_BALANCING_DISABLED = 0x0
NUMA_BALANCING_NORMAL = 0x1
NUMA_BALANCING_MEMORY_TIERING = 0x2
NUMA_BALANCING_CGROUP = 0x4
"""Mode bits of ``kernel.numa_balancing`` (CGROUP is the RFC's)."""

MODE_NAMES = {
    0: "off",
    1: "NORMAL",
    2: "MEMORY_TIERING",
    3: "NORMAL|MEMORY_TIERING",
    4: "CGROUP",
}
"""Label of each accepted ``kernel.numa_balancing`` value."""

SIMULATED_MODES = (0, 1, 2, 3, 4)
"""Modes the simulator implements."""

CGROUP_VARIANTS = ("mainline", "rfc-v1", "rfc-v2", "hierarchical")
"""Kernels the per-cgroup control can be taken from (RFC patch 2).

``mainline``: 6.12 without the RFC (its sysctl takes 0..4, but no code reads
bit 4: mode 4 turns scanning on and marks only slow-tier pages; no
``cpu.numa_load_balance``); ``rfc-v1``: the gate in ``task_tick_numa`` and
``task_numa_fault``; ``rfc-v2``: the gate in ``task_numa_work`` and
``task_numa_fault``; ``hierarchical``: v2 where a parent at 0 switches off its
descendants (v2's to-do; the root's own value is not inherited)."""

PATCH_VARIANTS = ("fixed", "as-posted")
"""Patches 1 and 3 as posted (with their quirks) or with the quirks fixed."""


@dataclass(frozen=True)
class KernelVariant:
    """Which kernel the simulator models: mainline 6.12 or 6.12 with the RFC.

    Parameters
    ----------
    cgroup : str
        Patch 2 (per-cgroup control): ``mainline``, ``rfc-v1``, ``rfc-v2``
        (default) or ``hierarchical``. See :data:`CGROUP_VARIANTS`.
    stats : str
        Patch 1 (task migration/swap statistics): ``fixed`` (default) or
        ``as-posted`` (vmstat spelled ``numa_task_swaped`` and never
        incremented).
    interleave : str
        Patch 3 (``MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING``): ``fixed``
        (default) or ``as-posted`` (``NUMA_TASK_MIG == 1`` collides with node 1:
        no page ever migrates to node 1 on a base-page fault, and a THP fault
        on task-only memory migrates to node 1).
    """

    cgroup: str = "rfc-v2"
    stats: str = "fixed"
    interleave: str = "fixed"

    def __post_init__(self):
        if self.cgroup not in CGROUP_VARIANTS:
            raise ScenarioError("cgroup", f"unknown variant {self.cgroup!r}",
                                ", ".join(CGROUP_VARIANTS))
        for name in ("stats", "interleave"):
            if getattr(self, name) not in PATCH_VARIANTS:
                raise ScenarioError(name, f"unknown variant {getattr(self, name)!r}",
                                    ", ".join(PATCH_VARIANTS))
            if self.cgroup == "mainline" and getattr(self, name) == "as-posted":
                raise ScenarioError(name, "'as-posted' is a form of the RFC's patches, which "
                                          "mainline does not have",
                                    "fixed with mainline; as-posted with "
                                    + ", ".join(CGROUP_VARIANTS[1:]))

    @property
    def rfc(self) -> bool:
        """The RFC's patches are applied (anything but ``mainline``)."""
        return self.cgroup != "mainline"

    @property
    def label(self) -> str:
        """Short name, e.g. ``"rfc-v2"`` or ``"rfc-v1+stats-as-posted"``."""
        parts = [self.cgroup]
        if self.rfc:
            parts += [f"{name}-as-posted" for name in ("stats", "interleave")
                      if getattr(self, name) == "as-posted"]
        return "+".join(parts)

    @classmethod
    def parse(cls, text: KernelVariant | str) -> KernelVariant:
        """A variant from its label: ``"rfc-v1"``, ``"hierarchical+interleave-as-posted"``,
        ``"rfc-v2+as-posted"`` (both patches 1 and 3 as posted), or ``"as-posted"``
        / ``"fixed"`` alone (rfc-v2 with patches 1 and 3 so).

        Raises
        ------
        ScenarioError
            For an unknown part, listing the accepted ones.
        """
        if isinstance(text, KernelVariant):
            return text
        if not isinstance(text, str) or not text:
            raise ScenarioError("variant", f"expected a variant label, got {text!r}",
                                _VARIANT_HELP)
        kwargs: dict[str, str] = {}
        for part in text.split("+"):
            part = part.strip()
            if part in CGROUP_VARIANTS:
                kwargs["cgroup"] = part
            elif part in PATCH_VARIANTS:
                kwargs["stats"] = kwargs["interleave"] = part
            elif part.endswith(PATCH_VARIANTS) and part.split("-", 1)[0] in ("stats",
                                                                              "interleave"):
                name, value = part.split("-", 1)
                kwargs[name] = value
            else:
                raise ScenarioError("variant", f"unknown part {part!r} in {text!r}", _VARIANT_HELP)
        return cls(**kwargs)


_VARIANT_HELP = ("a '+'-joined label of one of " + ", ".join(CGROUP_VARIANTS)
                 + " and optionally as-posted, fixed, stats-as-posted, interleave-as-posted")


def comparison_runs(modes, variants):
    """The runs comparing ``modes`` under ``variants``, labelled as :func:`numaexp.compare` does.

    Every (mode, variant) pair (mode 4 on ``mainline`` too: its sysctl takes 4,
    which turns scanning on without the per-cgroup gate or NORMAL marking).

    Parameters
    ----------
    modes : sequence of int
    variants : sequence of KernelVariant

    Yields
    ------
    label : str
        ``"mode M"`` with one variant, ``"mode M VARIANT"`` with several.
    index : int
        Position of the mode in ``modes`` (for error messages).
    mode : int
    variant : KernelVariant
    """
    several = len(variants) > 1
    for index, mode in enumerate(modes):
        for variant in variants:
            yield (f"mode {mode} {variant.label}" if several else f"mode {mode}"), index, mode, \
                variant


@dataclass(frozen=True)
@declare_fields("kernel")
class KernelConfig:
    """``kernel.numa_balancing`` and the NUMA balancing tunables.

    Defaults are those of the 6.12 LTS kernel as built by Debian (HZ 250).
    One field per ``kernel.*`` entry of the parameter table
    (:data:`numaexp.model.params.PARAMS`), then the kernel variant.

    Parameters
    ----------
    variant : KernelVariant
        Mainline or the RFC (v1, v2, hierarchical; patches 1 and 3 as posted
        or fixed).
    policy : Policy
        User functions in place of the kernel's decisions
        (:mod:`numaexp.model.policy`); the default takes none over."""

    variant: KernelVariant = field(default_factory=KernelVariant)
    policy: Policy = field(default_factory=Policy)

    def __post_init__(self):
        mode = self.numa_balancing
        if isinstance(mode, int) and not isinstance(mode, bool) and 5 <= mode <= 7:
            raise ScenarioError("numa_balancing",
                                f"{mode!r} is not a kernel.numa_balancing mode (the sysctl "
                                "rejects 5..7: CGROUP is only valid alone)", _MODES_HELP)
        try:
            check_fields(self, "kernel")
        except ScenarioError as err:
            if err.field == "numa_balancing":
                raise ScenarioError("numa_balancing",
                                    f"{mode!r} is not a kernel.numa_balancing mode",
                                    _MODES_HELP) from None
            raise
        if isinstance(self.variant, str):
            object.__setattr__(self, "variant", KernelVariant.parse(self.variant))
        if not isinstance(self.variant, KernelVariant):
            raise ScenarioError("variant", f"expected a KernelVariant (got {self.variant!r})",
                                _VARIANT_HELP)
        if isinstance(self.policy, dict):
            try:
                object.__setattr__(self, "policy", Policy(**self.policy))
            except ScenarioError as err:
                raise err.under("policy") from None
            except TypeError as err:
                raise ScenarioError("policy", str(err), ", ".join(
                    d.name for d in DECISIONS)) from None
        if not isinstance(self.policy, Policy):
            raise ScenarioError("policy", f"expected a Policy (got {self.policy!r:.60})",
                                "numaexp.model.policy.Policy(...) or a table of names")

    @property
    def mode_name(self) -> str:
        """Label of the mode, e.g. ``"NORMAL"``."""
        return MODE_NAMES[self.numa_balancing]


_MODES_HELP = "0 (off), 1 (NORMAL), 2 (MEMORY_TIERING), 3 (NORMAL|TIERING), 4 (CGROUP)"
