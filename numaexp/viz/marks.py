"""What every plot over time marks and says: run-time actions, phase changes, identical runs."""

from __future__ import annotations

import itertools

import numpy as np

from numaexp.viz.style import runs

ACTION_COLOR = "#D55E00"
"""Colour of the lines marking run-time actions."""

PHASE_COLOR = "#777777"
"""Colour of the lines marking phase changes."""

MAX_PHASE_MARKS = 6
"""At most this many phase-change marks per plot (the biggest groups of threads)."""


def describe_action(action) -> str:
    """A few words on one :class:`~numaexp.model.Action`."""
    kind = action.kind
    if kind == "numa_load_balance":
        return f"{action.cgroup} cpu.numa_load_balance={action.value}"
    if kind == "numa_balancing":
        return f"numa_balancing={action.value}"
    if kind == "tunable":
        return f"{action.name}={action.value}"
    if kind == "move_task":
        return f"{action.process}{'/' + action.thread if action.thread else ''} -> {action.cgroup}"
    return f"{action.cgroup} cpuset"


def action_marks(source) -> list[tuple[float, str]]:
    """``(time_s, text)`` of every run-time action of the source's runs (same time: one mark)."""
    found: dict[float, list[str]] = {}
    for result in runs(source).values():
        scenario = result.scenario
        for action in scenario.actions if scenario is not None else ():
            texts = found.setdefault(round(action.at_s, 6), [])
            text = describe_action(action)
            if text not in texts:
                texts.append(text)
    return [(t, ", ".join(texts)) for t, texts in sorted(found.items())]


def phase_marks(source) -> list[tuple[float, str]]:
    """``(time_s, text)`` of phase changes: the ``phase`` events of the runs, grouped when
    they fall close together (threads ending a zero-fill one after the other), the groups
    with the most threads first, at most :data:`MAX_PHASE_MARKS`."""
    times = []
    for result in runs(source).values():
        events = result.frames.get("events")
        if events is not None and len(events):
            times += [float(t) for t in events.loc[events["event"] == "phase", "time_s"]]
    if not times:
        return []
    times = np.sort(np.array(times))
    span = max(float(times[-1]), 1e-9)
    gap = max(0.25, 0.02 * span)
    groups, start, count = [], times[0], 1
    for prev, t in itertools.pairwise(times):
        if t - prev > gap:
            groups.append((start, count))
            start, count = t, 0
        count += 1
    groups.append((start, count))
    groups = sorted(groups, key=lambda g: -g[1])[:MAX_PHASE_MARKS]
    return [(float(t), f"phase change ({n} thread event{'s' if n > 1 else ''})")
            for t, n in sorted(groups)]


def mark_times(ax, source, *, text: bool = True) -> None:
    """Draw the source's actions (solid, vermillion) and phase changes (dotted, grey) on a
    time axis; with ``text``, put each action's time at the top of the panel (the figure's
    foot, :func:`marks_note`, says what it was)."""
    for t, _what in action_marks(source):
        ax.axvline(t, color=ACTION_COLOR, linewidth=1.0, alpha=0.8, zorder=1)
        if text:
            note = ax.annotate(f"{t:g} s", (t, 1.0), xycoords=("data", "axes fraction"),
                               xytext=(2, -2), textcoords="offset points", ha="left",
                               va="top", fontsize="x-small", color=ACTION_COLOR)
            note.set_in_layout(False)
    for t, _what in phase_marks(source):
        ax.axvline(t, color=PHASE_COLOR, linewidth=0.8, linestyle=":", zorder=1)


def marks_note(source) -> str:
    """A line for the figure's foot naming what the vertical lines are (empty when none)."""
    parts = []
    actions = action_marks(source)
    if actions:
        parts.append("solid vertical lines: run-time actions ("
                     + "; ".join(f"{t:g} s: {what}" for t, what in actions) + ")")
    if phase_marks(source):
        parts.append("dotted: phase changes")
    return "; ".join(parts)


def identical_labels(source) -> dict[str, str]:
    """Legend label of each run: ``"mode 2 (= mode 0)"`` for a run identical to an earlier one."""
    from numaexp.sentences import identical_runs

    results = runs(source)
    same = identical_runs(results)
    return {label: f"{label} (= {same[label]})" if label in same else label
            for label in results}


def identical_note(source) -> str:
    """A line naming the runs that are identical (drawn on top of each other), or ''."""
    from numaexp.sentences import identical_runs

    same = identical_runs(runs(source))
    if not same:
        return ""
    pairs = ", ".join(f"{a} = {b}" for a, b in same.items())
    return f"identical runs, drawn on top of each other: {pairs}"


def foot(fig, *notes: str) -> None:
    """Write the non-empty ``notes`` under the panels, wrapped to the figure's width."""
    import textwrap

    chars = max(40, int(fig.get_figwidth() * 15))
    text = "\n".join(textwrap.fill(n, chars) for n in notes if n)
    if text:
        fig.supxlabel(text, fontsize="small", color="#444")


def finish(fig, source, title: str, label: str, *notes: str, marks: bool = True):
    """Title ``fig``, put the notes on ``source``'s identical runs (and, with ``marks``, on
    its marks), then ``notes``, at its foot (:func:`foot`), and name it ``label`` (its file
    name on export); return it."""
    fig.suptitle(title)
    foot(fig, identical_note(source), *((marks_note(source),) if marks else ()), *notes)
    fig.set_label(label)
    return fig
