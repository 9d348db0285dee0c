"""Translate a :class:`~numaexp.model.scenario.Scenario` into what the guest runs.

Two files go into the run's initramfs: ``/run/spec.txt`` for the workload
executor (processes, VMAs, threads, phases, patterns, stop rule) and
``/run/setup.sh`` (kmem conversion, topology read-back, the
``KernelConfig``'s sysctls and debugfs tunables, THP, cgroups, then the
executor). Fields that describe the simulator's performance model
(latencies, bandwidths, ``stream_gbps``, ``think_ns``, ``mlp``, costs) are
not applied: the guest runs at its own speed. Fields the guest cannot
reproduce raise one :class:`~numaexp.errors.ScenarioError` listing them all.

Lifecycles (``Process.start_s``, ``Thread.created_by``, ``created_after_phase``,
``start_s``, ``main_thread``), barriers and duty cycles are the executor's own
(see ``executor.c``). ``Scenario.background``: the presets ``"quiet"`` and
``"none"`` mean the guest as it is (its own kernel threads and init);
``"busy"`` and any other :class:`~numaexp.model.background.Background` are
reproduced by extra tasks the executor runs besides the guest's own.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from numaexp.errors import ScenarioError
from numaexp.kernel.guest import plan_guest, untranslatable_machine
from numaexp.model.background import BACKGROUNDS, Background
from numaexp.model.params import PARAMS
from numaexp.model.scenario import Scenario, effective_cpusets
from numaexp.model.units import PAGE_SIZE

POLICY_CODES = {"default": 0, "preferred": 1, "bind": 2, "interleave": 3, "local": 4,
                "preferred_many": 5, "weighted_interleave": 6}
"""``MPOL_*`` mode numbers (include/uapi/linux/mempolicy.h)."""

MPOL_F_NUMA_BALANCING = 1 << 13

MAX_THREADS = 256
"""Listed threads (replicas included) the executor runs, in all processes."""

MAX_BACKGROUND_TASKS = 1024
"""Background tasks (per-CPU threads, daemons, tenants) the executor runs."""

BARRIER_CODES = {"none": 0, "pass": 1, "phase": 2}
"""``Phase.barrier`` in the spec."""

GUEST_BACKGROUND = "the guest's own"
"""``meta["background"]`` of a run whose background is ``"quiet"`` or ``"none"``."""


def reproduced_background(scenario: Scenario) -> Background | None:
    """The background the executor adds to the guest's own, or ``None``.

    ``"quiet"`` and ``"none"`` mean the guest as it is: a real guest has its
    own background (kernel threads, init), which nothing can remove and which
    is about as quiet as the ``"quiet"`` preset. ``"busy"`` and custom values
    are run by the executor, on top of the guest's own.
    """
    bg = scenario.background
    if bg == BACKGROUNDS["quiet"] or bg == BACKGROUNDS["none"]:
        return None
    return bg


def background_meta(scenario: Scenario) -> str:
    """What ``result.meta["background"]`` says about the run's background."""
    bg = reproduced_background(scenario)
    if bg is None:
        return GUEST_BACKGROUND
    return f"{bg.describe()}, run by the executor, besides {GUEST_BACKGROUND}"


def untranslatable(scenario: Scenario) -> list[str]:
    """Every field of ``scenario`` the guest cannot reproduce, with the reason."""
    problems = untranslatable_machine(scenario.machine)
    k = scenario.kernel
    if k.hz != 250:
        problems.append(f"kernel.hz: Debian's kernels are built with HZ 250 (got {k.hz})")
    if not k.locality_reset_fix:
        problems.append("kernel.locality_reset_fix: false models 6.12.0-6.12.116; the guest "
                        "runs the image's own update_task_scan_period")
    if not k.policy.is_kernel:
        problems.append(f"kernel.policy: {k.policy.label} replaces the kernel's decisions in "
                        "the simulator only; a real kernel decides for itself")
    if scenario.actions:
        problems.append(f"actions: {len(scenario.actions)} run-time action(s); the executor "
                        "does not change settings during a run")
    for pi, proc in enumerate(scenario.workload.processes):
        if len(proc.vmas) > 16:
            problems.append(f"workload.processes[{pi}].vmas: at most 16 VMAs")
        for vi, vma in enumerate(proc.vmas):
            where = f"workload.processes[{pi}].vmas[{vi}]"
            if vma.kind == "file":
                problems.append(f"{where}.kind: file-backed VMAs are not reproduced (the "
                                "guest's root is a RAM file system)")
            if vma.object is not None:
                problems.append(f"{where}.object: memory shared between processes is not "
                                "reproduced")
            if not vma.writable:
                problems.append(f"{where}.writable: read-only VMAs are not reproduced")
            if vma.executable:
                problems.append(f"{where}.executable: executable VMAs are not reproduced")
        for ti, thread in enumerate(proc.threads):
            for phi, phase in enumerate(thread.phases):
                if len(phase.patterns) > 8:
                    problems.append(f"workload.processes[{pi}].threads[{ti}].phases[{phi}]"
                                    ".patterns: at most 8 patterns per phase")
            if len(thread.phases) > 8:
                problems.append(f"workload.processes[{pi}].threads[{ti}].phases: at most 8")
    if len(scenario.workload.processes) > 16:
        problems.append("workload.processes: at most 16 processes")
    threads = sum(proc.nr_threads for proc in scenario.workload.processes)
    if threads > MAX_THREADS:
        problems.append(f"workload.processes[*].threads: at most {MAX_THREADS} threads in all "
                        f"(got {threads}, replicas included)")
    bg = reproduced_background(scenario)
    if bg is not None:
        nc = scenario.machine.nr_cpus
        tasks = (nc if bg.kthread_wakeups_per_s > 0 else 0) + bg.daemons + bg.tenants(nc)
        if tasks > MAX_BACKGROUND_TASKS:
            problems.append(f"background: at most {MAX_BACKGROUND_TASKS} background tasks "
                            f"(got {tasks})")
    return problems


