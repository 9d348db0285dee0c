"""Where numaexp keeps its caches, and the ``numaexp cache`` command that shows and clears them.

The root is ``$NUMAEXP_CACHE_DIR``, else ``$XDG_CACHE_HOME/numaexp``, else
``~/.cache/numaexp``. Below it:

- ``numba-<key>/``: the compiled simulator kernels of one source version. The key
  is a hash of the content of every source file compiled code depends on and of
  numba's version (:func:`numaexp.sim.engine.jit.source_key`), never of a path, so
  every checkout, clone or installed copy of the same sources shares one directory;
- ``kernel/``: the kernel backend's files (kernel images, the workload executor,
  cached guest runs).

This module imports neither numba nor the simulator until a command needs them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

KERNELS_PREFIX = "numba-"
"""Name prefix of a compiled-kernel directory (one per source version)."""

KERNEL_BACKEND = "kernel"
"""Subdirectory of the kernel backend's files."""


def cache_root() -> Path:
    """numaexp's cache directory (not created here)."""
    root = os.environ.get("NUMAEXP_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "numaexp")
    return Path(root)


def dir_bytes(path: Path) -> int:
    """Bytes of the files below ``path`` (0 if it does not exist)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def kernel_dirs(root: Path | None = None) -> list[Path]:
    """The compiled-kernel directories under ``root`` (default :func:`cache_root`), by name."""
    root = root or cache_root()
    return sorted(p for p in root.glob(f"{KERNELS_PREFIX}*") if p.is_dir()) \
        if root.exists() else []


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def show(current: Path, root: Path | None = None) -> str:
    """A report of the cache: each compiled-kernel directory with its size (``current``
    marked: the one this version of the simulator loads) and the kernel backend's files."""
    root = root or cache_root()
    lines = [f"cache root: {root}"]
    dirs = kernel_dirs(root)
    if not dirs:
        lines.append("compiled kernels: none yet (the first run compiles them)")
    for path in dirs:
        mark = "  <- this source version" if path == current else ""
        lines.append(f"  {path.name}  {_mib(dir_bytes(path))}{mark}")
    if current.parent != root:  # NUMBA_CACHE_DIR points elsewhere
        lines.append(f"this source version loads from {current} (NUMBA_CACHE_DIR), "
                     f"{_mib(dir_bytes(current))}")
    elif current not in dirs:
        lines.append(f"this source version ({current.name}) is not compiled yet")
    backend = root / KERNEL_BACKEND
    lines.append(f"kernel backend files: {backend} {_mib(dir_bytes(backend))}")
    return "\n".join(lines)


def clear(current: Path, everything: bool, root: Path | None = None) -> list[Path]:
    """Remove the compiled kernels of other source versions (and of this one too if
    ``everything``); return the directories removed. The kernel backend's files stay."""
    removed = []
    for path in kernel_dirs(root):
        if everything or path != current:
            shutil.rmtree(path)
            removed.append(path)
    return removed


def cmd_cache(args) -> int:
    """``numaexp cache [clear [--all]]``."""
    from numaexp.sim.engine.jit import cache_dir

    current = cache_dir()
    if args.action == "clear":
        removed = clear(current, everything=args.all)
        print(f"removed {len(removed)} compiled-kernel director"
              f"{'y' if len(removed) == 1 else 'ies'}"
              + "".join(f"\n  {p}" for p in removed))
        if not args.all:
            print(f"kept this source version's kernels: {current}")
        return 0
    print(show(current))
    return 0


def add_commands(sub) -> None:
    """Add ``cache`` to the CLI's subparsers."""
    cache = sub.add_parser("cache", help="show or clear the compiled-kernel cache")
    cache.add_argument("action", nargs="?", choices=("show", "clear"), default="show",
                       help="show (default): directories and sizes; clear: remove the "
                            "kernels of other source versions")
    cache.add_argument("--all", action="store_true",
                       help="with clear: remove this source version's kernels too (the next "
                            "run compiles them again)")
    cache.set_defaults(func=cmd_cache)
