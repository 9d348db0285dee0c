"""Save the dashboard's scenario as TOML, or load a scenario file into it."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as w

from numaexp.errors import ScenarioError
from numaexp.widgets.jobs import readable_error
from numaexp.widgets.scenarios import FILE_PREFIX, build_scenario


class ScenarioFileBar:
    """A file name with Save and Load buttons, bound to a :class:`Dashboard`.

    Save writes the scenario of the first selected mode and variant (every field,
    defaults included) and refuses an existing file; Load reads a scenario file
    and offers it in the workload list as ``file:<path>`` (with its own machine,
    cgroups, actions and stop).
    """

    def __init__(self, dashboard):
        self.dashboard = dashboard
        self.path = w.Text(value="scenario.toml", description="Scenario file",
                           layout=w.Layout(width="420px"))
        self.save_button = w.Button(description="Save scenario", icon="save",
                                    tooltip="Write the scenario as TOML (refuses an existing file)")
        self.load_button = w.Button(description="Load scenario", icon="folder-open",
                                    tooltip="Read a scenario TOML file into the dashboard")
        self.message = w.HTML(value="")
        self.path.add_class("numaexp-scenario-file")
        self.save_button.add_class("numaexp-save")
        self.load_button.add_class("numaexp-load")
        self.message.add_class("numaexp-file-message")
        self.save_button.on_click(lambda _b: self.save())
        self.load_button.on_click(lambda _b: self.load())
        self.box = w.HBox([self.path, self.save_button, self.load_button, self.message])

    def _say(self, text: str) -> None:
        self.message.value = html.escape(text)

    def save(self) -> Path | None:
        """Write the scenario to the file named; None (with a message) when refused."""
        from numaexp.model.toml_io import scenario_to_toml

        path = Path(self.path.value.strip())
        try:
            scenario = build_scenario(self.dashboard.read_settings())
            if path.exists():
                raise ScenarioError("scenario file", f"{path} exists", "another file name")
            path.write_text(scenario_to_toml(scenario, defaults=True), encoding="utf-8")
        except (ScenarioError, OSError) as err:
            self._say(f"Not saved: {readable_error(err)}")
            return None
        self._say(f"Saved {scenario.name} (mode {scenario.kernel.numa_balancing}) to "
                  f"{path.resolve()}")
        return path

    def load(self) -> bool:
        """Offer the file named as the workload (a whole scenario); False when it cannot be
        read (the message says why)."""
        from numaexp.model.toml_io import load_scenario

        path = self.path.value.strip()
        try:
            scenario = load_scenario(path)
        except (ScenarioError, OSError) as err:
            self._say(f"Not loaded: {readable_error(err)}")
            return False
        field = self.dashboard.fields["workload"]
        value = FILE_PREFIX + path
        options = [o for o in field.options if not o[1].startswith(FILE_PREFIX)]
        field.options = [*options, (value, value)]
        field.value = value
        self._say(f"Loaded {scenario.name}: {scenario.machine.name}, "
                  f"{len(scenario.workload.processes)} process(es)")
        return True
