"""Issue 16 item 6: Ctrl-C during ``numaexp run``.

The command exits 130, writes what it has only into a new ``interrupted-*``
directory (never over complete output, even with ``--overwrite``) and says
which runs were cut off. Each test runs the real command and sends it a
real SIGINT while a run is under way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from helpers import scenario, small_machine, sweep_workload

from numaexp.cli import main
from numaexp.model.toml_io import save_scenario


def _scenario_file(path, duration: float):
    machine = small_machine(nodes=2, cpus=2)
    save_scenario(scenario(sweep_workload(machine, size="16 MiB", passes=1e9,
                                          first_touch_node=0), machine, duration=duration), path)
    return path


class Stderr:
    """Collects a child's stderr as it comes (tqdm bars end lines with \\r, not \\n)."""

    def __init__(self, stream):
        self.text = ""
        self._stream = stream
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self):
        while chunk := os.read(self._stream.fileno(), 4096):
            self.text += chunk.decode(errors="replace")

    def wait_for(self, needle: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while needle not in self.text:
            assert time.monotonic() < end, f"no {needle!r} within {timeout} s: {self.text!r}"
            time.sleep(0.05)

    def finish(self) -> str:
        self._thread.join(30)
        return self.text


def _interrupted_run(tmp_path, scenario_path, out, cut_label, modes="0,1"):
    child = subprocess.Popen([sys.executable, "-m", "numaexp", "run", str(scenario_path),
                              "--modes", modes, "--out", str(out), "--overwrite", "--no-plots"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = Stderr(child.stderr)
    err.wait_for(f"sweeps {cut_label}", timeout=300)  # its progress bar: that run is going
    child.send_signal(signal.SIGINT)
    stdout = child.stdout.read().decode()
    child.wait(timeout=300)
    return child.returncode, stdout, err.finish()


@pytest.fixture
def earlier(tmp_path):
    """A complete earlier output in ``out`` (a short run of modes 0 and 1)."""
    out = tmp_path / "out"
    quick = tmp_path / "quick.toml"
    _scenario_file(quick, duration=2.0)
    assert main(["run", str(quick), "--modes", "0,1", "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    return out, {p.name: p.read_bytes() for p in (out / "tables").iterdir()}


def _check_kept_and_partial(out, earlier_tables, stderr):
    assert {p.name: p.read_bytes() for p in (out / "tables").iterdir()} == earlier_tables
    partial, = out.glob("interrupted-*")
    assert sorted(p.name for p in out.iterdir()) == sorted(["tables", partial.name])
    line, = [x for x in stderr.splitlines() if x.startswith("numaexp:")]
    assert f"the partial results are in {partial}, {out / 'tables'} left as it was" in line
    return partial, line


def test_ctrl_c_in_the_first_run_exits_130_and_keeps_complete_output(tmp_path, earlier):
    out, earlier_tables = earlier
    long = _scenario_file(tmp_path / "long.toml", duration=1e6)  # minutes per mode
    code, stdout, stderr = _interrupted_run(tmp_path, long, out, "mode 0")
    assert code == 130, stderr
    partial, line = _check_kept_and_partial(out, earlier_tables, stderr)
    assert line.startswith("numaexp: interrupted: mode 0 was cut off at ")
    assert "of 1e+06 simulated s (its figures cover only that part); mode 1 did not run" in line
    assert "mode 0 [cut off]" in stdout
    summary = pd.read_csv(partial / "tables" / "summary.csv")
    assert list(summary["label"]) == ["mode 0"] and summary["elapsed_s"][0] < 1e6
    note = (partial / "INTERRUPTED.txt").read_text()
    assert note.startswith("numaexp run was interrupted (Ctrl-C): mode 0 was cut off at ")


def test_ctrl_c_in_a_later_run_keeps_the_finished_runs_beside_the_cut_one(tmp_path, earlier):
    out, earlier_tables = earlier
    medium = _scenario_file(tmp_path / "medium.toml", duration=30000.0)  # seconds per mode
    code, stdout, stderr = _interrupted_run(tmp_path, medium, out, "mode 1", modes="0,1,2")
    assert code == 130, stderr
    partial, line = _check_kept_and_partial(out, earlier_tables, stderr)
    assert line.startswith("numaexp: interrupted: mode 1 was cut off at "), line
    assert line.count("cut off") == 1 and "mode 2 did not run" in line
    summary = pd.read_csv(partial / "tables" / "summary.csv")
    assert list(summary["label"]) == ["mode 0", "mode 1"]
    assert summary["elapsed_s"][0] == pytest.approx(30000) and summary["elapsed_s"][1] < 30000
    assert "mode 0 " in stdout and "mode 1 [cut off]" in stdout


def test_ctrl_c_before_any_run_writes_nothing_and_exits_130(tmp_path, monkeypatch, capsys):
    import numaexp.comparison

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # as a Ctrl-C while the kernels load
    monkeypatch.setattr(numaexp.comparison, "compare", interrupted)
    assert main(["run", "default", "--modes", "0", "--out", str(tmp_path / "o")]) == 130
    assert capsys.readouterr().err == "numaexp: interrupted; nothing was written\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("point", ["warm_up", "Runner", "build_result"])
def test_ctrl_c_outside_a_run_s_ticks_keeps_the_finished_runs(tmp_path, monkeypatch, capsys,
                                                              point):
    """A Ctrl-C before mode 1's ticks (its warm-up or set-up) or after them (while its
    frames are built) drops mode 1 by name; mode 0, finished, is written; mode 2 never runs."""
    import numaexp.experiment

    real, calls = getattr(numaexp.experiment, point), []

    def second_call_interrupted(*args, **kwargs):
        calls.append(point)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(numaexp.experiment, point, second_call_interrupted)
    quick = _scenario_file(tmp_path / "quick.toml", duration=2.0)
    out = tmp_path / "out"
    assert main(["run", str(quick), "--modes", "0,1,2", "--out", str(out), "--quiet",
                 "--no-plots"]) == 130
    stdout, stderr = capsys.readouterr()
    partial, = out.glob("interrupted-*")
    line, = [x for x in stderr.splitlines() if x.startswith("numaexp:")]
    assert line == (f"numaexp: interrupted: mode 1 was interrupted while it was set up or its "
                    f"frames built, and is dropped; mode 2 did not run; the partial results "
                    f"are in {partial}, nothing else in {out} changed")
    summary = pd.read_csv(partial / "tables" / "summary.csv")
    assert list(summary["label"]) == ["mode 0"] and summary["finished"].all()
    assert "mode 0: the baseline" in stdout and "mode 1" not in stdout
    assert (partial / "INTERRUPTED.txt").read_text().startswith(
        "numaexp run was interrupted (Ctrl-C): mode 1 was interrupted while it was set up")


def test_ctrl_c_before_the_first_run_has_a_result_is_raised(tmp_path, monkeypatch):
    import numaexp.experiment
    from numaexp.comparison import compare

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(numaexp.experiment, "build_result", interrupted)
    machine = small_machine(nodes=2, cpus=2)
    with pytest.raises(KeyboardInterrupt):
        compare(scenario(sweep_workload(machine, size="16 MiB", passes=1e9), machine,
                         duration=1.0), modes=[0, 1], progress=False)
