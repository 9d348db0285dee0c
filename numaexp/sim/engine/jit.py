"""The one place that sets numba options.

Every kernel is compiled with ``nogil=True``. A kernel that Python calls (``run``,
``sim_init``, ...) is kept on disk once compiled, with every kernel it calls built into
it, so a fresh process loads it in a second (:func:`_typed_by_kind`); the kernels only
compiled code calls are not kept on their own, which would store each call tree again
at every level. Kernels take the state as
one borrowed reference (a StructRef, see :mod:`numaexp.sim.engine.state`) and
never allocate: work arrays live in the state's ``tmp_*`` fields.

numba keys a cached function by its own source file only, so a change in a
callee would leave callers' cached code stale. The cache therefore lives in
a directory named after a hash of the content of every module compiled code
depends on, in ``sim/kernel``, ``sim/engine`` and outside them
(:func:`keyed_sources`), and of numba's version:
``<cache root>/numba-<key>`` (:mod:`numaexp.caches`), unless ``NUMBA_CACHE_DIR``
is set. numba would also file each module's kernels under a hash of the
module's absolute path; :class:`PackageRelativeLocator` files them under the
module's path inside the package instead, so a second clone, a moved checkout
or an installed copy of the same sources loads the kernels already compiled.

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
from numba.core import types
from numba.core.caching import CacheImpl, NullCache, UserProvidedCacheLocator

# a plain import: keyed_sources follows ``from numaexp.X import`` only, and nothing of
# numaexp.caches is compiled, so editing it keeps the compiled kernels
import numaexp.caches as caches

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


def source_key() -> str:
    """Hash of the content of :func:`keyed_sources` (with their paths inside the package)
    and of numba's version: what names this source version's compiled kernels."""
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
    return caches.cache_root() / f"{caches.KERNELS_PREFIX}{source_key()}"


def module_cache_dir(py_file: Path) -> Path:
    """Where the compiled kernels of numaexp's module ``py_file`` are kept."""
    inside = py_file.resolve().parent.relative_to(PACKAGE.parent)
    return Path(numba.config.CACHE_DIR).joinpath(*inside.parts)


class PackageRelativeLocator(UserProvidedCacheLocator):
    """numba's cache locator for numaexp's own modules: the module's kernels go to
    ``<cache dir>/<its folder inside the package>`` (``numaexp/sim/engine``, ...) rather
    than to a folder named after a hash of its absolute path. numba still checks each
    module's content (``get_source_stamp`` hashes the file) and its own version."""

    def __init__(self, py_func, py_file):
        super().__init__(py_func, py_file)
        self._cache_path = str(module_cache_dir(Path(py_file)))

    @classmethod
    def from_function(cls, py_func, py_file):
        if not Path(py_file).resolve().is_relative_to(PACKAGE):
            return None  # user code (policies, tests): numba's own locators
        return super().from_function(py_func, py_file)


numba.config.CACHE_DIR = str(cache_dir())
if PackageRelativeLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, PackageRelativeLocator)

# the state holds the policies as first-class functions (engine.policy), which numba
# announces as experimental every time a state is built
warnings.filterwarnings("ignore", message="First-class function type feature is experimental",
                        category=numba.NumbaExperimentalFeatureWarning)


def _typed_by_kind(dispatcher):
    """Make calls from compiled code type ``dispatcher``'s arguments by kind, not by value,
    and keep on disk only what Python calls.

    numba types a constant argument at a call site as its value (``Literal[int](3)``,
    ``Literal[bool](True)``) and compiles the callee once per distinct constant, each
    time in full, with the callee's whole call tree linked in again. The simulator mirrors
    the kernel's calls with constant flags and reasons (``set_task_cpu(..., reason)``,
    ``activate_task(..., True)``), so many kernels were compiled two to five times. Here
    a call resolves with the arguments' plain types (``int64``, ``bool``): one compile per
    signature. Results are the same: a literal only ever let LLVM fold a constant.

    A kernel compiled because compiled code calls it is not written to the disk cache:
    its caller's cached code holds it already (numba links every callee into its
    caller), and caching it too stored each call tree once per level, 690 MB for one
    source version. A kernel Python calls (the entry points, or a test calling a kernel
    directly) is compiled through numba's usual path and cached.
    """
    if numba.config.DISABLE_JIT:  # numba returned the plain Python function
        return dispatcher
    resolve = dispatcher.get_call_template

    def get_call_template(args, kws):
        kept, dispatcher._cache = dispatcher._cache, NullCache()
        try:
            return resolve(tuple(types.unliteral(arg) for arg in args),
                           {key: types.unliteral(arg) for key, arg in kws.items()})
        finally:
            dispatcher._cache = kept

    dispatcher.get_call_template = get_call_template
    return dispatcher


def _decorator(**options):
    compile_ = numba.njit(cache=True, nogil=True, error_model="numpy", **options)

    def decorate(func):
        return _typed_by_kind(compile_(func))

    return decorate


jit = _decorator()
"""Decorator for simulator kernels."""

jit_inline = _decorator(inline="always")
"""Decorator for tiny helpers (list links, cpupid fields, ...): inlined into
their callers at numba's IR level, so they add no separately linked library."""

jit_parallel = _decorator(parallel=True)
"""Decorator for the page-array passes that run over page chunks with ``prange``
(:mod:`numaexp.sim.engine.parallel`); slow to compile, so there are few of them."""

# Load numba's threading layer now: a kernel loaded from the cache calls the
# parallel kernels it links without loading it (a segfault otherwise).
numba.get_num_threads()
