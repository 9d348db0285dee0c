"""Cost plots (numaexp.viz.costs) on synthetic times and sweep frames: no simulation runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from numaexp import viz
from numaexp.readout import FRAMES, STOLEN_S, SYSTEM_TIME_SPECS
from numaexp.results import Result
from numaexp.sweep import SweepSpec
from numaexp.viz.costs import (
    account_label,
    overhead_per_fault,
    thread_column,
    throughput_loss,
)

ACCOUNTS = [name for name, _, _ in SYSTEM_TIME_SPECS]
THREADS = 'workload.processes["numa02"].threads[0].count'


def _times(scale: float, kernel: bool = False, zero: bool = False) -> pd.DataFrame:
    """A times frame: one task per cgroup /a and /b, their cgroup rows and the total.

    Account ``k`` of a task holds ``scale * (k + 1)`` ms, stolen ``scale * 20`` ms; the
    kernel backend's breakdown columns are NaN.
    """
    columns = [c.name for c in FRAMES["times"].columns]
    accounts = {name: 0.0 if zero else scale * (k + 1) * 1e-3 for k, name in enumerate(ACCOUNTS)}
    task = {**accounts, STOLEN_S.name: 0.0 if zero else scale * 20e-3}
    task["system_s"] = sum(accounts.values())
    task["autonuma_cost_s"] = sum(accounts[n] for n, _, autonuma in SYSTEM_TIME_SPECS if autonuma)
    if kernel:
        task.update({name: np.nan for name in [*ACCOUNTS, STOLEN_S.name, "autonuma_cost_s"]})
    rows = []
    for level, cgroup, n in (("task", "/a", 1), ("task", "/b", 1), ("cgroup", "/a", 1),
                             ("cgroup", "/b", 1), ("total", "", 2)):
        row = dict.fromkeys(columns, 0)
        row.update({k: v * n for k, v in task.items()}, level=level, cgroup=cgroup,
                   process="p", thread="p.0", pid=1)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _result(times: pd.DataFrame, mode: int) -> Result:
    return Result(scenario=None, meta={"mode": mode},
                  frames={"times": times, "task_timeseries": pd.DataFrame({"cgroup": ["/a"]})})


def _segments(ax):
    """``(label, container)`` of the panel's bars, in drawing order."""
    return [(c.get_label(), c) for c in ax.containers]


def _texts(fig) -> str:
    return "\n".join([fig.get_supxlabel(), *(t.get_text() for ax in fig.axes for t in ax.texts)])


def test_accounts_stack_in_readout_order_then_stolen():
    source = {"mode 0": _result(_times(1.0), 0), "mode 1": _result(_times(3.0), 1)}
    fig = viz.plot_system_time(source)
    (ax,) = fig.axes
    segments = _segments(ax)
    marks = [" *" if autonuma else "" for _, _, autonuma in SYSTEM_TIME_SPECS]
    assert [label for label, _ in segments] == [
        *(account_label(n) + m for n, m in zip(ACCOUNTS, marks, strict=True)),
        "stolen (not system time)"]
    assert account_label("hint_fault_s") == "hint fault"
    left = np.zeros(2)
    for k, (_, bars) in enumerate(segments[:-1]):  # totals: two tasks of scale * (k + 1) ms
        widths = [p.get_width() for p in bars.patches]
        assert widths == pytest.approx([2e-3 * (k + 1), 6e-3 * (k + 1)])
        assert [p.get_x() for p in bars.patches] == pytest.approx(left)
        left += widths
    assert left == pytest.approx(source["mode 1"].times["system_s"].iloc[-1] * np.array([1 / 3, 1]))
    stolen = segments[-1][1]
    assert [p.get_x() for p in stolen.patches] == pytest.approx(left)
    assert [p.get_width() for p in stolen.patches] == pytest.approx([0.04, 0.12])
    assert all(p.get_hatch() for p in stolen.patches)
    colours = {tuple(bars.patches[0].get_facecolor()) for _, bars in segments[:-1]}
    assert len(colours) == len(ACCOUNTS)  # one colour per account
    cost = [source[label].times["autonuma_cost_s"].iloc[-1] for label in source]
    assert [t.get_text() for t in ax.texts] == [f"AutoNUMA {c:.3g} s" for c in cost]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [label for label, _ in segments]
    assert "autonuma_cost_s" in fig.get_supxlabel() and fig.get_label() == "system_time"
    assert ax.get_xlim() == pytest.approx((0.0, 1.3 * (left[1] + 0.12)))  # room for the labels


