"""What a sweep runs: a base scenario, parameters over dotted paths, seeds.

A :class:`SweepSpec` expands into points: the cartesian product of its axes
(each ``product`` parameter is an axis; the ``zip`` parameters together form
one axis, taken in step; the ``samples`` random draws of the ``sample``
parameters form one axis), each repeated ``repeats`` times with its own seed.
Spec files are TOML (see ``data/sweeps/``)::

    name = "scan_period_min on numa02"
    seed = 1
    repeats = 3
    metrics = ["throughput_per_s", "numa_pages_migrated"]

    [base]                      # or: base = "numa02" / base = "my.toml"
    preset = "numa02"           # or: file = "../scenarios/numa02.toml"
    memory_scale = 0.25         # other keys: keyword arguments of the preset

    [fixed]                     # set on every point (quote dotted paths)
    "stop" = { kind = "duration", duration_s = 10.0 }

    [product]
    "kernel.scan_period_min_ms" = [100, 250, 500, 1000]

    [zip]                       # lists of one length, taken in step
    "kernel.scan_size_mb" = [64, 256]
    "kernel.scan_period_max_ms" = [30000, 60000]

    samples = 8                 # (top level) random draws of [sample]
    [sample]
    "kernel.scan_delay_ms" = { loguniform = [100, 4000], integer = true }

Paths are quoted: TOML reads an unquoted ``kernel.x = 1`` as a table
``kernel`` with a key ``x``.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from numaexp.errors import ScenarioError
from numaexp.model.checks import check_text
from numaexp.model.files import MAX_INPUT_BYTES, read_input
from numaexp.model.scenario import Scenario
from numaexp.sweep.hashing import SEED_LIMIT, canonical_json, point_seed, scenario_hash
from numaexp.sweep.paths import get_path, set_paths
from numaexp.sweep.values import check_distribution, check_values, draw

DEFAULT_METRICS = ("elapsed_s", "throughput_per_s", "system_s", "numa_hint_faults",
                   "numa_pages_migrated", "local_access_pct")
"""Summary columns plotted by default (any column of the sweep frame may be named)."""

_SPEC_KEYS = ("name", "description", "seed", "repeats", "common_seeds", "samples", "metrics",
              "base", "fixed", "product", "zip", "sample")


@dataclass(frozen=True)
class Point:
    """One simulation of a sweep.

    Attributes
    ----------
    params : dict of str to object
        Parameter path -> value, as given in the spec.
    repeat : int
        Repeat number (0-based).
    seed : int
        The run's seed (also ``scenario.seed``).
    scenario : Scenario
        The fully resolved scenario.
    key : str
        :func:`~numaexp.sweep.hashing.scenario_hash` of ``scenario``: points
        with equal keys are the same run.
    """

    params: dict
    repeat: int
    seed: int
    scenario: Scenario = field(repr=False)
    key: str

    def row(self) -> dict:
        """Columns of this point in a sweep frame: parameters, ``repeat``, ``seed``."""
        return {**{path: display_value(v) for path, v in self.params.items()},
                "repeat": self.repeat, "seed": self.seed}


def display_value(value):
    """A parameter value as a frame cell: scalars as they are, anything else as JSON text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return canonical_json(value)


