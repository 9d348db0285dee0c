"""Host requirements of the kernel backend: programs, the cache directory.

The backend is optional: the simulator never needs any of this. Each program
comes from one Debian package; a missing one is reported with the exact
``apt-get`` line that installs it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from numaexp import caches
from numaexp.kernel.errors import KernelBackendError

REQUIRED = {
    "qemu-system-x86_64": "qemu-system-x86",
    "busybox": "busybox-static",
    "gcc": "gcc",
    "cpio": "cpio",
    "dpkg-deb": "dpkg",
}
"""Program -> Debian package that provides it."""

BUSYBOX_STATIC = "/bin/busybox"
"""Where Debian's ``busybox-static`` installs its static binary."""


def cache_root() -> Path:
    """The kernel backend's cache directory: ``kernel/`` under numaexp's cache root
    (:func:`numaexp.caches.cache_root`), created if missing."""
    path = caches.cache_root() / caches.KERNEL_BACKEND
    path.mkdir(parents=True, exist_ok=True)
    return path


def missing_programs(programs=None) -> dict[str, str]:
    """Programs of :data:`REQUIRED` (or ``programs``) not found, with their packages."""
    out = {}
    for prog in programs or REQUIRED:
        if prog == "busybox":
            ok = _is_static(BUSYBOX_STATIC)
        else:
            ok = shutil.which(prog) is not None
        if not ok:
            out[prog] = REQUIRED[prog]
    return out


def _is_static(path: str) -> bool:
    """Whether ``path`` is an ELF executable without a program interpreter (statically linked)."""
    try:
        data = Path(path).read_bytes()[:65536]
    except OSError:
        return False
    return data[:4] == b"\x7fELF" and b"/lib64/ld-linux" not in data and b"ld-linux" not in data


def require_programs(programs=None) -> None:
    """Raise :class:`KernelBackendError` naming each missing package and the apt-get line.

    Raises
    ------
    KernelBackendError
        ``"the kernel backend needs ... : sudo apt-get install -y PKG ..."``.
    """
    missing = missing_programs(programs)
    if not missing:
        return
    packages = sorted(set(missing.values()))
    what = ", ".join(f"{prog} (package {pkg})" for prog, pkg in missing.items())
    raise KernelBackendError(
        f"the kernel backend needs {what}, which this host does not have; install with:\n"
        f"    sudo apt-get install -y {' '.join(packages)}")
