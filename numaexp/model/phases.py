"""What a thread does: phases of access patterns over its process's VMAs.

A :class:`Phase` is a stretch of a thread's life (how it ends, its CPU cost
per access, its barrier and duty cycle); its :class:`Pattern` s say where the
accesses go. Units of work ("touches"): for a ``sweep`` pattern one touch is
one 4 KiB page written or read sequentially (a zero-fill loop); for random
patterns one touch is one cache-line access.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from numaexp.errors import ScenarioError
from numaexp.model.checks import check_bools, check_number, check_seconds, store_items
from numaexp.model.units import parse_size

PATTERN_KINDS = ("uniform", "hotset", "zipf", "gaussian", "sweep")
"""Access pattern kinds."""

BARRIERS = ("none", "pass", "phase")
"""Where a phase's threads wait for each other (``Phase.barrier``)."""

SLEEP_DISTS = ("fixed", "exponential")
"""Distributions of a duty cycle's sleeps (``Phase.sleep_dist``)."""

MAX_SLEEP_S = 1e6
"""Longest burst or sleep of a duty cycle, seconds (11.6 days: longer is no duty cycle)."""

MAX_GAUSSIAN_SIGMA = 100.0
"""Widest gaussian pattern, in regions.

Over a region, a gaussian of sigma 100 differs from uniform by less than
0.005 %; a much wider one only loses precision: its normal mass over the
region, about ``1 / (2.5 sigma)``, is a difference of two values near 0.5 that
carry 16 digits, and is 0 from sigma ~ 1e16 on (then the simulator's
``gaussian_norm`` divides by zero). Each page's weight is the mass of one of
the region's ``n`` bins, so precision runs out ``n`` times sooner.
"""


def _check_fraction(value: float, name: str, *, open_low: bool = False) -> None:
    check_number(value, name, low=0, high=1, low_open=open_low)


def _check_positive(value: float, name: str, unit: str = "") -> None:
    check_number(value, name, low=0, low_open=True, unit=unit)


@dataclass(frozen=True)
class Pattern:
    """One access pattern of a phase, over a region of a VMA.

    Parameters
    ----------
    vma : str
        Name of the process's VMA accessed.
    kind : str
        ``uniform`` (random, equal weight), ``hotset`` (``hot_fraction`` of the
        accesses go to a hot subset of ``hot_size`` of the region), ``zipf``
        (page popularity ~ rank^-zipf_alpha over a fixed random ranking),
        ``gaussian`` (normal address distribution), or ``sweep`` (sequential
        pass over the region, e.g. a zero-fill loop).
    start : int or str
        Offset of the region in the VMA, bytes (default 0).
    length : int or str, optional
        Length of the region, bytes (default: to the end of the VMA).
    share : float
        Share of the phase's touches that go to this pattern (shares of a
        phase are normalised).
    write_fraction : float
        Fraction of touches that write (a zero-fill sweep writes: 1.0).
    stride : int
        Touch one page in every ``stride`` pages of the region (e.g. 2: 4 KiB
        of every 8 KiB).
    slice_by_thread : bool
        With a replicated thread (``Thread.count > 1``), replica ``i`` uses only
        the ``i``-th of ``count`` equal slices of the region.
    hot_fraction, hot_size, hot_offset : float
        ``hotset``: share of accesses to the hot set, its size and start as
        fractions of the region.
    zipf_alpha : float
        ``zipf``: exponent of the popularity law.
    mean, sigma : float
        ``gaussian``: centre and standard deviation as fractions of the region
        (sigma at most :data:`MAX_GAUSSIAN_SIGMA`, 100: wider is uniform).
    """

    vma: str
    kind: str = "uniform"
    start: int | str = 0
    length: int | str | None = None
    share: float = 1.0
    write_fraction: float = 0.5
    stride: int = 1
    slice_by_thread: bool = False
    hot_fraction: float = 0.9
    hot_size: float = 0.05
    hot_offset: float = 0.0
    zipf_alpha: float = 1.0
    mean: float = 0.5
    sigma: float = 0.1

    def __post_init__(self):
        if not isinstance(self.vma, str):
            raise ScenarioError("vma", f"must be the name of a VMA (got {self.vma!r})",
                                "the name of a VMA of the process")
        if not isinstance(self.kind, str) or self.kind not in PATTERN_KINDS:
            raise ScenarioError("kind", f"unknown pattern {self.kind!r}", ", ".join(PATTERN_KINDS))
        object.__setattr__(self, "start", parse_size(self.start, "start", allow_zero=True))
        if self.length is not None:
            object.__setattr__(self, "length", parse_size(self.length, "length"))
        check_bools(self)
        _check_positive(self.share, "share")
        _check_fraction(self.write_fraction, "write_fraction")
        if isinstance(self.stride, bool) or not isinstance(self.stride, int) or self.stride < 1:
            raise ScenarioError("stride", f"must be an integer >= 1 (got {self.stride!r})")
        _check_fraction(self.hot_fraction, "hot_fraction")
        _check_fraction(self.hot_size, "hot_size", open_low=True)
        _check_fraction(self.hot_offset, "hot_offset")
        if self.hot_offset + self.hot_size > 1 + 1e-12:
            raise ScenarioError("hot_offset", "hot_offset + hot_size must be <= 1")
        _check_positive(self.zipf_alpha, "zipf_alpha")
        _check_fraction(self.mean, "mean")
        check_number(self.sigma, "sigma", low=0, low_open=True, high=MAX_GAUSSIAN_SIGMA,
                     allowed=f"a finite fraction of the region, > 0 and <= {MAX_GAUSSIAN_SIGMA:g}",
                     why='; a wider gaussian is a uniform pattern: use kind = "uniform"')


