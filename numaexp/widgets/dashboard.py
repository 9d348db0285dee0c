"""The mode-comparison dashboard: ipywidgets layout over a :class:`DashboardModel`.

Usage in a notebook::

    from numaexp.widgets import Dashboard
    dashboard = Dashboard()
    dashboard            # shows the controls; Run, then Export

The widgets only copy their values into ``dashboard.model.settings`` and
show the model's state; everything else happens in the model, which tests
drive without a browser.
"""

from __future__ import annotations

import html

import ipywidgets as w

from numaexp.errors import ScenarioError
from numaexp.model.kernel import CGROUP_VARIANTS, PATCH_VARIANTS
from numaexp.model.machine import MACHINE_PRESETS
from numaexp.widgets.comparison import DashboardModel
from numaexp.widgets.controls import ExportBar, Results, RunBar, RunView, ipympl_available
from numaexp.widgets.files import ScenarioFileBar
from numaexp.widgets.scenarios import (
    DASHBOARD_TUNABLES,
    FILE_PREFIX,
    INTERLEAVE_CHOICES,
    MEMORY_OPTIONS,
    SCENARIO_PRESETS,
    WORKLOAD_PARAMS,
    DashboardSettings,
    build_machine,
    is_whole_scenario,
    mode_choices,
    settings_for,
    whole_scenario,
)

NOT_SIMULATED_TOOLTIP = "Mode {mode} is a valid kernel.numa_balancing value but is not " \
                        "simulated yet."

_SHORT = w.Layout(width="260px")
_STYLE = {"description_width": "165px"}
_WIDTH = "350px"


def _section(title: str, *children) -> w.VBox:
    return w.VBox([w.HTML(f"<b>{title}</b>"), *children],
                  layout=w.Layout(padding="0 12px 0 0"))


