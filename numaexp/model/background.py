"""What else runs on the machine: kernel threads, daemons, other tenants.

Every real machine carries work besides the one under study: per-CPU kernel
threads (kworkers, ksoftirqd, RCU) that wake up a few times per second, a
monitoring daemon, other tenants' processes. Each wake-up puts a second task
on a CPU for a moment, and the load balancer reacts: that is where, on a
machine whose CPUs are all busy, threads get displaced and NUMA balancing
pulls them back. None of these tasks has memory that NUMA balancing scans
(the simulator gives them no ``mm``).

Presets (:data:`BACKGROUNDS`): ``"quiet"`` (the default: an idle server's few
wake-ups), ``"busy"`` (a loaded host: frequent kernel work, two daemons, and
one duty-cycled tenant task per 8 CPUs) and ``"none"`` (nothing: the
workload alone, for checks against hand computations).
"""

from __future__ import annotations

from dataclasses import dataclass

from numaexp.errors import ScenarioError
from numaexp.model.checks import check_number

MAX_RATE = 1e5
"""Most wake-ups per second per CPU (one per 10 us)."""


@dataclass(frozen=True)
class Background:
    """Background activity of the machine.

    Parameters
    ----------
    name : str
        Label (a preset's name, or your own).
    kthread_wakeups_per_s : float
        Wake-ups per second of each CPU's kernel thread (bound to its CPU;
        exponential intervals). 0: none.
    kthread_run_us : float
        CPU time of each kernel-thread wake-up, microseconds.
    daemons : int
        Monitoring daemons (one thread each, any CPU), waking periodically.
    daemon_period_s : float
        Time between a daemon's wake-ups, seconds.
    daemon_run_ms : float
        CPU time of each daemon wake-up, ms.
    tenants_per_cpu : float
        Other tenants' threads per CPU (rounded down; any CPU), each running
        ``tenant_run_ms`` then sleeping ``tenant_sleep_ms`` (exponential).
    tenant_run_ms, tenant_sleep_ms : float
        A tenant thread's bursts and sleeps, ms.
    """

    name: str = "quiet"
    kthread_wakeups_per_s: float = 4.0
    kthread_run_us: float = 20.0
    daemons: int = 1
    daemon_period_s: float = 1.0
    daemon_run_ms: float = 2.0
    tenants_per_cpu: float = 0.0
    tenant_run_ms: float = 5.0
    tenant_sleep_ms: float = 20.0

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError("name", f"must be a non-empty string (got {self.name!r})")
        check_number(self.kthread_wakeups_per_s, "kthread_wakeups_per_s", low=0, high=MAX_RATE,
                     unit="1/s")
        check_number(self.kthread_run_us, "kthread_run_us", low=0, low_open=True, high=1e6,
                     unit="us")
        if isinstance(self.daemons, bool) or not isinstance(self.daemons, int) \
                or not 0 <= self.daemons <= 1024:
            raise ScenarioError("daemons", f"must be an integer in [0, 1024] (got "
                                f"{self.daemons!r})", "0 to 1024")
        check_number(self.daemon_period_s, "daemon_period_s", low=0, low_open=True, high=1e6,
                     unit="s")
        check_number(self.daemon_run_ms, "daemon_run_ms", low=0, low_open=True,
                     high=self.daemon_period_s * 1000, high_open=True, unit="ms",
                     allowed="a CPU time in ms, > 0 and shorter than the period")
        check_number(self.tenants_per_cpu, "tenants_per_cpu", low=0, high=16, unit="")
        check_number(self.tenant_run_ms, "tenant_run_ms", low=0, low_open=True, high=1e6,
                     unit="ms")
        check_number(self.tenant_sleep_ms, "tenant_sleep_ms", low=0, low_open=True, high=1e6,
                     unit="ms")

    def tenants(self, nr_cpus: int) -> int:
        """Tenant threads on a machine of ``nr_cpus`` CPUs."""
        return int(self.tenants_per_cpu * nr_cpus)

    def describe(self) -> str:
        """One line: what runs besides the workload."""
        parts = []
        if self.kthread_wakeups_per_s:
            parts.append(f"kernel threads waking {self.kthread_wakeups_per_s:g}/s per CPU "
                         f"for {self.kthread_run_us:g} us")
        if self.daemons:
            parts.append(f"{self.daemons} daemon(s) running {self.daemon_run_ms:g} ms every "
                         f"{self.daemon_period_s:g} s")
        if self.tenants_per_cpu:
            parts.append(f"{self.tenants_per_cpu:g} tenant thread(s) per CPU, "
                         f"{self.tenant_run_ms:g} ms bursts every ~"
                         f"{self.tenant_run_ms + self.tenant_sleep_ms:g} ms")
        return f"background {self.name!r}: " + ("; ".join(parts) if parts else "nothing")


BACKGROUNDS = {
    "none": Background(name="none", kthread_wakeups_per_s=0.0, daemons=0),
    "quiet": Background(),
    "busy": Background(name="busy", kthread_wakeups_per_s=50.0, kthread_run_us=50.0, daemons=2,
                       daemon_period_s=0.1, daemon_run_ms=5.0, tenants_per_cpu=0.125),
}
"""Background presets by name: ``none``, ``quiet`` (the default), ``busy``."""


PRESET_BACKGROUND = "quiet"
"""The background every built-in scenario preset runs with; each preset names it (its
``background`` field and its description, see :func:`described`)."""


def described(description: str, name: str = PRESET_BACKGROUND) -> str:
    """A preset's ``description`` ending with the background it runs with."""
    return f"{description}; background: {name}"


def background(value: Background | str) -> Background:
    """A :class:`Background`, or the preset of that name."""
    if isinstance(value, Background):
        return value
    if isinstance(value, str) and value in BACKGROUNDS:
        return BACKGROUNDS[value]
    raise ScenarioError("background", f"unknown background {value!r}",
                        ", ".join(BACKGROUNDS) + ", or a Background")
