"""Runs fuzzed scenarios in a sandbox process, so a crash or a hang is an outcome, not the end.

:class:`Sandbox` keeps one :mod:`fuzz_child` process and sends it a case at
a time. A child that dies (a signal: SIGSEGV, SIGABRT from a corrupted
heap, ...) gives a ``crash`` outcome with the signal and the tail of its
stderr; one that does not answer within the time limit is killed and gives
``hang``. Either way the next case gets a fresh child.

``Sandbox(boundscheck=True)`` runs numba with ``NUMBA_BOUNDSCHECK=1`` and a
cache directory of its own (``$NUMAEXP_BOUNDSCHECK_CACHE_DIR``, default
``~/.cache/numaexp-boundscheck``; :mod:`numaexp.sim.jit` names its
``numba-<hash>`` subdirectory), so an out-of-bounds index raises IndexError
instead of corrupting memory, and the normal cache is left alone. Its first
start compiles every kernel (several minutes).
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = Path(__file__).parent / "fuzz_child.py"
WARMUP_S = 3600.0
"""Longest wait for a new sandbox to load (or compile) the kernels, s."""


def boundscheck_cache_dir() -> str:
    """The numba cache root of bounds-checked builds (kept apart from the normal cache)."""
    return os.environ.get("NUMAEXP_BOUNDSCHECK_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "numaexp-boundscheck")


def sandbox_env(boundscheck: bool) -> dict[str, str]:
    """Environment of a sandbox: two numba threads, and the bounds-checked build if asked."""
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    if boundscheck:
        env.pop("NUMBA_CACHE_DIR", None)  # it would override the separate directory
        env.update(NUMBA_BOUNDSCHECK="1", NUMAEXP_CACHE_DIR=boundscheck_cache_dir())
    return env


class Sandbox:
    """A child process that runs cases; replaced when it crashes or hangs.

    Parameters
    ----------
    boundscheck : bool
        Run numba with bounds checking (its own cache directory).
    timeout : float
        Seconds a case may take before it counts as a hang.
    """

    def __init__(self, boundscheck: bool = False, timeout: float = 120.0):
        self.boundscheck = boundscheck
        self.timeout = timeout
        self.env = sandbox_env(boundscheck)
        self._child: subprocess.Popen | None = None
        self._stderr = None
        self.starts = 0

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        self._child = subprocess.Popen([sys.executable, str(CHILD)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=self._stderr, env=self.env)
        self.starts += 1
        ready = self._answer(WARMUP_S)
        if ready.get("status") != "ready" or ready["warm"]["status"] != "ok":
            raise RuntimeError(f"the fuzz sandbox did not start: {ready}")

    def _answer(self, timeout: float) -> dict:
        """The child's next answer; a crash or hang outcome if it dies or stays silent."""
        out = self._child.stdout
        deadline = time.monotonic() + timeout
        data = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._stop()
                return {"status": "hang", "detail": f"no answer within {timeout:g} s"}
            ready, _, _ = select.select([out], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(out.fileno(), 1 << 20)
            if not chunk:
                return self._crashed()
            data += chunk
            if len(data) >= 8 and len(data) >= 8 + struct.unpack("<Q", data[:8])[0]:
                return pickle.loads(data[8:])

    def _crashed(self) -> dict:
        code = self._child.wait(30)
        self._stderr.seek(0)
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-8:]
        self._child = None
        reason = f"signal {-code}" if code < 0 else f"exit status {code}"
        return {"status": "crash", "detail": f"{reason}; stderr: " + " | ".join(tail)}

    def _stop(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child.wait(30)
            self._child = None

    def run(self, scenario, threads_check: bool = False) -> dict:
        """The outcome of one case (see :mod:`fuzz_child`, plus ``crash`` and ``hang``)."""
        if self._child is None:
            self._start()
        data = pickle.dumps((scenario, threads_check))
        try:
            self._child.stdin.write(struct.pack("<Q", len(data)) + data)
            self._child.stdin.flush()
        except BrokenPipeError:
            return self._crashed()
        return self._answer(self.timeout * (3 if threads_check else 1))

    def close(self) -> None:
        """End the child."""
        if self._child is not None:
            self._child.stdin.close()
            try:
                self._child.wait(30)
            except subprocess.TimeoutExpired:
                self._stop()
            self._child = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
