"""From a page to the active access streams that cover it.

Each memory object is cut into segments over which the set of active
streams is constant; :func:`find_segment` finds a page's segment by binary
search. The per-stream, per-node access mass (``State.st_mass``) is kept up to
date as pages are allocated and migrate (:func:`update_mass`).
"""

from __future__ import annotations

from numaexp.sim.engine.access import stream_position, stream_weight
from numaexp.sim.engine.codes import CLK_SPEEDS_FRESH
from numaexp.sim.engine.jit import jit_inline


@jit_inline
def last_at_most(sorted_values, lo, hi, value):
    """The last index in ``[lo, hi]`` whose entry is <= ``value`` (``lo`` if none): a binary
    search over ascending ``sorted_values``."""
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if sorted_values[mid] <= value:
            lo = mid
        else:
            hi = mid - 1
    return lo


@jit_inline
def page_object(s, page):
    """Index of the memory object holding global page ``page``."""
    return last_at_most(s.ob.first, 0, len(s.ob.first) - 2, page)


@jit_inline
def find_segment(s, o, off):
    """Segment of object ``o`` containing object page ``off``."""
    return last_at_most(s.sg_start, s.sg_obj_first[o], s.sg_obj_first[o + 1] - 1, off)


@jit_inline
def page_segment(s, page):
    """Object and segment of global ``page``, and the first global page past that segment.

    Every page from ``page`` up to the returned end has the same object and
    segment: a walk over ascending pages searches again only past it.
    """
    o = page_object(s, page)
    first = s.ob.first[o]
    seg = find_segment(s, o, page - first)
    if seg < s.sg_obj_first[o + 1] - 1:
        end = first + s.sg_start[seg + 1]
    else:
        end = s.ob.first[o + 1]
    return o, seg, end


@jit_inline
def update_mass(s, page, old, new):
    """Move a page's weight from node ``old`` to ``new`` in every covering mass row.

    ``old`` or ``new`` may be -1 (page not present).
    """
    o = page_object(s, page)
    update_mass_at(s, o, page - s.ob.first[o], old, new)


@jit_inline
def update_mass_at(s, o, off, old, new):
    """:func:`update_mass` for page ``off`` of object ``o``."""
    seg = find_segment(s, o, off)
    for j in range(s.sg_mrow_first[seg], s.sg_mrow_first[seg + 1]):
        k = s.sg_mrows[j]  # a stream standing for its mass row
        i = stream_position(s.st, k, off)
        if i < 0:
            continue
        w = stream_weight(s.st, k, i)
        row = s.st.mrow[k]
        if old >= 0:
            s.st_mass[row, old] -= w
        if new >= 0:
            s.st_mass[row, new] += w
        s.clk[CLK_SPEEDS_FRESH] = 0
