"""Interactive widgets (ipywidgets): the mode-comparison dashboard and the sweep widget.

Each widget is a thin layout over a UI-free model that plans runs in the
caller's thread, runs them in the background with a Cancel button, and
keeps status, progress, figures and tables; the models work headless
(``model.run(blocking=True)``), which is how the tests drive them.
"""

from numaexp.widgets.comparison import DashboardModel
from numaexp.widgets.dashboard import Dashboard
from numaexp.widgets.scenarios import DashboardSettings, build_scenario
from numaexp.widgets.sweep_model import SweepModel, SweepParameter, SweepSettings, parameter_values
from numaexp.widgets.sweep_widget import SweepWidget

__all__ = [
    "Dashboard",
    "DashboardModel",
    "DashboardSettings",
    "SweepModel",
    "SweepParameter",
    "SweepSettings",
    "SweepWidget",
    "build_scenario",
    "parameter_values",
]
