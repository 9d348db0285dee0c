"""A process and its threads: who runs, where, and who creates whom.

A :class:`Process` is one address space (its VMAs) and the threads that run
in it; a :class:`Thread` runs a list of phases (:mod:`numaexp.model.phases`).
The process's lifecycle is checked here: which thread creates each other one
(``created_by``, ``created_after_phase``), with no cycle and no ambiguous
creator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from numaexp.errors import ScenarioError
from numaexp.model.cgroups import check_cgroup_path
from numaexp.model.checks import (
    check_ids,
    check_instance,
    check_items,
    check_name,
    check_seconds,
    store_items,
)
from numaexp.model.mappings import MemPolicy, Vma
from numaexp.model.phases import Phase

PID_MAX_LIMIT = 4 * 1024 * 1024
"""Most tasks a 64-bit Linux can have (``PID_MAX_LIMIT``, include/linux/threads.h)."""


@dataclass(frozen=True)
class Thread:
    """A thread (task) of a process.

    Parameters
    ----------
    name : str
        Name, unique within the process (replicas get ``name.i``).
    phases : tuple of Phase
        What the thread does, in order. It exits after the last phase ends.
    cpus : tuple of int, optional
        CPU affinity (``sched_setaffinity``); ``None``: every CPU of its
        cgroup's cpuset.
    policy : MemPolicy
        Task memory policy (``set_mempolicy``), used where a VMA has none.
    count : int
        Number of identical replicas of this thread.
    created_by : str, optional
        Name of the thread of the same process that creates it (``clone``);
        default: the process's main thread.
    created_after_phase : int, optional
        The creator creates it when its phase of this index (0-based) ends;
        ``None``: when the creator starts. A process's threads are created one
        after another in the order listed, ``costs.clone_ns`` apart.
    start_s : float
        Further delay of its creation, seconds (a thread created later).
    """

    name: str
    phases: tuple[Phase, ...]
    cpus: tuple[int, ...] | None = None
    policy: MemPolicy = field(default_factory=MemPolicy)
    count: int = 1
    created_by: str | None = None
    created_after_phase: int | None = None
    start_s: float = 0.0

    def __post_init__(self):
        check_name(self.name)
        phases = check_items(self.phases, "phases", Phase)
        object.__setattr__(self, "phases", phases)
        check_instance(self.policy, "policy", MemPolicy)
        if not phases:
            raise ScenarioError("phases", "a thread needs at least one phase")
        if self.cpus is not None:
            cpus = check_ids(self.cpus, "cpus")
            if not cpus:
                raise ScenarioError("cpus", "empty CPU affinity", "a non-empty list of CPU ids")
            object.__setattr__(self, "cpus", cpus)
        if isinstance(self.count, bool) or not isinstance(self.count, int) \
                or not 1 <= self.count <= PID_MAX_LIMIT:
            raise ScenarioError("count", f"must be an integer in [1, {PID_MAX_LIMIT}] "
                                f"(got {self.count!r})",
                                f"1..{PID_MAX_LIMIT} (PID_MAX_LIMIT: Linux has no more tasks)")
        if self.created_by is not None:
            check_name(self.created_by, "created_by")
        if self.created_after_phase is not None and (
                isinstance(self.created_after_phase, bool)
                or not isinstance(self.created_after_phase, int) or self.created_after_phase < 0):
            raise ScenarioError("created_after_phase",
                                f"must be a phase index >= 0 (got {self.created_after_phase!r})",
                                "the 0-based index of one of the creator's phases")
        check_seconds(self.start_s, "start_s", allow_zero=True)

    def replica_name(self, k: int) -> str:
        """Name of replica ``k``: ``name`` for a single thread, else ``name.k``."""
        return self.name if self.count == 1 else f"{self.name}.{k}"

    @property
    def replica_names(self) -> list[str]:
        """Names of every replica, in order (see :meth:`replica_name`)."""
        return [self.replica_name(k) for k in range(self.count)]


@dataclass(frozen=True)
class Process:
    """A process: one address space (``mm``), its VMAs and threads.

    Parameters
    ----------
    name : str
        Name, unique within the workload.
    vmas : tuple of Vma
        Its mappings, laid out in this order in the address space.
    threads : tuple of Thread
        Its threads.
    cgroup : str
        Path of its cgroup (``"/"`` is the root).
    main_thread : {"works", "sleeps"}
        ``"works"``: replica 0 of the first thread is the main thread; it
        creates the first thread's other replicas when it starts, then the
        other threads at their creation points. ``"sleeps"``: a main thread
        (not listed) creates every listed thread and then sleeps until the end
        (``pthread_join``), as autonumabench does; it counts in ``mm_users``
        and runs only to create.
    start_s : float
        When the launcher forks the process (its main thread), seconds.
    """

    name: str
    vmas: tuple[Vma, ...]
    threads: tuple[Thread, ...]
    cgroup: str = "/"
    main_thread: str = "works"
    start_s: float = 0.0

    def __post_init__(self):
        check_name(self.name)
        store_items(self, vmas=(Vma, "a process needs at least one VMA"),
                    threads=(Thread, "a process needs at least one thread"))
        if self.main_thread not in ("works", "sleeps"):
            raise ScenarioError("main_thread", f"unknown value {self.main_thread!r}",
                                '"works" or "sleeps"')
        check_cgroup_path(self.cgroup, "cgroup")
        check_seconds(self.start_s, "start_s", allow_zero=True)
        self._check_creators()

    def _check_creators(self) -> None:
        """``created_by`` names another thread of the process (the first of that name: thread
        names are checked unique with the whole scenario), its phase exists, no cycle."""
        main = self.threads[0] if self.main_thread == "works" else None
        if main is not None and (main.created_by is not None
                                 or main.created_after_phase is not None or main.start_s):
            raise ScenarioError("threads[0]", "the first thread's replica 0 is the process's "
                                "main thread (main_thread = \"works\"): it is created with the "
                                "process, and it creates the other replicas when it starts",
                                "no created_by, created_after_phase or start_s (use the "
                                "process's start_s)")
        for i, thread in enumerate(self.threads):
            creator = self.creator_of(thread)
            where = f"threads[{i}]"
            if thread.created_after_phase is not None and creator is None:
                raise ScenarioError(f"{where}.created_after_phase", "the hidden main thread of "
                                    "main_thread = \"sleeps\" has no phases",
                                    "created_by = the name of a listed thread")
            if creator is None:
                continue
            if creator.count != 1 and creator is not main:
                raise ScenarioError(f"{where}.created_by", f"thread {creator.name!r} has "
                                    f"{creator.count} replicas: which one creates is ambiguous",
                                    "a thread with count = 1")
            if thread.created_after_phase is not None and \
                    thread.created_after_phase >= len(creator.phases):
                raise ScenarioError(f"{where}.created_after_phase",
                                    f"thread {creator.name!r} has {len(creator.phases)} phases "
                                    f"(got {thread.created_after_phase})",
                                    f"0..{len(creator.phases) - 1}")
        for i, thread in enumerate(self.threads):  # no cycle: each chain ends at the main
            seen = {thread.name}
            creator = self.creator_of(thread)
            while creator is not None and creator is not main:
                if creator.name in seen:
                    raise ScenarioError(f"threads[{i}].created_by", "threads create each other "
                                        f"in a cycle ({' -> '.join(sorted(seen))})",
                                        "a chain of creators that ends at the main thread")
                seen.add(creator.name)
                creator = self.creator_of(creator)

    def creator_of(self, thread: Thread) -> Thread | None:
        """The listed thread that creates ``thread`` (``None``: the hidden main thread, or
        the launcher for the main thread itself)."""
        main = self.threads[0] if self.main_thread == "works" else None
        if thread is main:
            return None
        if thread.created_by is None:
            return main
        for other in self.threads:
            if other.name == thread.created_by:
                if other is thread:
                    raise ScenarioError("created_by", f"thread {thread.name!r} cannot create "
                                        "itself", "the name of another thread of the process")
                return other
        raise ScenarioError("created_by", f"no thread {thread.created_by!r} in process "
                            f"{self.name!r}", ", ".join(t.name for t in self.threads))

    @property
    def nr_threads(self) -> int:
        """Number of worker threads, replicas included."""
        return sum(t.count for t in self.threads)
