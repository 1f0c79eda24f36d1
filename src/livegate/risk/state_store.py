"""Durable operator state in the state dir: the latched trading state, its log and the session lock.

Files (all mode 0600, written atomically: temp file, fsync, rename, fsync of the dir):

``trading_state.json``
    The current state (ACTIVE / REDUCING / HALTED), why, since when, by whom or what,
    the automatic trigger conditions last seen holding, and the recent history.
``trading_state.log.jsonl``
    Append-only log of every change, rearm and unlock (one JSON object a line).
``session.lock``
    Present after an anomaly when ``[kill] lock_on_anomaly`` is on; ``livegate run``
    refuses to start until ``livegate unlock``.
``KILL``
    Manual trigger: while this file exists every session starts HALTED and rearm refuses.
``.trading_state.flock``
    Advisory lock (``flock``) held around every read-modify-write of the state file, so
    a session's trip and an operator's ``kill`` or ``rearm`` never overwrite each other.

An unreadable or corrupt state file reads as HALTED (fail closed, docs/architecture.md §3.4).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from livegate.domain.clock import wall_time_ms
from livegate.domain.enums import TradingState

STATE_FILE = "trading_state.json"
LOG_FILE = "trading_state.log.jsonl"
LOCK_FILE = "session.lock"
KILL_FILE = "KILL"
#: Age (ms of wall time) a state dir mtime must have before the cached KILL check trusts it:
#: file systems stamp mtimes at the kernel's coarse clock tick (1-10 ms), far below this.
KILL_MTIME_SETTLE_MS = 1_000
FLOCK_FILE = ".trading_state.flock"
#: Entries of history kept inside the state file (the log keeps everything).
HISTORY_LIMIT = 100
_FILE_MODE = 0o600
_DIR_MODE = 0o700


@dataclass(frozen=True, slots=True)
class TradingStateRecord:
    """One trading state and its provenance.

    Parameters
    ----------
    state:
        The trading state.
    reason:
        Operator text or the trigger's explanation.
    source:
        What set it: ``cli``, ``kill_file``, ``env``, ``trigger:<name>``, ``default``, ``corrupt_state_file``.
    actor:
        Who: the operator's user name for CLI actions, the session id for triggers.
    ts_ms:
        Wall time of the change, ms since the epoch.
    trigger_value, threshold:
        The triggering value and the threshold it crossed (decimal strings), when automatic.
    """

    state: TradingState
    reason: str
    source: str
    actor: str = ""
    ts_ms: int = 0
    trigger_value: str | None = None
    threshold: str | None = None

    def to_record(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        record = asdict(self)
        record["state"] = self.state.value
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> TradingStateRecord:
        """Build a record from :meth:`to_record` output.

        Raises
        ------
        ValueError, KeyError, TypeError
            If the record is malformed.
        """
        return cls(
            state=TradingState(record["state"]),
            reason=str(record.get("reason", "")),
            source=str(record.get("source", "")),
            actor=str(record.get("actor", "")),
            ts_ms=int(record.get("ts_ms", 0)),
            trigger_value=None if record.get("trigger_value") is None else str(record["trigger_value"]),
            threshold=None if record.get("threshold") is None else str(record["threshold"]),
        )


ACTIVE_DEFAULT = TradingStateRecord(TradingState.ACTIVE, "no kill recorded", "default")


@dataclass(slots=True)
class StoredState:
    """Everything ``trading_state.json`` holds.

    ``conditions`` maps an automatic trigger name to what was last seen while it held
    (``value``, ``threshold``, ``ts_ms`` and optionally ``holds_until_ms``, the wall time
    after which it lapses by itself, e.g. the next trading day for a daily loss).
    """

    current: TradingStateRecord = ACTIVE_DEFAULT
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    corrupt: str = ""


class TradingStateStore:
    """Read and write the state dir's trading state, log and session lock.

    Parameters
    ----------
    directory:
        The state dir (:func:`livegate.config.paths.state_dir`); created (0700) on first write.
    """

    __slots__ = ("_kill_seen", "directory", "last_signature")

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        #: (state dir inode, mtime in ns, KILL present) of the last :meth:`kill_file_present_cached` look.
        self._kill_seen: tuple[int, int, bool] | None = None
        #: :meth:`signature` as of the end of the last :meth:`update` (taken under the lock).
        self.last_signature: tuple[int, int, int] | None = None

    # ------------------------------------------------------------------ trading state
    @property
    def state_path(self) -> Path:
        """Return the path of ``trading_state.json``."""
        return self.directory / STATE_FILE

    def signature(self) -> tuple[int, int, int] | None:
        """Return ``(st_ino, st_mtime_ns, st_size)`` of the state file, None when absent (one ``stat``).

        Every write replaces the file (new inode), so a changed signature means another
        writer (``livegate kill``, ``rearm``, another session) changed the state.
        """
        try:
            st = os.stat(self.state_path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def load(self) -> StoredState:
        """Return the stored state; ACTIVE when no file exists, HALTED when it is unreadable."""
        path = self.state_path
        if not path.exists():
            return StoredState()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            current = TradingStateRecord.from_record(data["current"])
            conditions = dict(data.get("conditions") or {})
            history = list(data.get("history") or [])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problem = f"state file {path} is unreadable ({exc}); failing closed"
            halted = TradingStateRecord(TradingState.HALTED, problem, "corrupt_state_file")
            return StoredState(current=halted, corrupt=problem)
        return StoredState(current=current, conditions=conditions, history=history)

    def save(self, stored: StoredState) -> None:
        """Write ``stored`` atomically with mode 0600.

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        payload = {
            "version": 1,
            "current": stored.current.to_record(),
            "conditions": stored.conditions,
            "history": stored.history[-HISTORY_LIMIT:],
        }
        self._write_atomic(self.state_path, json.dumps(payload, indent=2, sort_keys=True) + "\n")

    def record_change(self, record: TradingStateRecord, action: str, conditions: dict[str, dict[str, Any]]) -> None:
        """Make ``record`` the current state, append it to history and the log, then save.

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        self.append_log(self.record_state(record, action, conditions))

    def record_state(
        self, record: TradingStateRecord, action: str, conditions: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        """Make ``record`` the current state in ``trading_state.json`` (durable on return); return its log entry.

        The state file (with the entry in its history) is the latch; the caller appends
        the returned entry to the log with :meth:`append_log` (the kill switch does so
        after the halt's cancels went out, see docs/risk.md).

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        entry = {"action": action, **record.to_record()}

        def replace(stored: StoredState) -> dict[str, Any]:
            stored.current = record
            stored.conditions = conditions
            stored.history.append(entry)
            return entry

        self.update(replace)
        return entry

    def update(self, change: Callable[[StoredState], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Read, change and write the state file under the state dir's advisory lock.

        ``change`` mutates the loaded :class:`StoredState` and returns the log entry of the
        change, or None to write nothing (e.g. the stored state is already as severe).
        Returns what ``change`` returned.

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        with self._flock():
            stored = self.load()
            entry = change(stored)
            if entry is not None:
                self.save(stored)
            self.last_signature = self.signature()
            return entry

    def save_conditions(self, conditions: dict[str, dict[str, Any]]) -> None:
        """Replace the stored trigger conditions, keeping the current state.

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        stored = self.load()
        if stored.corrupt:
            return  # never overwrite an unreadable file: an operator must look at it
        stored.conditions = conditions
        self.save(stored)

    def append_log(self, *entries: Mapping[str, Any]) -> None:
        """Append one JSON line per entry to ``trading_state.log.jsonl`` with one write and one fsync.

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        if not entries:
            return
        self._ensure_dir()
        path = self.directory / LOG_FILE
        text = "".join(json.dumps(dict(entry), sort_keys=True) + "\n" for entry in entries)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, _FILE_MODE)
        try:
            _write_all(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ manual triggers
    def kill_file_present(self) -> bool:
        """Return True while a file named ``KILL`` exists in the state dir."""
        return (self.directory / KILL_FILE).exists()

    def kill_file_present_cached(self) -> bool:
        """Return :meth:`kill_file_present`, looking for the file only when the state dir changed.

        One ``stat`` of the state dir: creating or removing ``KILL`` changes the directory's
        mtime, so an unchanged (inode, mtime) means an unchanged answer. An mtime less than
        :data:`KILL_MTIME_SETTLE_MS` old is never trusted (a file system stamps times at a
        coarse tick, so a second change within the same tick keeps the mtime). For the
        replay's per-heartbeat check; the session timer keeps the exact check.
        """
        try:
            st = os.stat(self.directory)
        except OSError:
            self._kill_seen = None
            return self.kill_file_present()
        seen = self._kill_seen
        if seen is not None and seen[0] == st.st_ino and seen[1] == st.st_mtime_ns:
            return seen[2]
        present = self.kill_file_present()
        settled = wall_time_ms() - st.st_mtime_ns // 1_000_000 > KILL_MTIME_SETTLE_MS
        self._kill_seen = (st.st_ino, st.st_mtime_ns, present) if settled else None
        return present

    # ------------------------------------------------------------------ session lock
    @property
    def lock_path(self) -> Path:
        """Return the path of ``session.lock``."""
        return self.directory / LOCK_FILE

    def read_lock(self) -> dict[str, Any] | None:
        """Return the session lock's content, None when unlocked (an unreadable lock still locks)."""
        path = self.lock_path
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return {"reason": f"unreadable lock file ({exc})"}
        return data if isinstance(data, dict) else {"reason": "malformed lock file"}

    def write_lock(self, content: Mapping[str, Any]) -> None:
        """Create or replace the session lock (0600) and log it.

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        self._write_atomic(self.lock_path, json.dumps(dict(content), indent=2, sort_keys=True) + "\n")
        self.append_log({"action": "lock", **content})

    def remove_lock(self, entry: Mapping[str, Any]) -> bool:
        """Remove the session lock and log ``entry``; return False when there was none.

        Raises
        ------
        OSError
            If the state dir cannot be written.
        """
        if not self.lock_path.exists():
            return False
        self.append_log({"action": "unlock", **entry})
        self.lock_path.unlink()
        self._fsync_dir()
        return True

    # ------------------------------------------------------------------ internals
    @contextmanager
    def _flock(self) -> Iterator[None]:
        self._ensure_dir()
        fd = os.open(self.directory / FLOCK_FILE, os.O_WRONLY | os.O_CREAT, _FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)

    def _write_atomic(self, path: Path, text: str) -> None:
        self._ensure_dir()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
        try:
            _write_all(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
