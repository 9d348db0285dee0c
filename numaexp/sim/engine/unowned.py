"""Values the kernels hold without owning them: never reference counted.

numba counts references to every array a kernel reads from a struct: ``s.pg``
takes a reference and drops it after use, through a call per operation
(atomic when the array has an owner). Over a run those calls cost about a
fifth of the time. The state's arrays are therefore of type
:class:`UnownedArray`: an array in every respect (indexing, views, ``len``),
but whose data model declares no reference count, so numba emits none for
it. Their memory belongs to the NumPy arrays that
:func:`numaexp.sim.engine.state.to_state` keeps alive next to the state.

The state itself is a StructRef, and numba counts references to it too: an
increment and a decrement at every call of a kernel that takes it (about a
sixth of a run's time once the arrays were unowned). The kernels therefore
receive it as a :class:`BorrowedStructRef`: the same pointer to the same
struct, whose data model holds a plain pointer instead of a counted one. The
struct belongs to the owned StructRef proxy that Python keeps next to it.
Kernels only read its fields, and those reads are marked invariant, so that
LLVM need not read an array's descriptor again after every store.
"""

from __future__ import annotations

from numba.core import cgutils, imputils, types
from numba.core.datamodel import models, register_default
from numba.core.runtime.nrtdynmod import _meminfo_struct_type
from numba.core.typing.templates import AttributeTemplate
from numba.extending import NativeValue, infer_getattr, intrinsic, lower_getattr_generic, unbox


class UnownedArray(types.Array):
    """numba array type whose values are never reference counted."""

    def __init__(self, dtype, ndim, layout, aligned=True):
        super().__init__(dtype, ndim, layout, readonly=False, aligned=aligned,
                         name=f"unowned array({dtype}, {ndim}d, {layout}"
                              f"{'' if aligned else ', unaligned'})")

    def copy(self, dtype=None, ndim=None, layout=None, readonly=None):
        """Views of an unowned array (a field, a row, a slice) are unowned too.

        Kernels never allocate, so every array typed from an unowned one is a
        view of memory that the state's NumPy arrays keep alive.
        """
        view = super().copy(dtype=dtype, ndim=ndim, layout=layout, readonly=readonly)
        return UnownedArray.of(view) if view.mutable else view

    @classmethod
    def of(cls, array_type: types.Array) -> UnownedArray:
        """The unowned counterpart of ``array_type``."""
        return cls(array_type.dtype, array_type.ndim, array_type.layout, array_type.aligned)


@register_default(UnownedArray)
class UnownedArrayModel(models.ArrayModel):
    """The array's layout, with nothing for numba's reference counting to visit."""

    def has_nrt_meminfo(self):
        return False

    def traverse(self, builder):
        return []


@intrinsic
def unowned(typingctx, array):
    """The same array as an :class:`UnownedArray` (null meminfo and parent)."""
    result = UnownedArray.of(array)

    def codegen(context, builder, signature, args):
        view = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    return result(array), codegen


class BorrowedStructRef(types.StructRef):
    """A StructRef the kernels borrow from Python: its values are never reference counted.

    Subclasses are registered with :func:`register_borrowed`. A value of such a
    type comes only from Python (unboxing): kernels never create, store or
    return one, so nothing needs to keep the struct alive in compiled code.
    """


class BorrowedStructRefModel(models.StructModel):
    """A StructRef's layout (one pointer to the meminfo), typed as an uncounted pointer."""

    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, [("meminfo", types.voidptr)])


def _invariant_load(builder, pointer):
    """Load ``pointer`` marked ``!invariant.load``: no store during the kernel changes it."""
    value = builder.load(pointer)
    value.set_metadata("invariant.load", builder.module.add_metadata([]))
    return value


def _define_invariant_getattr(struct_type):
    """Attribute reads of ``struct_type`` whose loads LLVM may share across stores.

    A kernel never assigns a field of the state (it writes into the arrays
    the fields describe), so the struct's data pointer and each field (an
    array's pointer, shape and strides) stay the same during a kernel call.
    Marked invariant, those loads are made once instead of again after every
    store to any array (which LLVM must otherwise assume could overwrite them).
    """
    @infer_getattr
    class BorrowedAttribute(AttributeTemplate):
        key = struct_type

        def generic_resolve(self, typ, attr):
            return typ.field_dict.get(attr)

    @lower_getattr_generic(struct_type)
    def borrowed_getattr(context, builder, typ, value, attr):
        meminfo = cgutils.create_struct_proxy(typ)(context, builder, value=value).meminfo
        header = builder.bitcast(meminfo, _meminfo_struct_type.as_pointer())
        data = _invariant_load(builder, cgutils.gep(builder, header, 0, 3))
        payload_type = typ.get_data_type()
        payload_model = context.data_model_manager[payload_type]
        payload = builder.bitcast(data, payload_model.get_value_type().as_pointer())
        index = payload_model.get_field_position(attr)  # fields are stored as values
        field = _invariant_load(builder, cgutils.gep_inbounds(builder, payload, 0, index))
        return imputils.impl_ret_borrowed(context, builder, typ.field_dict[attr], field)


def register_borrowed(struct_type):
    """Register a :class:`BorrowedStructRef` subclass: data model, attributes and unboxing.

    Attributes are read-only in kernels (:func:`_define_invariant_getattr`).
    The unboxed value points at the struct of the Python proxy's
    ``_meminfo`` without taking a reference: the proxy, alive during the
    call, owns it.
    """
    register_default(struct_type)(BorrowedStructRefModel)
    _define_invariant_getattr(struct_type)

    @unbox(struct_type)
    def unbox_borrowed(typ, obj, c):
        mi_obj = c.pyapi.object_getattr_string(obj, "_meminfo")
        mip_type = types.MemInfoPointer(types.voidptr)
        meminfo = c.unbox(mip_type, mi_obj).value  # takes a reference ...
        c.context.nrt.decref(c.builder, mip_type, meminfo)  # ... given straight back
        c.pyapi.decref(mi_obj)
        value = cgutils.create_struct_proxy(typ)(c.context, c.builder)
        value.meminfo = meminfo
        return NativeValue(value._getvalue())

    return struct_type