def test_one_panel_per_cgroup():
    fig = viz.plot_system_time(_result(_times(1.0), 1), level="cgroup")
    assert [ax.get_ylabel() for ax in fig.axes] == ["/a", "/b"]
    assert fig.get_label() == "system_time_per_cgroup"
    first = fig.axes[0].containers[0].patches[0]
    assert first.get_width() == pytest.approx(1e-3)  # a cgroup row: one task's account
    with pytest.raises(ValueError, match="level"):
        viz.plot_system_time(_result(_times(1.0), 1), level="task")


def test_no_system_time_says_so():
    source = {"mode 0": _result(_times(1.0, zero=True), 0),
              "mode 1": _result(_times(1.0, zero=True), 1)}
    for level in ("total", "cgroup"):
        fig = viz.plot_system_time(source, level=level)
        (ax,) = fig.axes
        assert not ax.containers
        assert "no system time in any run" in ax.texts[0].get_text()


def test_kernel_runs_draw_system_time_alone_with_a_note():
    kernel = _times(1.0, kernel=True)
    kernel["system_s"] = 0.5
    source = {"mode 1": _result(_times(1.0), 1), "mode 1 kernel": _result(kernel, 1)}
    fig = viz.plot_system_time(source)
    (ax,) = fig.axes
    segments = dict(_segments(ax))
    grey = segments["system_s, no breakdown"]
    assert [p.get_width() for p in grey.patches] == [0.0, 0.5]
    for label in [account_label(ACCOUNTS[0]) + " *", "stolen (not system time)"]:
        assert segments[label].patches[1].get_width() == 0.0  # nothing stacked for the kernel
        assert segments[label].patches[0].get_width() > 0.0
    assert ax.texts[1].get_text() == "AutoNUMA n/a"
    assert "mode 1 kernel: no breakdown of system time" in fig.get_supxlabel()
    only = viz.plot_system_time({"mode 1 kernel": _result(kernel, 1)})
    (ax,) = only.axes
    assert [c.get_label() for c in ax.containers] == ["system_s, no breakdown"]


def test_missing_breakdown_columns_are_named():
    times = _times(1.0).drop(columns=["shootdown_s"])
    with pytest.raises(ValueError, match="no column 'shootdown_s'"):
        viz.plot_system_time(_result(times, 1))


def test_registered_with_the_other_plots():
    source = {"mode 0": _result(_times(1.0), 0), "mode 1": _result(_times(2.0), 1)}
    assert viz.PLOTS["system_time"] is viz.plot_system_time
    assert list(viz.PLOTS).index("system_time") == list(viz.PLOTS).index("times") + 1
    assert "system_time" in viz.applicable(source)
    assert viz.draw(source, ["system_time"])["system_time"].get_label() == "system_time"


def _sweep(threads=(4, 16, 64), repeats=2) -> pd.DataFrame:
    """A sweep frame over modes 0 and 1 and the thread count: mode 1 faults 1000 times per
    thread at (1 + threads / 16) us AutoNUMA cost a fault (+ 10 ms of first touches), and
    loses threads / 10 % of mode 0's throughput (+ 1 % at repeat 1)."""
    rows = []
    for n in threads:
        for mode in (0, 1):
            for repeat in range(repeats):
                faults = 1000 * n if mode else 0
                cost = faults * (1 + n / 16) * 1e-6
                loss = (n / 10 + repeat) / 100 if mode else 0.0
                rows.append({"kernel.numa_balancing": mode, THREADS: n, "repeat": repeat,
                             "seed": 7 + repeat, "status": "ok", "mode": mode,
                             "system_s": 0.01 + cost, "autonuma_cost_s": cost,
                             "stolen_s": cost / 2,
                             "numa_hint_faults": faults,
                             "throughput_per_s": 1e6 * n * (1 - loss)})
    return pd.DataFrame(rows)


def test_thread_column_is_the_swept_count_of_a_real_spec():
    spec = SweepSpec("numa02", base_options={"memory_scale": 0.0625},
                     product={"kernel.numa_balancing": [0, 1], THREADS: [4, 8]})
    frame = pd.DataFrame([point.row() for point in spec.points()])
    assert thread_column(frame, "threads")[1] == THREADS
    assert thread_column(frame, "kernel.numa_balancing")[1] == "kernel.numa_balancing"
    with pytest.raises(ValueError, match="no column 'threads' nor a swept thread count"):
        thread_column(frame.drop(columns=[THREADS]), "threads")
    # thread specs swept together (one per node): their sum
    summed, column = thread_column(frame.assign(**{THREADS.replace("[0]", "[1]"): 1}),
                                   "threads")
    assert column == "threads" and (summed["threads"] == frame[THREADS] + 1).all()
    with pytest.raises(ValueError, match="no column 'cpus'"):
        thread_column(frame, "cpus")


