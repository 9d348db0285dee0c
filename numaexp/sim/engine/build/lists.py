"""Build the pending-fault lists (calendar ring, sweep buckets, mass-row rings) and the
segment index that maps a page to the streams covering it."""

from __future__ import annotations

import numpy as np

from numaexp.sim.engine.build.streams import Streams
from numaexp.sim.engine.codes import PAT_SWEEP
from numaexp.sim.engine.params import RING_SIZE, ROW_RING


def list_layout(streams: Streams) -> int:
    """Give each random mass row its ring of lists; return ``row_list_base``.

    List ids: the calendar ring (``RING_SIZE``), its far list, one bucket
    per 64 positions of each sweep region, then per random row a ring of
    ``ROW_RING`` buckets and its far list.
    """
    total_buckets = int(streams.regions["nbuckets"].sum())
    row_list_base = RING_SIZE + 1 + total_buckets
    random_rows = np.flatnonzero(streams.massrows["random"])
    streams.massrows["lists"][random_rows] = (row_list_base
                                              + np.arange(len(random_rows)) * (ROW_RING + 1))
    return row_list_base


def build_lists(streams: Streams, objects: np.ndarray, row_list_base: int) -> dict:
    """Empty list heads, the sweep buckets' bitmap, the segment pool and each list's segment.

    Returns
    -------
    dict
        ``ls_heads``, ``ls_sweep_bits``, ``ls_pool``, ``ls_seg`` (fields of the state).
    """
    total_buckets = int(streams.regions["nbuckets"].sum())
    random_rows = int(streams.massrows["random"].sum())
    heads = np.full(row_list_base + random_rows * (ROW_RING + 1), -1, dtype=np.int32)
    # segments (lists.py) hold the pages of objects that random patterns cover
    st = streams.streams
    random_objs = np.unique(st["obj"][st["kind"] != PAT_SWEEP])
    pool_slots = int(np.sum(objects["first"][random_objs + 1] - objects["first"][random_objs]))
    return {
        "ls_heads": heads,
        "ls_sweep_bits": np.zeros(max(1, -(-total_buckets // 64)), dtype=np.uint64),
        "ls_pool": np.full(max(pool_slots, 1), -1, dtype=np.int32),
        "ls_seg": np.zeros((3, len(heads) - total_buckets), dtype=np.int64),
    }


def segment_index(cap_segments: int, cap_entries: int) -> dict:
    """The segment index's arrays at a capacity (filled by ``phases.build_segments``).

    Parameters
    ----------
    cap_segments : int
        Segments it can hold.
    cap_entries : int
        Stream (and mass-row) entries it can hold.
    """
    return {
        "sg_start": np.zeros(cap_segments, dtype=np.int64),
        "sg_list_first": np.zeros(cap_segments + 1, dtype=np.int64),
        "sg_streams": np.zeros(cap_entries, dtype=np.int64),
        "sg_mrow_first": np.zeros(cap_segments + 1, dtype=np.int64),
        "sg_mrows": np.zeros(cap_entries, dtype=np.int64),
        "sg_region": np.zeros(cap_segments, dtype=np.int64),
        "sg_random": np.zeros(cap_segments, dtype=np.int64),
    }


def initial_segment_index(nr_streams: int, nr_objects: int) -> dict:
    """The segment index at its first capacity (it grows on demand, ``Runner``)."""
    return {**segment_index(2 * nr_streams + nr_objects + 8, 4 * nr_streams + 64),
            "sg_obj_first": np.zeros(nr_objects + 1, dtype=np.int64),
            "sg_need": np.zeros(2, dtype=np.int64)}


def grown_capacity(current: int, needed: int) -> int:
    """A new capacity: half again what is needed, and never less than now."""
    return max(current, needed * 3 // 2 + 8)
