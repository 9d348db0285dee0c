"""Summary figures and table of a sweep frame (synthetic frames, no simulation)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from numaexp.sweep.plots import mean_table, summary_figures


def frame(parameters: dict, repeats: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for values in itertools.product(*parameters.values()):
        for repeat in range(repeats):
            rows.append({**dict(zip(parameters, values, strict=True)), "repeat": repeat,
                         "status": "ok",
                         "system_s": float(sum(v for v in values if not isinstance(v, str)))
                         + rng.normal(),
                         "numa_hint_faults": int(rng.integers(100))})
    return pd.DataFrame(rows)


def test_one_figure_per_varying_parameter_and_a_heatmap_for_two():
    data = frame({"kernel.scan_size_mb": [64, 256], "kernel.scan_period_min_ms": [100, 1000]})
    figures = summary_figures(data, ["kernel.scan_size_mb", "kernel.scan_period_min_ms"],
                              ["system_s", "numa_hint_faults"])
    assert sorted(figures) == ["heatmap", "sweep_kernel_scan_period_min_ms",
                               "sweep_kernel_scan_size_mb"]
    sweep = figures["sweep_kernel_scan_period_min_ms"]
    assert len([ax for ax in sweep.axes if ax.get_visible()]) == 2
    assert sweep.axes[0].get_xscale() == "log"  # 100 .. 1000 ms
    assert figures["sweep_kernel_scan_size_mb"].axes[0].get_xscale() == "linear"
    assert sweep.axes[0].get_legend() is None  # one legend for the figure, beside the panels
    (legend,) = sweep.legends
    assert legend.get_title().get_text() == "kernel.scan_size_mb"


def test_three_parameters_share_one_legend_and_single_values_are_not_plotted():
    data = frame({"a": [1, 2], "b": [3, 4], "c": [5, 6], "d": [7]}, repeats=1)
    figures = summary_figures(data, ["a", "b", "c", "d"], ["system_s"])
    assert sorted(figures) == ["sweep_a", "sweep_b", "sweep_c"]
    (legend,) = figures["sweep_a"].legends
    assert legend.get_title().get_text() == "b, c"
    assert [t.get_text() for t in legend.get_texts()] == ["b=3, c=5", "b=3, c=6", "b=4, c=5",
                                                          "b=4, c=6"]


def test_failed_points_are_left_out():
    data = frame({"a": [1, 2]})
    data.loc[data["a"] == 2, "status"] = "error"
    assert summary_figures(data, ["a"], ["system_s"]) == {}  # one value left: nothing varies
    data["status"] = "error"
    assert summary_figures(data.drop(columns=["system_s"]), ["a"], ["system_s"]) == {}
    with pytest.raises(ValueError, match="no column 'nope'"):
        summary_figures(frame({"a": [1, 2]}), ["a"], ["nope"])


def test_mean_table_averages_over_repeats():
    data = frame({"a": [1, 2], "b": [10]})
    data.loc[0, "status"] = "error"
    table = mean_table(data, ["a", "b"], ["system_s"])
    assert list(table.columns) == ["a", "b", "system_s", "runs"]
    assert list(table["runs"]) == [2, 3]
    expected = data[(data["status"] == "ok") & (data["a"] == 2)]["system_s"].mean()
    assert table.loc[1, "system_s"] == pytest.approx(expected)
    assert mean_table(data, [], ["system_s"])["runs"].tolist() == [5]


def test_categorical_parameters_are_points_not_lines_and_bands_stay_in_range():
    from numaexp.viz import plot_sweep

    data = frame({"kernel.numa_balancing": [0, 1, 4], "kernel.variant": ["rfc-v1", "rfc-v2"]})
    data["local_access_pct"] = [99.0, 10.0, 99.0] * 6  # a wide spread near 100 %
    fig = plot_sweep(data, "kernel.numa_balancing", ["system_s", "local_access_pct"],
                     hue="kernel.variant")
    ax = fig.axes[0]
    assert not [line for line in ax.get_lines() if len(line.get_xdata()) > 1
                and line.get_linestyle() not in ("None", "")]  # no line joins the modes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "4"]
    caps = [line.get_ydata() for line in fig.axes[1].get_lines()
            if len(line.get_ydata()) and line.get_marker() not in ("o", "None")]
    assert max(max(c) for c in caps) <= 100.0
    text = plot_sweep(data, "kernel.variant", ["system_s"])
    assert [t.get_text() for t in text.axes[0].get_xticklabels()] == ["rfc-v1", "rfc-v2"]


def test_paired_differences_use_the_same_seed_index():
    from numaexp.viz.sweeps import paired_differences

    data = frame({"a": [1, 2]}, repeats=3)
    diff = paired_differences(data, "a", "system_s", 1)
    base = data[data["a"] == 1].set_index("repeat")["system_s"]
    two = data[data["a"] == 2].set_index("repeat")["system_s"]
    assert diff["system_s"].tolist() == pytest.approx((two - base).tolist())
