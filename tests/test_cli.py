"""The command line: numaexp run / presets / show, and its error messages."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import scenario, small_machine, sweep_workload

import numaexp.cli
import numaexp.experiment
import numaexp.sweep  # the package, looked up in sys.modules
from numaexp.cli import main
from numaexp.model.toml_io import save_scenario


def test_run_writes_tables_and_figures(tmp_path, capsys):
    machine = small_machine(nodes=2, cpus=2)
    path = tmp_path / "s.toml"
    save_scenario(scenario(sweep_workload(machine, size="16 MiB", passes=200), machine), path)
    assert main(["run", str(path), "--modes", "0,1", "--out", str(tmp_path / "out"),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "mode 0" in out and "mode 1" in out and "numa_hint_faults" in out
    for name in ("counters", "times", "locality", "pages_per_node"):
        assert (tmp_path / "out" / "figures" / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "out" / "tables" / "summary.csv").exists()


def test_presets_and_show(capsys):
    assert main(["presets"]) == 0
    names = capsys.readouterr().out.split()
    assert "default" in names and "numa02_HARD_BIND" in names
    assert main(["show", "numa02"]) == 0
    assert "[machine]" in capsys.readouterr().out


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[machine\n")
    assert main(["run", str(bad), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numaexp: error:") and "bad.toml" in err and len(err.splitlines()) == 1
    assert main(["run", "nosuchpreset", "--out", str(tmp_path)]) == 2
    assert "neither a .toml file nor a preset" in capsys.readouterr().err
    assert main(["run", "default", "--modes", "0,x", "--out", str(tmp_path)]) == 2
    assert "--modes" in capsys.readouterr().err
    assert main(["run", "default", "--modes", "0,9", "--out", str(tmp_path)]) == 2
    assert "modes[1].numa_balancing" in capsys.readouterr().err


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if a command gets as far as simulating."""
    def refuse(*args, **kwargs):
        raise AssertionError("the command ran a simulation")
    monkeypatch.setattr(numaexp.experiment, "compare", refuse)
    monkeypatch.setattr(sys.modules["numaexp.sweep"], "sweep", refuse)  # numaexp.sweep: a function


def _one_error_line(capsys, *parts):
    err = capsys.readouterr().err
    assert err.startswith("numaexp: error: ") and len(err.splitlines()) == 1, err
    for part in parts:
        assert part in err, (part, err)


def test_missing_or_directory_scenario_file_is_one_clear_line(tmp_path, capsys, no_runs):
    missing = tmp_path / "nope.toml"
    assert main(["run", str(missing), "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "scenario: no such file", "nope.toml", "preset")
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "scenario:", "is a directory")
    assert main(["show", str(missing)]) == 2
    _one_error_line(capsys, "no such file")


@pytest.mark.parametrize("where", ["file", "tables", "under_a_file"])
def test_out_that_cannot_hold_the_output_is_refused_before_any_run(tmp_path, capsys, no_runs,
                                                                    where):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    out = {"file": afile, "tables": tmp_path / "o", "under_a_file": afile / "sub"}[where]
    if where == "tables":
        out.mkdir()
        (out / "tables").write_text("keep me too")
    assert main(["run", "default", "--modes", "0", "--out", str(out), "--quiet"]) == 2
    _one_error_line(capsys, "--out:", "is not a directory")
    assert afile.read_text() == "keep me"


def test_out_that_cannot_be_written_is_refused_before_any_run(tmp_path, capsys, no_runs,
                                                              monkeypatch):
    monkeypatch.setattr(numaexp.cli.os, "access", lambda path, mode: False)
    assert main(["run", "default", "--out", str(tmp_path / "new" / "o")]) == 2
    _one_error_line(capsys, "--out: cannot create", "permission denied")
    assert main(["run", "default", "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "--out: cannot write to")


def test_modes_are_listed_once_and_without_empty_items(tmp_path, capsys, no_runs):
    out = str(tmp_path / "o")
    assert main(["run", "default", "--modes", "1,1", "--out", out]) == 2
    _one_error_line(capsys, "--modes: mode 1 is listed twice")
    for modes in ("0,,1", "0,1,", ","):
        assert main(["run", "default", "--modes", modes, "--out", out]) == 2
        _one_error_line(capsys, "--modes: empty item")
    assert main(["run", "default", "--variants", "rfc-v1,,rfc-v2", "--out", out]) == 2
    _one_error_line(capsys, "--variants: empty item")


def test_sweep_spec_and_out_are_checked_before_any_run(tmp_path, capsys, no_runs):
    assert main(["sweep", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "spec: no such file")
    assert main(["sweep", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "spec:", "is a directory")
    spec = tmp_path / "spec.toml"
    spec.write_text('base = "numa02"\n[product]\n"kernel.scan_size_mb" = [64, 256]\n')
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    assert main(["sweep", str(spec), "--out", str(afile)]) == 2
    _one_error_line(capsys, "--out:", "is not a directory")
    assert afile.read_text() == "keep me"


def test_an_os_error_during_a_run_is_one_line(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(numaexp.experiment, "compare", full)
    assert main(["run", "default", "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "No space left on device")


def test_python_dash_m_numaexp_is_the_numaexp_command(tmp_path):
    def numaexp(*args):
        return subprocess.run([sys.executable, "-m", "numaexp", *args], capture_output=True,
                              text=True, timeout=120, check=False)

    listed = numaexp("presets")
    assert listed.returncode == 0 and "numa02_HARD_BIND" in listed.stdout.split()
    refused = numaexp("run", str(tmp_path / "nope.toml"))
    assert refused.returncode == 2 and refused.stderr.startswith("numaexp: error: scenario:")
