"""The paper venue store's layout: few pages per order, layout 1 stores still read and written."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderType, Side, TimeInForce
from livegate.domain.errors import DataError, Rejected
from livegate.domain.market import Quote
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.venues.paper import PaperParams, PaperVenue
from livegate.venues.paper_store import PaperStore
from tests.venues.paper_helpers import BTCUSDT

#: The tables of layout 1 exactly as the build before layout 2 made them.
LAYOUT_1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE orders (
        seq INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL UNIQUE, venue_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL, price TEXT, quantity TEXT NOT NULL,
        time_in_force TEXT NOT NULL, post_only INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
        filled_quantity TEXT NOT NULL, notional_filled TEXT NOT NULL, status TEXT NOT NULL)""",
    """CREATE TABLE fills (
        seq INTEGER PRIMARY KEY, fill_id TEXT NOT NULL UNIQUE, client_order_id TEXT NOT NULL, symbol TEXT NOT NULL,
        side TEXT NOT NULL, price TEXT NOT NULL, quantity TEXT NOT NULL, fee TEXT NOT NULL, liquidity TEXT NOT NULL,
        ts_ms INTEGER NOT NULL, venue TEXT NOT NULL)""",
    """CREATE TABLE positions (
        symbol TEXT PRIMARY KEY, quantity TEXT NOT NULL, cost_basis TEXT NOT NULL, realized_pnl TEXT NOT NULL,
        fees TEXT NOT NULL, turnover TEXT NOT NULL)""",
    """CREATE TABLE submit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, client_order_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL)""",
    """CREATE TABLE adjustments (
        id INTEGER PRIMARY KEY AUTOINCREMENT, symbol TEXT NOT NULL, quantity_delta TEXT NOT NULL,
        ts_ms INTEGER NOT NULL, reason TEXT NOT NULL)""",
)


def _intent(seq: int, side: Side, price: str) -> OrderIntent:
    return OrderIntent("BTCUSDT", side, Decimal("0.01"), OrderType.LIMIT, Decimal(price), TimeInForce.GTC,
                       False, False, "s", seq, 1_000)  # fmt: skip


def _venue(path: Path, sink: list[object], *, fresh: bool = False) -> PaperVenue:
    store = PaperStore.open(path, fresh=fresh)
    venue = PaperVenue({"BTCUSDT": BTCUSDT}, PaperParams(), ReplayClock(1_000), store=store)
    venue.bind(sink.append)
    venue.on_quote(Quote("BTCUSDT", Decimal("59999.9"), Decimal(1), Decimal("60000.0"), Decimal(1), 1_000))
    return venue


async def _trade(venue: PaperVenue, first: int) -> None:
    """Submit a buy that fills, a sell that fills and a buy that rests (client order ids ``c<first>``...)."""
    await venue.submit(Order(f"c{first}", _intent(first, Side.BUY, "60000.0"), "paper"))
    await venue.submit(Order(f"c{first + 1}", _intent(first + 1, Side.SELL, "59999.9"), "paper"))
    await venue.submit(Order(f"c{first + 2}", _intent(first + 2, Side.BUY, "59000.0"), "paper"))


