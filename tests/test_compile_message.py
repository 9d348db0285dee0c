"""Compile honesty: a first run says it compiles, with its own progress, and the README and
notebook 01 give the same measured figure as the message."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bitid
from helpers import scenario, small_machine, sweep_workload

import numaexp
import numaexp.warmup as warmup

ROOT = Path(__file__).resolve().parents[1]


def test_a_first_run_says_it_compiles_before_its_own_progress(monkeypatch, capsys):
    monkeypatch.setattr(warmup, "kernels_cached", lambda: False)  # as in a fresh environment
    said = []
    numaexp.simulate(bitid.preset_scenario("numa02"), progress=True,
                     on_compile=lambda message, share: said.append((message, share)))
    err = capsys.readouterr().err
    assert "compiling simulator kernels (first run only, about 3 min)" in err
    assert said[-1][1] == 1.0 and said[-1][0].startswith("compiled the simulator kernels in")
    monkeypatch.undo()
    assert warmup.kernels_cached()  # this suite's kernels are compiled: no message then
    numaexp.simulate(bitid.preset_scenario("numa02"), progress=True)
    assert "compiling" not in capsys.readouterr().err


def test_a_first_sweep_says_it_compiles_before_its_points_bar(monkeypatch, capsys):
    machine = small_machine(nodes=2, cpus=2)
    spec = numaexp.SweepSpec(scenario(sweep_workload(machine, size="16 MiB"), machine,
                                      duration=0.5),
                             product={"kernel.scan_size_mb": [64, 128]}, name="tiny")
    monkeypatch.setattr(warmup, "kernels_cached", lambda: False)  # as in a fresh environment
    with ThreadPoolExecutor(1) as pool:  # points in this process: simulate's own warm-ups
        assert len(numaexp.sweep(spec, executor=pool, progress=True)) == 2  # show no bar
    err = capsys.readouterr().err
    assert warmup.COMPILE_MESSAGE in err and "tiny:" in err
    assert err.index(warmup.COMPILE_MESSAGE) < err.index("tiny:")  # before the points' bar
    monkeypatch.undo()
    with ThreadPoolExecutor(1) as pool:
        numaexp.sweep(spec, executor=pool, progress=True)
    assert "compiling" not in capsys.readouterr().err


def test_readme_and_notebook_01_give_the_measured_figure_of_the_message():
    figure = f"about {warmup.COMPILE_MINUTES} min"
    assert figure in warmup.COMPILE_MESSAGE
    readme = (ROOT / "README.md").read_text()
    book = json.loads((ROOT / "notebooks" / "01-quickstart.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in book["cells"])
    for where in (readme, text):
        assert f"{figure}utes; {warmup.COMPILE_MEASURED}" in " ".join(where.split())
    assert "a minute or two" not in text and "four to five minutes" not in readme


def test_the_sweep_widget_says_it_compiles_in_its_status(monkeypatch):
    from numaexp.widgets import SweepModel, SweepParameter, SweepSettings

    monkeypatch.setattr(warmup, "kernels_cached", lambda: False)  # as in a fresh environment
    model = SweepModel(bitid.preset_scenario("numa02"), SweepSettings(
        parameters=[SweepParameter("kernel.scan_size_mb", (64, 128))], seeds=1,
        metrics=("numa_hint_faults",)))
    messages = []
    model.observe(lambda m, changed: messages.append(m.message) if "message" in changed else None)
    model.run(blocking=True)
    assert model.status == "done", model.message
    said = [m for m in messages if m.startswith("Compil")]
    assert said and said[0].startswith("Compiling simulator kernels (first run only")
    assert messages.index(said[0]) < messages.index(next(m for m in messages
                                                         if m.startswith("Point 2 of 2")))
