"""Parameter sweeps: many runs of one scenario, on local cores or a Dask cluster.

Quick start::

    import numaexp
    spec = numaexp.SweepSpec(
        "numa02", base_options={"memory_scale": 0.25, "first_touch_node": 0},
        fixed={"stop": {"kind": "duration", "duration_s": 10.0}},
        product={"kernel.scan_period_min_ms": [2000, 6000, 16000]}, repeats=3)
    frame = numaexp.sweep(spec, store="out/sweep")   # resumable; one row per point

(Minimum scan periods up to the scan delay give identical runs: the period starts
at ``scan_delay_ms`` and only grows while faults are local; see
``data/sweeps/numa02_scan_period.toml``.)

In a script, put the call under ``if __name__ == "__main__":``: the local
pool's workers are spawned and import the calling script again.

Modules: :mod:`~numaexp.sweep.paths` (dotted paths to scenario fields),
:mod:`~numaexp.sweep.spec` (the spec and its points),
:mod:`~numaexp.sweep.hashing` (point identity and seeds),
:mod:`~numaexp.sweep.worker` (one point on a worker),
:mod:`~numaexp.sweep.executors` (local pool, Dask, resubmission),
:mod:`~numaexp.sweep.store` (the Parquet results store),
:mod:`~numaexp.sweep.run` (:func:`sweep`), :mod:`~numaexp.sweep.plots`.

``numaexp.sweep`` is the function once :mod:`numaexp` is imported; import
this package's names with ``from numaexp.sweep import Store`` or
``from numaexp.sweep.store import Store`` (not ``import numaexp.sweep.store``).
"""

from numaexp.sweep.paths import get_path, set_paths
from numaexp.sweep.run import SweepResult, sweep
from numaexp.sweep.spec import Point, SweepSpec
from numaexp.sweep.store import Store, StoreWarning

__all__ = ["Point", "Store", "StoreWarning", "SweepResult", "SweepSpec", "get_path",
           "set_paths", "sweep"]
