"""Kernel configuration: the ``kernel.numa_balancing`` mode and its tunables.

Defaults are those of the 6.12 LTS kernel as built by Debian (HZ 250).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model.checks import check_bools

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

``mainline``: 6.12 without the RFC (mode 4 rejected by the sysctl, no
``cpu.numa_load_balance``); ``rfc-v1``: the gate in ``task_tick_numa`` and
``task_numa_fault``; ``rfc-v2``: the gate in ``task_numa_work`` and
``task_numa_fault``; ``hierarchical``: v2 where a parent at 0 switches off its
descendants (v2's to-do; the root's own value is not inherited)."""

PATCH_VARIANTS = ("fixed", "as-posted")
"""Patches 1 and 3 as posted (with their quirks) or with the quirks fixed."""


def _positive_int(value, name: str, allowed: str = "an integer > 0") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ScenarioError(name, f"must be an integer > 0 (got {value!r})", allowed)


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

    Every (mode, variant) pair, except mode 4 with ``mainline`` (which has no
    mode 4) when other variants are compared.

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
            if several and mode & NUMA_BALANCING_CGROUP and not variant.rfc:
                continue
            yield (f"mode {mode} {variant.label}" if several else f"mode {mode}"), index, mode, \
                variant


@dataclass(frozen=True)
class KernelConfig:
    """``kernel.numa_balancing`` and the NUMA balancing tunables.

    Parameters
    ----------
    numa_balancing : int
        The sysctl: 0 off, 1 NORMAL, 2 MEMORY_TIERING, 3 both, 4 CGROUP (RFC).
        5..7 are rejected, as by the RFC's sysctl.
    scan_delay_ms : int
        ``/sys/kernel/debug/sched/numa_balancing/scan_delay_ms`` (1000).
    scan_period_min_ms, scan_period_max_ms : int
        Scan period bounds, ms (1000, 60000).
    scan_size_mb : int
        MB of address space with present PTEs made PROT_NONE per scan (256).
    hot_threshold_ms : int
        Memory tiering hot threshold, ms (1000).
    promote_rate_limit_mbps : int
        ``kernel.numa_balancing_promote_rate_limit_MBps`` per target node (65536).
    demotion_enabled : bool
        ``/sys/kernel/mm/numa/demotion_enabled`` (false).
    hz : int
        Timer frequency (CONFIG_HZ; Debian 250).
    watermark_scale_factor : int
        ``vm.watermark_scale_factor`` (10 = 0.1 % of memory between watermarks).
    min_free_kbytes : int, optional
        ``vm.min_free_kbytes``; computed like the kernel (4 * sqrt(lowmem KiB),
        clamped to [128, 262144]) when not given.
    locality_reset_fix : bool
        Model 6.12.117, where the slow path of ``update_task_scan_period``
        clears ``numa_faults_locality``; ``False`` models 6.12.0-6.12.116 and
        6.8, where one failed migration pins the scan period at its maximum.
    variant : KernelVariant
        Mainline or the RFC (v1, v2, hierarchical; patches 1 and 3 as posted
        or fixed).
    """

    numa_balancing: int = 1
    scan_delay_ms: int = 1000
    scan_period_min_ms: int = 1000
    scan_period_max_ms: int = 60000
    scan_size_mb: int = 256
    hot_threshold_ms: int = 1000
    promote_rate_limit_mbps: int = 65536
    demotion_enabled: bool = False
    hz: int = 250
    watermark_scale_factor: int = 10
    min_free_kbytes: int | None = None
    locality_reset_fix: bool = True
    variant: KernelVariant = field(default_factory=KernelVariant)

    def __post_init__(self):
        mode = self.numa_balancing
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 4:
            raise ScenarioError("numa_balancing",
                                f"{mode!r} is not a kernel.numa_balancing mode"
                                + (" (the sysctl rejects 5..7: CGROUP is only valid alone)"
                                   if isinstance(mode, int) and 5 <= mode <= 7 else ""),
                                "0 (off), 1 (NORMAL), 2 (MEMORY_TIERING), 3 (NORMAL|TIERING), "
                                "4 (CGROUP)")
        for name in ("scan_delay_ms", "scan_period_min_ms", "scan_period_max_ms",
                     "hot_threshold_ms", "promote_rate_limit_mbps"):
            _positive_int(getattr(self, name), name)
        if isinstance(self.scan_size_mb, bool) or not isinstance(self.scan_size_mb, int) \
                or self.scan_size_mb < 1:
            raise ScenarioError("scan_size_mb",
                                f"must be an integer >= 1 (got {self.scan_size_mb!r})")
        if self.scan_period_min_ms > self.scan_period_max_ms:
            raise ScenarioError("scan_period_min_ms",
                                f"{self.scan_period_min_ms} is above scan_period_max_ms "
                                f"{self.scan_period_max_ms}", "<= scan_period_max_ms")
        if isinstance(self.hz, bool) or not isinstance(self.hz, int) \
                or self.hz not in (100, 250, 300, 1000):
            raise ScenarioError("hz", f"unsupported HZ {self.hz!r}", "100, 250, 300 or 1000")
        _positive_int(self.watermark_scale_factor, "watermark_scale_factor", "1..3000")
        if self.watermark_scale_factor > 3000:
            raise ScenarioError("watermark_scale_factor", f"{self.watermark_scale_factor} > 3000",
                                "1..3000")
        if self.min_free_kbytes is not None:
            _positive_int(self.min_free_kbytes, "min_free_kbytes")
        check_bools(self)
        if isinstance(self.variant, str):
            object.__setattr__(self, "variant", KernelVariant.parse(self.variant))
        if not isinstance(self.variant, KernelVariant):
            raise ScenarioError("variant", f"expected a KernelVariant (got {self.variant!r})",
                                _VARIANT_HELP)
        if mode & NUMA_BALANCING_CGROUP and not self.variant.rfc:
            raise ScenarioError("numa_balancing",
                                "mode 4 (CGROUP) needs the RFC: mainline's sysctl accepts 0..3",
                                "variant rfc-v1, rfc-v2 or hierarchical, or a mode in 0..3")

    @property
    def mode_name(self) -> str:
        """Label of the mode, e.g. ``"NORMAL"``."""
        return MODE_NAMES[self.numa_balancing]
