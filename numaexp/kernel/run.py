"""``run_kernel``: one scenario on a real Linux kernel under QEMU, as a :class:`Result`."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from numaexp.errors import ScenarioError
from numaexp.io.frames import build_frames
from numaexp.kernel.console import GuestRun
from numaexp.kernel.errors import KernelBackendError
from numaexp.kernel.host import cache_root, require_programs
from numaexp.kernel.images import kernel_image
from numaexp.kernel.launch import launch
from numaexp.kernel.records import parse_records, parse_topology, tasks_of
from numaexp.kernel.result import KernelResult, load_result
from numaexp.kernel.setup import background_meta, check_translatable
from numaexp.model.kernel import MODE_NAMES
from numaexp.model.scenario import Scenario
from numaexp.model.toml_io import save_scenario, scenario_to_toml

BACKEND = "kernel"


def run_kernel(scenario: Scenario, kernel: str | Path = "6.12", *,
               timeout_s: float | None = None, log_dir: str | Path | None = None,
               progress: bool | None = None, cache: bool = False) -> KernelResult:
    """Run ``scenario`` on a real kernel in a QEMU guest built from its machine.

    Parameters
    ----------
    scenario : Scenario
        What to run. Its machine becomes the guest (nodes, CPUs, memory, SLIT,
        CPU-less and kmem nodes), its ``KernelConfig`` the guest's sysctls and
        debugfs tunables, its workload the executor's processes and threads.
    kernel : str or Path
        ``"6.12"`` (Debian's linux-image-6.12-amd64), ``"6.1"``
        (linux-image-amd64), another ``linux-image-*`` package, or the path of
        a bzImage of your own (for example built with the per-cgroup RFC).
    timeout_s : float, optional
        Host seconds before the guest is killed (default: 90 s plus twice the
        run's limit, ``stop.max_duration_s`` or ``stop.duration_s``).
    log_dir : str or Path, optional
        Where the run's console log is kept (default: numaexp's cache,
        ``kernel/runs/``); its path is in ``result.meta["console_log"]``.
    progress : bool, optional
        Show a progress bar (default on).
    cache : bool
        Keep the result in numaexp's cache (``kernel/results/<key>``) and reuse
        it when the same scenario runs again on the same image, executor and
        guest scripts (the key hashes all of them); ``result.meta["cached"]``
        says which. A guest run is one sample of a noisy system: use it to
        re-open a notebook, not to average runs.

    Returns
    -------
    Result
        The frames :func:`numaexp.simulate` returns, with the same names and
        columns, a ``backend`` column ``"kernel"`` in each, and NA where the
        kernel has no such counter; plus ``numa_maps`` (pages per node of each
        workload VMA at each sample). ``meta`` holds the guest's topology as
        read back inside it, the kernel release, boot and wall times,
        system calls the kernel refused (``meta["errors"]``), what ran besides
        the workload (``meta["background"]``), and how each listed thread
        started (``meta["task_starts"]``: creation time, the CPU and node it
        first ran on, its creator's CPU and node).

    Raises
    ------
    ScenarioError
        Listing every scenario field the guest cannot reproduce.
    KernelBackendError
        A missing host package (with the apt-get line), a kernel that does
        not boot, a setting the kernel refuses (its own error, e.g. EINVAL
        for ``kernel.numa_balancing = 4`` on a stock kernel), or a timeout;
        with the console's tail and the kept log's path.
    """
    if not isinstance(scenario, Scenario):
        raise ScenarioError("scenario", f"expected a Scenario, got {type(scenario).__name__}")
    check_translatable(scenario)
    require_programs()
    wall0 = time.perf_counter()
    image = kernel_image(kernel)
    key = result_key(scenario, image) if cache else None
    if key is not None and (cache_root() / "results" / key / "meta.json").is_file():
        return load_cached(cache_root() / "results" / key, scenario)
    run = launch(scenario, image, timeout_s=timeout_s, log_dir=log_dir, progress=progress)
    result = build_result(scenario, run, image.label, image.release, wall0)
    if key is not None:
        store_cached(result, cache_root() / "results" / key)
    result.meta["cached"] = False
    return result


def result_from_log(scenario: Scenario, log_path: str | Path) -> KernelResult:
    """The result of a past guest run, parsed again from its kept console log.

    Parameters
    ----------
    scenario : Scenario
        The scenario that run (the log does not hold it).
    log_path : str or Path
        ``console.log`` of the run (``result.meta["console_log"]``; the runs in
        numaexp's cache are under ``kernel/runs/``).

    Raises
    ------
    KernelBackendError
        When the log holds no sample (the run did not get that far).
    """
    run = GuestRun.from_log(log_path)
    up = run.status("numaexp-guest-up")
    release = up[0].split()[-1] if up else "unknown"
    return build_result(scenario, run, release, release, float("nan"))


def build_result(scenario: Scenario, run: GuestRun, label: str, release: str,
                 wall0: float) -> KernelResult:
    """The frames and meta of a guest's console (``wall0``: ``perf_counter`` at the start)."""
    records = parse_records(run.records)
    if not records.samples:
        raise KernelBackendError("the guest returned no sample", run.tail(), str(run.log_path))
    cgroup_of = {p.name: p.cgroup for p in scenario.workload.processes}
    tasks = tasks_of(records, cgroup_of)
    machine = scenario.machine
    cgroups = [cg.path for cg in scenario.workload.all_cgroups()]
    frames = build_frames(records.samples, tasks, nodes=range(machine.nr_nodes),
                          cpu_node=dict(enumerate(machine.cpu_node)), cgroups=cgroups,
                          sched=records.sched, final_stat=records.final_stat,
                          mappings=records.mappings, deltas=True, end_s=records.end_s)
    mode = scenario.kernel.numa_balancing
    variant = scenario.kernel.variant.label
    for frame in frames.values():
        frame["mode"] = mode
        frame["variant"] = variant
        frame["policy"] = "kernel"
        frame["backend"] = BACKEND
    up = run.status("numaexp-guest-up")
    meta = {
        "scenario": scenario.name, "workload": scenario.workload.name,
        "machine": machine.name, "mode": mode, "mode_name": MODE_NAMES[mode],
        "variant": variant, "seed": scenario.seed, "backend": BACKEND,
        "kernel": label, "kernel_release": up[0].split()[-1] if up else release,
        "sim_seconds": records.end_s, "wall_seconds": time.perf_counter() - wall0,
        "boot_seconds": run.boot_s, "guest_wall_seconds": run.wall_s,
        "finished": not records.timed_out, "interrupted": False,
        "topology": parse_topology(run.status("topo")), "errors": records.errors,
        "background": background_meta(scenario),
        "task_starts": task_starts(records, machine.cpu_node),
        "settings": run.status("set"), "console_log": str(run.log_path),
        "patterns": sorted({pat.kind for p in scenario.workload.processes for t in p.threads
                            for ph in t.phases for pat in ph.patterns}),
        # cumulative pgfault (all page faults) per sample, for calibration's first touches
        "pgfault": [s.vmstat.get("pgfault", 0) - records.samples[0].vmstat.get("pgfault", 0)
                    for s in records.samples],
    }
    return KernelResult(scenario=scenario, frames=frames, meta=meta)


def result_key(scenario: Scenario, image) -> str:
    """Hash of the scenario, the kernel image and everything that runs in the guest."""
    from numaexp.kernel.initramfs import EXECUTOR_SOURCE, INIT
    from numaexp.kernel.setup import FUNCTIONS

    digest = hashlib.sha256(scenario_to_toml(scenario).encode())
    for path in (image.vmlinuz, EXECUTOR_SOURCE, INIT, FUNCTIONS):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:24]


def store_cached(result: KernelResult, directory: Path) -> None:
    """Write ``result`` (frames, meta, scenario) into the cache directory ``directory``."""
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    result.save(tmp, formats=("parquet",))
    save_scenario(result.scenario, tmp / "scenario.toml")
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)


def load_cached(directory: Path, scenario: Scenario) -> KernelResult:
    """A result kept by :func:`store_cached`, marked ``meta["cached"] = True``."""
    result = load_result(directory)
    result.scenario = scenario
    result.meta["cached"] = True
    return result


def task_starts(records, cpu_node) -> list[dict]:
    """How each listed thread started: the executor's ``@task`` records with nodes.

    Returns
    -------
    list of dict
        ``process``, ``thread``, ``tid`` (0: never created), ``created_s``
        (seconds after the first sample), ``cpu`` and ``node`` it first ran
        on, ``creator_cpu`` and ``creator_node`` (where its creator ran when
        it created it; the launcher for a main thread); -1 when unknown.
    """
    out = []
    for start in records.starts:
        row = dict(start)
        for cpu, node in (("cpu", "node"), ("creator_cpu", "creator_node")):
            c = row[cpu]
            row[node] = cpu_node[c] if 0 <= c < len(cpu_node) else -1
        out.append(row)
    return out
