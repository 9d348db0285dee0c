"""The one place that sets numba options.

Every kernel is compiled with ``cache=True`` (compiled code is kept on disk,
so a fresh process reuses it) and ``nogil=True``. Kernels take the state as
one borrowed reference (a StructRef, see :mod:`numaexp.sim.engine.state`) and
never allocate: work arrays live in the state's ``tmp_*`` fields.

numba keys a cached function by its own source file only, so a change in a
callee would leave callers' cached code stale. The cache therefore lives in
a directory named after a hash of the source of every module compiled code
depends on, in ``sim/kernel``, ``sim/engine`` and outside them
(:func:`keyed_sources`):
``$NUMAEXP_CACHE_DIR`` (default ``$XDG_CACHE_HOME/numaexp`` or
``~/.cache/numaexp``) ``/numba-<hash>``, unless ``NUMBA_CACHE_DIR`` is set.

numba's ``NUMBA_DISABLE_JIT=1`` runs the kernels as plain Python, for
coverage and debugging. ``NUMBA_NUM_THREADS`` sets the threads of the few
``parallel=True`` kernels (:mod:`numaexp.sim.engine.parallel`); their results do
not depend on it.
"""

from __future__ import annotations

import ast
import hashlib
import os
import warnings
from pathlib import Path

import numba

PACKAGE = Path(__file__).resolve().parents[2]
"""The ``numaexp`` package directory."""

SIM = PACKAGE / "sim"


def _imported_modules(path: Path) -> set[Path]:
    """The numaexp modules the module at ``path`` imports from (``from numaexp.X import``),
    but for imports made only for type checking (``if TYPE_CHECKING:``)."""
    found = set()
    tree = ast.parse(path.read_bytes())
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for n in ast.walk(block)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in typing_only and node.module \
                and node.module.startswith("numaexp."):
            parts = node.module.split(".")[1:]
            module = PACKAGE.joinpath(*parts).with_suffix(".py")
            found.add(module if module.exists() else PACKAGE.joinpath(*parts, "__init__.py"))
    return found


def _compiled(path: Path) -> bool:
    """The module defines numba-compiled code (a ``@jit...`` decorator or a ``jit(...)``)."""
    text = path.read_text()
    return "@jit" in text or "jit(" in text


def keyed_sources() -> list[Path]:
    """Every source file whose content keys the cache: each simulator module that defines
    compiled code, and every module those import from, transitively (constants frozen
    into compiled code: mode bits, page size, counter order, policy codes, record types).

    Modules only Python runs (the build, the runner, the readout, the actions) are left
    out unless compiled code imports from them, so editing them keeps the cache.
    """
    todo = [path for path in SIM.rglob("*.py") if _compiled(path)]
    keyed: set[Path] = set()
    while todo:
        path = todo.pop()
        if path not in keyed:
            keyed.add(path)
            todo.extend(_imported_modules(path) - keyed)
    return sorted(keyed)


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in keyed_sources():
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(numba.__version__.encode())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Directory holding the compiled kernels of this version of the simulator."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    root = os.environ.get("NUMAEXP_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "numaexp")
    return Path(root) / f"numba-{_source_hash()}"


numba.config.CACHE_DIR = str(cache_dir())

# the state holds the policies as first-class functions (engine.policy), which numba
# announces as experimental every time a state is built
warnings.filterwarnings("ignore", message="First-class function type feature is experimental",
                        category=numba.NumbaExperimentalFeatureWarning)

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
"""Decorator for simulator kernels."""

jit_inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
"""Decorator for tiny helpers (list links, cpupid fields, ...): inlined into
their callers at numba's IR level, so they add no separately linked library."""

jit_parallel = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)
"""Decorator for the page-array passes that run over page chunks with ``prange``
(:mod:`numaexp.sim.engine.parallel`); slow to compile, so there are few of them."""

# Load numba's threading layer now: a kernel loaded from the cache calls the
# parallel kernels it links without loading it (a segfault otherwise).
numba.get_num_threads()
