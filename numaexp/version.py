"""The installed package's version (without importing the simulator)."""

from __future__ import annotations


def package_version() -> str:
    """numaexp's version from the installed metadata, or ``"unknown"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("numaexp")
    except PackageNotFoundError:
        return "unknown"
