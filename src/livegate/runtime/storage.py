"""Storage checks of a running session: the files it writes must still be the files it opened.

SQLite and buffered writers keep writing to a file descriptor; a ledger deleted or
replaced under a running session would otherwise be written into an unlinked inode and
the run would end with no ledger on disk. :class:`StorageGuard` remembers each file's
identity (``st_dev``, ``st_ino``) when the session opens it and compares it at every
timer tick and at the end; a missing or replaced file, or a writer that reported a write
error (:attr:`~livegate.telemetry.writer.TelemetryWriter.error`), is a storage failure:
the session goes HALTED, attempts cancel-all, records an anomaly and exits 3
(docs/risk.md, storage failure).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["StorageGuard"]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class StorageGuard:
    """Watch the identity of the session's files and the error state of its writers."""

    __slots__ = ("_errors", "_files", "failed")

    def __init__(self) -> None:
        self._files: list[tuple[str, Path, tuple[int, int] | None]] = []
        self._errors: list[tuple[str, Callable[[], str]]] = []
        self.failed = ""

    def watch_file(self, name: str, path: Path) -> None:
        """Remember ``path``'s identity now (the file must exist)."""
        self._files.append((name, path, _identity(path)))

    def watch_errors(self, name: str, error: Callable[[], str]) -> None:
        """Ask ``error()`` at every check; a non-empty text is a storage failure of ``name``."""
        self._errors.append((name, error))

    def check(self) -> str:
        """Return the first new storage failure as text, or ``""`` (one ``stat`` per watched file).

        A failure is reported once; later checks return ``""``.
        """
        if self.failed:
            return ""
        problem = self.problem()
        self.failed = problem
        return problem

    def problem(self) -> str:
        """Return what is wrong now, or ``""`` (does not latch)."""
        for name, path, identity in self._files:
            now = _identity(path)
            if now is None:
                return f"{name} {path} was deleted"
            if now != identity:
                return f"{name} {path} was replaced by another file"
        for name, error in self._errors:
            text = error()
            if text:
                return f"{name} write failed: {text}"
        return ""
