"""Plots (matplotlib Figures built from result frames) and, later, widgets.

Nothing here is imported by the simulator core; matplotlib is imported only
when a plot function runs.
"""

from numaexp.viz.plots import (
    plot_counters,
    plot_locality,
    plot_pages_per_node,
    plot_times,
    save_figure,
)

__all__ = ["plot_counters", "plot_locality", "plot_pages_per_node", "plot_times", "save_figure"]
