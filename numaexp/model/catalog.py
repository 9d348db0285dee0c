"""Every scenario that has a name, and the one way to get a scenario from text.

The command line (``numaexp run NAME``), sweep specs (``base = "NAME"``) and
notebooks all accept either a ``.toml`` path or one of these names:

- ``default``: the built-in default scenario;
- the autonumabench workloads (``numa01``, ``numa01_THREAD_ALLOC``, ``numa02``,
  ``numa02_SMT``), each also with ``_HARD_BIND`` and ``_INVERSE_BIND``;
- the RFC scenarios of :data:`numaexp.model.rfc_presets.RFC_PRESETS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from numaexp.errors import ScenarioError
from numaexp.model.scenario import Scenario


def presets() -> dict[str, Callable[..., Scenario]]:
    """Name -> function building the scenario (its keyword arguments are the options)."""
    from numaexp.model.presets import AUTONUMABENCH, autonumabench_scenario, default_scenario
    from numaexp.model.rfc_presets import RFC_PRESETS

    builders: dict[str, Callable[..., Scenario]] = {"default": default_scenario}
    for name in AUTONUMABENCH:
        for suffix in ("", "_HARD_BIND", "_INVERSE_BIND"):
            builders[name + suffix] = functools.partial(autonumabench_scenario, name + suffix)
    builders.update(RFC_PRESETS)
    return builders


def preset_names() -> list[str]:
    """Names accepted in place of a scenario file."""
    return list(presets())


def is_scenario_file(spec: str) -> bool:
    """True when ``spec`` names a scenario file rather than a preset."""
    return spec.endswith(".toml") or Path(spec).exists()


def scenario_from(spec: str, options: dict | None = None, field: str = "scenario") -> Scenario:
    """The scenario of a ``.toml`` path or a preset name.

    Parameters
    ----------
    spec : str
        A path to a scenario file, or a name of :func:`preset_names`.
    options : dict, optional
        Keyword arguments of the preset (e.g. ``memory_scale``, ``passes``);
        refused with a file.
    field : str
        Name of the field ``spec`` came from, for error messages (``<field>_options``
        for the options).

    Raises
    ------
    ScenarioError
        ``spec`` is neither a file nor a preset, or the options do not fit.
    """
    from numaexp.model.toml_io import load_scenario

    options = options or {}
    if is_scenario_file(spec):
        if options:
            raise ScenarioError(f"{field}_options", f"options {sorted(options)} apply to "
                                "presets only", "no options with a scenario file")
        return load_scenario(spec)
    builders = presets()
    if spec not in builders:
        raise ScenarioError(field, f"{spec!r} is neither a .toml file nor a preset",
                            ", ".join(builders))
    try:
        return builders[spec](**options)
    except TypeError as err:
        raise ScenarioError(f"{field}_options", f"not accepted by preset {spec!r}: {err}",
                            "keyword arguments of the preset, e.g. memory_scale, passes") from None
