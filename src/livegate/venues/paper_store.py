"""The paper venue's own durable state: a SQLite file apart from the ledger.

The paper venue plays the exchange. An exchange does not forget its orders, fills and
positions when a client process dies, so the paper venue writes every state change here
(write-through, one commit per change) before it reports the change to livegate. A
restarted session reopens the file and finds the venue as the crash left it; the
reconciler then compares it with the ledger (docs/architecture.md §3.5-3.8).

The file is WAL-journalled with ``synchronous=NORMAL``: a committed change survives a
process crash (SIGKILL), which is the failure this file exists for; only an OS crash or
power loss may lose the last commits. Every submit attempt is also kept in
``submit_log`` (accepted or refused), so a test can prove that no client order id was
ever sent twice.

Layout 2 (stores made by this build) writes as few SQLite pages per commit as the tables
allow: no secondary index (client order ids and fill ids are unique by construction: the
venue refuses a reused client order id, and a fill id is the venue's name and the fill's
``seq``), ``positions`` keyed by symbol without a rowid, no AUTOINCREMENT counter page, no
counters rewritten per commit (the id counters are the highest stored ``seq``), and
1,024-byte pages. An order that fills at once changes one page of each of ``orders``,
``fills``, ``positions`` and ``submit_log`` (layout 1: about ten 4,096-byte pages).
Layout 1 stores are still opened, read and written; the tables and columns are the same.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from livegate.domain.enums import OrderStatus
from livegate.domain.errors import DataError
from livegate.domain.orders import Fill
from livegate.domain.positions import Position
from livegate.venues.paper_matching import PaperOrder
from livegate.venues.paper_rows import fill_from_row, fill_row, order_from_row, order_row, position_row

__all__ = ["PAPER_STORE_FILE", "PaperState", "PaperStore"]

#: File name of the paper venue store inside a run directory.
PAPER_STORE_FILE = "paper_venue.sqlite"

#: ``PRAGMA user_version`` of stores this build creates; :data:`_READS` lists the layouts it opens.
_LAYOUT_VERSION = 2
_READS = (1, 2)
#: Page size of new stores: an order's rows are a few hundred bytes, and each page a commit
#: changes is written whole to the WAL (and checksummed), so small pages mean fewer bytes per order.
_PAGE_SIZE = 1024
_TABLES = ("meta", "orders", "fills", "positions", "submit_log", "adjustments")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS orders (
        seq INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL, venue_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL, price TEXT, quantity TEXT NOT NULL,
        time_in_force TEXT NOT NULL, post_only INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
        filled_quantity TEXT NOT NULL, notional_filled TEXT NOT NULL, status TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS fills (
        seq INTEGER PRIMARY KEY, fill_id TEXT NOT NULL, client_order_id TEXT NOT NULL, symbol TEXT NOT NULL,
        side TEXT NOT NULL, price TEXT NOT NULL, quantity TEXT NOT NULL, fee TEXT NOT NULL, liquidity TEXT NOT NULL,
        ts_ms INTEGER NOT NULL, venue TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS positions (
        symbol TEXT PRIMARY KEY, quantity TEXT NOT NULL, cost_basis TEXT NOT NULL, realized_pnl TEXT NOT NULL,
        fees TEXT NOT NULL, turnover TEXT NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS submit_log (
        id INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, outcome TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS adjustments (
        id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, quantity_delta TEXT NOT NULL,
        ts_ms INTEGER NOT NULL, reason TEXT NOT NULL)""",
)
_ORDER_COLUMNS = (
    "seq, client_order_id, venue_order_id, symbol, side, order_type, price, quantity, time_in_force, post_only, "
    "ts_ms, filled_quantity, notional_filled, status"
)
_LOG_ACCEPTED = "INSERT INTO submit_log (client_order_id, ts_ms, outcome) VALUES (?, ?, 'accepted')"
_UPSERT_ORDER = f"INSERT OR REPLACE INTO orders ({_ORDER_COLUMNS}) VALUES ({', '.join('?' * 14)})"  # noqa: S608
_UPSERT_POSITION = (
    "INSERT OR REPLACE INTO positions (symbol, quantity, cost_basis, realized_pnl, fees, turnover) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_FILL = (
    "INSERT INTO fills (seq, fill_id, client_order_id, symbol, side, price, quantity, fee, liquidity, ts_ms, venue) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(slots=True)
class PaperState:
    """What a reopened store holds: orders in arrival order, positions, and the id counters.

    ``orders`` are every stored order, or only the unfinished ones when :meth:`PaperStore.load`
    was asked for those; ``client_order_ids`` are the ids of every stored order either way.
    """

    orders: list[PaperOrder] = field(default_factory=list)
    client_order_ids: set[str] = field(default_factory=set)
    positions: dict[str, Position] = field(default_factory=dict)
    order_seq: int = 0
    fill_seq: int = 0


class PaperStore:
    """Write-through persistence of one paper venue; build it with :meth:`open`.

    Each ``save_*`` call is one committed transaction. One instance per file and thread.
    """

    __slots__ = ("_conn", "_path", "_write_cursor")

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        #: One cursor for the write statements (``conn.execute`` makes a new cursor per call); reads use their own.
        self._write_cursor = conn.cursor()

    @classmethod
    def open(cls, path: Path, *, fresh: bool = False) -> PaperStore:
        """Open (or create) the store at ``path``.

        Parameters
        ----------
        path:
            The store file (normally ``<run dir>/paper_venue.sqlite``).
        fresh:
            Start empty: an existing file's tables are dropped and made again in this build's
            layout (a new session, not a resume).

        Raises
        ------
        DataError
            If the file cannot be opened, is not SQLite, or holds a store of a layout this
            build does not read (the message names the version).
        """
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise DataError(f"cannot open paper store {path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA page_size={_PAGE_SIZE:d}")  # taken only by a new, empty file
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version not in (0, *_READS):
                raise DataError(
                    f"paper store {path}: layout version {version}, this build reads layouts "
                    f"{', '.join(map(str, _READS))}; open it with the livegate version that wrote it"
                )
            if fresh and version:
                for table in _TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")  # fixed table names
                version = 0
            if version == 0:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={_LAYOUT_VERSION:d}")
            conn.execute("COMMIT")
        except (sqlite3.Error, DataError) as exc:
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                conn.close()  # closing rolls back an open transaction
            if isinstance(exc, DataError):
                raise
            raise DataError(f"cannot open paper store {path}: {exc}") from exc
        return cls(conn, path)

    @property
    def path(self) -> Path:
        """Return the store file path."""
        return self._path

    # ------------------------------------------------------------------ writes
    def save(
        self,
        *,
        orders: Iterable[PaperOrder] = (),
        fills: Iterable[tuple[int, Fill]] = (),
        positions: Iterable[Position] = (),
        submitted: tuple[str, int] | None = None,
    ) -> None:
        """Store changed orders, new ``(venue fill seq, fill)`` pairs and changed positions in one commit.

        ``submitted`` is ``(client order id, ts_ms)`` of an accepted submit to log with them.
        The venue's id counters are not written: they are the highest stored order and
        fill ``seq`` (:meth:`load`).

        Raises
        ------
        DataError
            If SQLite refuses the write (e.g. a fill ``seq`` stored twice).
        """
        try:
            order_rows = [order_row(o) for o in orders]
            fill_rows = [(seq, *fill_row(f)) for seq, f in fills]
            position_rows = [position_row(p) for p in positions]
            cursor = self._write_cursor
            with self._tx():  # only the statements that have rows (one commit either way)
                if order_rows:
                    cursor.executemany(_UPSERT_ORDER, order_rows)
                if fill_rows:
                    cursor.executemany(_INSERT_FILL, fill_rows)
                if position_rows:
                    cursor.executemany(_UPSERT_POSITION, position_rows)
                if submitted is not None:
                    cursor.execute(_LOG_ACCEPTED, submitted)
        except sqlite3.Error as exc:
            raise DataError(f"paper store {self._path}: write failed: {exc}") from exc

    def log_submit(self, client_order_id: str, ts_ms: int, outcome: str) -> None:
        """Record one submit attempt (``accepted`` or a reject code)."""
        with self._tx():
            self._conn.execute(
                "INSERT INTO submit_log (client_order_id, ts_ms, outcome) VALUES (?, ?, ?)",
                (client_order_id, ts_ms, outcome),
            )

    def save_position(
        self, position: Position, *, symbol: str, quantity_delta: Decimal, ts_ms: int, reason: str
    ) -> None:
        """Store a position changed outside trading (an exchange-side adjustment) and log why."""
        with self._tx():
            self._conn.execute(_UPSERT_POSITION, position_row(position))
            self._conn.execute(
                "INSERT INTO adjustments (symbol, quantity_delta, ts_ms, reason) VALUES (?, ?, ?, ?)",
                (symbol, str(quantity_delta), ts_ms, reason),
            )

    # ------------------------------------------------------------------ reads
    def load(self, *, finished: bool = True) -> PaperState:
        """Return everything the store holds (orders oldest first).

        Parameters
        ----------
        finished:
            Also build the finished orders (status terminal); when False, ``orders`` holds
            only unfinished ones, so a restart costs memory per open order, not per order
            the session ever sent (issue 14 item 2).

        Raises
        ------
        DataError
            If a row cannot be read back.
        """
        try:
            state = PaperState()
            order_seq = 0
            for row in self._conn.execute(f"SELECT {_ORDER_COLUMNS} FROM orders ORDER BY seq"):  # noqa: S608
                order_seq = row[0]
                if finished or not OrderStatus(row[13]).is_terminal:
                    order = order_from_row(row)
                    state.orders.append(order)
                    state.client_order_ids.add(order.client_order_id)
                else:
                    state.client_order_ids.add(str(row[1]))
            for symbol, qty, cost, realized, fees, turnover in self._conn.execute(
                "SELECT symbol, quantity, cost_basis, realized_pnl, fees, turnover FROM positions"
            ):
                position = Position.restore(
                    str(symbol), Decimal(qty), Decimal(cost), Decimal(realized), Decimal(fees), Decimal(turnover)
                )
                state.positions[position.symbol] = position
            # layout 1 also kept the counters in meta (written with the rows): the larger value holds either way
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            (max_fill,) = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM fills").fetchone()
            state.order_seq = max(int(meta.get("order_seq", 0)), int(order_seq))
            state.fill_seq = max(int(meta.get("fill_seq", 0)), int(max_fill))
        except (sqlite3.Error, ArithmeticError, ValueError) as exc:
            raise DataError(f"cannot read paper store {self._path}: {exc}") from exc
        return state

    def load_order(self, client_order_id: str) -> PaperOrder | None:
        """Return the stored order with ``client_order_id``; None when the store has none.

        A scan of ``orders``: there is no index on ``client_order_id`` because every order
        written would pay for one (a page more per commit, issue 14 item 6), while this
        lookup serves only status queries of finished orders the venue no longer keeps.

        Raises
        ------
        DataError
            If the row cannot be read back.
        """
        try:
            row = self._conn.execute(
                f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client_order_id = ? LIMIT 1",  # noqa: S608
                (client_order_id,),
            ).fetchone()
            return None if row is None else order_from_row(row)
        except (sqlite3.Error, ArithmeticError, ValueError) as exc:
            raise DataError(f"cannot read order {client_order_id!r} from paper store {self._path}: {exc}") from exc

    def fills(self, *, after_seq: int = 0) -> list[Fill]:
        """Return stored fills with venue fill sequence above ``after_seq``, oldest first."""
        rows = self._conn.execute(
            "SELECT fill_id, client_order_id, symbol, side, price, quantity, fee, liquidity, ts_ms, venue "
            "FROM fills WHERE seq > ? ORDER BY seq",
            (after_seq,),
        ).fetchall()
        return [fill_from_row(row) for row in rows]

    def fills_after(self, after_seq: int) -> tuple[list[Fill], int]:
        """Return stored fills with venue fill sequence above ``after_seq`` and the last one's sequence.

        The sequence returned is ``after_seq`` when there is none (a cursor for the next call).
        """
        rows = self._conn.execute(
            "SELECT fill_id, client_order_id, symbol, side, price, quantity, fee, liquidity, ts_ms, venue, seq "
            "FROM fills WHERE seq > ? ORDER BY seq",
            (after_seq,),
        ).fetchall()
        return [fill_from_row(row[:10]) for row in rows], (int(rows[-1][10]) if rows else after_seq)

    def submit_counts(self) -> dict[str, int]:
        """Return how many submit attempts each client order id saw (accepted or not)."""
        rows = self._conn.execute("SELECT client_order_id, COUNT(*) FROM submit_log GROUP BY client_order_id")
        return {str(cid): int(count) for cid, count in rows}

    def close(self) -> None:
        """Close the file; harmless twice."""
        self._conn.close()

    def __enter__(self) -> PaperStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _tx(self) -> _Transaction:
        return _Transaction(self._conn, self._write_cursor)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back when the block raises."""

    __slots__ = ("_conn", "_cursor")

    def __init__(self, conn: sqlite3.Connection, cursor: sqlite3.Cursor) -> None:
        self._conn = conn
        self._cursor = cursor

    def __enter__(self) -> None:
        self._cursor.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._cursor.execute("COMMIT")
        elif self._conn.in_transaction:
            self._cursor.execute("ROLLBACK")
