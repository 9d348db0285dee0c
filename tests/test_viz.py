"""Plots (numaexp.viz): expected panels and series on small runs, sweep statistics, export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import small_machine

import numaexp
from numaexp import viz
from numaexp.model import (
    Action,
    Cgroup,
    MemPolicy,
    Phase,
    Process,
    Scenario,
    Stop,
    Thread,
    Vma,
    Workload,
)
from numaexp.model.machine import tiered
from numaexp.model.workload import Pattern
from numaexp.results import Result
from numaexp.viz.export import named_figures, named_frames
from numaexp.viz.placement import segments
from numaexp.viz.style import GIB_PER_PAGE, runs
from numaexp.viz.sweeps import summarize_sweep, t975
from numaexp.viz.timeseries import counter_rate

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def _two_jobs(machine) -> Workload:
    """Two cgroups; each process's memory is bound to its own node (with
    MPOL_F_NUMA_BALANCING: the threads can follow it, the pages cannot move), its threads
    start on the other node (cpuset), widened to the whole machine at 1 s."""
    return Workload(name="two_jobs", cgroups=tuple(
        Cgroup(f"/job{i}", cpus=tuple(machine.node_cpus(1 - i))) for i in range(2)),
        processes=tuple(
        Process(name=f"p{i}", cgroup=f"/job{i}", main_thread="sleeps",
                vmas=(Vma(name="buf", size="64 MiB",
                          policy=MemPolicy("bind", (i,), numa_balancing=True)),),
                threads=(Thread(name="w", count=4, phases=(Phase(patterns=(
                    Pattern(vma="buf", kind="uniform", write_fraction=0.5),), duration_s=12),)),))
        for i in range(2)))


@pytest.fixture(scope="module")
def comparison():
    machine = small_machine(nodes=2, cpus=4, memory="2 GiB")
    release = tuple(Action(at_s=1.0, kind="cpuset", cgroup=f"/job{i}",
                           cpus=tuple(range(machine.nr_cpus))) for i in range(2))
    base = Scenario(name="two_jobs", machine=machine, workload=_two_jobs(machine),
                    stop=Stop(kind="duration", duration_s=12), sample_interval_s=0.5,
                    actions=release)
    return numaexp.compare(base, modes=[0, 1], progress=False)


def _data_lines(ax):
    """The axes' data lines (not the unlabelled marks of actions and phase changes)."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def _visible(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_runs_accepts_result_comparison_and_dict(comparison):
    result = comparison.results["mode 1"]
    assert list(runs(result)) == ["mode 1"]
    assert list(runs(comparison)) == ["mode 0", "mode 1"]
    assert list(runs({"a": result})) == ["a"]
    with pytest.raises(TypeError, match="Result"):
        runs(42)
    with pytest.raises(ValueError, match="no runs"):
        runs({})


def test_counters_one_panel_per_counter_one_line_per_run(comparison):
    counters = ["numa_pte_updates", "numa_hint_faults", "numa_pages_migrated"]
    fig = viz.plot_counters(comparison, counters)
    axes = _visible(fig)
    assert [ax.get_title() for ax in axes] == counters
    ts = comparison.results["mode 1"].timeseries
    for ax, counter in zip(axes, counters, strict=True):
        assert [line.get_label() for line in _data_lines(ax)] == ["mode 0", "mode 1"]
        np.testing.assert_array_equal(_data_lines(ax)[1].get_ydata(), ts[counter])
        assert "(cumulative)" in ax.get_ylabel()
    assert axes[0].get_ylabel() == "PTEs (cumulative)"
    assert fig.get_label() == "counters"
    rate = viz.plot_counters(comparison, ["numa_hint_faults"], rate=True)
    assert _visible(rate)[0].get_ylabel() == "faults per s"
    with pytest.raises(ValueError, match="no column 'nope'"):
        viz.plot_counters(comparison, ["nope"])


def test_counter_rate_is_per_second_between_samples():
    rate = counter_rate(np.array([0.0, 0.5, 1.5]), np.array([0, 10, 40]))
    assert np.isnan(rate[0])
    np.testing.assert_allclose(rate[1:], [20.0, 30.0])


