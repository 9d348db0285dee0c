"""The one place that sets numba options.

Every kernel is compiled with ``cache=True`` (compiled code is kept on disk
next to the module, so a fresh process reuses it), ``nogil=True`` and
without numba's reference-counted runtime (``_nrt=False``). The state is a
NamedTuple of ~150 arrays; with the runtime on, binding it in a callee costs
one atomic increment and decrement per array (~2 us per call, measured).
So kernels never allocate: work arrays live in ``State.tmp``.

numba's ``NUMBA_DISABLE_JIT=1`` runs the kernels as plain Python, for
coverage and debugging.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
"""Decorator for simulator kernels."""

jit_inline = numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False,
                        inline="always")
"""Decorator for tiny helpers (list links, cpupid fields, ...): inlined into
their callers at numba's IR level, so they add no separately linked library."""
