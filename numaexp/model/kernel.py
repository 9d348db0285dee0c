"""Kernel configuration: the ``kernel.numa_balancing`` mode and its tunables.

Defaults are those of the 6.12 LTS kernel as built by Debian (HZ 250).
"""

from __future__ import annotations

from dataclasses import dataclass

from numaexp.errors import ScenarioError

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

SIMULATED_MODES = (0, 1)
"""Modes the simulator implements so far (2, 3 and 4 arrive with issue #3)."""


def _positive_int(value, name: str, allowed: str = "an integer > 0") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ScenarioError(name, f"must be an integer > 0 (got {value!r})", allowed)


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
        if self.hz not in (100, 250, 300, 1000):
            raise ScenarioError("hz", f"unsupported HZ {self.hz!r}", "100, 250, 300 or 1000")
        _positive_int(self.watermark_scale_factor, "watermark_scale_factor", "1..3000")
        if self.watermark_scale_factor > 3000:
            raise ScenarioError("watermark_scale_factor", f"{self.watermark_scale_factor} > 3000",
                                "1..3000")
        if self.min_free_kbytes is not None:
            _positive_int(self.min_free_kbytes, "min_free_kbytes")

    @property
    def mode_name(self) -> str:
        """Label of the mode, e.g. ``"NORMAL"``."""
        return MODE_NAMES[self.numa_balancing]
