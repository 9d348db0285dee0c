"""Issue 16 item 6: Ctrl-C during ``numaexp run``.

The command exits 130, writes what it has only into a new ``interrupted-*``
directory (never over complete output, even with ``--overwrite``) and says
which runs were cut off. A run whose simulation had ended when the Ctrl-C came
is kept whole. The first tests run the real command and send it a real SIGINT
while a run is under way; the others raise KeyboardInterrupt (or send SIGINT)
from a hook at a chosen point, so that the timing is deterministic.
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


@pytest.mark.parametrize("point", ["warm_up", "Runner"])
def test_ctrl_c_outside_a_run_s_ticks_keeps_the_finished_runs(tmp_path, monkeypatch, capsys,
                                                              point):
    """A Ctrl-C before mode 1's ticks (its warm-up or set-up) drops mode 1 by name; mode 0,
    finished, is written; mode 2 never runs."""
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


def _interrupt_on_call(monkeypatch, module, name, call: int):
    """Make ``module.name`` raise KeyboardInterrupt on its ``call``-th call (1-based), as a
    Ctrl-C landing there would; the other calls run the real function."""
    real, calls = getattr(module, name), []

    def hook(*args, **kwargs):
        calls.append(name)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, hook)
    return calls


@pytest.mark.parametrize(("call", "kept", "not_run"), [
    (1, ["mode 0"], "mode 1, mode 2"),  # right after the first run's ticks
    (2, ["mode 0", "mode 1"], "mode 2"),
])
def test_ctrl_c_right_after_a_run_ends_keeps_it_whole(tmp_path, monkeypatch, capsys, call,
                                                      kept, not_run):
    """A Ctrl-C between the end of a run's ticks and its write (here: as its frames are
    built) loses nothing: the run is finished, built whole and saved, marked as such."""
    import numaexp.experiment

    quick = _scenario_file(tmp_path / "quick.toml", duration=2.0)
    assert main(["run", str(quick), "--modes", "0,1", "--out", str(tmp_path / "whole"),
                 "--quiet", "--no-plots"]) == 0
    whole = pd.read_csv(tmp_path / "whole" / "tables" / "summary.csv")
    capsys.readouterr()
    _interrupt_on_call(monkeypatch, numaexp.experiment, "build_result", call)
    out = tmp_path / "out"
    assert main(["run", str(quick), "--modes", "0,1,2", "--out", str(out), "--quiet",
                 "--no-plots"]) == 130
    stdout, stderr = capsys.readouterr()
    assert "nothing was written" not in stderr
    partial, = out.glob("interrupted-*")
    assert sorted(p.name for p in out.iterdir()) == [partial.name]
    line, = [x for x in stderr.splitlines() if x.startswith("numaexp:")]
    late = kept[-1]
    what = (f"{late} had finished when the Ctrl-C came (while its frames were built) and is "
            f"kept whole; {not_run} did not run")
    assert line == (f"numaexp: interrupted: {what}; the partial results are in {partial}, "
                    f"nothing else in {out} changed")
    assert (partial / "INTERRUPTED.txt").read_text() == \
        f"numaexp run was interrupted (Ctrl-C): {what}.\n"
    summary = pd.read_csv(partial / "tables" / "summary.csv")
    assert list(summary["label"]) == kept and summary["finished"].all()
    pd.testing.assert_frame_equal(summary, whole.iloc[:len(kept)])  # as an uninterrupted run
    assert "[cut off]" not in stdout and f"{late}: " in stdout


def test_a_real_ctrl_c_while_the_first_run_s_frames_are_built_is_held(tmp_path):
    """A real SIGINT that lands as the first run's frames are built waits for them: the run
    is saved whole, the next runs do not start, and the command exits 130."""
    quick = _scenario_file(tmp_path / "quick.toml", duration=2.0)
    out = tmp_path / "out"
    script = f"""
