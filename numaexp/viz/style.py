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

RUN_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
               "#999933", "#882255", "#44AA99", "#DDCC77", "#332288")
"""Twelve distinct colours for runs: Okabe & Ito's (less yellow) and Tol's muted ones."""

LINESTYLES = ("-", "--", "-.", ":")
"""Line styles; each run also gets its own, so lines that coincide still show apart."""

GIB_PER_PAGE = PAGE_SIZE / 2**30
"""GiB per 4 KiB base page."""

MIB_PER_PAGE = PAGE_SIZE / 2**20
"""MiB per 4 KiB base page."""

TIME_LABEL = "simulated time (s)"
"""x-axis label of every plot over time."""


LEGEND_WIDTH = 2.4
"""Inches added to a figure's width for a legend beside its panels."""


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 5.0, height: float = 3.4,
               sharex: bool | str = False, sharey: bool | str = False, legend: bool = False):
    """A constrained-layout Figure and a 2-D array of its axes.

    Parameters
    ----------
    nrows, ncols : int
        Grid of panels.
    width, height : float
        Size of one panel, inches.
    sharex, sharey : bool or {"row", "col"}
        Share the x / y axis between panels (as ``Figure.subplots``).
    legend : bool
        Leave :data:`LEGEND_WIDTH` inches on the right for a figure legend.

    Returns
    -------
    fig : NotebookFigure
        A ``matplotlib.figure.Figure`` that notebooks show as PNG.
    axes : ndarray of Axes, shape (nrows, ncols)
    """
    from numaexp.viz.figure import NotebookFigure

    fig = NotebookFigure(figsize=(width * ncols + (LEGEND_WIDTH if legend else 0.0),
                                  height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex, sharey=sharey)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.set_axisbelow(True)
    return fig, axes


def colors(labels: Iterable) -> dict:
    """Colour of each label: twelve distinct ones (:data:`RUN_PALETTE`), then again."""
    return {label: RUN_PALETTE[i % len(RUN_PALETTE)] for i, label in enumerate(labels)}


def line_style(i: int) -> dict:
    """Colour and line style of the ``i``-th series: the colour is distinct up to twelve
    series, the line style cycles every four, so every pair up to 48 differs in one of them
    and lines lying on top of each other still show both."""
    n = len(RUN_PALETTE)
    return {"color": RUN_PALETTE[i % n],
            "linestyle": LINESTYLES[(i + i // n) % len(LINESTYLES)]}


def run_styles(labels: Iterable) -> dict:
    """:func:`line_style` of each label, in order."""
    return {label: line_style(i) for i, label in enumerate(labels)}


def grid_shape(n: int, most_columns: int = 3) -> tuple[int, int]:
    """Rows and columns of a grid of ``n`` small panels, at most ``most_columns`` wide."""
    ncols = max(1, min(most_columns, n))
    return -(-n // ncols), ncols


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
    """Add a legend when the axes have labelled artists (beside the panel, off the data)."""
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, names, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, **kwargs)


def figure_legend(fig, handles, names, title: str | None = None) -> None:
    """One legend for the whole figure, outside the panels on the right."""
    if handles:
        fig.legend(handles, names, title=title, loc="outside right upper", fontsize="small")


def empty_message(ax, text: str) -> None:
    """Say in the panel why it has nothing to draw (instead of empty axes)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", wrap=True,
            fontsize="medium", color="#444")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
