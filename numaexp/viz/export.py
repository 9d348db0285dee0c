"""Write figures (PNG, SVG, PDF) and frames (CSV, Parquet) with one call."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

FIGURE_FORMATS = ("png", "svg", "pdf")
"""Figure formats :func:`export` writes by default."""

TABLE_FORMATS = ("csv", "parquet")
"""Table formats :func:`export` writes by default."""


def save_figure(fig, path: str | Path, formats=("png",), dpi: int = 120, *,
                close: bool = True) -> list[Path]:
    """Write ``fig`` as ``path`` with each format's suffix.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        File path without suffix; parent directories are created.
    formats : sequence of str
        Any format matplotlib writes (``"png"``, ``"svg"``, ``"pdf"``, ...).
    dpi : int
        Resolution of raster formats, dots per inch.
    close : bool
        Clear the figure afterwards, freeing its memory.

    Returns
    -------
    list of Path
        The files written.
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = base.with_name(f"{base.name}.{fmt}")
        fig.savefig(target, dpi=dpi)
        written.append(target)
    if close:
        fig.clear()
    return written


def named_figures(figures) -> dict:
    """Figures as ``{name: Figure}``.

    Parameters
    ----------
    figures : Figure, sequence of Figure, mapping of str to Figure, or None
        Unnamed figures take their label (every numaexp plot sets one, e.g.
        ``"counters"``) or ``figure<N>``; repeated names get ``-2``, ``-3``...
    """
    if figures is None:
        return {}
    if isinstance(figures, Mapping):
        return dict(figures)
    if hasattr(figures, "savefig"):
        figures = [figures]
    out: dict = {}
    for i, fig in enumerate(figures):
        name = fig.get_label() or f"figure{i + 1}"
        unique, n = name, 1
        while unique in out:
            n += 1
            unique = f"{name}-{n}"
        out[unique] = fig
    return out


def named_frames(frames) -> dict[str, pd.DataFrame]:
    """Frames as ``{name: DataFrame}``.

    Parameters
    ----------
    frames : DataFrame, mapping of str to DataFrame, Result, Comparison or None
        A Result gives its frames; a Comparison its ``summary`` frame and
        every combined table; a bare DataFrame is named ``table``.
    """
    if frames is None:
        return {}
    if isinstance(frames, pd.DataFrame):
        return {"table": frames}
    if isinstance(frames, Mapping):
        return dict(frames)
    if hasattr(frames, "results") and hasattr(frames, "table"):
        first = next(iter(frames.results.values()))
        return {"summary": frames.frame, **{name: frames.table(name) for name in first.frames}}
    if hasattr(frames, "frames"):
        return dict(frames.frames)
    raise TypeError(f"expected frames, a Result or a Comparison, got {type(frames).__name__}")


def export(figures, frames, directory: str | Path, formats=FIGURE_FORMATS, *,
           table_formats=TABLE_FORMATS, dpi: int = 150, close: bool = True) -> list[Path]:
    """Write figures and frames into ``directory`` in one call.

    Parameters
    ----------
    figures : Figure, sequence of Figure, mapping of str to Figure, or None
        Written to ``directory/figures/<name>.<format>``.
    frames : DataFrame, mapping of str to DataFrame, Result, Comparison, or None
        Written to ``directory/tables/<name>.csv`` and ``.parquet``.
    directory : str or Path
        Created if missing.
    formats : sequence of str
        Figure formats (default PNG, SVG and PDF).
    table_formats : sequence of {"csv", "parquet"}
        Table formats.
    dpi : int
        Resolution of raster formats, dots per inch.
    close : bool
        Clear each figure once written.

    Returns
    -------
    list of Path
        Every file written.

    Examples
    --------
    >>> from numaexp.viz import export, plot_counters, plot_times  # doctest: +SKIP
    >>> export([plot_counters(comparison), plot_times(comparison)], comparison, "out/run1")
    """
    unknown = set(table_formats) - set(TABLE_FORMATS)
    if unknown:
        raise ValueError(f"unknown table format(s) {', '.join(sorted(unknown))} "
                         f"(allowed: {', '.join(TABLE_FORMATS)})")
    out = Path(directory)
    written: list[Path] = []
    for name, fig in named_figures(figures).items():
        written += save_figure(fig, out / "figures" / name, formats, dpi=dpi, close=close)
    tables = named_frames(frames)
    if tables:
        (out / "tables").mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if "csv" in table_formats:
            frame.to_csv(out / "tables" / f"{name}.csv", index=False)
            written.append(out / "tables" / f"{name}.csv")
        if "parquet" in table_formats:
            frame.to_parquet(out / "tables" / f"{name}.parquet", index=False)
            written.append(out / "tables" / f"{name}.parquet")
    return written
