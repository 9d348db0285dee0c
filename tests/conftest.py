"""Shared fixtures (builders live in ``helpers.py``)."""

from __future__ import annotations

import pytest
from helpers import small_machine

from numaexp.model import Machine


@pytest.fixture
def machine() -> Machine:
    """Two nodes of four CPUs."""
    return small_machine()