import os, signal, sys
import numaexp.experiment
real = numaexp.experiment.build_result
def build(*args, **kwargs):  # Ctrl-C right after the ticks ended
    os.kill(os.getpid(), signal.SIGINT)
    return real(*args, **kwargs)
numaexp.experiment.build_result = build
from numaexp.cli import main
sys.exit(main(["run", {str(quick)!r}, "--modes", "0,1", "--out", {str(out)!r}, "--quiet",
               "--no-plots"]))
"""
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=600)
    assert child.returncode == 130, child.stderr
    partial, = out.glob("interrupted-*")
    assert child.stderr.endswith(
        "numaexp: interrupted: mode 0 had finished when the Ctrl-C came (while its frames "
        f"were built) and is kept whole; mode 1 did not run; the partial results are in "
        f"{partial}, nothing else in {out} changed\n"), child.stderr
    summary = pd.read_csv(partial / "tables" / "summary.csv")
    assert list(summary["label"]) == ["mode 0"] and summary["finished"].all()
    assert summary["elapsed_s"][0] == pytest.approx(2.0)


def test_ctrl_c_while_the_finished_output_is_written_keeps_the_tables(tmp_path, monkeypatch,
                                                                     capsys):
    """Every run finished, and the Ctrl-C comes while the output is written (its figures
    drawn): the tables are saved in an interrupted-* directory, which says so."""
    import numaexp.cli

    quick = _scenario_file(tmp_path / "quick.toml", duration=2.0)
    _interrupt_on_call(monkeypatch, numaexp.cli, "_write_run", 1)
    out = tmp_path / "out"
    assert main(["run", str(quick), "--modes", "0,1", "--out", str(out), "--quiet"]) == 130
    stderr = capsys.readouterr().err
    partial, = out.glob("interrupted-*")
    assert sorted(p.name for p in out.iterdir()) == [partial.name]
    what = ("every run finished (mode 0, mode 1); the Ctrl-C came while the output was "
            "written, so the figures were left out")
    assert stderr.splitlines()[-1] == (f"numaexp: interrupted: {what}; the partial results "
                                       f"are in {partial}, nothing else in {out} changed")
    assert (partial / "INTERRUPTED.txt").read_text().startswith(
        f"numaexp run was interrupted (Ctrl-C): {what}")
    summary = pd.read_csv(partial / "tables" / "summary.csv")
    assert list(summary["label"]) == ["mode 0", "mode 1"] and summary["finished"].all()
    assert not (partial / "figures").exists()


def test_simulate_builds_a_run_whose_ticks_ended_and_says_it_was_interrupted_after(
        monkeypatch):
    import numaexp.experiment
    from numaexp.experiment import InterruptedAfterRun, simulate

    machine = small_machine(nodes=2, cpus=2)
    run = scenario(sweep_workload(machine, size="16 MiB", passes=1e9), machine, duration=1.0)
    whole = simulate(run, progress=False)
    _interrupt_on_call(monkeypatch, numaexp.experiment, "build_result", 1)
    with pytest.warns(UserWarning, match="interrupted after it ended.*complete result"):
        kept = simulate(run, progress=False)
    assert kept.meta.pop("interrupt_after_end") and "interrupt_after_end" not in whole.meta
    assert {k: v for k, v in kept.meta.items() if k != "wall_seconds"} == \
        {k: v for k, v in whole.meta.items() if k != "wall_seconds"}  # not cut off
    for name, frame in whole.frames.items():
        pd.testing.assert_frame_equal(kept.frames[name], frame, obj=name)
    _interrupt_on_call(monkeypatch, numaexp.experiment, "build_result", 1)
    with pytest.raises(InterruptedAfterRun) as raised:
        simulate(run, progress=False, on_interrupt="raise")
    assert isinstance(raised.value, KeyboardInterrupt)
    pd.testing.assert_frame_equal(raised.value.result.timeseries, whole.timeseries)
