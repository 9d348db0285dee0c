"""A :class:`~numaexp.results.Result` from a real kernel: NA-aware summary."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from numaexp.results import Result


def _int_or_na(value):
    return pd.NA if pd.isna(value) else int(value)


class KernelResult(Result):
    """The frames of a kernel run or a machine's snapshot.

    Same frames and columns as a simulation's; counters the kernel does not
    have are NA, and :attr:`summary` keeps them NA instead of failing.
    """

    @property
    def summary(self) -> pd.Series:
        """Headline figures, as :attr:`Result.summary` (NA where the kernel has no counter)."""
        total = self.times[self.times["level"] == "total"].iloc[0]
        vm = self.vmstat.iloc[0]
        faults = _int_or_na(vm["numa_hint_faults"])
        local = _int_or_na(vm["numa_hint_faults_local"])
        out = {
            "mode": self.meta.get("mode"), "variant": self.meta.get("variant"),
            "elapsed_s": total["elapsed_s"], "user_s": total["user_s"],
            "system_s": total["system_s"], "throughput_per_s": total["throughput_per_s"],
            "numa_pte_updates": _int_or_na(vm["numa_pte_updates"]),
            "numa_hint_faults": faults,
            "hint_local_pct": 100.0 * local / faults if faults is not pd.NA and faults and
            local is not pd.NA else float("nan"),
            "numa_pages_migrated": _int_or_na(vm["numa_pages_migrated"]),
            "numa_task_migrated": _int_or_na(vm["numa_task_migrated"]),
            "numa_task_swapped": _int_or_na(vm["numa_task_swapped"]),
            "local_access_pct": float("nan"),
            "finished": self.meta.get("finished"),
        }
        return pd.Series(out, name=self.scenario.name if self.scenario else "snapshot")

    def __repr__(self) -> str:
        return (f"KernelResult({self.meta.get('scenario')!r}, mode={self.meta.get('mode')}, "
                f"kernel={self.meta.get('kernel_release')!r})")


def load_result(directory: str | Path) -> KernelResult:
    """A kernel result saved with ``Result.save`` (Parquet frames and ``meta.json``).

    The scenario is not saved with a result, so ``scenario`` is None.
    """
    directory = Path(directory)
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{directory}: no meta.json (not a saved result)")
    frames = {p.stem: pd.read_parquet(p) for p in sorted(directory.glob("*.parquet"))}
    return KernelResult(scenario=None, frames=frames,
                        meta=_node_keys_as_ints(json.loads(meta_path.read_text())))


def _node_keys_as_ints(meta: dict) -> dict:
    """``meta`` with the integer keys JSON turned into strings restored: the node ids of
    ``topology["nodes"]`` and the tier ids of ``topology["tiers"]``, so that a result read
    back from disk (or numaexp's cache) equals the one the guest produced."""
    topology = meta.get("topology")
    if isinstance(topology, dict):
        for part in ("nodes", "tiers"):
            if isinstance(topology.get(part), dict):
                topology[part] = {int(k): v for k, v in topology[part].items()}
    return meta