def test_cost_per_fault_and_paired_loss():
    frame = _sweep()
    per = overhead_per_fault(frame)
    one = per[per["mode"] == 1]
    assert one["autonuma_us_per_fault"].to_numpy() == pytest.approx(1 + one[THREADS] / 16)
    assert one["machine_us_per_fault"].to_numpy() == pytest.approx(1.5 * (1 + one[THREADS] / 16))
    assert one["system_us_per_fault"].to_numpy() == pytest.approx(
        1 + one[THREADS] / 16 + 1e4 / (1000 * one[THREADS]))
    assert per.loc[per["mode"] == 0, "system_us_per_fault"].isna().all()
    loss = throughput_loss(frame, THREADS)
    assert list(loss.columns) == [THREADS, "repeat", "throughput_loss_pct"]
    assert loss["throughput_loss_pct"].to_numpy() == pytest.approx(
        loss[THREADS] / 10 + loss["repeat"])
    with pytest.raises(ValueError, match="another parameter varies"):
        throughput_loss(pd.concat([frame, frame]), THREADS)


def test_overhead_scaling_draws_both_panels():
    frame = _sweep()
    frame.loc[0, "status"] = "error"  # mode 0, 4 threads, repeat 0: left out
    fig = viz.plot_overhead_scaling(frame)
    cost_ax, loss_ax = fig.axes
    lines = {line.get_label(): line for line in cost_ax.get_lines()}
    assert list(lines) == ["mode 1: system_s", "mode 1: autonuma_cost_s",
                           "mode 1: autonuma_cost_s + stolen_s"]
    assert list(lines["mode 1: autonuma_cost_s"].get_xdata()) == [4, 16, 64]
    assert lines["mode 1: autonuma_cost_s"].get_ydata() == pytest.approx([1.25, 2.0, 5.0])
    assert lines["mode 1: autonuma_cost_s"].get_linestyle() == "--"
    (loss,) = loss_ax.get_lines()[:1]
    # 4 threads: repeat 1 alone has its mode 0 pair (1.4 %); then the mean of n/10 and n/10 + 1
    assert loss.get_ydata() == pytest.approx([1.4, 2.1, 6.9])
    assert cost_ax.get_xlabel() == loss_ax.get_xlabel() == "threads"
    assert "mode 1 vs 0" in loss_ax.get_title()
    text = fig.get_supxlabel()
    assert "no hinting fault, nothing per fault: mode 0" in text and THREADS in text
    assert fig.get_label() == "overhead_scaling"


def test_overhead_scaling_names_points_without_hinting_faults():
    frame = _sweep()
    late = (frame["mode"] == 1) & (frame[THREADS] == 64)
    frame.loc[late, ["numa_hint_faults", "autonuma_cost_s"]] = 0
    fig = viz.plot_overhead_scaling(frame)
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "mode 1: system_s")
    assert list(line.get_xdata()) == [4, 16]
    assert "nothing per fault: mode 0; mode 1 at threads = 64" in fig.get_supxlabel()


def test_overhead_scaling_says_why_a_panel_is_empty():
    frame = _sweep()
    fig = viz.plot_overhead_scaling(frame[frame["mode"] == 0], x=THREADS)
    cost_ax, loss_ax = fig.axes
    assert "no run had a hinting fault" in _texts(fig)
    assert "no pair of mode 1 and mode 0 runs" in loss_ax.texts[0].get_text()
    assert not cost_ax.get_lines()


def test_a_sweep_of_modes_0_and_1_over_threads_gets_the_overhead_figure():
    from numaexp.sweep.plots import summary_figures

    frame = _sweep()
    figures = summary_figures(frame, ["kernel.numa_balancing", THREADS], ["system_s"])
    assert figures["overhead_scaling"].get_label() == "overhead_scaling"
    # another parameter varying too: no single pairing of the modes, no such figure
    other = pd.concat([frame.assign(**{"kernel.hz": hz}) for hz in (250, 1000)])
    assert "overhead_scaling" not in summary_figures(
        other, ["kernel.numa_balancing", THREADS, "kernel.hz"], ["system_s"])
    assert "overhead_scaling" not in summary_figures(
        frame[frame["mode"] == 1], ["kernel.numa_balancing", THREADS], ["system_s"])
