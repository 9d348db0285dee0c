"""The Figure class of every numaexp plot: a matplotlib Figure that shows itself in notebooks.

Static by default (PNG); after ``%matplotlib widget`` (ipympl) in JupyterLab, every numaexp
figure shows as an interactive canvas (zoom, pan, hover coordinates) instead. The figure is
the same object either way, so ``savefig`` and :func:`numaexp.viz.export` write the same
static files.
"""

from __future__ import annotations

import io
import itertools

from matplotlib.figure import Figure

NOTEBOOK_DPI = 100
"""Resolution of figures shown in a notebook, dots per inch."""

_numbers = itertools.count(1)


def interactive() -> bool:
    """The notebook asked for interactive figures: matplotlib's backend is ipympl's."""
    import matplotlib

    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or backend == "widget"


class NotebookFigure(Figure):
    """A ``matplotlib.figure.Figure`` with notebook representations.

    Figures built without pyplot are not registered with any backend, so a
    notebook would show only their ``repr``; ``_repr_png_`` renders them, and
    with ipympl's backend active (:func:`interactive`) ``_repr_mimebundle_``
    shows them as an ipympl canvas widget.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=NOTEBOOK_DPI, bbox_inches="tight")
        return buffer.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not interactive():
            return {"image/png": self._repr_png_()}
        return self.canvas_widget()._repr_mimebundle_(include=include, exclude=exclude)

    def canvas_widget(self):
        """The ipympl canvas widget showing this figure (made once).

        Importing ipympl makes it matplotlib's backend; when this is what first
        imports it (the dashboard's *interactive figures*, not ``%matplotlib
        widget``), the backend is put back, so other figures stay as they were.
        """
        Canvas, new_manager = _ipympl()
        if not isinstance(self.canvas, Canvas):
            new_manager(next(_numbers), self)
        return self.canvas


def _ipympl():
    """ipympl's ``Canvas`` and ``new_figure_manager_given_figure``, imported without
    changing matplotlib's backend (importing ipympl switches to it)."""
    import sys

    if "ipympl.backend_nbagg" not in sys.modules:
        import matplotlib
        from matplotlib import rcsetup

        rc = matplotlib.rcParams
        before, fallback = rc._get_backend_or_none(), rc["backend_fallback"]
        import ipympl.backend_nbagg  # noqa: F401

        if rc._get_backend_or_none() != before:
            if before is None:  # not chosen yet: matplotlib picks one when it needs one
                rc._set("backend", rcsetup._auto_backend_sentinel)  # rc[...] = ignores it
            else:
                matplotlib.use(before)
        rc["backend_fallback"] = fallback
    from ipympl.backend_nbagg import Canvas, new_figure_manager_given_figure

    return Canvas, new_figure_manager_given_figure