def test_locality_one_panel_per_run_with_mean_line_and_band(comparison):
    fig = viz.plot_locality(comparison)
    axes = _visible(fig)
    assert [ax.get_title() for ax in axes] == ["mode 0", "mode 1"]
    assert len(axes[0].collections) == 1  # the band
    tts = comparison.results["mode 1"].task_timeseries
    expected = 100 * tts[tts["alive"]].groupby("time_s")["locality"].mean()
    mine = [line for line in axes[1].get_lines() if line.get_label() == "mode 1 (mean)"]
    np.testing.assert_allclose(mine[0].get_ydata(), expected.to_numpy())
    assert any(line.get_label() == "mode 0 (mean)" for line in axes[1].get_lines())  # baseline
    assert "%" in axes[0].get_ylabel()


def test_scan_period_one_panel_per_run_one_line_per_task(comparison):
    fig = viz.plot_scan_period(comparison)
    axes = _visible(fig)
    assert [ax.get_title() for ax in axes] == ["mode 0", "mode 1"]
    assert all(sum(line.get_drawstyle() == "steps-post" for line in ax.get_lines()) == 8
               for ax in axes)  # one step line per task, beside the action marks
    assert axes[0].get_ylabel() == "scan period (ms)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["p0", "p1"]


def test_pages_per_node_stacks_nodes_per_cgroup_and_run(comparison):
    fig = viz.plot_pages_per_node(comparison)
    axes = _visible(fig)
    assert len(axes) == 4  # cgroups /job0 and /job1 (root holds no pages) x 2 runs
    assert axes[0].get_title() == "/job0\nmode 0"
    polys = axes[0].collections
    assert len(polys) == 2  # one area per node
    top = polys[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(64 / 1024)  # 64 MiB in GiB on top of the stack
    with pytest.raises(ValueError, match="unknown cgroup"):
        viz.plot_pages_per_node(comparison, cgroups=["/nope"])
    assert len(_visible(viz.plot_pages_per_node(comparison, cgroups=["/job1"]))) == 2


def test_memory_stat_bars_match_the_frame(comparison):
    fig = viz.plot_memory_stat(comparison, ["numa_pages_migrated", "numa_task_swapped"])
    axes = _visible(fig)
    ms = comparison.results["mode 1"].memory_stat.set_index("cgroup")
    cgroups = [cg for cg in ms.index if cg != "/"]
    assert len(axes) == 2 * len(cgroups)  # a row per counter, a column per cgroup
    assert [ax.get_title() for ax in axes[: len(cgroups)]] == cgroups
    assert [ax.get_ylabel() for ax in axes[:: len(cgroups)]] == ["numa_pages_migrated",
                                                                  "numa_task_swapped"]
    for ax, cgroup in zip(axes, cgroups, strict=False):
        widths = [bar.get_width() for bar in ax.patches]
        assert widths == [0, ms.loc[cgroup, "numa_pages_migrated"]]  # mode 0, mode 1


def test_times_bars_are_the_totals(comparison):
    fig = viz.plot_times(comparison)
    axes = _visible(fig)
    # duration runs all last the duration: throughput instead of elapsed
    assert [ax.get_title() for ax in axes] == ["user", "system", "throughput"]
    for ax, metric in zip(axes, ("user_s", "system_s", "throughput_per_s"), strict=True):
        expected = [r.times.query("level == 'total'")[metric].item()
                    for r in comparison.results.values()]
        assert [bar.get_width() for bar in ax.patches] == pytest.approx(expected)
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["mode 0", "mode 1"]
    per_cgroup = viz.plot_times(comparison, level="cgroup")
    assert [ax.get_ylabel() for ax in _visible(per_cgroup)[::3]] == ["/job0", "/job1"]
    with pytest.raises(ValueError, match="level"):
        viz.plot_times(comparison, level="node")


def test_placement_draws_nodes_and_marks_moves_and_swaps(comparison):
    result = comparison.results["mode 1"]
    events = result.events
    swaps = int((events["event"] == "sched_swap_numa").sum())
    moves = int((events["event"] == "sched_move_numa").sum())
    assert swaps + moves > 0, "the fixture should make NUMA balancing move tasks"
    fig = viz.plot_placement(comparison)
    axes = _visible(fig)
    assert len(axes) == 2
    ax = axes[1]
    assert len(ax.get_yticks()) == 8
    markers = {c.get_label(): len(c.get_offsets()) for c in ax.collections
               if c.get_label().startswith(("move", "swap"))}
    assert markers.get("swap (sched_swap_numa)", 0) == 2 * swaps  # both tasks of a swap
    assert markers.get("move (sched_move_numa)", 0) == moves
    assert swaps == result.vmstat["numa_task_swapped"].item() / 2


def test_segments_split_on_node_changes_and_exit():
    runs_ = segments(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 1, 1, 1]),
                     np.array([True, True, True, False, False]))
    assert runs_ == [(0.0, 2.0, 0), (2.0, 1.0, 1)]


