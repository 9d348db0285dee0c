"""Former home of the plot functions, kept so ``from numaexp.viz.plots import ...`` works.

Import from :mod:`numaexp.viz` instead.
"""

from numaexp.viz import (
    plot_counters,
    plot_locality,
    plot_pages_per_node,
    plot_times,
    save_figure,
)

__all__ = ["plot_counters", "plot_locality", "plot_pages_per_node", "plot_times", "save_figure"]
