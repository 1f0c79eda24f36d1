"""Replay random intent streams through the full gate chain, engine and paper venue on real quotes.

The oracle re-derives exposure from the ledger export (fills and orders) and the quotes;
it never reads the pipeline's counters.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from livegate.config.instruments import resolve_instruments
from livegate.config.models import LivegateConfig
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Mode, OrderType, Side, TimeInForce
from livegate.domain.market import Quote
from livegate.domain.orders import OrderIntent
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.export import export_rows
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.marketdata.replay import load_replay
from livegate.portfolio import Portfolio
from livegate.risk.chain import build_gates
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.paper import PaperParams, PaperVenue

D = Decimal


@lru_cache(maxsize=1)
def real_quotes(data_dir: Path) -> tuple[Quote, ...]:
    """Return BTCUSDT and ETHUSDT USD-M quotes of 2024-08-08 merged in replay order."""
    norm = data_dir / "crypto" / "normalized"
    data = load_replay(
        quotes=[
            norm / "binance_usdm_btcusdt_20240808_quotes.csv.gz",
            norm / "binance_usdm_ethusdt_20240808_quotes.csv.gz",
        ],
        venue="binanceusdm",
    )
    return tuple(e for e in data.events if isinstance(e, Quote))


@dataclass(frozen=True)
class Spec:
    """One random intent: at event ``offset`` of the slice."""

    offset: int
    symbol: str
    side: Side
    lots: int
    kind: str  # market | ioc | gtc
    ticks: int  # limit price offset from the far side, in ticks (positive = more aggressive)


@dataclass
class Outcome:
    fills: list[dict[str, object]]
    orders: list[dict[str, object]]
    quotes: list[Quote]


def run_stream(config: LivegateConfig, quotes: list[Quote], specs: list[Spec]) -> Outcome:
    """Replay ``quotes`` and submit ``specs``; return the ledger's exported fills and orders."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        instruments = resolve_instruments(config, ["BTCUSDT", "ETHUSDT"])
        clock = ReplayClock(quotes[0].ts_event_ms)
        cache = QuoteCache()
        portfolio = Portfolio()
        ledger = Ledger.open(root / "ledger.sqlite", synchronous="NORMAL")
        telemetry = TelemetryWriter(root / "telemetry.jsonl")
        venue = PaperVenue(instruments, PaperParams(seed=7), clock, name="paper")
        ctx = RiskContext(instruments=instruments, quotes=cache, portfolio=portfolio, clock=clock)
        engine = ExecutionEngine(
            pipeline=RiskPipeline(build_gates(config, Mode.PAPER), ctx),
            ledger=ledger,
            telemetry=telemetry,
            portfolio=portfolio,
            venues={"paper": venue},
            router=lambda _i: "paper",
            clock=clock,
            session_id="prop",
            strategy_name="prop",
        )
        by_offset: dict[int, list[Spec]] = {}
        for spec in specs:
            by_offset.setdefault(spec.offset, []).append(spec)

        async def replay() -> None:
            for index, quote in enumerate(quotes):
                clock.advance_to(quote.ts_event_ms)
                cache.update(quote)
                venue.on_quote(quote)
                for spec in by_offset.get(index, ()):
                    engine.submit_intent(_intent(spec, cache, instruments, engine.new_intent_seq(), clock.now_ms()))
                    await engine.dispatch()

        asyncio.run(replay())
        telemetry.close()
        ledger.close()
        _, fills = export_rows(root / "ledger.sqlite", "fills")
        _, orders = export_rows(root / "ledger.sqlite", "orders")
    return Outcome(fills=fills, orders=orders, quotes=quotes)


def _intent(spec: Spec, cache: QuoteCache, instruments: dict, seq: int, now: int) -> OrderIntent:  # type: ignore[type-arg]
    inst = instruments[spec.symbol]
    price = None
    tif = TimeInForce.IOC
    if spec.kind != "market":
        quote = cache.last(spec.symbol)
        far = D("1000") if quote is None else (quote.ask_price if spec.side is Side.BUY else quote.bid_price)
        price = far + spec.side.sign * spec.ticks * inst.tick_size
        if spec.kind == "gtc":
            tif = TimeInForce.GTC
    return OrderIntent(
        symbol=spec.symbol,
        side=spec.side,
        quantity=spec.lots * inst.lot_size,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        price=price,
        time_in_force=tif,
        post_only=False,
        reduce_only=False,
        strategy_id="prop",
        seq=seq,
        ts_ms=now,
    )


def oracle_violations(outcome: Outcome, risk: dict[str, Decimal | int]) -> list[str]:
    """Recompute exposure after every fill from the export and the quotes; list every cap broken."""
    problems: list[str] = []
    approved = sum(1 for o in outcome.orders if o["decision"] == "approved")
    if approved > int(risk["max_orders_per_day"]):
        problems.append(f"{approved} approved orders > {risk['max_orders_per_day']}")
    quotes = outcome.quotes
    q_index = 0
    mids: dict[str, Decimal] = {}
    positions: dict[str, Decimal] = {}
    turnover = D(0)
    for fill in outcome.fills:
        ts = int(str(fill["ts_ms"]))
        while q_index < len(quotes) and quotes[q_index].ts_event_ms <= ts:
            mids[quotes[q_index].symbol] = quotes[q_index].mid_price
            q_index += 1
        symbol = str(fill["symbol"])
        price, qty = D(str(fill["price"])), D(str(fill["quantity"]))
        signed = qty if fill["side"] == "buy" else -qty
        before = positions.get(symbol, D(0))
        after = before + signed
        positions[symbol] = after
        turnover += price * qty
        if turnover > D(risk["max_daily_turnover_usd"]):
            problems.append(f"turnover {turnover} > {risk['max_daily_turnover_usd']} after {fill['fill_id']}")
        if abs(after) <= abs(before):
            continue  # a reducing fill cannot break an exposure cap
        if abs(after) * price > D(risk["max_symbol_notional_usd"]):
            problems.append(f"{symbol} {after} x {price} > {risk['max_symbol_notional_usd']} after {fill['fill_id']}")
        gross = sum((abs(q) * (price if s == symbol else mids[s]) for s, q in positions.items() if q != 0), D(0))
        if gross > D(risk["max_gross_notional_usd"]):
            problems.append(f"gross {gross} > {risk['max_gross_notional_usd']} after {fill['fill_id']}")
        held = sum(1 for q in positions.values() if q != 0)
        if held > int(risk["max_positions"]):
            problems.append(f"{held} positions > {risk['max_positions']} after {fill['fill_id']}")
    return problems
