"""Compare runs: :func:`compare` runs a scenario once per mode (and kernel variant, and
backend) into a :class:`Comparison`.

Every run is validated before any starts; interrupting keeps the finished
runs (and the partial one, when the interrupt came during its ticks).
"""

from __future__ import annotations

import dataclasses
import html
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from numaexp.errors import ScenarioError
from numaexp.experiment import check_runnable, simulate
from numaexp.model.kernel import KernelVariant, comparison_runs
from numaexp.model.scenario import Scenario
from numaexp.results import FRAME_NAMES, Result


@dataclass
class Comparison:
    """Runs of one scenario under several settings.

    Attributes
    ----------
    results : dict of str to Result
        One result per label (e.g. ``"mode 1"``), in run order.
    settings : DataFrame
        One row per label: the settings that differ (``mode``, ...).
    dropped : str or None
        Label of the run an interrupt cut off before it had a result to keep
        (while it was set up or its frames built); None when there was none.
    """

    results: dict[str, Result]
    settings: pd.DataFrame = field(repr=False)
    dropped: str | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """One tidy row per run: settings, the summary (speed-up against mode 0, or the
        first run) and every vmstat counter."""
        frame = self.summary()
        counters = []
        for result in self.results.values():
            counters.append(result.vmstat.iloc[0].drop(
                [c for c in result.vmstat.columns if c in frame.columns]).to_dict())
        return pd.concat([frame, pd.DataFrame(counters, index=frame.index)], axis=1)

    def summary(self, baseline: str | None = None, by: str = "run") -> pd.DataFrame:
        """Headline figures of each run, with its speed-up against ``baseline``.

        Parameters
        ----------
        baseline : str, optional
            Label of the run compared with (default ``"mode 0"`` when there is
            one, else the first run).
        by : {"run", "cgroup"}
            One row per run, or one per run and cgroup (its own threads and
            ``memory.stat`` counters, against the same cgroup of the baseline).

        Returns
        -------
        DataFrame
            ``label`` (and ``cgroup``), the settings, ``baseline``, then the
            columns of :data:`numaexp.readout.SUMMARY`.
        """
        from numaexp.summary import summary_frame

        settings = {label: self._settings_of(label) for label in self.results}
        return summary_frame(self.results, baseline, by, settings)

    def identical(self) -> dict[str, str]:
        """``{label: earlier label}`` for every run whose frames equal an earlier run's."""
        from numaexp.sentences import identical_runs

        return identical_runs(self.results)

    def sentences(self, baseline: str | None = None) -> dict[str, str]:
        """One sentence per run: its speed against ``baseline``, pages migrated, task moves,
        locality and the cgroups left untouched (see :mod:`numaexp.sentences`)."""
        from numaexp.sentences import sentences

        return sentences(self.results, self.summary(baseline),
                         self.summary(baseline, by="cgroup"))

    def notices(self) -> dict[str, list]:
        """Per label, why the run may show nothing (:mod:`numaexp.notices`), and which runs
        are identical to an earlier one."""
        from numaexp.notices import Notice

        same = self.identical()
        out = {}
        for label, result in self.results.items():
            found = list(result.notices)
            if label in same:
                first = self.results[same[label]].meta
                why = (" (the cgroup gate variants differ only in mode 4)"
                       if first.get("mode") == result.meta.get("mode") != 4
                       and first.get("variant", "").split("+")[1:]
                       == result.meta.get("variant", "").split("+")[1:] else "")
                found.append(Notice("identical", f"{label} is identical to {same[label]}: every "
                                    "counter, time series and time is the same (their lines "
                                    f"lie on top of each other in the plots){why}"))
            out[label] = found
        return out

    def table(self, name: str) -> pd.DataFrame:
        """Frame ``name`` (e.g. ``"times"``) of every run, with the settings as columns."""
        if name not in FRAME_NAMES:
            raise ScenarioError("name", f"unknown frame {name!r}", ", ".join(FRAME_NAMES))
        parts = []
        for label, result in self.results.items():
            part = result.frames[name].copy()
            for key, value in reversed(list({"label": label,
                                             **self._settings_of(label)}.items())):
                if key in part.columns:  # frames carry their mode and variant
                    part.pop(key)
                part.insert(0, key, value)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def _settings_of(self, label: str) -> dict:
        row = self.settings[self.settings["label"] == label].iloc[0].to_dict()
        row.pop("label")
        return row

    def save(self, directory: str | Path, formats: tuple[str, ...] = ("parquet", "csv")) -> Path:
        """Write the summary frame and every combined table (Parquet and/or CSV)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"summary": self.frame, **{name: self.table(name) for name in FRAME_NAMES}}
        for name, frame in tables.items():
            if "parquet" in formats:
                frame.to_parquet(out / f"{name}.parquet", index=False)
            if "csv" in formats:
                frame.to_csv(out / f"{name}.csv", index=False)
        return out

    def _repr_html_(self) -> str:
        from numaexp.viz.html import notices_html, scrolling_table

        frame = self.summary()
        shown = [c for c in SHOWN_COLUMNS if c in frame and not frame[c].isna().all()]
        notes = [(label, n) for label, found in self.notices().items() for n in found]
        items = "".join(f"<li>{html.escape(text)}</li>" for text in self.sentences().values())
        return ("<div><b>numaexp comparison</b>" + scrolling_table(frame[shown])
                + f"<ul>{items}</ul>{notices_html(notes)}</div>")


SHOWN_COLUMNS = ("label", "finished", "elapsed_s", "throughput_per_s", "speedup", "user_s",
                 "system_s", "numa_hint_faults", "hint_local_pct", "numa_pages_migrated",
                 "pgpromote_success", "numa_task_migrated", "numa_task_swapped",
                 "local_access_pct")
"""Columns of a comparison's notebook table."""


