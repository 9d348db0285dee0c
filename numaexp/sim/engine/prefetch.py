"""Software prefetch: start loading an array element the code will read soon.

Pending pages wait in linked lists threaded through the page array. Walking
a list reads a page's ``next`` link, handles the page, then reads the next
page's record: at millions of pages that record is a cache miss (about
100 ns), and nothing overlaps it, because its address was not known until
the link was read. Prefetching the next record as soon as the link is read
(:func:`numaexp.sim.engine.lists.list_next`) lets that miss proceed while the
current page is handled. A prefetch changes no value: results are the same
with it or without.
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_READ = 0
_KEEP_IN_ALL_CACHES = 3
_DATA = 1


def _prefetch_python(array, index):
    """Plain-Python stand-in (``NUMBA_DISABLE_JIT=1``): nothing to do."""


@intrinsic
def _prefetch_jit(typingctx, array, index):
    """Emit ``llvm.prefetch`` (read, keep in all caches) for ``array[index]``."""
    if not isinstance(array, types.Array) or array.ndim != 1 or \
            not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]],
                                           wraparound=False)
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty,
                                            "llvm.prefetch." + byte_ptr.intrinsic_name)
        builder.call(fn, [builder.bitcast(address, byte_ptr), i32(_READ),
                          i32(_KEEP_IN_ALL_CACHES), i32(_DATA)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


prefetch = _prefetch_python if numba.config.DISABLE_JIT else _prefetch_jit
"""``prefetch(array, index)``: hint that ``array[index]`` (1-D, ``index`` in
range) will be read soon. Returns nothing; never faults."""