def _tiered_result(timeseries: pd.DataFrame) -> Result:
    machine = tiered(dram_nodes=1, slow_nodes=1, cpus_per_node=2, dram_per_node="1 GiB",
                     slow_per_node="3 GiB")
    workload = Workload(name="w", processes=(Process(name="p", vmas=(Vma(name="v", size="1 MiB"),),
                                                     threads=(Thread(name="t", phases=(
                                                         Phase(patterns=(Pattern(vma="v"),),
                                                               touches=10),)),)),))
    scenario = Scenario(name="tiered", machine=machine, workload=workload)
    return Result(scenario=scenario, frames={"timeseries": timeseries}, meta={"mode": 2})


def _tiering_frame() -> pd.DataFrame:
    gib = int(1 / GIB_PER_PAGE)
    return pd.DataFrame({
        "time_s": [0.0, 1.0, 2.0],
        "pgpromote_success_N0": [0, 2560, 2560],  # 10 MiB into N0 in the first second
        "free_pages_N0": [gib, gib // 2, 0],
        "free_pages_N1": [3 * gib, 3 * gib - gib // 2, 2 * gib],
        "hot_threshold_ms_N0": [1000, 500, 250],
    })


def test_tiering_plot_on_a_synthetic_run():
    fig = viz.plot_tiering({"mode 2": _tiered_result(_tiering_frame())})
    rate_ax, th_ax, access_ax, share_ax = _visible(fig)
    rate = rate_ax.get_lines()[0].get_ydata()
    assert rate[1] == pytest.approx(2560 * 4096 / 1e6) and rate[2] == 0  # MB/s, as the limit
    assert rate_ax.get_title() == "Promotions into N0" and "MB/s" in rate_ax.get_ylabel()
    np.testing.assert_array_equal(th_ax.get_lines()[0].get_ydata(), [1000, 500, 250])
    # used: N0 0 -> 0.5 -> 1 GiB; N1 0 -> 0.5 -> 1 GiB
    share = share_ax.get_lines()[0].get_ydata()
    assert np.isnan(share[0]) and share[1:] == pytest.approx([50.0, 50.0])
    assert "ms" in th_ax.get_ylabel() and "accesses" in access_ax.get_ylabel()
    assert "65,536 MB/s per top-tier node" in fig.get_suptitle()


def test_tiering_plot_on_one_tier_says_why_it_is_empty(comparison):
    fig = viz.plot_tiering(comparison)
    (ax,) = _visible(fig)
    assert "no run has a lower memory tier" in ax.texts[0].get_text()
    assert not ax.get_lines()


@pytest.mark.parametrize("missing", ["pgpromote_success_N0", "free_pages_N1",
                                     "hot_threshold_ms_N0"])
def test_tiering_plot_names_a_missing_column(missing):
    frame = _tiering_frame().drop(columns=[missing])
    with pytest.raises(ValueError, match=f"no column '{missing}'"):
        viz.plot_tiering(_tiered_result(frame))


def test_t_quantiles():
    assert t975(1) == 12.706 and t975(4) == 2.776
    for df, expected in ((11, 2.201), (20, 2.086), (30, 2.042), (120, 1.980)):
        assert t975(df) == pytest.approx(expected, abs=1e-3)
    with pytest.raises(ValueError):
        t975(0)


def _sweep_frame() -> pd.DataFrame:
    rows = []
    for a in (1, 2, 4):
        for b in ("x", "y"):
            for seed, noise in enumerate((-1.0, 0.0, 1.0)):
                rows.append({"a": a, "b": b, "seed": seed, "m": 10 * a + noise + (b == "y")})
    return pd.DataFrame(rows)


def test_summarize_sweep_mean_and_t_interval():
    stats = summarize_sweep(_sweep_frame(), ["b", "a"], "m")
    row = stats[(stats["a"] == 2) & (stats["b"] == "x")].iloc[0]
    assert row["mean"] == 20 and row["n"] == 3
    half = t975(2) * 1.0 / np.sqrt(3)  # sample std of -1, 0, 1 is 1
    assert row["ci_low"] == pytest.approx(20 - half) and row["ci_high"] == pytest.approx(20 + half)
    single = summarize_sweep(_sweep_frame().query("seed == 0 and b == 'x'"), "a", "m")
    assert single["ci_low"].isna().all()


def test_sweep_lines_per_hue_with_bands():
    fig = viz.plot_sweep(_sweep_frame(), "a", ["m"], hue="b", logx=True)
    (ax,) = _visible(fig)
    assert [line.get_label() for line in ax.get_lines()] == ["x", "y"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [11, 21, 41])
    assert len(ax.collections) == 2 and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "4"]
    with pytest.raises(ValueError, match="no column 'nope'"):
        viz.plot_sweep(_sweep_frame(), "a", "nope")


def test_sweep_heatmap_grid_with_unfinished_cells_blank():
    frame = _sweep_frame().query("not (a == 4 and b == 'y')")
    fig = viz.plot_sweep_heatmap(frame, "a", "b", "m")
    ax = _visible(fig)[0]
    grid = ax.get_images()[0].get_array()
    assert grid.shape == (2, 3)
    assert grid[0].tolist() == [10, 20, 40] and grid.mask[1, 2]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]


