"""Plots: matplotlib Figures built from result frames, and their export.

Every plot takes a :class:`~numaexp.results.Result`, a
:class:`~numaexp.comparison.Comparison` or a dict of label to Result (sweep
plots take a tidy sweep frame) and returns a ``matplotlib.figure.Figure``
built without pyplot; :func:`export` writes figures (PNG, SVG, PDF) and
frames (CSV, Parquet) with one call. Nothing here is imported by the
simulator core; matplotlib is imported only when a plot function runs.
Interactive dashboards live in :mod:`numaexp.widgets`.
"""

from numaexp.viz.catalog import PLOTS, applicable, draw
from numaexp.viz.cgroups import plot_memory_stat, plot_pages_per_node
from numaexp.viz.costs import plot_overhead_scaling, plot_system_time
from numaexp.viz.differences import plot_cgroup_counters, plot_difference
from numaexp.viz.export import export, save_figure
from numaexp.viz.moves import plot_task_moves, task_moves
from numaexp.viz.placement import plot_placement
from numaexp.viz.style import OKABE_ITO
from numaexp.viz.sweeps import plot_sweep, plot_sweep_heatmap, summarize_sweep
from numaexp.viz.tiering import plot_tiering
from numaexp.viz.times import plot_times
from numaexp.viz.timeseries import plot_counters, plot_locality, plot_scan_period

__all__ = [
    "OKABE_ITO",
    "PLOTS",
    "applicable",
    "draw",
    "export",
    "plot_cgroup_counters",
    "plot_counters",
    "plot_difference",
    "plot_locality",
    "plot_memory_stat",
    "plot_overhead_scaling",
    "plot_pages_per_node",
    "plot_placement",
    "plot_scan_period",
    "plot_sweep",
    "plot_sweep_heatmap",
    "plot_system_time",
    "plot_task_moves",
    "plot_tiering",
    "plot_times",
    "save_figure",
    "summarize_sweep",
    "task_moves",
]
