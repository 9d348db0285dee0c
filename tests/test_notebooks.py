"""Every notebook in notebooks/ runs top to bottom (in a scratch folder); none stores outputs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

CELL_TIMEOUT_S = 900
"""Per cell: long enough for a first run that compiles the numba kernels (a few minutes)."""


def test_there_are_notebooks():
    assert {"01-quickstart", "02-compare-modes", "06-parameter-sweeps",
            "07-task-statistics"} <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, \
                f"{path.name}: clear the outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_states_its_background(path):
    """Issue 20: each notebook says in its prose which background preset its scenarios run
    with, and a cell that builds a Scenario names it."""
    book = nbformat.read(path, as_version=4)
    prose = "\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
    assert re.search(r"`(quiet|busy|none)` background", prose), \
        f"{path.name}: say which background (quiet, busy, none) its scenarios use"
    for cell in book.cells:
        if cell.cell_type == "code" and re.search(r"\bScenario\(", cell.source):
            assert re.search(r"\bbackground=", cell.source), \
                f"{path.name}: a cell builds a Scenario without naming its background"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    shutil.copy(path, tmp_path / path.name)  # files the notebook writes land in tmp_path
    book = nbformat.read(tmp_path / path.name, as_version=4)
    NotebookClient(book, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in book.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert any("image/png" in out.get("data", {}) or
               "application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for out in outputs), f"{path.name} shows no figure or widget"
