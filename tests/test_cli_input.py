"""Issue 16 item 8: what the command line does with inputs that are not scenario files.

/dev/zero, FIFOs and oversized files are refused without reading them whole
(or blocking); ``--out ''`` is refused; a malformed ``--scheduler`` is one
line naming ``tcp://HOST:PORT``; a disk that fills during a sweep names the
path and says that ``--resume`` continues (on a real, full tmpfs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from helpers import scenario, small_machine, sweep_workload

import numaexp.comparison
import numaexp.sweep
from numaexp.cli import main
from numaexp.cli_checks import scheduler_address
from numaexp.errors import ScenarioError
from numaexp.model.files import MAX_INPUT_BYTES
from numaexp.model.toml_io import load_scenario, save_scenario
from numaexp.sweep import SweepSpec


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if a command gets as far as simulating."""
    def refuse(*args, **kwargs):
        raise AssertionError("the command ran a simulation")
    monkeypatch.setattr(numaexp.comparison, "compare", refuse)
    monkeypatch.setattr(sys.modules["numaexp.sweep"], "sweep", refuse)


def one_error_line(capsys, *parts):
    err = capsys.readouterr().err
    assert err.startswith("numaexp: error: ") and len(err.splitlines()) == 1, err
    for part in parts:
        assert part in err, (part, err)
    return err


def run_cli(*args, timeout=60):
    """The numaexp command in a fresh process (so a hang is a timeout, not a stuck suite)."""
    return subprocess.run([sys.executable, "-m", "numaexp", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_at_once(tmp_path):
    out = ["--out", str(tmp_path / "o")]
    for command in (["run", "/dev/zero", *out], ["show", "/dev/zero"],
                    ["sweep", "/dev/zero", *out]):
        done = run_cli(*command)
        assert done.returncode == 2, done
        assert done.stderr.count("\n") == 1, done.stderr
        assert "/dev/zero is a character device, not a regular file" in done.stderr
    with pytest.raises(ScenarioError, match="/dev/zero is a character device"):
        load_scenario("/dev/zero")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    for command in (["run", str(fifo), "--out", str(tmp_path / "o")], ["show", str(fifo)],
                    ["sweep", str(fifo), "--out", str(tmp_path / "o")]):
        done = run_cli(*command, timeout=60)
        assert done.returncode == 2, done
        assert f"{fifo} is a FIFO (named pipe), not a regular file" in done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
    with pytest.raises(ScenarioError, match="FIFO"):
        load_scenario(fifo)
    with pytest.raises(ScenarioError, match="FIFO"):
        SweepSpec.load(fifo)


def test_a_spec_whose_base_file_is_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "base.toml")
    spec = tmp_path / "spec.toml"
    spec.write_text('[base]\nfile = "base.toml"\n[product]\n"kernel.scan_size_mb" = [4]\n')
    done = run_cli("sweep", str(spec), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "is a FIFO (named pipe), not a regular file" in done.stderr


def test_an_oversized_scenario_or_spec_is_refused_before_it_is_read(tmp_path, capsys, no_runs,
                                                                    monkeypatch):
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as f:  # sparse: 4 GiB of nothing, not read
        f.truncate(4 * 2**30)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real_read(fd, min(n, 1 << 20)))
    assert main(["run", str(huge), "--out", str(tmp_path / "o")]) == 2
    one_error_line(capsys, f"scenario: {huge} is larger than 16 MiB, the most an input file "
                           "may be")
    assert main(["sweep", str(huge), "--out", str(tmp_path / "o")]) == 2
    one_error_line(capsys, "spec:", "is larger than 16 MiB")
    just = tmp_path / "just.toml"
    just.write_bytes(b"#" * MAX_INPUT_BYTES)  # at the limit: read, then refused as a scenario
    assert main(["show", str(just)]) == 2
    err = one_error_line(capsys)
    assert "larger than" not in err


def test_an_empty_out_is_refused(tmp_path, capsys, no_runs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text('base = "numa02"\n[product]\n"kernel.scan_size_mb" = [64]\n')
    for command in (["run", "default", "--modes", "0"], ["sweep", str(spec)]):
        for out in ("", " "):
            assert main([*command, "--out", out]) == 2
            one_error_line(capsys, "--out: empty path", "current directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


@pytest.mark.parametrize("address", ["garbage", "tcp://", "tcp://host", "http://host:8786",
                                     "tcp://host:99999", "host:port", "tcp://a b:1", ""])
def test_a_malformed_scheduler_is_one_line_naming_the_form(tmp_path, address):
    spec = tmp_path / "spec.toml"
    spec.write_text('base = "numa02"\n[product]\n"kernel.scan_size_mb" = [64]\n')
    done = run_cli("sweep", str(spec), "--out", str(tmp_path / "o"), "--scheduler", address)
    assert done.returncode == 2, done
    assert done.stderr.startswith("numaexp: error: --scheduler: "), done.stderr
    assert "tcp://HOST:PORT" in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_scheduler_addresses_that_dask_takes_are_accepted():
    assert scheduler_address("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    assert scheduler_address("node7:8786") == "tcp://node7:8786"
    assert scheduler_address("tls://[::1]:8786") == "tls://[::1]:8786"
    assert scheduler_address(" TCP://host:08786 ") == "tcp://host:8786"


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('base = "numa02"\n[product]\n"kernel.scan_size_mb" = [64]\n')
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    done = subprocess.run([sys.executable, "-m", "numaexp", "sweep", str(spec), "--out",
                           str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=120, check=False, env=env)
    assert done.returncode == 2, done
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("numaexp: error: --scheduler: cannot reach tcp://127.0.0.1:9")
    assert len(lines) == 1, done.stderr


def _tmpfs_available() -> bool:
    if not shutil.which("unshare") or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=64k none /mnt 2>/dev/null || "
                            "mount -t tmpfs -o size=64k none /tmp"],
                           capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _tmpfs_available(), reason="needs unshare and user namespaces (Linux)")
def test_a_full_disk_during_a_sweep_names_the_path_and_says_resume(tmp_path):
    machine = small_machine(nodes=2, cpus=2)
    save_scenario(scenario(sweep_workload(machine, size="16 MiB", passes=1e6,
                                          first_touch_node=0), machine, duration=0.2),
                  tmp_path / "base.toml")
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "full"\nrepeats = 40\n[base]\nfile = "base.toml"\n'
                    '[product]\n"kernel.scan_size_mb" = [4]\n')
    disk = tmp_path / "disk"
    disk.mkdir()
    # a 256 KiB tmpfs holds a few points' files, not forty: the disk fills mid-sweep
    script = (f"mount -t tmpfs -o size=256k none {disk} && exec {sys.executable} -m numaexp "
              f"sweep {spec} --out {disk}/o --workers 1 --quiet --no-plots")
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 2, done
    err = [line for line in done.stderr.splitlines() if line.startswith("numaexp:")]
    assert len(err) == 1, done.stderr
    assert err[0].startswith(f"numaexp: error: --out: cannot write {disk}/o/store/"), err
    assert "No space left on device" in err[0]
    assert f"the points finished before are kept in {disk}/o/store" in err[0]
    assert "--resume to continue the sweep" in err[0]

