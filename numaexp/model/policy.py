"""The policy seam: user functions in place of the kernel's decisions.

Four decision points of NUMA balancing can be handed to a numba-compilable
function of the user's (:data:`DECISIONS`): promote a slow-tier page or not,
migrate a page or not (``should_numa_migrate_memory``), the next scan period
(``update_task_scan_period``) and the preferred node (``task_numa_placement``).
Each takes the same two arguments and returns an int::

    def my_policy(ctx, mem):
        c = ctx[0]            # the decision's context: POLICY_CONTEXT_DTYPE fields
        ...
        return decision       # what the decision point documents

``ctx`` is a one-element structured array of :data:`POLICY_CONTEXT_DTYPE`,
filled by the simulator with what the kernel's own decision reads; ``mem``
is an int64 array with one slot per page of the run, zero at the start, that
the policy may use as its memory (``mem[c.page]``). The kernel's side effects
around the decision (``last_cpupid`` exchange, the hot threshold's
adjustment, the promotion rate limit, the slow path of the scan period) are
kept; the policy replaces only the choice.

Use it with ``KernelConfig(policy=Policy(should_migrate=my_fn))``, or name a
registered policy (:func:`register_policy`, :data:`POLICIES`), which is what
a scenario file can hold: ``policy = { promote = "faulted_twice_2s" }``.
This mirrors the per-memcg BPF hook for NUMA balancing that kernel
developers discuss. Nothing here imports numba: the simulator compiles the
functions (``numaexp.sim.engine.policy``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from numaexp.errors import ScenarioError

MAX_NODES = 64
"""Entries of the per-node context arrays (``MAX_NUMNODES`` of the machines modelled)."""

POLICY_CONTEXT_DTYPE = np.dtype([
    # every decision
    ("now_ms", np.int64),  # jiffies_to_msecs(jiffies)
    ("task", np.int64),  # index of the faulting / placed task
    ("pid", np.int64),
    ("nr_nodes", np.int64),
    ("nr_cpus", np.int64),
    # should_migrate and promote: the fault
    ("page", np.int64),  # index of the folio's first page (into mem)
    ("nr_pages", np.int64),  # pages of the folio (512 for a THP)
    ("src_nid", np.int64),  # node of the folio
    ("dst_nid", np.int64),  # node of the faulting CPU
    ("dst_cpu", np.int64),
    # should_migrate: the two-stage filter's inputs
    ("last_cpupid", np.int64),  # the folio's previous last_cpupid (already exchanged)
    ("last_cpu", np.int64),  # its CPU, or -1 when unset
    ("last_nid", np.int64),  # that CPU's node, or -1
    ("last_pid_matches", np.int64),  # 1: the last accessor's pid bits are this task's
    ("last_pid_unset", np.int64),  # 1: no last accessor recorded
    ("cpupid_valid", np.int64),  # 1: the previous last_cpupid is a valid cpupid
    ("preferred_nid", np.int64),  # p->numa_preferred_nid, -1 none
    ("numa_scan_seq", np.int64),  # p->numa_scan_seq
    ("has_group", np.int64),
    ("group_faults_cpu_src", np.int64),
    ("group_faults_cpu_dst", np.int64),
    ("group_faults_src", np.int64),
    ("group_faults_dst", np.int64),
    ("tiering", np.int64),  # kernel.numa_balancing has MEMORY_TIERING
    ("src_toptier", np.int64),
    # promote: the hint-fault latency test
    ("free_space_enough", np.int64),  # pgdat_free_space_enough(dst)
    ("latency_ms", np.int64),  # numa_hint_fault_latency (valid unless free_space_enough)
    ("threshold_ms", np.int64),  # the node's hot threshold after adjustment
    ("hot_threshold_ms", np.int64),  # the tunable
    ("rate_limit_pages", np.int64),  # promote_rate_limit_MBps in pages per second
    # scan_period: update_task_scan_period's inputs
    ("period_ms", np.int64),  # p->numa_scan_period
    ("period_max_ms", np.int64),  # p->numa_scan_period_max
    ("scan_min_ms", np.int64),  # task_scan_min
    ("scan_max_ms", np.int64),  # task_scan_max
    ("faults_remote", np.int64),  # numa_faults_locality[0]
    ("faults_local", np.int64),  # [1]
    ("faults_failed", np.int64),  # [2]: failed migrations
    ("faults_shared", np.int64),  # shared faults of the last window
    ("faults_private", np.int64),  # private faults of the last window
    ("kernel_period_ms", np.int64),  # what the kernel's update_task_scan_period chose
    # place_task: task_numa_placement's inputs
    ("max_nid", np.int64),  # the kernel's choice (after numa_nearest_node, preferred_group_nid)
    ("max_faults", np.int64),  # its faults (0: the kernel changes nothing)
    ("node_cpus", np.int64, (MAX_NODES,)),  # CPUs per node
    ("task_faults", np.int64, (MAX_NODES,)),  # the task's decayed memory faults per node
    ("group_faults", np.int64, (MAX_NODES,)),  # its group's (0 without a group)
])
"""The context every policy receives (one record; fields of other decisions are stale)."""

PROMOTE_NO, PROMOTE_CANDIDATE, PROMOTE_NOW = 0, 1, 2
"""Results of a ``promote`` policy: keep the page; a promotion candidate (the kernel's rate
limit then decides); promote without the rate limit."""


@dataclass(frozen=True)
class Decision:
    """One decision point a policy may take over."""

    name: str
    kernel: str
    returns: str


DECISIONS: tuple[Decision, ...] = (
    Decision("promote", "the MEMORY_TIERING branch of should_numa_migrate_memory",
             "PROMOTE_NO (0), PROMOTE_CANDIDATE (1: the rate limit decides) or PROMOTE_NOW (2)"),
    Decision("should_migrate", "the NORMAL branch of should_numa_migrate_memory "
             "(the two-stage filter and the group test)", "1 to migrate the page, 0 not to"),
    Decision("scan_period", "the new period of update_task_scan_period",
             "the next numa_scan_period in ms, 0..4294967295"),
    Decision("place_task", "the preferred node of task_numa_placement",
             "a node with CPUs to prefer, or -1 to leave the preferred node as it is"),
)
"""The decision points, in the order of the simulator's policy slots."""

