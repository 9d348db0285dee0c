"""A resumable results store: a directory of Parquet files, one per finished point.

Each point is written as soon as it finishes, to ``<key>.parquet`` where
``key`` is the point's scenario hash (:func:`~numaexp.sweep.hashing.scenario_hash`),
with Parquet page checksums, and beside it ``<key>.sha256``: the SHA-256 of
the Parquet file's bytes, in ``sha256sum`` format (``sha256sum -c *.sha256``
checks a store by hand). Both are written atomically: under a temporary name
(``.tmp-<key>-<host>-<pid>-...``), flushed to disk, then renamed, so a sweep
killed at any moment leaves only whole files.

Reading checks every point (the file's SHA-256 against its ``.sha256``, the
Parquet page checksums, one row, the key in the file matching its name, the
``params`` column a JSON object) and skips, with a :class:`StoreWarning`, any
point that fails: a damaged or half-written file, or one whose checksum is
missing, is never read, and its point simply runs again. Temporary files
whose writer is gone are removed. Files whose name starts with ``.`` or
``_`` are not points. Read a store with :meth:`Store.frame` (records differ
in columns: a failed point has no metrics).

A record holds the point's outcome (see :func:`numaexp.sweep.worker.run_point`)
plus ``key``, ``sweep`` (the spec's name), ``params`` (the point's parameters
as JSON), ``repeat`` and ``seed``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REQUIRED = ("key", "status", "params", "seed")
"""Columns every point file has."""

CHECKSUM_SUFFIX = ".sha256"
"""Suffix of the file beside each point file that holds its SHA-256."""

STALE_TMP_S = 24 * 3600.0
"""Age after which a temporary file of a writer on another host counts as abandoned, s."""


class StoreWarning(UserWarning):
    """A store file was skipped (partially written or damaged) or removed (abandoned)."""


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

        Raises
        ------
        OSError
            The write failed (a full disk...); its ``filename`` is the point's
            file. No file of the point is left half written.
        """
        missing = [c for c in REQUIRED if c not in record]
        if missing:
            raise ValueError(f"record lacks columns {missing}")
        target = self.file(record["key"])
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist([record]), sink, write_page_checksum=True)
        data = sink.getvalue().to_pybytes()
        checksum = _checksum_line(data, target.name)
        stem = f".tmp-{record['key']}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}"
        tmp_data, tmp_sum = self.path / f"{stem}.parquet", self.path / f"{stem}{CHECKSUM_SUFFIX}"
        try:
            _write_synced(tmp_data, data)
            _write_synced(tmp_sum, checksum)
            os.replace(tmp_data, target)  # until the checksum follows, the point reads as damaged
            os.replace(tmp_sum, _checksum_file(target))
            _sync_directory(self.path)
        except OSError as err:
            if err.errno is not None and err.filename is None:
                raise OSError(err.errno, err.strerror or str(err), str(target)) from err
            raise
        finally:
            tmp_data.unlink(missing_ok=True)
            tmp_sum.unlink(missing_ok=True)
        return target

    def read(self) -> dict[str, dict]:
        """Every readable record, by key; unreadable files are skipped with a :class:`StoreWarning`.

        Temporary files left by a writer that is gone are removed (with a
        warning).

        Returns
        -------
        dict of str to dict
            Key -> record (Python scalars, columns in the order written).
        """
        records: dict[str, dict] = {}
        for path in sorted(self.path.iterdir()):
            if path.name.startswith(".tmp-"):
                if _abandoned(path):
                    path.unlink(missing_ok=True)
                    warnings.warn(f"removed partially written store file {path} (left by an "
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
            rows.append({**json.loads(record["params"]), **row})
        return pd.DataFrame(rows)


def _checksum_line(data: bytes, name: str) -> bytes:
    """The checksum file's content for file ``name`` holding ``data`` (``sha256sum`` format)."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()


def _checksum_file(path: Path) -> Path:
    return path.with_suffix(CHECKSUM_SUFFIX)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _sync_directory(path: Path) -> None:
    """Make the renames in ``path`` durable (where directories can be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _abandoned(path: Path) -> bool:
    """Whether a temporary store file's writer is gone.

    Its name carries the writer's host and pid: on this host the file is
    abandoned when that process no longer exists; otherwise (another host,
    or a name without them) when it is older than :data:`STALE_TMP_S`.
    """
    parts = path.name[len(".tmp-"):].rsplit(".", 1)[0].split("-")
    if len(parts) >= 4 and parts[-2].isdigit() and "-".join(parts[1:-2]) == socket.gethostname():
        pid = int(parts[-2])
        if pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OverflowError):  # alive under another user; or no such pid
            return False
        return False
    try:
        return time.time() - path.stat().st_mtime > STALE_TMP_S
    except FileNotFoundError:
        return False


def _read_record(path: Path) -> dict:
    data = path.read_bytes()
    checksum_file = _checksum_file(path)
    try:
        expected = checksum_file.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"no checksum file {checksum_file.name} beside it") from None
    if expected != _checksum_line(data, path.name):  # byte for byte: any flip is damage
        raise ValueError(f"its SHA-256 does not match {checksum_file.name}")
    table = pq.read_table(pa.BufferReader(data), page_checksum_verification=True)
    if table.num_rows != 1:
        raise ValueError(f"{table.num_rows} rows, expected 1")
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise ValueError(f"missing columns {missing}")
    record = table.to_pylist()[0]
    if record["key"] != path.stem:
        raise ValueError(f"holds point {record['key']!r}, not the {path.stem!r} of its name")
    try:
        params = json.loads(record["params"])
    except (TypeError, ValueError):
        params = None
    if not isinstance(params, dict):
        raise ValueError(f"params is not a JSON object: {str(record['params'])[:60]!r}")
    return record
