"""The guest's initramfs: busybox-static, the workload executor and ``/init``.

The base archive (busybox, executor, init) is built at first use and cached
under ``<cache>/kernel/initramfs-<hash>.cpio.gz``, the hash covering the
executor's C source, the init script and the busybox binary. Each run adds
a small second archive (its spec, its set-up script, the kmem modules of
its kernel); Linux unpacks concatenated archives in turn, so the guest's
initrd is the two files back to back.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from numaexp.kernel.errors import KernelBackendError
from numaexp.kernel.host import BUSYBOX_STATIC, cache_root, require_programs

EXECUTOR_SOURCE = Path(__file__).with_name("executor") / "executor.c"
"""The C source of the workload executor."""

INIT = Path(__file__).with_name("executor") / "init.sh"
"""The guest's ``/init`` (POSIX sh run by busybox)."""


def executor_binary() -> Path:
    """The static executor, compiled with ``gcc -static -O2 -pthread`` once per source hash."""
    source = EXECUTOR_SOURCE.read_bytes()
    out = cache_root() / f"executor-{hashlib.sha256(source).hexdigest()[:16]}"
    if out.is_file():
        return out
    require_programs(["gcc"])
    tmp = out.with_suffix(".tmp")
    proc = subprocess.run(["gcc", "-static", "-O2", "-pthread", "-o", str(tmp),
                           str(EXECUTOR_SOURCE), "-lm"], capture_output=True, text=True)
    if proc.returncode:
        raise KernelBackendError("compiling the workload executor failed (is libc6-dev "
                                 "installed? sudo apt-get install -y gcc libc6-dev):\n"
                                 + proc.stderr[-3000:])
    tmp.rename(out)
    return out


def base_initramfs() -> Path:
    """The cached base archive (busybox, executor, ``/init``), built at first use."""
    require_programs(["busybox", "cpio", "gcc"])
    executor = executor_binary()
    digest = hashlib.sha256()
    for path in (executor, INIT, Path(BUSYBOX_STATIC)):
        digest.update(path.read_bytes())
    out = cache_root() / f"initramfs-{digest.hexdigest()[:16]}.cpio.gz"
    if out.is_file():
        return out
    with tempfile.TemporaryDirectory(prefix="numaexp-initramfs-") as tmp:
        root = Path(tmp)
        for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "etc", "usr/bin",
                  "usr/sbin"):
            (root / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUSYBOX_STATIC, root / "bin" / "busybox")
        (root / "bin" / "sh").symlink_to("busybox")
        shutil.copy2(executor, root / "bin" / "executor")
        shutil.copy2(INIT, root / "init")
        (root / "init").chmod(0o755)
        pack(root, out)
    return out


def pack(root: Path, out: Path) -> None:
    """Pack directory ``root`` as a gzip-compressed newc cpio archive ``out``."""
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    proc = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=root,
                          input="\n".join(names).encode(), capture_output=True)
    if proc.returncode:
        raise KernelBackendError("cpio failed: " + proc.stderr.decode()[-2000:])
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(proc.stdout, compresslevel=6))
    tmp.rename(out)


def run_initramfs(files: dict[str, bytes], out: Path) -> Path:
    """Write the guest's initrd ``out``: the base archive followed by one holding ``files``.

    Parameters
    ----------
    files : dict of str to bytes
        Paths inside the guest (e.g. ``"run/spec.txt"``) and their contents.
    out : Path
        Where to write the combined archive.
    """
    base = base_initramfs()
    with tempfile.TemporaryDirectory(prefix="numaexp-run-") as tmp:
        root = Path(tmp) / "root"
        for name, data in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if name.endswith(".sh"):
                path.chmod(0o755)
        extra = Path(tmp) / "extra.cpio.gz"
        pack(root, extra)
        out.write_bytes(base.read_bytes() + extra.read_bytes())
    return out