POLICIES: dict[str, tuple[str, Callable]] = {}
"""Registered policies: name -> (decision point, function)."""


def register_policy(name: str, decision: str, function: Callable) -> Callable:
    """Make ``function`` available as policy ``name`` for ``decision`` (also in TOML).

    Returns
    -------
    callable
        ``function``, so that this can serve as a decorator's body.
    """
    check_decision(decision)
    POLICIES[name] = (decision, function)
    return function


def check_decision(decision: str) -> None:
    """Refuse a name that is not a decision point."""
    names = [d.name for d in DECISIONS]
    if decision not in names:
        raise ScenarioError("policy", f"no decision point {decision!r}", ", ".join(names))


def _label(value) -> str:
    if isinstance(value, str):
        return value
    func = getattr(value, "py_func", value)
    return getattr(func, "__qualname__", repr(func))


@dataclass(frozen=True)
class Policy:
    """Which function takes each decision (None: the kernel's own).

    Parameters
    ----------
    promote, should_migrate, scan_period, place_task : callable or str, optional
        A function ``f(ctx, mem) -> int`` (plain Python or ``numba.njit``,
        compiled by the simulator with that signature), or the name of a
        registered policy for that decision point. See :data:`DECISIONS`
        for what each returns.
    """

    promote: Callable | str | None = None
    should_migrate: Callable | str | None = None
    scan_period: Callable | str | None = None
    place_task: Callable | str | None = None

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, str):
                if value not in POLICIES:
                    raise ScenarioError(f.name, f"no registered policy {value!r}",
                                        ", ".join(n for n, (d, _) in POLICIES.items()
                                                  if d == f.name) or "none registered yet")
                if POLICIES[value][0] != f.name:
                    raise ScenarioError(f.name, f"policy {value!r} decides "
                                        f"{POLICIES[value][0]}, not {f.name}")
                continue
            check_signature(value, f.name)

    @property
    def is_kernel(self) -> bool:
        """No decision is taken over."""
        return all(getattr(self, f.name) is None for f in fields(self))

    @property
    def label(self) -> str:
        """``"kernel"``, or ``"promote=name,..."`` for the decisions taken over."""
        parts = [f"{f.name}={_label(getattr(self, f.name))}" for f in fields(self)
                 if getattr(self, f.name) is not None]
        return ",".join(parts) or "kernel"

    @property
    def mask(self) -> int:
        """Bit ``i`` set when decision ``DECISIONS[i]`` is taken over."""
        return sum(1 << i for i, d in enumerate(DECISIONS) if getattr(self, d.name) is not None)

    def functions(self) -> dict[str, Callable]:
        """The function of each decision taken over (names resolved), by decision point."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = POLICIES[value][1] if isinstance(value, str) else value
        return out


def check_signature(function, decision: str) -> None:
    """Refuse what cannot be a policy: not callable, or not taking exactly ``(ctx, mem)``."""
    func = getattr(function, "py_func", function)
    allowed = "a function f(ctx, mem) -> int (see numaexp.model.policy)"
    if not callable(func):
        raise ScenarioError(decision, f"a policy must be a function (got {function!r:.60})",
                            allowed)
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        raise ScenarioError(decision, f"cannot read the signature of {function!r:.60}",
                            allowed) from None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    others = [p for p in params if p not in positional]
    if len(positional) != 2 or others:
        names = ", ".join(p.name for p in params)
        raise ScenarioError(decision, f"{_label(function)} takes ({names}), not two "
                            "arguments (ctx, mem)", allowed)
