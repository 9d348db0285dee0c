"""What ``numaexp run`` prints: the summary table, a sentence per run, the notices.

Also the run's scenario options (``--set``, ``--duration``) and the figures it writes.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from numaexp.errors import ScenarioError

RUN_COLUMNS = ("label", "finished", "elapsed_s", "throughput_per_s", "speedup", "user_s",
               "system_s", "autonuma_cost_s", "stolen_s", "numa_pte_updates", "numa_hint_faults",
               "hint_local_pct", "numa_pages_migrated", "pgpromote_success", "pgdemote_kswapd",
               "numa_task_migrated", "numa_task_swapped", "local_access_pct")
"""Columns printed per run (``cgroup`` follows ``label`` with ``--by cgroup``); columns that
say nothing here are left out: ``elapsed_s`` of duration runs (the duration), and tiering
counters and ``stolen_s`` (x86 flush IPIs) when 0 in every run."""

FIGURE_FORMATS = ("png", "svg", "pdf")
"""Formats ``--formats`` takes."""


def parse_value(text: str):
    """A ``--set`` value as in a scenario file (``500``, ``1.5``, ``true``, ``"1 GiB"``,
    ``[0, 1]``, ``{kind = "duration", duration_s = 10}``); bare words are strings."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_options(scenario, settings: list[str], duration_s: float | None):
    """``scenario`` with every ``--set PATH=VALUE`` and ``--duration`` applied.

    Raises
    ------
    ScenarioError
        For a setting without ``=``, or a path or value the scenario refuses
        (named by its dotted path).
    """
    from numaexp.model.scenario import Stop
    from numaexp.sweep.paths import set_paths

    values = {}
    for item in settings:
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            raise ScenarioError("--set", f"{item!r} is not PATH=VALUE",
                                "a dotted path and a value, e.g. kernel.scan_delay_ms=500")
        values[path.strip()] = parse_value(text.strip())
    if values:
        try:
            scenario = set_paths(scenario, values)
        except ScenarioError as err:
            raise err.under("--set") from None
    if duration_s is not None:
        try:
            scenario = dataclasses.replace(scenario, stop=Stop(kind="duration",
                                                               duration_s=duration_s))
        except ScenarioError as err:
            raise err.under("--duration") from None
    return scenario


def formats(text: str) -> tuple[str, ...]:
    """The ``--formats`` list, each one of :data:`FIGURE_FORMATS`."""
    items = [x.strip() for x in text.split(",")]
    for item in items:
        if item not in FIGURE_FORMATS:
            raise ScenarioError("--formats", f"unknown format {item!r} in {text!r}",
                                "comma-separated png, svg, pdf")
    return tuple(dict.fromkeys(items))


def shown_columns(frame: pd.DataFrame, duration: bool, by: str) -> list[str]:
    """The columns of :data:`RUN_COLUMNS` worth printing for this frame."""
    cols = list(RUN_COLUMNS)
    if by == "cgroup":
        cols.insert(1, "cgroup")
        cols.remove("hint_local_pct")
    if duration:
        cols.remove("elapsed_s")
    for name in ("pgpromote_success", "pgdemote_kswapd", "stolen_s"):
        if name in frame and not frame[name].fillna(0).astype(bool).any():
            cols.remove(name)
    return [c for c in cols if c in frame]


def table_text(frame: pd.DataFrame, duration: bool, by: str) -> str:
    """The summary table as text."""
    cols = shown_columns(frame, duration, by)
    shown = frame[cols].copy()
    if "speedup" in shown:
        shown["speedup"] = [f"{x:.2f}x" if pd.notna(x) else "" for x in shown["speedup"]]
    ints = {c: (lambda x: "" if pd.isna(x) else f"{int(x):,}") for c in shown
            if pd.api.types.is_integer_dtype(shown[c]) or (shown[c].dtype == object
            and c not in ("label", "cgroup", "speedup", "finished"))}
    return shown.to_string(index=False, formatters=ints, na_rep="",
                           float_format=lambda x: f"{x:,.2f}")


def background_line(scenario, backends: str | None = None) -> str:
    """The run header's line about what runs besides the workload (``Scenario.background``);
    with the kernel backend, also what that means in the guest."""
    line = scenario.background.describe()
    if backends and "kernel" in backends.split(","):
        from numaexp.kernel.setup import background_meta

        line += f" (on the kernel: {background_meta(scenario)})"
    return line


def report(comparison, scenario, *, baseline: str | None, by: str,
           cut_labels=()) -> str:
    """Everything ``numaexp run`` prints after the runs: table, sentences, notices."""
    frame = comparison.summary(baseline, by=by)
    if cut_labels:
        frame["label"] = [f"{label} [cut off]" if label in cut_labels else label
                          for label in frame["label"]]
    lines = [table_text(frame, scenario.stop.kind == "duration", by), ""]
    lines += list(comparison.sentences(baseline).values())
    for label, found in comparison.notices().items():
        lines += [f"note: {label}: {notice}" for notice in found]
    return "\n".join(lines)
