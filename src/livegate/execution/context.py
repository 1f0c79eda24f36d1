"""The StrategyContext implementation: builds intents and hands them to the engine."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from livegate.domain.clock import Clock
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import OrderType, Side, TimeInForce
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.domain.orders import Order, OrderIntent
from livegate.execution.engine import ExecutionEngine
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio, PositionView
from livegate.strategy.api import Number

IntentSizer = Callable[[str, int, Decimal, Instrument | None], Decimal]
"""``sizer(strategy_id, seq, quantity, instrument)``: the quantity intent ``seq`` is built with.

The composition root passes one when the mode resizes intents (canary: live-routed
intents at ``[canary] size_multiplier``); None keeps the strategy's quantity.
"""


class EngineContext:
    """What a strategy sees; every order goes through ``engine.submit_intent``.

    Parameters
    ----------
    engine, portfolio, quotes, instruments, clock:
        The session's engine and read views.
    strategy_id:
        Written into every intent (an input of the client order ids).
    sizer:
        Optional rule resizing each intent's quantity once its sequence number is known.
    """

    def __init__(
        self,
        *,
        engine: ExecutionEngine,
        portfolio: Portfolio,
        quotes: QuoteCache,
        instruments: dict[str, Instrument],
        clock: Clock,
        strategy_id: str,
        sizer: IntentSizer | None = None,
    ) -> None:
        self._engine = engine
        self._portfolio = portfolio
        self._quotes = quotes
        self._instruments = instruments
        self._clock = clock
        self._strategy_id = strategy_id
        self._sizer = sizer

    def submit_order(
        self,
        *,
        symbol: str,
        side: str,
        quantity: Number,
        order_type: str = "limit",
        price: Number | None = None,
        time_in_force: str = "gtc",
        post_only: bool = False,
        reduce_only: bool = False,
        outside_rth: bool = False,
    ) -> Approved | Denied:
        """Build an intent and return the pipeline's decision (see :class:`StrategyContext`).

        Arguments are validated before a sequence number is reserved, so a bad call
        (``TypeError``, ``ValueError``) consumes no client order id.
        """
        side_value = Side(side)
        qty = _to_decimal("quantity", quantity)
        type_value = OrderType(order_type)
        price_value = None if price is None else _to_decimal("price", price)
        tif = TimeInForce(time_in_force)
        seq = self._engine.new_intent_seq()
        if self._sizer is not None:
            qty = self._sizer(self._strategy_id, seq, qty, self._instruments.get(symbol))
        intent = OrderIntent(
            symbol=symbol,
            side=side_value,
            quantity=qty,
            order_type=type_value,
            price=price_value,
            time_in_force=tif,
            post_only=bool(post_only),
            reduce_only=bool(reduce_only),
            strategy_id=self._strategy_id,
            seq=seq,
            ts_ms=self._clock.now_ms(),
            outside_rth=bool(outside_rth),
        )
        return self._engine.submit_intent(intent)

    def cancel_order(self, client_order_id: str) -> bool:
        """Request a cancel; False when unknown or finished."""
        return self._engine.request_cancel(client_order_id)

    def position(self, symbol: str) -> PositionView:
        """Return a read-only view of the position in ``symbol``."""
        return self._portfolio.view(symbol, self._quotes.mid(symbol))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return working orders."""
        return self._portfolio.working_orders(symbol)

    def quote(self, symbol: str) -> Quote | None:
        """Return the last valid quote."""
        return self._quotes.last(symbol)

    def instrument(self, symbol: str) -> Instrument | None:
        """Return the instrument of ``symbol``."""
        return self._instruments.get(symbol)

    def now_ms(self) -> int:
        """Return the session clock in ms."""
        return self._clock.now_ms()


def _to_decimal(name: str, value: Number) -> Decimal:
    if isinstance(value, float | bool):
        raise TypeError(f"{name} must be Decimal, int or a decimal string, not {type(value).__name__}")
    try:
        return value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{name} {value!r} is not a number") from exc
