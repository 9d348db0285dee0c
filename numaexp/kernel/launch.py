"""Put a scenario's guest together and boot it: image, initrd, QEMU command, console."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from numaexp.kernel.console import GuestRun, boot
from numaexp.kernel.errors import KernelBackendError
from numaexp.kernel.guest import plan_guest
from numaexp.kernel.host import cache_root, require_programs
from numaexp.kernel.images import KernelImage
from numaexp.kernel.initramfs import run_initramfs
from numaexp.kernel.setup import setup_script, spec_text
from numaexp.model.scenario import Scenario

BOOT_ALLOWANCE_S = 90.0
"""Host seconds allowed for boot, set-up and read-out besides the run itself."""

CMDLINE = ("console=ttyS0", "panic=-1", "quiet", "loglevel=3", "numa_balancing=enable",
           "mitigations=off")
"""Kernel command line of every guest (plus the topology's words)."""


def default_timeout(scenario: Scenario) -> float:
    """Host seconds a guest may take: boot allowance plus twice the run's limit."""
    return BOOT_ALLOWANCE_S + 2.0 * scenario.stop.limit_s


def run_dir(scenario: Scenario, log_dir: str | Path | None) -> Path:
    """A fresh directory for a run's console log (under the cache unless ``log_dir``)."""
    base = Path(log_dir) if log_dir else cache_root() / "runs"
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"{stamp}-{scenario.name}-mode"
                                        f"{scenario.kernel.numa_balancing}-", dir=base))


def launch(scenario: Scenario, image: KernelImage, *, timeout_s: float | None = None,
           log_dir: str | Path | None = None, progress: bool | None = None,
           extra_cmdline: tuple[str, ...] = ()) -> GuestRun:
    """Boot ``image`` with ``scenario``'s machine, settings and workload; return its console.

    Raises
    ------
    KernelBackendError
        Missing host programs, a timeout, or a guest that failed (the
        console tail and the log's path are in the message).
    """
    require_programs()
    plan = plan_guest(scenario.machine)
    if plan.kmem_nodes and not image.modules:
        raise KernelBackendError(f"kernel {image.label}: a kmem node needs the dax/nvdimm "
                                 "modules, which a bare bzImage does not bring; use a Debian "
                                 "kernel (6.12, 6.1) for tiered machines")
    directory = run_dir(scenario, log_dir)
    files = {"run/spec.txt": spec_text(scenario).encode(),
             "run/setup.sh": setup_script(scenario, tuple(m.stem for m in image.modules))
             .encode()}
    if plan.kmem_nodes:
        for module in image.modules:
            files[f"run/modules/{module.name}"] = module.read_bytes()
    initrd = run_initramfs(files, directory / "initrd.cpio.gz")
    qemu = shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"
    cmdline = " ".join((*CMDLINE, *plan.cmdline, *extra_cmdline))
    cmd = [qemu, *plan.qemu_args, "-nographic", "-nodefaults", "-no-reboot", "-serial", "stdio",
           "-monitor", "none", "-kernel", str(image.vmlinuz), "-initrd", str(initrd),
           "-append", cmdline]
    (directory / "qemu-command.txt").write_text(" ".join(cmd) + "\n")
    run = boot(cmd, directory / "console.log", timeout_s or default_timeout(scenario),
               scenario.stop.limit_s, desc=f"{scenario.name} mode {scenario.kernel.numa_balancing}"
               f" on {image.label}", progress=progress)
    initrd.unlink(missing_ok=True)
    failures = run.status("numaexp-fail")
    if failures:
        raise KernelBackendError(f"the guest ({image.label}) refused a setting: {failures[0]}",
                                 run.tail(), str(run.log_path))
    if not run.records or "@end" not in run.records:
        what = "did not boot" if not run.status("numaexp-guest-up") else \
            "stopped before the workload's results came back"
        raise KernelBackendError(f"the guest ({image.label}) {what}", run.tail(),
                                 str(run.log_path))
    return run
