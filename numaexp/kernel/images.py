"""Kernel images for the guest: Debian's stock kernels or a user's bzImage.

A Debian kernel is fetched with ``apt-get download`` and unpacked with
``dpkg-deb -x`` into numaexp's cache (``<cache>/kernel/images/<package>``):
it is never installed as the host's kernel. Only what a guest needs is
kept: the ``vmlinuz`` and the dax/nvdimm modules (decompressed) that turn a
legacy-pmem range into a kmem lower-tier node.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from numaexp.kernel.errors import KernelBackendError
from numaexp.kernel.host import cache_root, require_programs

KERNELS = {
    "6.12": "linux-image-6.12-amd64",
    "6.1": "linux-image-amd64",
}
"""Short kernel names -> Debian metapackage (Debian 12: 6.12 from bookworm-security,
6.1 the release's own kernel)."""

KMEM_MODULES = ("libnvdimm", "nd_btt", "nd_pmem", "nd_e820", "device_dax", "dax_pmem", "kmem")
"""Modules that make a dax/kmem node out of a ``memmap=`` legacy pmem range."""


@dataclass(frozen=True)
class KernelImage:
    """A bootable kernel.

    Attributes
    ----------
    label : str
        ``"6.12"``, ``"6.1"`` or the user's path.
    vmlinuz : Path
        The bzImage.
    release : str
        ``uname -r`` of the image (``""`` for a user's image).
    modules : tuple of Path
        The kmem modules, in load order (empty for a user's image unless given).
    """

    label: str
    vmlinuz: Path
    release: str
    modules: tuple[Path, ...] = ()


def kernel_image(kernel: str | Path, progress=None) -> KernelImage:
    """The image for ``kernel``: ``"6.12"``, ``"6.1"``, a Debian package name, or a path.

    Parameters
    ----------
    kernel : str or Path
        A key of :data:`KERNELS`, a ``linux-image-*`` package name, or the path
        of a bzImage (for example one built with the RFC applied).
    progress : callable, optional
        ``progress(message)`` while downloading and unpacking.

    Raises
    ------
    KernelBackendError
        A path that is not a file, an unknown name, or a failed download.
    """
    text = str(kernel)
    if text not in KERNELS and not text.startswith("linux-image-"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise KernelBackendError(f"kernel: no file {str(path)!r} (allowed: "
                                     f"{', '.join(KERNELS)}, a linux-image-* package name, "
                                     "or the path of a bzImage)")
        return KernelImage(label=str(path), vmlinuz=path.resolve(), release="")
    package = KERNELS.get(text, text)
    return _debian_image(text, package, progress)


def _debian_image(label: str, package: str, progress) -> KernelImage:
    root = cache_root() / "images" / package
    done = root / "image.txt"
    if done.is_file():
        release = done.read_text().strip()
        mods = tuple(root / f"{m}.ko" for m in _load_order(root))
        return KernelImage(label=label, vmlinuz=root / "vmlinuz", release=release,
                           modules=mods)
    require_programs(["dpkg-deb"])
    real = _real_package(package)
    say = progress or (lambda message: None)
    with tempfile.TemporaryDirectory(prefix="numaexp-kernel-") as tmp:
        say(f"apt-get download {real}")
        try:
            _run(["apt-get", "download", real], cwd=tmp, what=f"apt-get download {real}")
        except KernelBackendError:
            if os.geteuid() != 0:
                raise
            say("apt-get update")  # a fresh machine's package lists may be missing or old
            _run(["apt-get", "update", "-qq"], what="apt-get update")
            _run(["apt-get", "download", real], cwd=tmp, what=f"apt-get download {real}")
        debs = list(Path(tmp).glob("*.deb"))
        if not debs:
            raise KernelBackendError(f"apt-get download {real} produced no .deb")
        say(f"dpkg-deb -x {debs[0].name}")
        unpacked = Path(tmp) / "x"
        _run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], what="dpkg-deb -x")
        vmlinuz = sorted((unpacked / "boot").glob("vmlinuz-*"))
        if not vmlinuz:
            raise KernelBackendError(f"{real} holds no boot/vmlinuz-*")
        release = vmlinuz[0].name[len("vmlinuz-"):]
        staging = root.with_name(root.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copy2(vmlinuz[0], staging / "vmlinuz")
        for ko in (unpacked / "lib" / "modules" / release).rglob("*.ko*"):
            name = ko.name.split(".ko")[0]
            if name in KMEM_MODULES:
                data = ko.read_bytes()
                if ko.name.endswith(".xz"):
                    data = lzma.decompress(data)
                (staging / f"{name}.ko").write_bytes(data)
        (staging / "image.txt").write_text(release + "\n")
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    return _debian_image(label, package, progress)


def _real_package(package: str) -> str:
    """The versioned image package a metapackage depends on (itself if it has the vmlinuz)."""
    out = _run(["apt-cache", "depends", "--important", package], what=f"apt-cache depends "
               f"{package}")
    for line in out.splitlines():
        m = re.match(r"\s*Depends:\s*(linux-image-\S+)", line)
        if m:
            return m.group(1)
    return package


def _load_order(directory: Path) -> list[str]:
    """Module names in ``directory`` ordered so that each comes after what it ``depends=`` on."""
    deps = {}
    for ko in directory.glob("*.ko"):
        m = re.search(rb"depends=([\w,-]*)", ko.read_bytes())
        deps[ko.stem] = [d for d in (m.group(1).decode().split(",") if m else []) if d]
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in deps:
            return
        for dep in deps[name]:
            visit(dep)
        order.append(name)

    for name in KMEM_MODULES:
        visit(name)
    return order


def _run(cmd: list[str], what: str, cwd: str | None = None) -> str:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        raise KernelBackendError(f"{what}: {cmd[0]} is not installed") from None
    if proc.returncode:
        hint = " (run 'sudo apt-get update' first?)" if cmd[0].startswith("apt") else ""
        raise KernelBackendError(f"{what} failed{hint}:\n{proc.stderr.strip()[-2000:]}")
    return proc.stdout
