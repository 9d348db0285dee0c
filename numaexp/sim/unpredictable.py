"""A select the compiler must not turn back into a branch.

A branch whose direction is random (one side or the other with equal odds,
as in a binary search for a random key) is mispredicted half of the time,
about 15 to 20 cycles each. A conditional move costs a cycle, so code that
selects (``a if cond else b``) avoids the penalty, but LLVM's x86 back end
turns a select inside a loop back into a branch when it judges the branch
predictable (``x86-cmov-converter``). :func:`select_unpredictable` marks its
select ``!unpredictable``, which that pass respects: the binary search of
:func:`numaexp.sim.engine.pick_row_stream` ran about 6x faster with it in a
stand-alone test (64 running sums, random keys).
"""

from __future__ import annotations

import numba
from numba.core import types
from numba.extending import intrinsic


def _select_python(cond, a, b):
    """Plain-Python stand-in (``NUMBA_DISABLE_JIT=1``)."""
    return a if cond else b


@intrinsic
def _select_jit(typingctx, cond, a, b):
    """Emit ``select cond, a, b`` with ``!unpredictable`` metadata."""
    if not isinstance(cond, types.Boolean) or a != b:
        return None

    def codegen(context, builder, signature, args):
        chosen = builder.select(args[0], args[1], args[2])
        chosen.set_metadata("unpredictable", builder.module.add_metadata([]))
        return chosen

    return a(cond, a, b), codegen


select_unpredictable = _select_python if numba.config.DISABLE_JIT else _select_jit
"""``select_unpredictable(cond, a, b)``: ``a if cond else b`` without a branch.

``cond`` a boolean, ``a`` and ``b`` of the same numba type."""
