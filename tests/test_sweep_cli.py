"""numaexp sweep SPEC.toml --out DIR [--workers N | --scheduler ADDR] [--resume]."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import scenario, small_machine, sweep_workload

from numaexp.cli import main
from numaexp.model.toml_io import save_scenario


@pytest.fixture
def spec_file(tmp_path):
    machine = small_machine(nodes=2, cpus=2)
    save_scenario(scenario(sweep_workload(machine, size="32 MiB", passes=1e6,
                                          first_touch_node=0), machine, duration=2.0),
                  tmp_path / "base.toml")
    path = tmp_path / "spec.toml"
    path.write_text('name = "cli"\nrepeats = 2\nmetrics = ["system_s", "numa_pages_migrated"]\n'
                    '[base]\nfile = "base.toml"\n'
                    '[product]\n"kernel.scan_size_mb" = [4, 64]\n'
                    '"kernel.numa_balancing" = [0, 1]\n')
    return path


def test_sweep_writes_store_summary_and_figures_and_resumes(spec_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(spec_file), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "sweep: cli (8 of 8 points)" in printed and "numa_pages_migrated" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 8 and (summary["status"] == "ok").all()
    assert pd.read_parquet(out / "summary.parquet")["key"].tolist() == summary["key"].tolist()
    assert sorted(p.stem for p in (out / "store").glob("*.parquet")) == sorted(summary["key"])
    for name in ("sweep_kernel_scan_size_mb", "sweep_kernel_numa_balancing", "heatmap"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "store").iterdir()}

    assert main(["sweep", str(spec_file), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numaexp: error: --out: ") and "--resume" in err
    assert main(["sweep", str(spec_file), "--out", str(out), "--resume", "--quiet",
                 "--no-plots"]) == 0
    assert "8 of 8 points" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in (out / "store").iterdir()} == stamps


def test_sweep_errors_are_one_line(spec_file, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "numa02"\n[product]\n"kernel.scan_size" = [1]\n')
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numaexp: error: kernel.scan_size: KernelConfig has no field")
    assert len(err.splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["sweep", str(spec_file), "--out", str(tmp_path), "--workers", "2",
              "--scheduler", "tcp://127.0.0.1:8786"])
