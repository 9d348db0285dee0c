"""Issue 16 item 11: a store that cannot be silently misread.

Each point file has a SHA-256 beside it and Parquet page checksums; a
flipped bit anywhere means "damaged, run again"; leftover temporary files
of dead writers are removed; a record whose ``params`` is not a JSON object
is damaged.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import subprocess
import sys
import time
import warnings

import pytest
from bitflip import flip_bits, real_record, same

from numaexp.sweep import Store, StoreWarning


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store holding one real sweep point: (store, key, record)."""
    return real_record(tmp_path_factory.mktemp("bitflip") / "store")


def test_two_thousand_flipped_bits_of_a_record_are_all_damage(stored):
    store, key, original = stored
    path = store.file(key)
    nbits = 8 * path.stat().st_size
    bits = random.Random(16).sample(range(nbits), min(2000, nbits))
    counts = flip_bits(store, path, key, original, bits)
    assert counts == {"damaged": len(bits)}, counts
    assert same(store.read()[key], original)  # put back: whole again
    assert original["status"] == "ok" and original["numa_hint_faults"] > 0


def test_every_flipped_bit_of_the_checksum_file_is_damage(stored):
    store, key, original = stored
    path = store.file(key).with_suffix(".sha256")
    counts = flip_bits(store, path, key, original, list(range(8 * path.stat().st_size)))
    assert counts == {"damaged": 8 * path.stat().st_size}, counts


def test_the_checksum_file_is_sha256sum_format(stored):
    store, key, _ = stored
    data = store.file(key).read_bytes()
    line = store.file(key).with_suffix(".sha256").read_text()
    assert line == f"{hashlib.sha256(data).hexdigest()}  {key}.parquet\n"
    done = subprocess.run(["sha256sum", "-c", f"{key}.sha256"], cwd=store.path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"{key}.parquet: OK"


def _copy_store(stored, tmp_path) -> tuple[Store, str]:
    store, key, _ = stored
    copy = Store(tmp_path / "copy")
    for path in (store.file(key), store.file(key).with_suffix(".sha256")):
        (copy.path / path.name).write_bytes(path.read_bytes())
    return copy, key


def _read_one(store: Store, key: str) -> tuple[dict, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = store.read()
    return records, [str(w.message) for w in caught if issubclass(w.category, StoreWarning)]


def test_page_checksums_are_written_and_verified_behind_the_sha256(stored, tmp_path):
    copy, key = _copy_store(stored, tmp_path)
    path = copy.file(key)
    data = bytearray(path.read_bytes())
    data[data.find(b"bitflip")] ^= 1  # in a data page (the sweep name column)
    path.write_bytes(bytes(data))
    # a checksum file rewritten for the damaged bytes: the page CRC still catches it
    path.with_suffix(".sha256").write_text(
        f"{hashlib.sha256(bytes(data)).hexdigest()}  {path.name}\n")
    records, messages = _read_one(copy, key)
    assert key not in records and len(messages) == 1 and "CRC" in messages[0], messages


def test_a_point_without_its_checksum_file_is_damaged(stored, tmp_path):
    copy, key = _copy_store(stored, tmp_path)
    copy.file(key).with_suffix(".sha256").unlink()
    records, messages = _read_one(copy, key)
    assert records == {} and messages == [
        f"ignoring damaged store file {copy.file(key)}: no checksum file {key}.sha256 beside "
        "it; its point will run again"]


@pytest.mark.parametrize("params", ["not json", "[1, 2]", "3", '{"a": 1', "null"])
def test_a_record_whose_params_is_not_a_json_object_is_damaged(tmp_path, params):
    store = Store(tmp_path / "store")
    store.write({"key": "abc", "status": "ok", "params": params, "seed": 1})
    store.write({"key": "def", "status": "ok", "params": '{"kernel.scan_size_mb": 4}',
                 "seed": 2})
    records, messages = _read_one(store, "abc")
    assert set(records) == {"def"}
    assert len(messages) == 1 and "params is not a JSON object" in messages[0]
    with pytest.warns(StoreWarning):
        frame = store.frame()  # no longer fails on the damaged record
    assert list(frame["key"]) == ["def"] and list(frame["kernel.scan_size_mb"]) == [4]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_files_of_writers_that_are_gone_are_removed(tmp_path):
    store = Store(tmp_path / "store")
    store.write({"key": "abc", "status": "ok", "params": "{}", "seed": 1})
    host = socket.gethostname()
    dead = [f".tmp-abc-{host}-{_dead_pid()}-0123abcd.parquet",
            f".tmp-abc-{host}-{_dead_pid()}-0123abcd.sha256"]
    live = [f".tmp-abc-{host}-{os.getpid()}-0123abcd.parquet",  # this process: writing now
            f".tmp-abc-{host}-{os.getppid()}-0123abcd.parquet",  # a live process
            f".tmp-abc-otherhost-{_dead_pid()}-0123abcd.parquet",  # another host's, recent
            ".tmp-abc-0.parquet"]  # no writer in the name, recent
    old = [".tmp-abc-otherhost-1-0123abcd.parquet", ".tmp-abc-0.sha256"]
    for name in dead + live + old:
        (store.path / name).write_bytes(b"PAR1 half written")
    two_days_ago = time.time() - 2 * 24 * 3600
    for name in old:
        os.utime(store.path / name, (two_days_ago, two_days_ago))
    records, messages = _read_one(store, "abc")
    assert set(records) == {"abc"}
    assert sorted(messages) == sorted(
        f"removed partially written store file {store.path / name} (left by an interrupted "
        "write)" for name in dead + old)
    assert sorted(p.name for p in store.path.iterdir()) == sorted(
        ["abc.parquet", "abc.sha256", *live])


def test_a_write_leaves_no_temporary_file_and_names_the_point_file_on_error(tmp_path,
                                                                             monkeypatch):
    store = Store(tmp_path / "store")
    store.write({"key": "abc", "status": "ok", "params": "{}", "seed": 1})
    assert sorted(p.name for p in store.path.iterdir()) == ["abc.parquet", "abc.sha256"]
    real_fsync = os.fsync

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as caught:
        store.write({"key": "def", "status": "ok", "params": "{}", "seed": 2})
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert caught.value.errno == 28 and caught.value.filename == str(store.file("def"))
    assert sorted(p.name for p in store.path.iterdir()) == ["abc.parquet", "abc.sha256"]
