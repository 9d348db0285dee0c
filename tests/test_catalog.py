"""Named scenarios and the one resolver of scenario names and files."""

from __future__ import annotations

from pathlib import Path

import pytest

from numaexp.errors import ScenarioError
from numaexp.model import Scenario
from numaexp.model.catalog import preset_names, scenario_from

DATA = Path(__file__).resolve().parents[1] / "data" / "scenarios"


def test_every_preset_name_builds_a_scenario():
    names = preset_names()
    assert names[0] == "default"
    assert {"numa01", "numa02_SMT_INVERSE_BIND", "per_cgroup", "interleave_pair"} <= set(names)
    for name in names:
        assert isinstance(scenario_from(name), Scenario), name


def test_every_preset_states_its_background():
    """Issue 20: every preset names the background it runs with, in its field and in the
    description that ``numaexp run`` and the notebooks print (and its TOML file too)."""
    from numaexp.model.background import PRESET_BACKGROUND

    for name in preset_names():
        scenario = scenario_from(name)
        assert scenario.background.name == PRESET_BACKGROUND, name
        assert scenario.description.endswith(f"; background: {PRESET_BACKGROUND}"), name
    for path in DATA.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        assert f'background = "{PRESET_BACKGROUND}"' in text, path.name
        assert f"; background: {PRESET_BACKGROUND}" in text, path.name


def test_files_and_presets_with_options():
    assert scenario_from(str(DATA / "numa02.toml")).name == scenario_from("numa02").name
    small = scenario_from("numa02", {"memory_scale": 0.0625})
    assert 15 < scenario_from("numa02").memory_pages / small.memory_pages < 17


def test_unknown_names_and_misplaced_options_are_named():
    with pytest.raises(ScenarioError, match=r"^scenario: 'numa99' is neither a .toml file"):
        scenario_from("numa99")
    with pytest.raises(ScenarioError, match=r"^base_options: options \['passes'\] apply to "):
        scenario_from(str(DATA / "numa02.toml"), {"passes": 3}, field="base")
    with pytest.raises(ScenarioError, match=r"^scenario_options: not accepted by preset"):
        scenario_from("numa02", {"no_such_option": 1})
