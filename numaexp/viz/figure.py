"""The Figure class of every numaexp plot: a matplotlib Figure that shows itself in notebooks."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

NOTEBOOK_DPI = 100
"""Resolution of figures shown in a notebook, dots per inch."""


class NotebookFigure(Figure):
    """A ``matplotlib.figure.Figure`` with a PNG representation for IPython.

    Figures built without pyplot are not registered with any backend, so a
    notebook would show only their ``repr``; ``_repr_png_`` renders them
    (when pyplot's inline backend is active it renders them itself).
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=NOTEBOOK_DPI, bbox_inches="tight")
        return buffer.getvalue()
