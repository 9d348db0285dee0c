"""Issue 16 item 7: no pool worker outlives a ``kill -9`` of ``numaexp sweep``.

The real command runs a sweep of long points on two local workers; once
both are simulating, the command is killed with SIGKILL. Its workers and
multiprocessing's resource tracker must exit, releasing the command's
stdout and stderr, so ``communicate()`` (or ``| tee``) returns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import scenario, small_machine, sweep_workload

from numaexp.model.toml_io import save_scenario
from numaexp.sweep import lifeline

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"),
                                reason="reads the process tree from /proc (Linux)")


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.update(int(x) for x in f.read().split())
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_kill_9_of_a_sweep_leaves_no_worker_and_releases_its_output(tmp_path):
    machine = small_machine(nodes=2, cpus=2)
    save_scenario(scenario(sweep_workload(machine, size="16 MiB", passes=1e9,
                                          first_touch_node=0), machine, duration=1e6),
                  tmp_path / "base.toml")  # minutes per point
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "orphans"\nrepeats = 4\n[base]\nfile = "base.toml"\n'
                    '[product]\n"kernel.scan_size_mb" = [4]\n')
    sweep = subprocess.Popen([sys.executable, "-m", "numaexp", "sweep", str(spec), "--out",
                              str(tmp_path / "o"), "--workers", "2", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    family: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while True:  # both workers up and simulating (the kernels loaded: CPU time spent)
            workers = [p for p in _descendants(sweep.pid) if "spawn_main" in _cmdline(p)]
            if len(workers) == 2 and all(_cpu_seconds(p) > 4 for p in workers):
                break
            assert sweep.poll() is None, sweep.communicate()
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        family = _descendants(sweep.pid)
        assert any("resource_tracker" in _cmdline(p) for p in family), family
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.communicate(timeout=60)  # returns once nobody holds the pipes
        assert sweep.returncode == -signal.SIGKILL
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [(p, _cmdline(p)) for p in family if _alive(p)]
    finally:  # on failure, end what this test started
        for pid in [sweep.pid, *_descendants(sweep.pid), *family]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        sweep.communicate(timeout=60)


def test_parent_alive_follows_the_parent():
    assert lifeline.parent_alive(os.getppid())
    assert not lifeline.parent_alive(os.getpid())


def test_a_worker_whose_parent_is_already_gone_ends_at_once(tmp_path):
    """A worker started just as its parent died exits instead of waiting for points."""
    code = ("import os, time\n"
            "from numaexp.sweep.lifeline import watch_parent, EXIT_STATUS\n"
            "watch_parent(os.getppid() + 1 if os.getppid() != 1 else 2)\n"
            "time.sleep(60)\n")
    done = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert done.returncode == lifeline.EXIT_STATUS
