"""Shared by the kernel-backend tests: run, not skip, under CI=true."""

from __future__ import annotations

import os

import pytest

from numaexp.kernel.host import missing_programs

IN_CI = os.environ.get("CI") == "true"


def require_host() -> None:
    """Skip (fail under CI=true) when a host package of the kernel backend is missing."""
    missing = missing_programs()
    if not missing:
        return
    line = "apt-get install -y " + " ".join(sorted(set(missing.values())))
    reason = f"the kernel backend needs {', '.join(missing)}: {line}"
    if IN_CI:
        pytest.fail(f"CI=true but {reason} (.ci/run installs them)")
    pytest.skip(reason)
