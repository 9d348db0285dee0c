"""numaexp run answers: summary with speed-up and finished, --by cgroup, sentences, notices,
--baseline, --set, --duration, --formats with every figure; --version; show with defaults."""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

import bitid
import pandas as pd
import pytest

from numaexp.cli import main
from numaexp.model.toml_io import save_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_default(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "default.toml"
    save_scenario(bitid.preset_scenario("default"), path)
    return path


def test_run_prints_the_answers_and_writes_every_figure(small_default, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(small_default), "--out", str(out), "--quiet",
                 "--formats", "svg,pdf"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[1].startswith("background 'quiet': ")  # what runs besides the workload
    header = lines[2].split()
    assert header[:4] == ["label", "finished", "throughput_per_s", "speedup"]
    assert "elapsed_s" not in header  # a duration run: every run lasts the duration
    assert "pgpromote_success" in header  # mode 2 promoted
    assert "1.00x" in lines[3]
    sentences = [line for line in lines if line.startswith("mode ")]
    assert sentences[-4].startswith("mode 0: the baseline; NUMA balancing off")
    assert sentences[-1].startswith("mode 4: ") and sentences[-1].endswith("/batch untouched")
    assert not [line for line in lines if line.startswith("note:")]
    figures = {p.name for p in (out / "figures").iterdir()}
    for name in ("counters", "locality", "times", "difference", "pages_per_node",
                 "cgroup_counters", "placement", "scan_period", "memory_stat", "tiering"):
        assert {f"{name}.svg", f"{name}.pdf"} <= figures, name
    assert not any(name.endswith(".png") for name in figures)
    by_cgroup = pd.read_csv(out / "tables" / "summary_by_cgroup.csv")
    assert set(by_cgroup["cgroup"]) == {"/app", "/batch"}
    assert (out / "tables" / "sentences.txt").read_text().startswith("mode 0: the baseline")


def test_by_cgroup_baseline_set_and_duration(small_default, tmp_path, capsys):
    assert main(["run", str(small_default), "--modes", "1,4", "--by", "cgroup", "--baseline",
                 "mode 1", "--duration", "3", "--set",
                 'workload.cgroups["/app"].numa_load_balance=0', "--out", str(tmp_path / "o"),
                 "--no-plots", "--quiet"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[2].split()[:3] == ["label", "cgroup", "finished"]
    assert [line.split()[:3] for line in lines[3:7]] == [
        ["mode", "1", "/app"], ["mode", "1", "/batch"], ["mode", "4", "/app"],
        ["mode", "4", "/batch"]]
    assert "mode 1: the baseline" in text
    assert "mode 4 is identical to" not in text  # mode 4 differs from mode 1 ...
    assert "note: mode 4: mode 4 (CGROUP): no cgroup with threads has " \
           "cpu.numa_load_balance = 1" in text  # ... as nothing is enabled any more
    summary = pd.read_csv(tmp_path / "o" / "tables" / "summary.csv")
    assert summary["sim_s"].tolist() == [3.0, 3.0]


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "kernel.scan_delay_ms"], "--set: 'kernel.scan_delay_ms' is not PATH=VALUE"),
    (["--set", "kernel.nope=1"], "--set.kernel.nope"),
    (["--set", "kernel.scan_delay_ms=-5"], "scan_delay_ms"),
    (["--duration", "-1"], "--duration"),
    (["--formats", "png,gif"], "--formats: unknown format 'gif'"),
    (["--baseline", "mode 9"], "baseline: no run labelled 'mode 9'"),
])
def test_bad_options_are_refused_naming_them(small_default, tmp_path, capsys, args, message):
    code = main(["run", str(small_default), "--modes", "0", "--duration", "0.5",
                 "--out", str(tmp_path / "o"), "--quiet", *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_version_and_show_with_defaults(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("numaexp ")
    assert main(["show", "numa02"]) == 0
    full = capsys.readouterr().out
    assert "\nscan_delay_ms = 1000\n" in full and "\nhint_fault_ns = 1500.0\n" in full
    assert main(["show", "numa02", "--short"]) == 0
    short = capsys.readouterr().out
    assert "scan_delay_ms" not in short and len(short) < len(full)


def test_show_into_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    read, write = os.pipe()
    os.close(read)  # the reader (head) has gone: every write fails with EPIPE
    stream = os.fdopen(write, "w")
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        assert main(["show", "per_cgroup"]) == 141
    finally:
        monkeypatch.undo()
        stream.close()  # writes went to /dev/null after the broken pipe: no second error
    assert capsys.readouterr().err == ""


def _readme_runs() -> list[list[str]]:
    """Every ``numaexp run`` command of the README's shell blocks, as arguments."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:2] == ["numaexp", "run"]:
                commands.append(words[1:])
    return commands


def test_readme_run_commands_parse_and_each_has_its_own_out(monkeypatch):
    import numaexp.cli
    from numaexp.cli_checks import modes
    from numaexp.cli_report import apply_options, formats

    commands = _readme_runs()
    assert len(commands) >= 6
    outs = [words[words.index("--out") + 1] for words in commands if "--out" in words]
    assert len(outs) == len(commands) and len(set(outs)) == len(outs), outs
    checked = []

    def check(args):
        if args.scenario == "SCENARIO":  # the kernel backend's placeholder for a guest's file
            checked.append(args.scenario)
            return 0
        scenario = apply_options(numaexp.cli.load(args.scenario), args.set, args.duration)
        modes(args.modes)
        formats(args.formats)
        checked.append(scenario.name)
        return 0

    monkeypatch.setattr(numaexp.cli, "cmd_run", check)
    for words in commands:
        assert main(words) == 0, words
    assert len(checked) == len(commands)


@pytest.mark.slow  # the default scenario, four 30 s runs and every figure: about 10 s
def test_readme_quotes_what_make_run_prints(tmp_path, monkeypatch, capsys):
    """The README's block after "`make run` says so:" is what the Makefile's run recipe
    prints, verbatim."""
    recipe = re.search(r"^run: .*\n\t\$\(BIN\)/numaexp (.*)$", (ROOT / "Makefile").read_text(),
                       flags=re.M).group(1)
    quoted = re.search(r"`make run` says so:\n\n```\n(.*?)```", (ROOT / "README.md").read_text(),
                       flags=re.S).group(1)
    monkeypatch.chdir(tmp_path)
    assert main([*shlex.split(recipe), "--quiet"]) == 0
    assert capsys.readouterr().out == quoted
