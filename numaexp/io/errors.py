"""The error of a malformed snapshot file."""

from __future__ import annotations


class SnapshotError(ValueError):
    """A file that does not have the kernel's format.

    Parameters
    ----------
    source : str
        The file (path, or a name such as ``"/proc/vmstat"`` for text given directly).
    line : int
        1-based line number (0 when the whole file is at fault).
    problem : str
        What is wrong, and what the kernel writes there.
    """

    def __init__(self, source: str, line: int, problem: str):
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")
