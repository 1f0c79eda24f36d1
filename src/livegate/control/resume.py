"""Rebuild a session from its ledger (``livegate run --resume RUN_DIR``, issue 6).

The ledger is the book of record (docs/architecture.md §3.5): folding its events gives back the
orders with their states, the positions, the engine counters, the next intent sequence
number (so client order ids are never reused), the approved intents (for the gates'
daily counters and rate windows), the trading state and the balance baseline.

What the ledger cannot know (a submit whose answer was never written, fills made while
the engine was dead) is left as ``submitted`` / unfilled here and settled from the venue
by :func:`livegate.reconcile.resolve.resolve_after_restart`.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import subprocess
import sys
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from livegate.config.loader import ResolvedConfig
from livegate.config.models import LivegateConfig
from livegate.domain.enums import TradingState
from livegate.domain.errors import ConfigError, DataError, LedgerError
from livegate.domain.orders import OrderIntent
from livegate.ledger.checkpoint_job import CHECKPOINT_EVERY_EVENTS, fold_from_checkpoint
from livegate.ledger.checkpoint_lists import ArchivedList
from livegate.ledger.fold import LedgerFold, gc_paused
from livegate.ledger.fold_copy import copy_sequence
from livegate.ledger.fold_rules import EngineStats
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio

#: Inputs of the original ``livegate run``, kept in the run directory for ``--resume``.
RUN_INPUTS_FILE = "run_inputs.json"
#: Index of the market event being processed, updated in place for every event.
CURSOR_FILE = "replay_cursor.bin"

log = logging.getLogger("livegate")

_CURSOR_MAGIC = b"LGCURSR1"
_CURSOR_FORMAT = "<q"
_CURSOR_SIZE = 4096


@dataclass(slots=True)
class RebuiltSession:
    """What :func:`rebuild_from_ledger` recovers.

    Parameters
    ----------
    session_id, mode, config_hash, inputs:
        From ``session_started``.
    portfolio:
        Orders (states as far as the ledger knows) and positions.
    next_seq:
        First intent sequence number for the resumed run (max recorded + 1).
    stats:
        Engine counters so far.
    approved_intents:
        Approved intents in ledger order (to refill the gates' counters).
    fill_ids:
        Venue fill ids recorded in the ledger.
    trading_state, trading_reason:
        The last ``trading_state_changed``, or ACTIVE and ``""``.
    balance_baseline:
        Cash per currency at the first reconciliation, or None.
    anomalies:
        Number of ``anomaly`` events so far.
    last_ts_ms:
        Time of the last ledger event (ms since the epoch).
    resumes:
        How many times the run was resumed before.
    ended:
        True when the last incarnation wrote ``session_ended`` (nothing to resume).
    fold:
        The ledger fold itself, up to the ledger's head at the rebuild. ``portfolio``,
        ``stats`` and ``approved_intents`` are copies, so the fold can go on folding
        later events (the reconciler's fill index continues it) without touching them.
    checkpoint_seq:
        Seq of the fold checkpoint the fold started from (0: folded from the first event).
    checkpoint_ignored:
        Why a fold checkpoint was not used (``""`` when it was or none was asked for).
    """

    session_id: str
    mode: str
    config_hash: str
    inputs: list[str]
    portfolio: Portfolio
    next_seq: int = 0
    stats: EngineStats = field(default_factory=EngineStats)
    approved_intents: MutableSequence[OrderIntent] = field(default_factory=list)
    fill_ids: set[str] = field(default_factory=set)
    trading_state: TradingState = TradingState.ACTIVE
    trading_reason: str = ""
    balance_baseline: dict[str, Decimal] | None = None
    anomalies: int = 0
    last_ts_ms: int = 0
    resumes: int = 0
    ended: bool = False
    fold: LedgerFold = field(default_factory=LedgerFold)
    checkpoint_seq: int = 0
    checkpoint_ignored: str = ""

    def approved_intents_at(self, keep: Callable[[int], bool]) -> list[OrderIntent]:
        """Return, in ledger order, the approved intents whose time (ms since the epoch) passes ``keep``.

        Intents a fold checkpoint archived are built only when they pass (a trading day's
        intents out of a long ledger's: :func:`livegate.control.maintenance.refill_gate_counters`).
        """
        intents = self.approved_intents
        if isinstance(intents, ArchivedList):
            return intents.select(keep, _intent_ts)
        return [intent for intent in intents if keep(intent.ts_ms)]


def rebuild_from_ledger(ledger: Ledger, *, use_checkpoint: bool = True) -> RebuiltSession:
    """Fold the ledger into a :class:`RebuiltSession` with the one ledger fold, from its checkpoint when it verifies.

    :func:`livegate.ledger.fold.fold_events` is the fold export and reconciliation use
    too, and it applies reports by the engine's own rules: fills once per (client order
    id, venue trade id), late fills after a cancel applied, late status echoes ignored.
    Orders with ``submit_requested`` but no venue answer come back as ``submitted``
    (outcome unknown); a cancel request alone does not change the state (the venue says
    whether it happened).

    With ``use_checkpoint`` the fold starts from the run's fold checkpoint
    (``ledger.checkpoint``, :mod:`livegate.ledger.checkpoint`) when it verifies against the
    chain, and folds only the events after it; a checkpoint that does not verify is
    ignored (logged with the reason) and every event is folded. Either way each folded
    event is checked against the chain first.

    Raises
    ------
    DataError
        If the ledger has no ``session_started`` event, an event cannot be read back, or
        the chain is broken among the events folded.
    """
    from livegate.ledger.checkpoint import checkpoint_path  # a resume only: it hashes the fold's sources on import

    path = checkpoint_path(ledger.path) if use_checkpoint else None
    try:
        fold, start, ignored = fold_from_checkpoint(
            path, rows_after=lambda seq: ledger.rows(after_seq=seq), hash_at=ledger.hash_at, head_seq=ledger.last_seq
        )
    except (DataError, LedgerError) as exc:
        raise DataError(f"ledger {ledger.path}: cannot rebuild: {exc}") from exc
    if start:
        log.info(
            "resume: fold checkpoint at seq %d verified against the chain; folded the %d events after it",
            start, fold.last_seq - start,
        )  # fmt: skip
    elif path is not None and ignored and not path.exists():
        log.info("resume: no fold checkpoint in %s; folded all %d ledger events", path.parent, fold.last_seq)
    elif ignored:
        log.warning("resume: fold checkpoint %s ignored: %s; folded all %d ledger events", path, ignored, fold.last_seq)
    session = fold.session
    if session is None:
        raise DataError(f"ledger {ledger.path}: no session_started event; nothing to resume")
    with gc_paused():
        fill_ids = fold.fill_ids()
    return RebuiltSession(
        session_id=session.session_id,
        mode=session.mode,
        config_hash=session.config_hash,
        inputs=list(session.inputs),
        portfolio=fold.copy_portfolio(),  # the session's own: ``fold`` goes on folding in the fill index
        next_seq=fold.next_seq,
        stats=fold.copy_stats(),
        approved_intents=copy_sequence(fold.approved_intents),
        fill_ids=fill_ids,
        trading_state=fold.trading_state,
        trading_reason=fold.trading_reason,
        balance_baseline=fold.balance_baseline,
        anomalies=fold.anomalies,
        last_ts_ms=fold.last_ts_ms,
        resumes=fold.resumes,
        ended=fold.ended,
        fold=fold,
        checkpoint_seq=start,
        checkpoint_ignored=ignored,
    )


def _intent_ts(intent: OrderIntent) -> int:
    return intent.ts_ms


# ---------------------------------------------------------------------- run directory
def write_run_inputs(run_dir: Path, record: dict[str, Any]) -> None:
    """Write the data inputs and CLI choices of the original run (``run_inputs.json``)."""
    tmp = run_dir / (RUN_INPUTS_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(run_dir / RUN_INPUTS_FILE)


def read_run_inputs(run_dir: Path) -> dict[str, Any]:
    """Return ``run_inputs.json`` of a run directory.

    Raises
    ------
    ConfigError
        If the directory holds no such file (not a run directory of this build).
    """
    path = run_dir / RUN_INPUTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot resume {run_dir}: {path.name} missing or unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"cannot resume {run_dir}: {path.name} is not a JSON object")
    return data


def resolved_from_run_dir(run_dir: Path) -> tuple[ResolvedConfig, str]:
    """Return the exact configuration of a run (from ``config_resolved.json``) and its mode.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable or no longer validates.
    """
    path = run_dir / "config_resolved.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        config = LivegateConfig.model_validate(record["config"])
        mode = str(record["mode"]["value"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot resume {run_dir}: {path.name} missing or invalid ({exc})") from exc
    resolved = ResolvedConfig(
        config=config,
        sources={str(k): str(v) for k, v in dict(record.get("sources", {})).items()},
        profile_path=str(record.get("profile", "")),
        config_hash=str(record["config_hash"]),
    )
    return resolved, mode


class CursorSlot(Protocol):
    """Where the session loop writes the index of the event it processes: ``slot[0] = index``."""

    def __setitem__(self, position: int, index: int, /) -> None:
        """Store ``index`` (``position`` is 0)."""


class ReplayCursor:
    """The index of the market event being processed, kept in a small memory-mapped file.

    :meth:`mark` is a single store into a shared mapping: no system call on the hot path,
    and the value survives a SIGKILL of the process (the page belongs to the kernel's
    page cache). A power loss may lose it; :func:`read_cursor` then returns None and the
    resume falls back to the ledger's last event time.
    """

    __slots__ = ("_fd", "_map", "_slot")

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(self._fd, _CURSOR_SIZE)
        self._map = mmap.mmap(self._fd, _CURSOR_SIZE)
        self._map[0:8] = _CURSOR_MAGIC
        self._slot: memoryview | None = None

    def mark(self, index: int) -> None:
        """Record that event ``index`` (0-based) is being processed."""
        struct.pack_into(_CURSOR_FORMAT, self._map, 8, index)

    def slot(self) -> CursorSlot:
        """Return the cursor as a one-item sequence for the hot loop: ``slot[0] = index`` is :meth:`mark`.

        On a little-endian machine it is a view of the mapping's 8 bytes as one native
        signed 64-bit integer (``<q`` there): the store is one ``STORE_SUBSCR``, no call.
        It stays valid until :meth:`close`, which releases it.
        """
        if sys.byteorder != "little":
            return PackedSlot(self._map)
        if self._slot is None:
            self._slot = memoryview(self._map)[8:16].cast("q")
        return self._slot

    def close(self) -> None:
        """Flush and release the mapping; harmless twice."""
        if self._slot is not None:
            self._slot.release()
            self._slot = None
        if not self._map.closed:
            self._map.flush()
            self._map.close()
            os.close(self._fd)


class PackedSlot:
    """``slot[0] = index`` packed as ``<q`` into a cursor mapping (the slot of big-endian machines)."""

    __slots__ = ("_map",)

    def __init__(self, mapping: mmap.mmap) -> None:
        self._map = mapping

    def __setitem__(self, position: int, index: int, /) -> None:
        """Pack ``index`` into the mapping's cursor field (``position`` is 0)."""
        struct.pack_into(_CURSOR_FORMAT, self._map, 8 + 8 * position, index)


def read_cursor(path: Path) -> int | None:
    """Return the last marked event index, or None when the file is missing or not a cursor."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 16 or data[0:8] != _CURSOR_MAGIC:
        return None
    (index,) = struct.unpack_from(_CURSOR_FORMAT, data, 8)
    return int(index)


class CheckpointRefresher:
    """Refreshes the run's fold checkpoint in a separate process as the ledger grows (issue 14 item 7).

    :meth:`maybe_refresh` starts ``python -m livegate.ledger.checkpoint_job LEDGER_FILE``
    when the ledger grew by ``every`` events, or by a quarter of what the checkpoint
    covers if that is more, since the last start and no refresh is still running (a
    refresh costs time in proportion to the whole fold, so refreshing at a growing
    interval keeps its total cost in proportion to the ledger). The process reads only
    committed events and writes the checkpoint atomically, so the session never waits for
    it, and a crash of either leaves the old checkpoint or the new one (both verified
    before use).

    Parameters
    ----------
    ledger_file:
        The run's ``ledger.sqlite``.
    covered_seq:
        Seq the run's checkpoint already covers (0: none).
    every:
        Least number of ledger events between two refreshes.
    """

    __slots__ = ("_child", "_covered", "_every", "_file", "_warned")

    def __init__(self, ledger_file: Path, covered_seq: int = 0, every: int = CHECKPOINT_EVERY_EVENTS) -> None:
        self._file = ledger_file
        self._covered = covered_seq
        self._every = every
        self._child: subprocess.Popen[bytes] | None = None
        self._warned = False

    @property
    def running(self) -> bool:
        """Return True while a refresh process started here is still running."""
        return self._child is not None and self._child.poll() is None

    def maybe_refresh(self, head_seq: int) -> bool:
        """Start a refresh if the ledger (now at ``head_seq``) grew enough; return True if one started."""
        if head_seq - self._covered < max(self._every, self._covered // 4) or self.running:
            return False
        if self._child is not None and self._child.returncode and not self._warned:
            self._warned = True
            log.warning("fold checkpoint refresh of %s failed (exit %s)", self._file, self._child.returncode)
        try:
            self._child = subprocess.Popen(  # noqa: S603 (our own interpreter and module, a path argument)
                [sys.executable, "-m", "livegate.ledger.checkpoint_job", str(self._file)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("fold checkpoint refresh of %s not started: %s", self._file, exc)
            return False
        self._covered = head_seq
        return True

    def wait(self, timeout_secs: float) -> int | None:
        """Wait up to ``timeout_secs`` for the last refresh; return its exit code (None: none, or still running)."""
        if self._child is None:
            return None
        try:
            return self._child.wait(timeout_secs)
        except subprocess.TimeoutExpired:
            return None
