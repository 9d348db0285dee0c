"""The command line: numaexp run / presets / show, and its error messages."""

from __future__ import annotations

from helpers import scenario, small_machine, sweep_workload

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
