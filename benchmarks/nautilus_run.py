"""The NautilusTrader side of ``benchmarks/vs_nautilus.py``; run with NautilusTrader's own Python.

Replays a normalized quotes CSV (``ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size``)
through a ``BacktestEngine`` with its RiskEngine on and a simulated BINANCE venue (netting,
margin account), the instrument ``BTCUSDT-PERP.BINANCE`` of its test kit, and a strategy that
sees every quote and sends a market order of 0.002 BTC every ``--every``-th quote,
alternating buy and sell (what livegate's ``bench_strategy.py`` does). Loading the CSV is
part of the timed process, as it is for livegate.

Usage: ``/path/to/nautilus/python benchmarks/nautilus_run.py --quotes FILE --every 1000``.
It imports nothing from livegate.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, RiskEngineConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId, TraderId, Venue
from nautilus_trader.model.objects import Money, Quantity
from nautilus_trader.persistence.wranglers import QuoteTickDataWrangler
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy


class EveryNQuotes(Strategy):
    """Touch every quote (mid), market order every ``every`` quotes, alternating sides."""

    def __init__(self, instrument_id: InstrumentId, every: int) -> None:
        super().__init__()
        self.instrument_id = instrument_id
        self.every = every
        self.seen = 0
        self.last_mid = 0.0
        self.quantity = Quantity.from_str("0.002")

    def on_start(self) -> None:
        self.subscribe_quote_ticks(self.instrument_id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.seen += 1
        self.last_mid = (tick.bid_price.as_double() + tick.ask_price.as_double()) / 2
        if self.seen % self.every:
            return
        side = OrderSide.BUY if (self.seen // self.every) % 2 == 1 else OrderSide.SELL
        self.submit_order(self.order_factory.market(self.instrument_id, side, self.quantity))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quotes", required=True)
    parser.add_argument("--every", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    frame = pd.read_csv(args.quotes, usecols=["ts_event_ms", "bid_price", "bid_size", "ask_price", "ask_size"])
    frame.index = pd.to_datetime(frame.pop("ts_event_ms"), unit="ms", utc=True)
    ticks = QuoteTickDataWrangler(instrument).process(frame)
    loaded = time.perf_counter()
    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId("BENCH-001"),
            logging=LoggingConfig(log_level="ERROR"),
            risk_engine=RiskEngineConfig(bypass=False),
        )
    )
    engine.add_venue(
        venue=Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=None,
        starting_balances=[Money(1_000_000, USDT)],
    )
    engine.add_instrument(instrument)
    engine.add_data(ticks)
    strategy = EveryNQuotes(instrument.id, args.every)
    engine.add_strategy(strategy)
    engine.run()
    done = time.perf_counter()
    orders = len(engine.cache.orders())
    fills = sum(1 for o in engine.cache.orders() if o.is_closed and o.filled_qty > 0)
    print(
        f"nautilus: {strategy.seen} quotes, {orders} orders, {fills} filled; "
        f"load {loaded - started:.2f} s, run {done - loaded:.2f} s"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
