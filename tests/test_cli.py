"""The command line: numaexp run / presets / show, and its error messages."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile

import pytest
from helpers import scenario, small_machine, sweep_workload

import numaexp.cli
import numaexp.cli_checks
import numaexp.comparison
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
    # the header says what runs besides the workload (issue 20: the background preset)
    header = out.splitlines()
    assert header[0].startswith("scenario: ")
    assert header[1] == ("background 'quiet': kernel threads waking 4/s per CPU for 20 us; "
                         "1 daemon(s) running 2 ms every 1 s")
    for name in ("counters", "times", "locality", "pages_per_node"):
        assert (tmp_path / "out" / "figures" / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "out" / "tables" / "summary.csv").exists()


def test_run_header_names_the_background_on_both_backends():
    from numaexp.cli_report import background_line
    from numaexp.model import Background

    machine = small_machine(nodes=2, cpus=2)
    base = scenario(sweep_workload(machine, size="16 MiB"), machine)
    assert background_line(base).startswith("background 'quiet': ")
    assert background_line(base, "sim,kernel").endswith("(on the kernel: the guest's own)")
    busy = background_line(dataclasses.replace(base, background="busy"), "kernel")
    assert busy.startswith("background 'busy': ") and "run by the executor" in busy
    mine = Background(name="mine", kthread_wakeups_per_s=0.0, daemons=0)
    assert background_line(dataclasses.replace(base, background=mine)) == \
        "background 'mine': nothing"


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
    monkeypatch.setattr(numaexp.comparison, "compare", refuse)
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
    monkeypatch.setattr(numaexp.cli_checks.os, "access", lambda path, mode: False)
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
    monkeypatch.setattr(numaexp.comparison, "compare", full)
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


def _small_run(tmp_path, out, *extra):
    machine = small_machine(nodes=2, cpus=2)
    path = tmp_path / "s.toml"
    if not path.exists():
        save_scenario(scenario(sweep_workload(machine, size="16 MiB", passes=50), machine), path)
    return main(["run", str(path), "--modes", "0,1", "--out", str(out), "--quiet", *extra])


def test_an_earlier_run_is_kept_unless_overwrite_is_given(tmp_path, capsys):
    out = tmp_path / "out"
    assert _small_run(tmp_path, out) == 0
    summary = (out / "tables" / "summary.csv").read_bytes()
    (out / "tables" / "summary.csv").write_text("earlier")
    capsys.readouterr()
    assert _small_run(tmp_path, out) == 2
    _one_error_line(capsys, "--out:", "holds an earlier run's tables and figures", "--overwrite")
    assert (out / "tables" / "summary.csv").read_text() == "earlier"
    assert _small_run(tmp_path, out, "--overwrite", "--no-plots") == 0
    assert (out / "tables" / "summary.csv").read_bytes() == summary
    assert not (out / "figures").exists()  # no stale figures beside the new tables
    assert sorted(p.name for p in out.iterdir()) == ["tables"]  # no staging left


def test_a_failed_write_keeps_the_earlier_output_and_rescues_the_results(tmp_path, capsys,
                                                                       monkeypatch):
    out = tmp_path / "out"
    assert _small_run(tmp_path, out, "--no-plots") == 0
    earlier = {p.name: p.read_bytes() for p in (out / "tables").iterdir()}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    real_save = numaexp.comparison.Comparison.save

    def save_unless_in_out(self, directory, *args, **kwargs):
        if out in directory.parents:
            real_save(self, directory, formats=("csv",))  # a first file lands, then the disk fills
            raise OSError(28, "No space left on device", str(directory / "summary.parquet"))
        return real_save(self, directory, *args, **kwargs)

    monkeypatch.setattr(numaexp.comparison.Comparison, "save", save_unless_in_out)
    capsys.readouterr()
    assert _small_run(tmp_path, out, "--overwrite") == 2
    _one_error_line(capsys, f"--out: cannot write {out}: No space left on device",
                    "the results were saved to")
    assert {p.name: p.read_bytes() for p in (out / "tables").iterdir()} == earlier
    assert sorted(p.name for p in out.iterdir()) == ["tables"]
    rescued, = (tmp_path / "tmp").glob("numaexp-rescue-*")
    assert (rescued / "tables" / "summary.parquet").stat().st_size > 0
    assert (rescued / "figures" / "counters.png").stat().st_size > 1000


def test_a_write_that_fails_everywhere_says_so_and_leaves_nothing(tmp_path, monkeypatch):
    from numaexp.errors import ScenarioError
    from numaexp.output_dir import write_output

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    def full(directory):
        (directory / "tables").mkdir()
        raise OSError(28, "No space left on device")

    with pytest.raises(ScenarioError, match=r"No space left on device; saving the results to "
                                            r".* failed too"):
        write_output(tmp_path / "out", ("tables",), full)
    assert list((tmp_path / "out").iterdir()) == [] and list((tmp_path / "tmp").iterdir()) == []