@dataclass(frozen=True)
class SweepSpec:
    """A parameter sweep over one base scenario.

    Parameters
    ----------
    base : Scenario or str
        The scenario every point starts from, or a preset name (``"numa02"``,
        ``"default"``, ``"per_cgroup"``, ...) or the path of a scenario
        ``.toml`` file. Its seed is replaced by each point's.
    product : dict of str to list
        Parameter path -> values; each parameter is an axis of the grid.
    zip : dict of str to list
        Parameter path -> values, all lists of one length, varied together
        (one axis).
    sample : dict of str to dict
        Parameter path -> distribution such as ``{"loguniform": [100, 4000],
        "integer": True}`` (see :data:`~numaexp.sweep.values.DISTRIBUTIONS`);
        ``samples`` draws of all of them form one axis, drawn from a generator
        seeded with ``seed``.
    samples : int
        Number of random draws (> 0 exactly when ``sample`` is given).
    fixed : dict of str to object
        Path -> value set on every point (not a parameter column).
    repeats : int
        Runs of each parameter combination; repeat ``k`` (the frame's
        ``repeat`` column, the seed index) runs with seed ``k`` of the sweep.
    seed : int
        Sweep seed; the seed of repeat ``k`` is a hash of it and ``k``
        (:func:`~numaexp.sweep.hashing.point_seed`), so it does not depend on
        the point's position in the sweep.
    common_seeds : bool
        Common random numbers (default): repeat ``k`` has the same seed at
        every parameter combination, so a difference between two
        combinations at the same repeat is the parameters' effect, not seed
        noise (and a parameter the run does not read changes nothing).
        ``false`` hashes the parameters into each point's seed as well (its
        own random stream).
    base_options : dict
        Keyword arguments of the preset named by ``base`` (e.g.
        ``memory_scale``, ``passes``, ``first_touch_node``).
    name : str
        Label of the sweep (default: the base scenario's name).
    metrics : tuple of str
        Columns summary plots show (default :data:`DEFAULT_METRICS`).
    description : str
        Free text.

    Examples
    --------
    >>> spec = SweepSpec("numa02", product={"kernel.scan_period_min_ms": [250, 1000]},
    ...                  fixed={"stop": {"kind": "duration", "duration_s": 5.0}},
    ...                  repeats=2, base_options={"memory_scale": 0.0625})
    >>> len(spec)
    4
    """

    base: Scenario | str
    product: dict = field(default_factory=dict)
    zip: dict = field(default_factory=dict)
    sample: dict = field(default_factory=dict)
    samples: int = 0
    fixed: dict = field(default_factory=dict)
    repeats: int = 1
    seed: int = 0
    common_seeds: bool = True
    base_options: dict = field(default_factory=dict)
    name: str = ""
    metrics: tuple[str, ...] = DEFAULT_METRICS
    description: str = field(default="", compare=False)

    def __post_init__(self):
        check_text(self, "name", "description")
        base = resolve_base(self.base, dict(self.base_options))
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "name", self.name or base.name)
        if isinstance(self.metrics, str) or not all(isinstance(m, str) for m in self.metrics):
            raise ScenarioError("metrics", f"must be a list of column names (got "
                                           f"{self.metrics!r})", ", ".join(DEFAULT_METRICS))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        for name, limit in (("repeats", None), ("samples", None), ("seed", SEED_LIMIT)):
            value = getattr(self, name)
            low = 1 if name == "repeats" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < low \
                    or (limit and value >= limit):
                raise ScenarioError(name, f"must be an integer >= {low}"
                                          + (" below 2**63" if limit else "") + f" (got {value!r})")
        if not isinstance(self.common_seeds, bool):
            raise ScenarioError("common_seeds", f"must be true or false (got "
                                                f"{self.common_seeds!r})")
        groups = {}
        for group in ("product", "zip", "sample", "fixed"):
            table = getattr(self, group)
            if not isinstance(table, dict):
                raise ScenarioError(group, f"must be a table of parameter paths (got "
                                           f"{table!r:.60})", 'e.g. {"kernel.scan_size_mb": ...}')
            object.__setattr__(self, group, dict(table))
            for path in table:
                if path in groups:
                    raise ScenarioError(f"{group}.{path}", f"already set in [{groups[path]}]",
                                        "each path in one of product, zip, sample, fixed")
                groups[path] = group
                self._check_path(group, path)
        for path, values in self.product.items():
            check_values(f"product.{path}", values)
        lengths = {path: check_values(f"zip.{path}", values) for path, values in self.zip.items()}
        if len(set(lengths.values())) > 1:
            raise ScenarioError("zip", "lists of different lengths: " + ", ".join(
                f"{path} has {n}" for path, n in lengths.items()), "lists of one length")
        for path, dist in self.sample.items():
            check_distribution(f"sample.{path}", dist)
        if bool(self.sample) != (self.samples > 0):
            raise ScenarioError("samples", f"{self.samples} draws of {len(self.sample)} sampled "
                                           "parameters", "samples > 0 with a [sample] table, "
                                                         "0 without")

    def _check_path(self, group: str, path: str) -> None:
        if path in ("seed", "name") or path.startswith(("seed.", "name.")):
            raise ScenarioError(f"{group}.{path}", "the sweep sets the seed of every point and "
                                                   "keeps the base scenario's name",
                                "use repeats (and seed) for seeds")
        try:
            get_path(self.base, path)
        except ScenarioError as err:
            raise ScenarioError(err.field, f"{err.problem} (in [{group}])", err.allowed) from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> SweepSpec:
        """Read a spec from a TOML file (``file`` bases are relative to it)."""
        path = Path(path)
        try:
            raw = read_input(path, "spec", f"a regular TOML file of at most "
                                           f"{MAX_INPUT_BYTES // 2**20} MiB")
            data = tomllib.loads(raw.decode("utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"sweep spec not found: {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ScenarioError(str(path), f"malformed TOML: {err}",
                                "a TOML document (https://toml.io)") from None
        try:
            return cls.from_dict(data, root=path.parent)
        except ScenarioError as err:
            raise ScenarioError(err.field, f"{err.problem} (in {path})", err.allowed) from None

    @classmethod
    def from_dict(cls, data: dict, root: str | os.PathLike = ".") -> SweepSpec:
        """A spec from the tables of a spec file (see the module docstring).

        Parameters
        ----------
        data : dict
            Parsed TOML.
        root : path-like
            Directory that a relative base ``file`` is relative to.
        """
        for key in data:
            if key not in _SPEC_KEYS:
                raise ScenarioError(key, "unknown key of a sweep spec", ", ".join(_SPEC_KEYS))
        if "base" not in data:
            raise ScenarioError("base", "missing: the scenario to sweep",
                                'a preset name, a scenario file, or a [base] table')
        base, options = data["base"], {}
        if isinstance(base, dict):
            options = dict(base)
            preset, file = options.pop("preset", None), options.pop("file", None)
            if (preset is None) == (file is None):
                raise ScenarioError("base", "give exactly one of preset and file",
                                    'preset = "numa02" or file = "path/to/scenario.toml"')
            base = preset if file is None else str(Path(root) / file)
        elif isinstance(base, str) and base.endswith(".toml"):
            base = str(Path(root) / base)
        kwargs = {key: value for key, value in data.items() if key != "base"}
        return cls(base=base, base_options=options, **kwargs)

    def __len__(self) -> int:
        """Number of points (parameter combinations x repeats)."""
        return math.prod(len(axis) for axis in self._axes()) * self.repeats

    @property
    def parameters(self) -> tuple[str, ...]:
        """Paths of the parameters that vary, in column order."""
        return (*self.product, *self.zip, *self.sample)

    @property
    def axis_parameters(self) -> tuple[str, ...]:
        """:attr:`parameters` with one path per ``zip`` group (its first): the others vary
        in step with it, so they add nothing to a table or a plot's axes."""
        return (*self.product, *list(self.zip)[:1], *self.sample)

    def _axes(self) -> list[list[dict]]:
        axes = [[{path: v} for v in values] for path, values in self.product.items()]
        if self.zip:
            axes.append([dict(zip(self.zip, row, strict=True))
                         for row in zip(*self.zip.values(), strict=True)])
        if self.sample:
            rng = np.random.default_rng(self.seed)
            axes.append([{path: draw(rng, dist) for path, dist in self.sample.items()}
                         for _ in range(self.samples)])
        return axes

    def points(self) -> list[Point]:
        """Every point, parameter combinations in grid order, repeats innermost.

        Raises
        ------
        ScenarioError
            If a point's values make an invalid scenario (the error names the
            field and the point).
        """
        out = []
        for combo in itertools.product(*self._axes()):
            params = {path: value for part in combo for path, value in part.items()}
            for repeat in range(self.repeats):
                seed = point_seed(self.seed, {} if self.common_seeds else params, repeat)
                try:
                    scenario = set_paths(self.base, {**self.fixed, **params, "seed": seed})
                except ScenarioError as err:
                    where = ", ".join(f"{p} = {v!r}" for p, v in params.items()) or "the base"
                    raise ScenarioError(err.field, f"{err.problem} [sweep point {where}]",
                                        err.allowed) from None
                out.append(Point(params=params, repeat=repeat, seed=seed, scenario=scenario,
                                 key=scenario_hash(scenario)))
        return out


def resolve_base(base: Scenario | str, options: dict[str, Any]) -> Scenario:
    """The base scenario of a sweep from a Scenario, a preset name or a ``.toml`` path.

    Parameters
    ----------
    base : Scenario or str
        What to resolve.
    options : dict
        Keyword arguments of a preset (must be empty otherwise).
    """
    from numaexp.model.catalog import is_scenario_file, scenario_from

    if isinstance(base, Scenario):
        if options:
            raise ScenarioError("base_options", f"options {sorted(options)} apply to presets "
                                                "only", "no options with a scenario or a file")
        return base
    if not isinstance(base, str):
        raise ScenarioError("base", f"expected a Scenario, a preset name or a .toml path, got "
                                    f"{type(base).__name__}")
    if is_scenario_file(base):
        return scenario_from(base, options, field="base")
    try:
        return scenario_from(base, options, field="base")
    except ScenarioError as err:
        if err.field in ("base", "base_options"):  # the name or the options themselves
            raise
        raise ScenarioError("base", f"preset {base!r} with options {options}: {err.field}: "
                                    f"{err.problem}", err.allowed) from None