class Dashboard(RunView):
    """Compare ``kernel.numa_balancing`` modes interactively.

    Parameters
    ----------
    settings : DashboardSettings, optional
        Initial settings.
    interactive : bool, optional
        Show the figures as ipympl canvases (zoom, pan, coordinates under the
        pointer) instead of PNG images; the default follows ``%matplotlib widget``
        (:func:`numaexp.viz.figure.interactive`). The *interactive figures* box
        switches it later. Exports are the same static files either way.

    Attributes
    ----------
    model : DashboardModel
        State and logic (usable without the widgets).
    widget : ipywidgets.VBox
        The whole dashboard.
    interactive : ipywidgets.Checkbox
        The *interactive figures (ipympl)* box (disabled without ipympl).
    """

    def __init__(self, settings: DashboardSettings | None = None,
                 interactive: bool | None = None):
        from numaexp.viz.figure import interactive as widget_backend

        self.model = DashboardModel(settings)
        s = self.model.settings
        self.fields = {
            "machine": w.Dropdown(options=list(MACHINE_PRESETS), value=s.machine,
                                  description="preset"),
            "cpus_per_node": w.IntText(value=s.cpus_per_node, description="CPUs per node"),
            "memory_per_node_gib": w.FloatText(value=s.memory_per_node_gib, step=1,
                                               description="memory per node (GiB)"),
            "workload": w.Dropdown(options=_workload_options(s.workload), value=s.workload,
                                   description="workload"),
            "memory_scale": w.FloatText(value=s.memory_scale, step=0.05,
                                        description="memory scale (x)"),
            "passes": w.IntText(value=s.passes, description="passes per thread"),
            "bind": w.Dropdown(options=[("none", "none"), ("HARD_BIND", "hard"),
                                        ("INVERSE_BIND", "inverse")], value=s.bind or "none",
                               description="bind variant"),
            "duration_s": w.FloatText(value=s.duration_s, description="duration (s)"),
            "first_touch_node": w.Dropdown(options=_first_touch_options(4),
                                           value=THREADS_NODE if s.first_touch_node is None
                                           else s.first_touch_node,
                                           description="first touch on"),
            "thp": w.Checkbox(value=s.thp, indent=False, description="THP (2 MiB pages)"),
            "interleave": w.Dropdown(options=list(INTERLEAVE_CHOICES), value=s.interleave,
                                     description="memory policy"),
            "cgroup_per_process": w.Checkbox(value=s.cgroup_per_process, indent=False,
                                             description="one cgroup per process"),
            **{name: _tunable_control(param, s.tunables[name])
               for name, param in DASHBOARD_TUNABLES.items()},
            "seed": w.IntText(value=s.seed, description="seed"),
            "sample_interval_s": w.FloatText(value=s.sample_interval_s, step=0.1,
                                             description="sample interval (s)"),
        }
        for widget in self.fields.values():
            widget.style = _STYLE
            widget.layout = w.Layout(width=_WIDTH)
        self.modes = {}
        for mode, label, simulated in mode_choices():
            box = w.Checkbox(value=mode in s.modes and simulated, description=label,
                             disabled=not simulated, indent=False, layout=_SHORT,
                             tooltip="" if simulated else NOT_SIMULATED_TOOLTIP.format(mode=mode))
            box.add_class(f"numaexp-mode-{mode}")
            self.modes[mode] = box
        self.variants = {
            "cgroup_variants": w.SelectMultiple(
                options=list(CGROUP_VARIANTS), value=tuple(s.cgroup_variants), rows=4,
                description="cgroup gate (patch 2)",
                tooltip="Kernel variants to compare: mainline 6.12, or the RFC with the "
                        "tg_numa_balance_enabled gate of v1, v2 or hierarchical"),
            "stats_variant": w.Dropdown(
                options=list(PATCH_VARIANTS), value=s.stats_variant,
                description="task stats (patch 1)",
                tooltip="as-posted: vmstat spells numa_task_swaped and never counts"),
            "interleave_variant": w.Dropdown(
                options=list(PATCH_VARIANTS), value=s.interleave_variant,
                description="interleave (patch 3)",
                tooltip="as-posted: NUMA_TASK_MIG == 1 collides with node 1"),
        }
        self.variants.update(_backend_controls(s))
        for widget in self.variants.values():
            widget.style = _STYLE
            widget.layout = w.Layout(width=_WIDTH)
        self.numa_load_balance = w.SelectMultiple(
            options=self.model.cgroup_paths(), value=tuple(s.numa_load_balance), rows=4,
            layout=w.Layout(width=_WIDTH),
            tooltip="Cgroups with cpu.numa_load_balance = 1 (only read in mode 4)")
        self._set_aside: tuple[str, ...] = ()  # selected cgroups the workload lacks for now
        self.scenario_line = w.HTML()
        self.scenario_line.add_class("numaexp-scenario-line")
        self.file_bar = ScenarioFileBar(self)
        for widget in [*self.fields.values(), *self.modes.values(), *self.variants.values(),
                       self.numa_load_balance]:
            widget.observe(self._on_change, names="value")
        self.fields["workload"].observe(self._on_workload, names="value")

        self.run_bar = RunBar(self.model, before_run=self.read_settings)
        available = ipympl_available()
        if interactive and not available:
            raise ImportError("interactive figures need ipympl (pip install ipympl)")
        on = available and (widget_backend() if interactive is None else interactive)
        self.results = Results(self.model, interactive=on)
        self.interactive = w.Checkbox(
            value=on, disabled=not available, indent=False,
            description="interactive figures (ipympl)",
            tooltip="Zoom, pan and read coordinates in the figures (ipympl canvases); "
                    "exports are the same static files" if available else
                    "needs ipympl (pip install ipympl)")
        self.interactive.add_class("numaexp-interactive")
        self.interactive.observe(lambda change: self.results.set_interactive(change["new"]),
                                 names="value")
        self.export_bar = ExportBar(self.model)
        f = self.fields
        controls = w.HBox([
            _section("Machine", f["machine"], f["cpus_per_node"], f["memory_per_node_gib"],
                     w.HTML("<b>Cgroups</b>"), f["cgroup_per_process"],
                     w.HTML("<code>cpu.numa_load_balance = 1</code> in (read in mode 4):"),
                     self.numa_load_balance),
            _section("Workload", f["workload"], f["memory_scale"], f["passes"], f["bind"],
                     f["duration_s"], f["first_touch_node"], f["thp"], f["interleave"],
                     f["seed"], f["sample_interval_s"]),
            _section("Kernel", *(f[name] for name in DASHBOARD_TUNABLES),
                     *self.variants.values()),
            _section("kernel.numa_balancing", *self.modes.values()),
        ], layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([
            w.HTML("<h3>numaexp: compare kernel.numa_balancing modes</h3>"),
            controls, self.scenario_line, self.file_bar.box, self.run_bar.box,
            self.interactive, self.results.box, self.export_bar.box])
        self._start("numaexp-dashboard")

    def read_settings(self) -> DashboardSettings:
        """Copy the widgets' values into ``model.settings`` and return it."""
        s = self.model.settings
        for name, widget in self.fields.items():
            if name in DASHBOARD_TUNABLES:
                s.tunables[name] = widget.value
            else:
                setattr(s, name, widget.value)
        s.bind = None if s.bind == "none" else s.bind  # a Dropdown value of None means "no choice"
        if s.first_touch_node == THREADS_NODE:
            s.first_touch_node = None
        for name, widget in self.variants.items():
            setattr(s, name, widget.value)
        s.profile = None if s.profile == "none" else s.profile
        s.modes = tuple(mode for mode, box in self.modes.items() if box.value)
        s.numa_load_balance = tuple(self.numa_load_balance.value)
        return s

    def _on_change(self, _change=None) -> None:
        settings = self.read_settings()
        whole = is_whole_scenario(settings.workload)
        params = () if whole else WORKLOAD_PARAMS.get(settings.workload, ())
        for name in ("memory_scale", "passes", "bind", "duration_s", *MEMORY_OPTIONS):
            self.fields[name].disabled = name not in params
        for name in ("machine", "cpus_per_node", "memory_per_node_gib", "cgroup_per_process"):
            self.fields[name].disabled = whole
        dropped = ""
        try:
            paths = self.model.cgroup_paths()
            nodes = build_machine(settings).nr_nodes
        except ScenarioError:  # shown by the scenario line below
            paths, nodes = None, None
        if nodes is not None and len(self.fields["first_touch_node"].options) != nodes + 1:
            keep = settings.first_touch_node
            self.fields["first_touch_node"].options = _first_touch_options(nodes)
            self.fields["first_touch_node"].value = THREADS_NODE if keep is None \
                or keep >= nodes else keep
        if paths is not None and list(paths) != list(self.numa_load_balance.options):
            selected = tuple(self.numa_load_balance.value)
            wanted = selected + tuple(p for p in self._set_aside if p not in selected)
            self._set_aside = tuple(p for p in wanted if p not in paths)
            self.numa_load_balance.options = paths
            self.numa_load_balance.value = tuple(p for p in wanted if p in paths)
        if self._set_aside:  # said until the cgroups come back, and then selected again
            dropped = (f" — cpu.numa_load_balance selection {', '.join(self._set_aside)} set "
                       "aside: the workload has no such cgroup now (selected again when it has)")
        self.scenario_line.value = (f"<i>{html.escape(self.model.describe())}</i>"
                                    + (f"<b>{html.escape(dropped)}</b>" if dropped else ""))

    def _on_workload(self, change) -> None:
        """A whole scenario brings its own tunables, seed, interval and enabled cgroups."""
        if not is_whole_scenario(change["new"]):
            return
        try:
            scenario = whole_scenario(self.read_settings())
        except (ScenarioError, OSError):
            return
        own = settings_for(self.model.settings, scenario)
        for name, value in own.tunables.items():
            self.fields[name].value = value
        self.fields["seed"].value = own.seed
        self.fields["sample_interval_s"].value = own.sample_interval_s
        paths = [c.path for c in scenario.workload.all_cgroups()]
        self.numa_load_balance.options = paths
        self.numa_load_balance.value = own.numa_load_balance

    def _show_tables(self, model) -> None:
        self.results.table.value = model.summary_html()


def _tunable_control(param, value):
    """The control of one kernel tunable, with the parameter table's unit and doc; a value
    out of the table's bounds is refused with the kernel's limit named, not clamped."""
    unit = f" ({param.unit})" if param.unit else ""
    if param.kind == "bool":
        return w.Checkbox(value=bool(value), indent=False, description=param.name,
                          tooltip=param.doc)
    return w.IntText(value=value, description=param.name.replace("_", " ") + unit,
                     tooltip=f"{param.doc}; {param.allowed}")


def _workload_options(current: str) -> list:
    """The workload list: the built workloads, then the whole scenarios (and a loaded file)."""
    options = [(name, name) for name in WORKLOAD_PARAMS]
    options += [(f"scenario: {name}", name) for name in SCENARIO_PRESETS]
    if current.startswith(FILE_PREFIX):
        options.append((current, current))
    return options


THREADS_NODE = -1
"""The first-touch choice "where the touching thread runs" (``first_touch_node = None``; a
Dropdown shows a value of None as no choice at all)."""


def _first_touch_options(nodes: int) -> list:
    """``first_touch_node`` choices: the touching thread's node, or any node."""
    return [("the thread's node", THREADS_NODE), *((f"N{n}", n) for n in range(nodes))]


def _backend_controls(s: DashboardSettings) -> dict:
    """The backend choice: simulator, real kernel (QEMU guest) or both; kernel; cost profile."""
    from numaexp.model.cost_profiles import available_profiles

    return {
        "backends": w.SelectMultiple(
            options=["sim", "kernel"], value=tuple(s.backends), rows=2, description="backend",
            tooltip="sim: the simulator; kernel: Debian's kernel in a QEMU guest built from the "
                    "machine (needs qemu-system-x86 busybox-static gcc cpio; a small machine)"),
        "kernel": w.Dropdown(options=["6.12", "6.1"], value=s.kernel, description="kernel"),
        "profile": w.Dropdown(options=["none", *available_profiles()],
                              value=s.profile or "none", description="sim cost profile",
                              tooltip="none: the machine preset's own profile's costs; "
                                      "another profile replaces them and sets its rates "
                                      "(qemu-tcg: the simulator at a QEMU guest's speed and "
                                      "costs, to compare with the kernel backend)"),
    }