def check_translatable(scenario: Scenario) -> None:
    """Raise one :class:`ScenarioError` listing every untranslatable field."""
    problems = untranslatable(scenario)
    if problems:
        raise ScenarioError("scenario", "the kernel backend cannot reproduce these fields:\n  "
                            + "\n  ".join(problems), "see docs/kernel-backend.md")


def _sysfs(value) -> str:
    """A setting as the kernel's file takes it (booleans as ``true``/``false``)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _policy(pol) -> tuple[int, int, int]:
    if pol is None:
        return -1, 0, 0
    if pol.mode == "default":
        return -1, 0, 0
    mask = 0
    for n in pol.nodes:
        mask |= 1 << n
    return POLICY_CODES[pol.mode], MPOL_F_NUMA_BALANCING if pol.numa_balancing else 0, mask


def spec_text(scenario: Scenario) -> str:
    """The executor's spec (format: see ``executor.c``, ``read_spec``)."""
    stop = scenario.stop
    lines = [f"run {stop.kind} {stop.duration_s or 0:.6f} {stop.max_duration_s:.6f} "
             f"{scenario.sample_interval_s:.6f} {scenario.seed % (1 << 63) + 1} "
             f"{scenario.machine.nr_nodes}"]
    lines += [f"cgroup {cg.path}" for cg in scenario.workload.all_cgroups()]
    bg = reproduced_background(scenario)
    if bg is not None:
        nc = scenario.machine.nr_cpus
        lines.append(f"background {nc} {bg.kthread_wakeups_per_s:.9g} {bg.kthread_run_us:.9g} "
                     f"{bg.daemons} {bg.daemon_period_s:.9g} {bg.daemon_run_ms:.9g} "
                     f"{bg.tenants(nc)} {bg.tenant_run_ms:.9g} {bg.tenant_sleep_ms:.9g}")
    line_of: dict[tuple[int, str], int] = {}  # (process, thread name) -> first thread line
    n = 0
    for pi, proc in enumerate(scenario.workload.processes):
        for thread in proc.threads:
            line_of.setdefault((pi, thread.name), n)
            n += thread.count
    for pi, proc in enumerate(scenario.workload.processes):
        lines.append(f"proc {proc.name} {proc.cgroup} {int(proc.main_thread == 'sleeps')} "
                     f"{proc.start_s:.9f}")
        main = proc.threads[0] if proc.main_thread == "works" else None
        index = {}
        for vi, vma in enumerate(proc.vmas):
            index[vma.name] = vi
            mode, flags, mask = _policy(vma.policy)
            ft = -1 if vma.first_touch_node is None else vma.first_touch_node
            lines.append(f"vma {vma.name} {vma.pages * PAGE_SIZE} {int(vma.thp)} "
                         f"{int(vma.shared or vma.kind == 'shmem')} 0 {ft} {mode} {flags} "
                         f"{mask:x}")
        for thread in proc.threads:
            mode, flags, mask = _policy(thread.policy)
            cpus = ",".join(map(str, thread.cpus)) if thread.cpus else "-"
            by = proc.creator_of(thread)
            creator = -1 if by is None else line_of[(pi, by.name)]
            after = -1 if thread.created_after_phase is None else thread.created_after_phase
            for k in range(thread.count):
                if thread is main:  # replica 0 is the main thread; it creates the others
                    creator = -2 if k == 0 else line_of[(pi, thread.name)]
                lines.append(f"thread {thread.replica_name(k)} {cpus} {mode} {flags} {mask:x} "
                             f"{creator} {after} {thread.start_s:.9f}")
                for phase in thread.phases:
                    if phase.passes is not None:
                        end = f"passes {phase.passes:.6f}"
                    elif phase.touches is not None:
                        end = f"touches {phase.touches:.6f}"
                    elif phase.duration_s is not None:
                        end = f"duration {phase.duration_s:.6f}"
                    else:
                        end = "none 0"
                    lines.append(f"phase {end} {BARRIER_CODES[phase.barrier]} "
                                 f"{phase.run_s or 0:.9g} {phase.sleep_s:.9g} "
                                 f"{int(phase.sleep_dist == 'exponential')}")
                    for pat in phase.patterns:
                        vma = proc.vmas[index[pat.vma]]
                        start = pat.start // PAGE_SIZE
                        length = vma.pages - start if pat.length is None \
                            else -(-pat.length // PAGE_SIZE)
                        if pat.slice_by_thread:
                            per = length // thread.count
                            start += k * per
                            length = per
                        lines.append(
                            f"pat {index[pat.vma]} {pat.kind} {start * PAGE_SIZE} "
                            f"{length * PAGE_SIZE} {pat.share:.9g} {pat.write_fraction:.9g} "
                            f"{pat.stride} {pat.hot_fraction:.9g} {pat.hot_size:.9g} "
                            f"{pat.hot_offset:.9g} {pat.zipf_alpha:.9g} {pat.mean:.9g} "
                            f"{pat.sigma:.9g}")
    return "\n".join(lines) + "\n"


FUNCTIONS = Path(__file__).with_name("executor") / "functions.sh"
"""Shell functions of the set-up script: ``fail``, ``setw``, ``kmem``, ``topology``."""


def setup_script(scenario: Scenario, kmem_modules: tuple[str, ...]) -> str:
    """``/run/setup.sh``: topology, kernel settings, cgroups, then the executor.

    Parameters
    ----------
    scenario : Scenario
    kmem_modules : tuple of str
        Module names to insmod (in order) when the machine has kmem nodes.
    """
    plan = plan_guest(scenario.machine)
    k = scenario.kernel
    out = ["#!/bin/sh", FUNCTIONS.read_text()]
    if plan.kmem_nodes:
        out.append(f"kmem {shlex.quote(' '.join(kmem_modules))}")
    out.append("topology")
    q = shlex.quote
    for param in PARAMS:  # every kernel setting the parameter table says where to write
        value = getattr(k, param.name) if param.kernel_file else None
        if value is not None:  # a kernel without the file may skip a default, not the mode
            skip = "-" if param.default is None or param.path == "kernel.numa_balancing" \
                else _sysfs(param.default)
            out.append(f"setw {param.path} {param.kernel_file} {_sysfs(value)} {skip}")
    out.append("setw thp /sys/kernel/mm/transparent_hugepage/enabled madvise -")
    out.append("setw thp /sys/kernel/mm/transparent_hugepage/defrag madvise -")
    out.append('setw cgroup /sys/fs/cgroup/cgroup.subtree_control "+cpu +cpuset +memory" -')
    if k.numa_balancing & 4:
        out.append("cgroup_mode")
    effective = effective_cpusets(scenario.workload, scenario.machine)
    cgroups = scenario.workload.all_cgroups()
    parents = {cg.parent for cg in cgroups if cg.parent}
    for cg in cgroups:
        where = f"workload.cgroups[{cg.path}]"
        if cg.path == "/":
            continue
        d = f"/sys/fs/cgroup{cg.path}"
        out.append(f"mkdir -p {q(d)} || fail {q(where)}: mkdir {q(d)}")
        if cg.path in parents:
            out.append(f'setw {q(where)} {q(d)}/cgroup.subtree_control "+cpu +cpuset +memory" -')
        cpus, mems = effective[cg.path]
        if cg.cpus is not None:
            out.append(f"setw {q(where + '.cpus')} {q(d)}/cpuset.cpus "
                       f"{','.join(map(str, sorted(cpus)))} -")
        if cg.mems is not None:
            out.append(f"setw {q(where + '.mems')} {q(d)}/cpuset.mems "
                       f"{','.join(map(str, sorted(mems)))} -")
        if cg.numa_load_balance or k.numa_balancing & 4:
            out.append(f"setw {q(where + '.numa_load_balance')} {q(d)}/cpu.numa_load_balance "
                       f"{cg.numa_load_balance} -")
    out.append('echo "@@numaexp-run $(cut -d" " -f1 /proc/uptime)"')
    out.append("/bin/executor /run/spec.txt > /tmp/out.txt || "
               "{ grep -v '^@line' /tmp/out.txt | tail -5; fail \"executor exited $?\"; }")
    out.append('echo "@@numaexp-data-begin $(wc -c < /tmp/out.txt)"')
    out.append("gzip -c /tmp/out.txt | base64")
    out.append('echo "@@numaexp-data-end"')
    return "\n".join(out) + "\n"
