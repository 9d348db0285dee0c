"""The bit-flip experiment on the results store (issue 16 item 11).

Flip one bit of one stored record file (or of the checksum file beside it),
read the store, put the bit back; count what the read made of it:

- ``damaged``: the point was skipped with a StoreWarning (it runs again);
- ``silent``: the point was read, and its record differs from what was
  written (a silent misread: must be 0);
- ``accepted``: the point was read, and its record is what was written (the
  flip went unnoticed but did no harm; the store promises this is 0 too:
  a flipped bit always means "damaged, re-run").

Run ``python tests/bitflip.py`` for every bit of a real record file, or
``python tests/bitflip.py 2000`` for 2,000 random ones.
"""

from __future__ import annotations

import math
import random
import sys
import tempfile
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from numaexp.sweep import Store, StoreWarning


def same(a: dict, b: dict) -> bool:
    """Records equal value for value (NaN equal to NaN), columns in the same order."""
    if list(a) != list(b):
        return False
    return all(x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x)
                          and math.isnan(y)) for x, y in zip(a.values(), b.values(), strict=True))


def flip_bits(store: Store, path: Path, key: str, original: dict,
              bits: list[int]) -> Counter:
    """Flip each of ``bits`` (bit index into ``path``) once; count the outcomes.

    Parameters
    ----------
    store : Store
        The store holding the record.
    path : Path
        The file to damage (the record's Parquet file or its checksum file).
    key : str
        The record's key.
    original : dict
        The record as read before any flip.
    bits : list of int
        Bit positions, ``8 * byte + bit``.

    Returns
    -------
    Counter
        ``damaged``, ``silent`` and ``accepted`` counts.
    """
    data = path.read_bytes()
    outcome: Counter = Counter()
    try:
        for bit in bits:
            flipped = bytearray(data)
            flipped[bit // 8] ^= 1 << (bit % 8)
            path.write_bytes(bytes(flipped))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                records = store.read()
            if key not in records:
                assert any(issubclass(w.category, StoreWarning) for w in caught)
                outcome["damaged"] += 1
            elif same(records[key], original):
                outcome["accepted"] += 1
            else:
                outcome["silent"] += 1
    finally:
        path.write_bytes(data)
    return outcome


def real_record(directory: Path) -> tuple[Store, str, dict]:
    """A store in ``directory`` holding one real sweep point (a small simulation)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from helpers import scenario, small_machine, sweep_workload

    import numaexp

    machine = small_machine(nodes=2, cpus=2)
    base = scenario(sweep_workload(machine, size="16 MiB", passes=1e6, first_touch_node=0),
                    machine, duration=2.0)
    spec = numaexp.SweepSpec(base, product={"kernel.scan_size_mb": [4]}, name="bitflip")
    with ThreadPoolExecutor(1) as pool:
        frame = numaexp.sweep(spec, executor=pool, store=directory, progress=False)
    key = frame["key"].iloc[0]
    store = Store(directory)
    return store, key, store.read()[key]


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, key, original = real_record(Path(tmp) / "store")
        for path in (store.file(key), store.file(key).with_suffix(".sha256")):
            nbits = 8 * path.stat().st_size
            bits = (random.Random(16).sample(range(nbits), min(int(argv[0]), nbits))
                    if argv else list(range(nbits)))
            counts = flip_bits(store, path, key, original, bits)
            print(f"{path.name}: {path.stat().st_size} bytes, {len(bits)} of {nbits} bits "
                  f"flipped once each: damaged {counts['damaged']}, silent misreads "
                  f"{counts['silent']}, accepted unchanged {counts['accepted']}")


if __name__ == "__main__":
    main(sys.argv[1:])