@dataclass(frozen=True)
class Phase:
    """A stretch of a thread's life with fixed access patterns.

    Parameters
    ----------
    patterns : tuple of Pattern
        Either one ``sweep`` pattern, or one or more random patterns.
    passes : float, optional
        End after this many passes over the sweep region (sweep phases only).
    touches : float, optional
        End after this many touches (pages for a sweep, accesses otherwise).
    duration_s : float, optional
        End after this many seconds of wall time in the phase.
    think_ns : float
        CPU time per random access besides the memory stall, ns.
    mlp : float
        Memory-level parallelism of random accesses (misses in flight).
    stream_gbps : float
        Per-thread sequential bandwidth of a sweep from local, idle memory,
        GB/s (remote bandwidth scales down with the latency ratio).
    barrier : {"none", "pass", "phase"}
        Wait for the process's other threads (those in a phase with a
        barrier) after each pass over the sweep region (``"pass"``, sweep
        phases only) or at the end of the phase (``"phase"``), like
        ``pthread_barrier_wait``; the last to arrive wakes the others.
    run_s : float, optional
        Duty cycle: after this much CPU time the thread sleeps for
        ``sleep_s``, then runs again (I/O, think time, a timer-driven loop).
    sleep_s : float
        Length of each sleep, seconds (its mean with ``sleep_dist =
        "exponential"``).
    sleep_dist : {"fixed", "exponential"}
        Distribution of the sleeps.

    With none of ``passes``, ``touches``, ``duration_s``, the phase lasts until
    the run stops.
    """

    patterns: tuple[Pattern, ...]
    passes: float | None = None
    touches: float | None = None
    duration_s: float | None = None
    think_ns: float = 20.0
    mlp: float = 4.0
    stream_gbps: float = 8.0
    barrier: str = "none"
    run_s: float | None = None
    sleep_s: float = 0.0
    sleep_dist: str = "fixed"

    def __post_init__(self):
        (patterns,) = store_items(self, patterns=(Pattern, "a phase needs at least one pattern"))
        sweeps = sum(p.kind == "sweep" for p in patterns)
        if sweeps and len(patterns) > 1:
            raise ScenarioError("patterns", "a sweep pattern must be alone in its phase",
                                "one sweep, or any number of random patterns")
        ends = [x for x in (self.passes, self.touches, self.duration_s) if x is not None]
        if len(ends) > 1:
            raise ScenarioError("passes", "give at most one of passes, touches, duration_s")
        if self.passes is not None:
            if not sweeps:
                raise ScenarioError("passes", "passes is for sweep phases; use touches or "
                                              "duration_s for random patterns")
            _check_positive(self.passes, "passes")
        if self.touches is not None:
            _check_positive(self.touches, "touches")
        if self.duration_s is not None:
            check_seconds(self.duration_s, "duration_s")
        _check_positive(self.think_ns, "think_ns", "ns")
        _check_positive(self.mlp, "mlp")
        _check_positive(self.stream_gbps, "stream_gbps", "GB/s")
        if not math.isfinite(sum(p.share for p in patterns)):
            raise ScenarioError("patterns", "the shares of the patterns add up to more than the "
                                            "largest float", "shares with a finite sum, e.g. "
                                                             "fractions of 1")
        if self.barrier not in BARRIERS:
            raise ScenarioError("barrier", f"unknown barrier {self.barrier!r}",
                                ", ".join(BARRIERS))
        if self.barrier == "pass" and not sweeps:
            raise ScenarioError("barrier", 'barrier = "pass" needs a sweep phase (random '
                                           "patterns have no passes)", '"phase" or "none"')
        if self.sleep_dist not in SLEEP_DISTS:
            raise ScenarioError("sleep_dist", f"unknown distribution {self.sleep_dist!r}",
                                ", ".join(SLEEP_DISTS))
        check_number(self.sleep_s, "sleep_s", low=0, high=MAX_SLEEP_S, unit="s")
        if self.run_s is not None:
            check_number(self.run_s, "run_s", low=0, low_open=True, high=MAX_SLEEP_S, unit="s")
            if self.sleep_s <= 0:
                raise ScenarioError("sleep_s", "a duty cycle (run_s) needs sleep_s > 0",
                                    "a sleep length in seconds, > 0")
        elif self.sleep_s > 0:
            raise ScenarioError("run_s", "sleep_s needs run_s: the CPU time between sleeps",
                                "a CPU time in seconds, > 0")

    @property
    def is_sweep(self) -> bool:
        """True if this phase is a sequential sweep."""
        return self.patterns[0].kind == "sweep"