def compare(scenario: Scenario, modes=(0, 1), variants=None, *,
            progress: bool | None = None, backends=None, kernel="6.12",
            profile=None, guest_rate: bool = True) -> Comparison:
    """Run ``scenario`` once per ``kernel.numa_balancing`` mode (and kernel variant).

    Parameters
    ----------
    scenario : Scenario
        The base scenario; its kernel mode (and variant) is replaced by each
        of ``modes`` (and ``variants``).
    modes : int or iterable of int
        Modes to compare, 0..4, each once; a single int runs that mode alone.
    variants : KernelVariant, str or iterable of them, optional
        Kernel variants (e.g. ``["rfc-v1", "rfc-v2", "hierarchical"]`` or
        ``"rfc-v2+interleave-as-posted"``), each once; a single variant runs
        that variant alone. Default: the scenario's own.
        Every (mode, variant) pair runs (mode 4 on ``mainline`` too: its
        sysctl takes 4, which turns scanning on but gates nothing).
    progress : bool, optional
        Progress bars (default on).
    backends : sequence of {"sim", "kernel"} or str, optional
        Run on the simulator (default), on a real kernel in a QEMU guest, or
        both: ``["sim", "kernel"]`` labels runs ``"mode M sim"`` and ``"mode
        M kernel"`` (see :func:`numaexp.kernel.side.compare_backends`). With
        both, each mode's guest runs first and the simulator then runs that
        mode at the access rate the guest achieved (``guest_rate``).
    kernel : str or Path
        The kernel of the ``"kernel"`` backend (``"6.12"``, ``"6.1"`` or a
        bzImage path).
    profile : str, Path or CostProfile, optional
        Cost profile applied to the simulator's runs (e.g. ``"qemu-tcg"``):
        its per-event kernel costs, its flat latency and, unless the guest's
        rate replaces them, its access rates.
    guest_rate : bool
        With both backends (default True): simulate each mode at its guest's
        measured access rate, not the scenario's or the profile's. Under QEMU
        TCG the guest's speed follows the host's load and NUMA scanning fires
        on guest time, so only the guest's own rate compares. It is measured
        per thread of the scenario over the whole guest run: touches (the
        executor's work counter) over user seconds (``task/<tid>/stat``),
        set as sweep phases' ``stream_gbps`` (touches x 4 KiB / user
        seconds) or random phases' ``think_ns`` (user ns per touch less the
        memory stall); each simulation's ``meta["guest_rate"]`` lists them
        (:mod:`numaexp.kernel.rates`). The profile's per-event costs stay.

    Returns
    -------
    Comparison
        Labels are ``"mode M"`` (one variant) or ``"mode M VARIANT"``.
        Every pair is validated before any run starts; interrupting keeps the
        finished runs (one whose ticks had ended when the interrupt came is
        finished too: its frames are built whole, and it is marked
        ``meta["interrupt_after_end"]``), and the partial one when the
        interrupt came during its ticks (else, during its set-up, it is named
        in :attr:`Comparison.dropped`); an interrupt before the first run has
        a result is raised.

    Raises
    ------
    ScenarioError
        For an unknown or repeated mode or variant, an empty list, or a
        scenario the simulator cannot run; before any run starts.
    """
    if not isinstance(scenario, Scenario):
        raise ScenarioError("scenario", f"expected a Scenario, got {type(scenario).__name__}")
    if backends is not None or profile is not None:
        return _compare_backends(scenario, modes, variants, progress, backends, kernel, profile,
                                 guest_rate)
    modes = _listed(modes, "modes", (int,), "a list of modes such as [0, 1], or one mode")
    if not modes:
        raise ScenarioError("modes", "no mode to compare", "a list such as [0, 1]")
    if variants is None:
        variant_list = [scenario.kernel.variant]
    else:
        variant_list = []
        for i, v in enumerate(_listed(variants, "variants", (str, KernelVariant),
                                      'a list of variants such as ["rfc-v1", "rfc-v2"], '
                                      "or one variant")):
            try:
                variant_list.append(KernelVariant.parse(v))
            except ScenarioError as err:
                raise err.under(f"variants[{i}]") from None
        if not variant_list:
            raise ScenarioError("variants", "no variant to compare",
                                'a list such as ["rfc-v1", "rfc-v2"]')
    scenarios = []
    for label, i, mode, variant in comparison_runs(modes, variant_list):
        try:
            kernel = dataclasses.replace(scenario.kernel, numa_balancing=mode, variant=variant)
            run = dataclasses.replace(scenario, kernel=kernel)
        except ScenarioError as err:
            raise err.under(f"modes[{i}]") from None
        check_runnable(run)
        scenarios.append((label, mode, variant.label, run))
    _refuse_repeats("modes", modes, "each mode once, such as [0, 1]")
    _refuse_repeats("variants", [v.label for v in variant_list],
                    'each variant once, such as ["rfc-v1", "rfc-v2"]')
    results: dict[str, Result] = {}
    dropped = None
    for label, _mode, _variant, run in scenarios:
        try:  # simulate keeps a run interrupted in its ticks or after them (its frames built
            # whole); not one cut off before its ticks
            results[label] = simulate(run, progress=progress)
            meta = results[label].meta
            if meta.get("interrupted") or meta.get("interrupt_after_end"):
                break
        except KeyboardInterrupt:
            if not results:
                raise
            if label not in results:
                dropped = label
                warnings.warn(f"simulation of {scenario.name!r} interrupted while {label} "
                              "was set up or its frames built: it is dropped, and the "
                              f"{len(results)} finished run(s) kept", stacklevel=2)
            break
    settings = pd.DataFrame([{"label": label, "mode": mode, "variant": variant}
                             for label, mode, variant, _ in scenarios if label in results])
    return Comparison(results=results, settings=settings, dropped=dropped)


def _compare_backends(scenario, modes, variants, progress, backends, kernel, profile,
                      guest_rate):
    """:func:`compare` on the simulator and/or a real kernel (numaexp.kernel.side)."""
    from numaexp.kernel.side import compare_backends

    return compare_backends(scenario, modes, variants, backends=backends or ["sim"],
                            kernel=kernel, profile=profile, progress=progress,
                            guest_rate=guest_rate)


def _listed(value, name: str, single: tuple[type, ...], allowed: str) -> list:
    """``value`` as a list: one item of a ``single`` type becomes a list of one."""
    if isinstance(value, single) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (str, bytes, bool)):
        raise ScenarioError(name, f"expected a list, got {value!r}", allowed)
    try:
        return list(value)
    except TypeError:
        raise ScenarioError(name, f"expected a list, got {type(value).__name__} {value!r}",
                            allowed) from None


def _refuse_repeats(name: str, items: list, allowed: str) -> None:
    for i, item in enumerate(items):
        if item in items[:i]:
            first = items.index(item)
            raise ScenarioError(name, f"{name}[{first}] and {name}[{i}] are both {item!r}",
                                allowed)
