"""One process per run directory (issue 9 §6): an exclusive ``flock`` on ``<run dir>/run.lock``.

The lock file holds the holder's pid, host and start time (JSON). The kernel releases the
lock when the holder exits, however it exits (SIGKILL included), so a crashed run never
leaves a stale lock behind; the file itself stays and names the last holder.

Who takes it: ``livegate run`` (a new run or ``--resume``) for the whole session, and the
operator commands that write a run directory (``livegate flatten``, ``cancel-all``,
``reconcile``) while they work. A second taker is refused with
:class:`~livegate.domain.errors.ConfigError` (exit 2) naming the holder.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path

from livegate.domain.clock import wall_time_ms
from livegate.domain.errors import ConfigError

__all__ = ["LOCK_FILE", "RunLock", "refuse_existing_run"]

LOCK_FILE = "run.lock"
#: Files whose presence makes a directory an existing run directory.
_RUN_MARKERS = ("ledger.sqlite", "config_resolved.json", "summary.json")


def refuse_existing_run(run_dir: Path) -> None:
    """Refuse ``--out`` on an existing run directory: its ids and venue store would be reused.

    Raises
    ------
    ConfigError
        Pointing to ``livegate run --resume`` (exit 2).
    """
    found = [name for name in _RUN_MARKERS if (run_dir / name).exists()]
    if found:
        raise ConfigError(
            f"{run_dir} is an existing run directory (it has {', '.join(found)}); "
            f"continue it with: livegate run --resume {run_dir}  (or choose a new --out)"
        )


class RunLock:
    """An exclusive lock on a run directory, held until :meth:`release` or process exit.

    Parameters
    ----------
    run_dir:
        The run directory (created when missing).
    purpose:
        What the holder does, written into the lock file (``run``, ``resume``, ``flatten``...).

    Raises
    ------
    ConfigError
        If another process holds the lock (naming its pid, host, purpose and start time),
        or the lock file cannot be opened.
    """

    __slots__ = ("_fd", "path")

    def __init__(self, run_dir: Path, purpose: str) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / LOCK_FILE
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(f"cannot open the run lock {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            raise ConfigError(
                f"{run_dir} is in use by {holder} ({self.path}); wait for it to end, or stop it "
                f"(livegate kill, or signal that process) before trying again"
            ) from exc
        record = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": purpose, "started_ms": wall_time_ms()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        """Unlock and close (idempotent); the file stays, naming the last holder."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        raw = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        record = json.loads(raw)
        since = dt.datetime.fromtimestamp(int(record["started_ms"]) / 1000, tz=dt.UTC).isoformat(timespec="seconds")
        return f"pid {record.get('pid')} on host {record.get('host')} ({record.get('purpose')}, since {since})"
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return "another process (lock file unreadable)"
