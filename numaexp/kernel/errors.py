"""Errors of the kernel backend."""

from __future__ import annotations


class KernelBackendError(RuntimeError):
    """The kernel backend could not run: a missing host package, a kernel image
    that does not boot, a guest that timed out, a setting the guest refused.

    Attributes
    ----------
    log_tail : str
        The last lines of the guest's console log ("" when no guest ran).
    log_path : str or None
        Where the whole console log was kept.
    """

    def __init__(self, message: str, log_tail: str = "", log_path: str | None = None):
        self.log_tail = log_tail
        self.log_path = log_path
        text = message
        if log_path:
            text += f"\n(console log kept in {log_path})"
        if log_tail:
            text += "\n--- last lines of the guest console ---\n" + log_tail
        super().__init__(text)
