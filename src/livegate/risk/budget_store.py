"""Trading-day budgets of one venue account, durable across sessions and restarts (issue 9 §5).

One JSON file per venue account holds the current trading day: the highest equity seen
that day (in day PnL terms) and, per session, what the session used of the day's budgets
(approved orders, turnover, realized PnL, fees, total PnL) plus its baselines (the
session's own portfolio values at the start of the day), so a resumed session continues
from them. A new session on the same day adds the other sessions' use to its own; the
file of an earlier day is ignored (the budgets reset only at the day boundary).

Files are written atomically (temp file, optional fsync, rename) with mode 0600. A file
that cannot be read or parsed raises :class:`~livegate.domain.errors.ConfigError`:
a session never starts with unknown budgets (fail closed, docs/architecture.md §3.4).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from livegate.domain.errors import ConfigError

__all__ = ["BUDGET_DIR", "RUN_BUDGET_FILE", "BudgetStore", "DayBudget", "SessionBudget", "account_file_name"]

#: Sub-directory of the state dir holding one file per venue account.
BUDGET_DIR = "budgets"
#: The budget file of a replayed run's own simulated account, inside its run directory.
RUN_BUDGET_FILE = "budgets.json"
_FILE_MODE = 0o600
_DIR_MODE = 0o700
_ZERO = Decimal(0)
_LAYOUT = 1


def account_file_name(account: str) -> str:
    """Return the file name of ``account`` (e.g. ``fake:demo`` -> ``fake_demo.json``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", account).strip("_.") + ".json"


@dataclass(frozen=True, slots=True)
class SessionBudget:
    """What one session used of a trading day's budgets (amounts in USD, quote currency).

    Parameters
    ----------
    orders:
        Approved orders this trading day.
    turnover_usd, realized_usd, fees_usd, pnl_usd:
        Traded notional, realized PnL, fees and total PnL (realized + unrealized - fees)
        since the start of the day (or of the session, when it started later).
    base_turnover_usd, base_realized_usd, base_fees_usd, base_equity_usd:
        The session's own portfolio values at the start of the day (0 when it started
        that day); a resume of the session measures from them again.
    """

    orders: int = 0
    turnover_usd: Decimal = _ZERO
    realized_usd: Decimal = _ZERO
    fees_usd: Decimal = _ZERO
    pnl_usd: Decimal = _ZERO
    base_turnover_usd: Decimal = _ZERO
    base_realized_usd: Decimal = _ZERO
    base_fees_usd: Decimal = _ZERO
    base_equity_usd: Decimal = _ZERO

    def to_record(self) -> dict[str, Any]:
        """Return a JSON-ready dict (decimals as strings)."""
        record: dict[str, Any] = {"orders": self.orders}
        for name in _DECIMAL_FIELDS:
            record[name] = str(getattr(self, name))
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SessionBudget:
        """Build from :meth:`to_record` output.

        Raises
        ------
        ValueError
            If a field is missing or malformed.
        """
        try:
            values = {name: Decimal(str(record[name])) for name in _DECIMAL_FIELDS}
            orders = int(record["orders"])
        except (KeyError, InvalidOperation, TypeError) as exc:
            raise ValueError(f"bad session budget {dict(record)!r}: {exc!r}") from exc
        if orders < 0:
            raise ValueError(f"bad session budget: orders {orders} < 0")
        return cls(orders=orders, **values)

    def plus(self, other: SessionBudget) -> SessionBudget:
        """Return the sum of the used amounts (baselines are per session and stay 0)."""
        return SessionBudget(
            orders=self.orders + other.orders,
            turnover_usd=self.turnover_usd + other.turnover_usd,
            realized_usd=self.realized_usd + other.realized_usd,
            fees_usd=self.fees_usd + other.fees_usd,
            pnl_usd=self.pnl_usd + other.pnl_usd,
        )


_DECIMAL_FIELDS = (
    "turnover_usd",
    "realized_usd",
    "fees_usd",
    "pnl_usd",
    "base_turnover_usd",
    "base_realized_usd",
    "base_fees_usd",
    "base_equity_usd",
)


@dataclass(frozen=True, slots=True)
class DayBudget:
    """One venue account's trading day.

    Parameters
    ----------
    account:
        The venue account (``fake:demo``, ``ccxt:binance``, ``ccxt:binance/testnet``,
        or ``run:<run dir>`` for a replayed run's simulated venue).
    day_end_ms:
        The day's end: the next midnight of ``zone`` (ms since the epoch, UTC); it names the day.
    zone:
        ``[risk] day_boundary_tz``.
    peak_usd:
        The highest day PnL seen (USD, >= 0: the day starts at 0).
    sessions:
        Use of the budgets by session id.
    """

    account: str
    day_end_ms: int
    zone: str
    peak_usd: Decimal = _ZERO
    sessions: Mapping[str, SessionBudget] = field(default_factory=dict)

    def others(self, session_id: str) -> SessionBudget:
        """Return what every other session used today (summed)."""
        total = SessionBudget()
        for sid, used in self.sessions.items():
            if sid != session_id:
                total = total.plus(used)
        return total

    def with_session(self, session_id: str, used: SessionBudget, peak_usd: Decimal) -> DayBudget:
        """Return a copy with ``session_id``'s use replaced and the peak raised to ``peak_usd``."""
        sessions = dict(self.sessions)
        sessions[session_id] = used
        return replace(self, sessions=sessions, peak_usd=max(self.peak_usd, peak_usd))

    def to_record(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "layout": _LAYOUT,
            "account": self.account,
            "day_end_ms": self.day_end_ms,
            "zone": self.zone,
            "peak_usd": str(self.peak_usd),
            "sessions": {sid: used.to_record() for sid, used in sorted(self.sessions.items())},
        }


class BudgetStore:
    """Read and write one account's :class:`DayBudget` file.

    Parameters
    ----------
    path:
        The file: ``<state dir>/budgets/<account>.json`` for a venue account,
        ``<run dir>/budgets.json`` for a replayed run.
    account:
        The venue account the file belongs to.
    durable:
        Fsync each write (venue accounts: an approved order's count is on disk before
        the venue call). Replayed runs rebuild their count from the ledger on resume,
        so a rename without fsync suffices there.
    """

    __slots__ = ("_durable", "account", "path")

    def __init__(self, path: Path, account: str, *, durable: bool) -> None:
        self.path = path
        self.account = account
        self._durable = durable

    @property
    def durable(self) -> bool:
        """Return True when every write is fsynced."""
        return self._durable

    @classmethod
    def for_account(cls, state_dir: Path, account: str) -> BudgetStore:
        """Return the durable store of venue account ``account`` in ``state_dir``."""
        return cls(state_dir / BUDGET_DIR / account_file_name(account), account, durable=True)

    def load(self, day_end_ms: int, zone: str) -> DayBudget:
        """Return the day ending at ``day_end_ms``; an empty one when the file is missing or of another day.

        Raises
        ------
        ConfigError
            If the file exists but cannot be read or parsed (fail closed: refuse to start).
        """
        empty = DayBudget(self.account, day_end_ms, zone)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty
        except OSError as exc:
            raise ConfigError(f"budget file {self.path} cannot be read: {exc}") from exc
        try:
            record = json.loads(text)
            if record.get("day_end_ms") != day_end_ms or record.get("zone") != zone:
                return empty  # another trading day (or another day definition): budgets start over
            sessions = {str(k): SessionBudget.from_record(v) for k, v in dict(record["sessions"]).items()}
            peak = Decimal(str(record["peak_usd"]))
        except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
            raise ConfigError(
                f"budget file {self.path} is corrupt ({exc}); inspect it, then move it away to start the day over"
            ) from exc
        return DayBudget(self.account, day_end_ms, zone, peak, sessions)

    def save(self, day: DayBudget) -> None:
        """Write ``day`` atomically (temp file, [fsync], rename), mode 0600.

        Raises
        ------
        OSError
            If the directory or the file cannot be written.
        """
        directory = self.path.parent
        directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        data = (json.dumps(day.to_record(), sort_keys=True) + "\n").encode("utf-8")
        tmp = directory / f".{self.path.name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self._durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
