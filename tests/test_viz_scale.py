"""Plots that scale and explain: nine runs stay apart, legends off the data, identical runs
named, actions marked, difference and per-cgroup views, the figures that apply."""

from __future__ import annotations

import dataclasses

import bitid
import numpy as np
import pytest

import numaexp
from numaexp import viz
from numaexp.viz.marks import PHASE_COLOR
from numaexp.viz.style import RUN_PALETTE, line_style


@pytest.fixture(scope="module")
def nine():
    """per_cgroup made small: modes 0, 1, 4 x rfc-v1, rfc-v2, hierarchical (an action at 1 s)."""
    scenario = bitid.preset_scenario("per_cgroup")
    return numaexp.compare(scenario, modes=[0, 1, 4],
                           variants=["rfc-v1", "rfc-v2", "hierarchical"], progress=False)


def _visible(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_twelve_runs_have_distinct_colours_and_every_pair_differs_up_to_48():
    colours = [line_style(i)["color"] for i in range(12)]
    assert len(set(colours)) == 12 == len(RUN_PALETTE)
    looks = [tuple(line_style(i).values()) for i in range(48)]
    assert len(set(looks)) == 48
    assert len({line_style(i)["linestyle"] for i in range(4)}) == 4


def test_nine_runs_each_have_their_own_line_and_the_legend_is_off_the_data(nine):
    fig = viz.plot_counters(nine)
    fig.draw_without_rendering()  # lays the figure out as saving it does
    axes = _visible(fig)
    looks = {(line.get_color(), line.get_linestyle()) for line in axes[0].get_lines()
             if not line.get_label().startswith("_")}
    assert len(looks) == 9
    (legend,) = fig.legends
    box = legend.get_window_extent()
    for ax in axes:
        assert not box.overlaps(ax.get_window_extent()), ax.get_title()


def test_identical_runs_are_said_to_be_identical(nine):
    fig = viz.plot_counters(nine)
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "mode 0 rfc-v2 (= mode 0 rfc-v1)" in names
    assert "mode 1 hierarchical (= mode 1 rfc-v1)" in names
    assert "mode 4 hierarchical" in names  # it differs: a parent at 0 switches /other/late off
    foot = fig._supxlabel.get_text()
    assert "identical runs, drawn on top of each other" in foot
    assert "mode 0 rfc-v2 = mode 0 rfc-v1" in foot


def test_actions_are_marked_on_every_time_axis(nine):
    action = bitid.preset_scenario("per_cgroup").actions[0]
    for name in ("counters", "locality", "scan_period", "cgroup_counters", "placement"):
        fig = viz.draw(nine, [name])[name]
        for ax in _visible(fig):
            xs = [line.get_xdata()[0] for line in ax.get_lines()
                  if line.get_color() == "#D55E00" and len(line.get_xdata()) == 2
                  and line.get_xdata()[0] == line.get_xdata()[1]]
            assert action.at_s in xs, (name, ax.get_title())
        assert "run-time actions (1 s: /other/late cpu.numa_load_balance=1" in \
            fig._supxlabel.get_text()


@pytest.fixture(scope="module")
def moving():
    """gups_moving_hotset made small, modes 0 and 2: the hot set moves at half time (1.25 s)."""
    return numaexp.compare(bitid.preset_scenario("gups_moving_hotset"), modes=[0, 2],
                           progress=False)


def test_phase_changes_are_marked_on_every_time_axis(moving):
    events = next(iter(moving.results.values())).frames["events"]
    phases = events.loc[events["event"] == "phase", "time_s"]
    moved = sorted({float(t) for t in phases if t > 1.0})  # not the start's zero-fill end
    assert moved == [pytest.approx(1.25, abs=0.05)]
    drawn = ("counters", "locality", "difference", "pages_per_node", "cgroup_counters",
             "placement", "scan_period", "tiering")
    assert set(drawn) - {"cgroup_counters"} <= set(viz.applicable(moving))
    for name in drawn:
        fig = viz.draw(moving, [name])[name]
        time_axes = [ax for ax in _visible(fig) if ax.get_title() != "Whole run"]  # bars
        assert time_axes, name
        for ax in time_axes:
            xs = [line.get_xdata()[0] for line in ax.get_lines()
                  if line.get_color() == PHASE_COLOR and line.get_linestyle() == ":"
                  and len(line.get_xdata()) == 2
                  and line.get_xdata()[0] == line.get_xdata()[1]]
            assert moved[0] in xs, (name, ax.get_title())
        assert "dotted: phase changes" in fig._supxlabel.get_text(), name


def test_difference_view_bars_are_the_speedups(nine):
    fig = viz.plot_difference(nine, baseline="mode 0 rfc-v1")
    bars_ax = next(ax for ax in _visible(fig) if ax.get_title() == "Whole run")
    summary = nine.summary("mode 0 rfc-v1").set_index("label")
    others = [label for label in nine.results if label != "mode 0 rfc-v1"]
    expected = [(summary.loc[label, "speedup"] - 1) * 100 for label in others]
    assert [bar.get_width() for bar in bars_ax.patches] == pytest.approx(expected)
    with pytest.raises(numaexp.ScenarioError, match="baseline"):
        viz.plot_difference(nine, baseline="mode 9")


def test_cgroup_counters_plot_one_column_per_cgroup(nine):
    fig = viz.plot_cgroup_counters(nine)
    axes = _visible(fig)
    titles = [ax.get_title() for ax in axes if ax.get_title()]
    assert titles == ["/mytest", "/other", "/other/late"]
    frame = nine.results["mode 4 hierarchical"].cgroup_counters()
    late = frame[frame["cgroup"] == "/other/late"]
    line = next(ln for ln in axes[2].get_lines() if ln.get_label() == "mode 4 hierarchical")
    np.testing.assert_array_equal(line.get_ydata(), late["numa_scans"].to_numpy())
    assert late["numa_scans"].max() == 0  # a parent at 0 switches it off
    mine = frame[frame["cgroup"] == "/mytest"]
    assert mine["numa_scans"].max() > 0


def test_the_figures_that_apply():
    one = numaexp.compare(bitid.preset_scenario("numa02"), modes=[0], progress=False)
    assert viz.applicable(one) == ["counters", "locality", "times", "system_time",
                                   "pages_per_node", "placement", "scan_period", "memory_stat"]
    tiered = numaexp.compare(bitid.preset_scenario("default"), modes=[0, 2], progress=False)
    names = viz.applicable(tiered)
    assert {"difference", "cgroup_counters", "tiering"} <= set(names)
    with pytest.raises(ValueError, match="unknown figure"):
        viz.draw(one, ["nope"])


def test_memory_stat_grows_in_height_not_width_with_runs(nine):
    few = numaexp.Comparison(results=dict(list(nine.results.items())[:2]),
                             settings=nine.settings.iloc[:2])
    small, large = viz.plot_memory_stat(few), viz.plot_memory_stat(nine)
    assert large.get_figwidth() == small.get_figwidth()
    assert large.get_figheight() > small.get_figheight()


def test_placement_height_is_bounded(nine):
    scenario = dataclasses.replace(bitid.preset_scenario("numa02"))
    many = numaexp.compare(scenario, modes=[0, 1], variants=["rfc-v1", "rfc-v2", "hierarchical",
                                                             "mainline"], progress=False)
    fig = viz.plot_placement(many)
    assert fig.get_figheight() <= 12