def _make_layout_1(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in LAYOUT_1:
            conn.execute(statement)
        conn.execute("PRAGMA user_version=1")
    conn.close()


def _pages(path: Path) -> tuple[int, str]:
    with sqlite3.connect(path) as conn:
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'positions'").fetchone()
    conn.close()
    return int(size) * 100 + int(version), str(sql)


async def test_paper_store_when_created_then_layout_2_small_pages_and_no_secondary_index(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    venue = _venue(path, [], fresh=True)
    await _trade(venue, 1)
    size_version, positions_sql = _pages(path)
    assert size_version == 1024 * 100 + 2
    assert positions_sql.endswith("WITHOUT ROWID")
    with sqlite3.connect(path) as conn:
        indexes = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name IN ('orders', 'fills', 'positions', 'submit_log')"
        ).fetchall()
        meta = conn.execute("SELECT key, value FROM meta").fetchall()
    conn.close()
    assert indexes == []  # nothing but the tables' own b-trees changes per order
    assert meta == []  # the id counters are the stored seqs


async def test_paper_store_when_layout_2_reopened_then_counters_come_from_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    await _trade(_venue(path, [], fresh=True), 1)
    sink: list[object] = []
    again = _venue(path, sink)
    await again.submit(Order("c4", _intent(4, Side.SELL, "59999.9"), "paper"))
    assert [f.fill_id for f in sink if isinstance(f, Fill)] == ["paper-f3"]  # fills 1 and 2 were made before
    assert [o.venue_order_id for o in await again.open_orders()] == ["paper-o3"]
    snapshot = await again.fetch_order("c4", "BTCUSDT")
    assert snapshot is not None and snapshot.venue_order_id == "paper-o4"


async def test_paper_store_when_layout_1_store_reopened_then_read_and_written_as_before(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    _make_layout_1(path)
    await _trade(_venue(path, []), 1)  # a layout 1 store keeps its layout and takes new rows
    assert _pages(path)[0] % 100 == 1
    with sqlite3.connect(path) as conn:  # what a layout 1 build wrote: the counters in meta too
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('order_seq', '3'), ('fill_seq', '2')")
    conn.close()
    sink: list[object] = []
    again = _venue(path, sink)
    assert [p.quantity for p in await again.positions()] == []  # bought 0.01 and sold 0.01
    assert [o.client_order_id for o in await again.open_orders()] == ["c3"]
    with pytest.raises(Rejected):
        await again.submit(Order("c1", _intent(1, Side.BUY, "60000.0"), "paper"))  # an id is never reused
    await again.submit(Order("c4", _intent(4, Side.BUY, "60000.0"), "paper"))
    assert [f.fill_id for f in sink if isinstance(f, Fill)] == ["paper-f3"]
    store = PaperStore.open(path)
    assert [f.fill_id for f in store.fills()] == ["paper-f1", "paper-f2", "paper-f3"]
    assert store.submit_counts() == {"c1": 2, "c2": 1, "c3": 1, "c4": 1}
    store.close()


async def test_paper_store_when_layout_1_meta_ahead_of_rows_then_the_larger_counter_holds(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    _make_layout_1(path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('order_seq', '7'), ('fill_seq', '5')")
    conn.close()
    sink: list[object] = []
    venue = _venue(path, sink)
    await venue.submit(Order("c1", _intent(1, Side.BUY, "60000.0"), "paper"))
    assert [f.fill_id for f in sink if isinstance(f, Fill)] == ["paper-f6"]
    snapshot = await venue.fetch_order("c1", "BTCUSDT")
    assert snapshot is not None and snapshot.venue_order_id == "paper-o8"


def test_paper_store_when_layout_unknown_then_refused_naming_the_version(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (seq INTEGER PRIMARY KEY)")
        conn.execute("PRAGMA user_version=3")
    conn.close()
    with pytest.raises(DataError, match=r"p\.sqlite: layout version 3, this build reads layouts 1, 2"):
        PaperStore.open(path)


def test_paper_store_when_file_is_not_sqlite_then_data_error_names_it(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    path.write_bytes(b"not a database, just text" * 100)
    with pytest.raises(DataError, match=r"cannot open paper store .*p\.sqlite"):
        PaperStore.open(path)


async def test_paper_store_when_fresh_over_layout_1_then_empty_layout_2(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    _make_layout_1(path)
    await _trade(_venue(path, []), 1)
    sink: list[object] = []
    venue = _venue(path, sink, fresh=True)
    assert await venue.open_orders() == []
    await venue.submit(Order("c1", _intent(1, Side.BUY, "60000.0"), "paper"))  # nothing remembered: accepted
    assert [f.fill_id for f in sink if isinstance(f, Fill)] == ["paper-f1"]
    assert _pages(path)[0] % 100 == 2
