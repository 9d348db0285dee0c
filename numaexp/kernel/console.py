"""Boot a guest, follow its serial console, keep the log, and fetch the executor's records.

The guest prints ``@@``-prefixed status lines on its console (boot, settings,
topology, failure) and, at the end, the executor's records as one gzip +
base64 block between ``@@numaexp-data-begin`` and ``@@numaexp-data-end``.
"""

from __future__ import annotations

import base64
import gzip
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from numaexp.kernel.errors import KernelBackendError

TAIL_LINES = 30
"""Console lines shown in an error."""


@dataclass
class GuestRun:
    """What a guest left on its console.

    Attributes
    ----------
    lines : list of str
        Every console line.
    records : str
        The executor's records (decoded), "" if the run did not get that far.
    boot_s : float
        Host seconds from QEMU's start to the guest's ``/init``.
    wall_s : float
        Host seconds QEMU ran.
    log_path : Path
        The kept console log.
    """

    lines: list[str]
    records: str
    boot_s: float
    wall_s: float
    log_path: Path

    def tail(self, n: int = TAIL_LINES) -> str:
        """The last ``n`` console lines."""
        return "\n".join(self.lines[-n:])

    @classmethod
    def from_log(cls, log_path: str | Path) -> GuestRun:
        """A kept console log read back (boot and wall seconds unknown: NaN)."""
        log_path = Path(log_path)
        lines = log_path.read_text(errors="replace").splitlines()
        return cls(lines=lines, records=_records(lines), boot_s=float("nan"),
                   wall_s=float("nan"), log_path=log_path)

    def status(self, prefix: str) -> list[str]:
        """Console lines starting with ``@@PREFIX`` (without it)."""
        tag = "@@" + prefix
        return [line[len(tag):].strip() for line in self.lines if line.startswith(tag)]


def boot(cmd: list[str], log_path: Path, timeout_s: float, limit_s: float,
         desc: str = "guest", progress: bool | None = None) -> GuestRun:
    """Run QEMU command ``cmd`` until the guest powers off.

    Parameters
    ----------
    cmd : list of str
        The full QEMU command (serial console on stdout).
    log_path : Path
        Where the console log is written as it comes.
    timeout_s : float
        Host seconds after which the guest is killed and an error raised.
    limit_s : float
        The run's time limit inside the guest, seconds (for the progress bar).
    desc : str
        Progress bar label.
    progress : bool, optional
        Show a progress bar (default on).

    Raises
    ------
    KernelBackendError
        On timeout, or when QEMU fails to start; with the console tail.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    start = time.monotonic()
    boot_s = float("nan")
    bar = tqdm(total=round(limit_s, 1), unit="guest s", desc=f"{desc}: booting", leave=False,
               disable=progress is False)
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as err:
        bar.close()
        raise KernelBackendError(f"cannot start QEMU: {err}") from None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    timed_out = False
    with open(log_path, "w", errors="replace") as log:
        try:
            while True:
                left = timeout_s - (time.monotonic() - start)
                if left <= 0:
                    timed_out = True
                    break
                if not sel.select(timeout=min(left, 1.0)):
                    if proc.poll() is not None:
                        break
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                *complete, buf = buf.split(b"\n")
                for raw in complete:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    if "@@" in line and not line.startswith("@@"):
                        line = line[line.index("@@"):]  # after the firmware's escape codes
                    lines.append(line)
                    log.write(line + "\n")
                    if line.startswith("@@numaexp-guest-up"):
                        boot_s = time.monotonic() - start
                        bar.set_description(f"{desc}: setting up")
                    elif line.startswith("@@numaexp-run"):
                        bar.set_description(f"{desc}: running")
                    elif line.startswith("@progress"):
                        try:
                            bar.update(round(float(line.split()[1]), 1) - bar.n)
                        except (IndexError, ValueError):
                            pass
                    elif line.startswith("@@numaexp-data-begin"):
                        bar.set_description(f"{desc}: reading results")
                log.flush()
        finally:
            if buf:
                lines.append(buf.decode("utf-8", "replace"))
                log.write(lines[-1] + "\n")
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            bar.close()
    wall = time.monotonic() - start
    run = GuestRun(lines=lines, records=_records(lines), boot_s=boot_s, wall_s=wall,
                   log_path=log_path)
    if timed_out:
        raise KernelBackendError(f"the guest did not finish within {timeout_s:.0f} s "
                                 "(timeout_s)", run.tail(), str(log_path))
    return run


def _records(lines: list[str]) -> str:
    try:
        begin = next(i for i, line in enumerate(lines) if line.startswith("@@numaexp-data-begin"))
        end = next(i for i in range(begin, len(lines)) if lines[i].startswith("@@numaexp-data-end"))
    except StopIteration:
        return ""
    data = "".join(line.strip() for line in lines[begin + 1:end])
    try:
        return gzip.decompress(base64.b64decode(data)).decode("utf-8", "replace")
    except (ValueError, OSError, EOFError):
        return ""