def test_export_writes_valid_figures_and_tables(comparison, tmp_path):
    figures = [viz.plot_counters(comparison), viz.plot_times(comparison)]
    written = viz.export(figures, comparison, tmp_path)
    for name in ("counters", "times"):
        assert (tmp_path / "figures" / f"{name}.png").read_bytes().startswith(MAGIC["png"])
        assert (tmp_path / "figures" / f"{name}.pdf").read_bytes().startswith(MAGIC["pdf"])
        assert b"<svg" in (tmp_path / "figures" / f"{name}.svg").read_bytes()[:2000]
    summary = pd.read_parquet(tmp_path / "tables" / "summary.parquet")
    assert list(summary["label"]) == ["mode 0", "mode 1"]
    events = pd.read_csv(tmp_path / "tables" / "events.csv")
    assert set(events["label"]) <= {"mode 0", "mode 1"}
    assert (tmp_path / "tables" / "task_timeseries.parquet").exists()
    assert all(p.exists() for p in written) and len(written) == 6 + 2 * (1 + 9)
    assert not figures[0].axes  # closed (cleared) after export


def test_export_names_and_formats(comparison, tmp_path):
    result = comparison.results["mode 1"]
    figs = named_figures([viz.plot_locality(result), viz.plot_locality(result)])
    assert list(figs) == ["locality", "locality-2"]
    assert list(named_frames(result)) == list(result.frames)
    frame = pd.DataFrame({"x": [1, 2]})
    assert list(named_frames(frame)) == ["table"]
    written = viz.export({"mine": viz.plot_locality(result)}, {"t": frame}, tmp_path,
                         formats=("png",), table_formats=("csv",), close=False)
    assert sorted(p.name for p in written) == ["mine.png", "t.csv"]
    with pytest.raises(ValueError, match="unknown table format"):
        viz.export(None, frame, tmp_path, table_formats=("xlsx",))
    with pytest.raises(TypeError, match="expected frames"):
        named_frames(42)


def test_figures_show_themselves_in_notebooks(comparison):
    assert viz.plot_locality(comparison)._repr_png_().startswith(MAGIC["png"])
