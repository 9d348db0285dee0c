"""A resumable results store: a directory of Parquet files, one per finished point.

Each point is written as soon as it finishes, to ``<key>.parquet`` where
``key`` is the point's scenario hash (:func:`~numaexp.sweep.hashing.scenario_hash`),
atomically: the file is written under a temporary name (``.tmp-...``),
flushed to disk, then renamed, so a sweep killed at any moment leaves only
whole files. Reading checks every file (Parquet footer, page checksums, one
row, the key in the file matching its name) and skips, with a warning, any
file that fails: a damaged file is never read silently, and its point simply
runs again. Files whose name starts with ``.`` or ``_`` are not points.
Read a store with :meth:`Store.frame` (records differ in columns: a failed
point has no metrics).

A record holds the point's outcome (see :func:`numaexp.sweep.worker.run_point`)
plus ``key``, ``sweep`` (the spec's name), ``params`` (the point's parameters
as JSON), ``repeat`` and ``seed``.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REQUIRED = ("key", "status", "params", "seed")
"""Columns every point file has."""


class StoreWarning(UserWarning):
    """A store file was skipped (partially written or damaged)."""


class Store:
    """The Parquet files of a sweep's finished points.

    Parameters
    ----------
    path : str or path-like
        Directory (created if missing).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def file(self, key: str) -> Path:
        """The file of the point with this key."""
        return self.path / f"{key}.parquet"

    def write(self, record: dict) -> Path:
        """Write one point's record atomically (replacing an older record of the point).

        Parameters
        ----------
        record : dict
            Flat record with at least the :data:`REQUIRED` columns.

        Returns
        -------
        Path
            The point's file.
        """
        missing = [c for c in REQUIRED if c not in record]
        if missing:
            raise ValueError(f"record lacks columns {missing}")
        target = self.file(record["key"])
        tmp = self.path / f".tmp-{record['key']}-{uuid.uuid4().hex}.parquet"
        try:
            with open(tmp, "wb") as f:
                pq.write_table(pa.Table.from_pylist([record]), f, write_page_checksum=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def read(self) -> dict[str, dict]:
        """Every readable record, by key; unreadable files are skipped with a :class:`StoreWarning`.

        Returns
        -------
        dict of str to dict
            Key -> record (Python scalars, columns in the order written).
        """
        records: dict[str, dict] = {}
        for path in sorted(self.path.iterdir()):
            if path.name.startswith(".tmp-"):
                warnings.warn(f"ignoring partially written store file {path} (left by an "
                              "interrupted write)", StoreWarning, stacklevel=2)
                continue
            if path.name.startswith((".", "_")) or path.suffix != ".parquet":
                continue
            try:
                record = _read_record(path)
            except (OSError, pa.ArrowException, ValueError) as err:
                warnings.warn(f"ignoring damaged store file {path}: {err}; its point will run "
                              "again", StoreWarning, stacklevel=2)
                continue
            records[record["key"]] = record
        return records

    def frame(self) -> pd.DataFrame:
        """Every readable record as a frame, the parameters as columns named by their path."""
        rows = []
        for record in self.read().values():
            row = {k: v for k, v in record.items() if k != "params"}
            params = json.loads(record["params"])
            rows.append({**params, **row})
        return pd.DataFrame(rows)


def _read_record(path: Path) -> dict:
    table = pq.read_table(path, page_checksum_verification=True)
    if table.num_rows != 1:
        raise ValueError(f"{table.num_rows} rows, expected 1")
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise ValueError(f"missing columns {missing}")
    record = table.to_pylist()[0]
    if record["key"] != path.stem:
        raise ValueError(f"holds point {record['key']!r}, not the {path.stem!r} of its name")
    return record
