"""Helpers for venue tests: the BTCUSDT USD-M instrument, real quotes, orders and a report sink."""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal
from pathlib import Path

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderType, Side, TimeInForce
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.domain.orders import Fill, Order, OrderIntent, OrderReport
from livegate.venues.paper import PaperParams, PaperVenue

QUOTES_FILE = "crypto/normalized/binance_usdm_btcusdt_20240808_quotes.csv.gz"

# Binance USD-M BTCUSDT filters from ccxt_fixtures/markets/binance.json:
# PRICE_FILTER tickSize 0.10, LOT_SIZE stepSize/minQty 0.001, MIN_NOTIONAL 5.
BTCUSDT = Instrument(
    symbol="BTCUSDT",
    venue="binanceusdm",
    tick_size=Decimal("0.10"),
    lot_size=Decimal("0.001"),
    min_notional=Decimal("5"),
    quote_currency="USDT",
    base_currency="BTC",
    min_quantity=Decimal("0.001"),
)


def read_quotes(data_dir: Path, limit: int) -> list[Quote]:
    """Read the first ``limit`` quotes of the recorded BTCUSDT USD-M capture."""
    quotes: list[Quote] = []
    with gzip.open(data_dir / QUOTES_FILE, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            quotes.append(
                Quote(
                    symbol=row["symbol"],
                    bid_price=Decimal(row["bid_price"]),
                    bid_size=Decimal(row["bid_size"]),
                    ask_price=Decimal(row["ask_price"]),
                    ask_size=Decimal(row["ask_size"]),
                    ts_event_ms=int(row["ts_event_ms"]),
                    ts_recv_ns=int(row["ts_recv_ns"]),
                    venue="binanceusdm",
                )
            )
            if len(quotes) >= limit:
                break
    return quotes


class Recorder:
    """A report sink that keeps every report in order."""

    def __init__(self) -> None:
        self.reports: list[OrderReport | Fill] = []

    def __call__(self, report: OrderReport | Fill) -> None:
        self.reports.append(report)

    @property
    def fills(self) -> list[Fill]:
        return [r for r in self.reports if isinstance(r, Fill)]


def make_order(
    cid: str,
    side: Side,
    quantity: str,
    price: str | None = None,
    *,
    tif: TimeInForce = TimeInForce.GTC,
    post_only: bool = False,
    symbol: str = "BTCUSDT",
) -> Order:
    intent = OrderIntent(
        symbol=symbol,
        side=side,
        quantity=Decimal(quantity),
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        price=None if price is None else Decimal(price),
        time_in_force=tif,
        post_only=post_only,
        reduce_only=False,
        strategy_id="test",
        seq=0,
        ts_ms=0,
    )
    return Order(cid, intent, "paper")


def make_venue(**params: object) -> tuple[PaperVenue, Recorder, ReplayClock]:
    clock = ReplayClock(1_723_161_256_313)
    venue = PaperVenue({"BTCUSDT": BTCUSDT}, PaperParams(**params), clock)  # type: ignore[arg-type]
    sink = Recorder()
    venue.bind(sink)
    return venue, sink, clock


def quote(bid: str, ask: str, bid_size: str = "1.000", ask_size: str = "1.000", ts: int = 0) -> Quote:
    return Quote("BTCUSDT", Decimal(bid), Decimal(bid_size), Decimal(ask), Decimal(ask_size), ts)
