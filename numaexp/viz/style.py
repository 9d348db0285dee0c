"""Shared look and input handling of every plot.

Plots take a :class:`~numaexp.results.Result`, a
:class:`~numaexp.comparison.Comparison` or a mapping of label to Result
(a *source*) and read its frames; they never touch a simulator object.
Figures are ``matplotlib.figure.Figure`` objects built without pyplot, so
nothing accumulates in pyplot's global figure list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from numaexp.model.units import PAGE_SIZE

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
"""Colour-blind-safe palette (Okabe & Ito 2008), in the order runs and nodes get it."""

LINESTYLES = ("-", "--", "-.", ":")
"""Line styles cycled after the palette, so more than eight series stay apart."""

GIB_PER_PAGE = PAGE_SIZE / 2**30
"""GiB per 4 KiB base page."""

MIB_PER_PAGE = PAGE_SIZE / 2**20
"""MiB per 4 KiB base page."""

TIME_LABEL = "simulated time (s)"
"""x-axis label of every plot over time."""


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 5.0, height: float = 3.4,
               sharex: bool | str = False, sharey: bool | str = False):
    """A constrained-layout Figure and a 2-D array of its axes.

    Parameters
    ----------
    nrows, ncols : int
        Grid of panels.
    width, height : float
        Size of one panel, inches.
    sharex, sharey : bool or {"row", "col"}
        Share the x / y axis between panels (as ``Figure.subplots``).

    Returns
    -------
    fig : NotebookFigure
        A ``matplotlib.figure.Figure`` that notebooks show as PNG.
    axes : ndarray of Axes, shape (nrows, ncols)
    """
    from numaexp.viz.figure import NotebookFigure

    fig = NotebookFigure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex, sharey=sharey)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.set_axisbelow(True)
    return fig, axes


def colors(labels: Iterable) -> dict:
    """Colour of each label, in palette order."""
    return {label: OKABE_ITO[i % len(OKABE_ITO)] for i, label in enumerate(labels)}


def line_style(i: int) -> dict:
    """Colour and line style of the ``i``-th series (style changes after eight colours)."""
    return {"color": OKABE_ITO[i % len(OKABE_ITO)],
            "linestyle": LINESTYLES[(i // len(OKABE_ITO)) % len(LINESTYLES)]}


def runs(source) -> dict:
    """The runs of a source as ``{label: Result}``.

    Parameters
    ----------
    source : Result, Comparison or mapping of str to Result
        A single result is labelled ``"mode N"``.

    Raises
    ------
    TypeError
        For anything else.
    ValueError
        For a source without runs.
    """
    if hasattr(source, "results") and isinstance(source.results, Mapping):
        out = dict(source.results)
    elif isinstance(source, Mapping):
        out = dict(source)
    elif hasattr(source, "frames") and hasattr(source, "meta"):
        out = {f"mode {source.meta.get('mode')}": source}
    else:
        raise TypeError(f"expected a Result, a Comparison or a dict of Results, "
                        f"got {type(source).__name__}")
    if not out:
        raise ValueError("nothing to plot: the source holds no runs")
    return out


def table(source, name: str) -> pd.DataFrame:
    """Frame ``name`` of every run of ``source``, with the run's ``label`` as first column."""
    parts = []
    for label, result in runs(source).items():
        frame = result.frames[name].copy()
        frame.insert(0, "label", label)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the first of ``columns`` missing from ``frame``.

    Parameters
    ----------
    frame : DataFrame
    columns : iterable of str
    what : str
        Name of the frame in the message, e.g. ``"timeseries"``.
    """
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"{what} has no column {column!r} (columns: "
                             f"{', '.join(map(str, frame.columns))})")


def label_axes(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Set the axis labels (with units) and an optional title."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def hide_unused(axes: np.ndarray, used: int) -> None:
    """Hide the panels of ``axes`` after the first ``used``."""
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)


def legend_if_any(ax, title: str | None = None, **kwargs) -> None:
    """Add a legend when the axes have labelled artists."""
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, names, title=title, **kwargs)
