"""A deterministic strategy for the stream-drop end-to-end test (loaded by path by the CLI).

Every ``every``-th quote it sends one market order of ``quantity``, buy and sell in turn
(the position stays within one order of flat), until the file ``stop_file`` exists: the
test then lets the session run on without trading, so every fill reaches the ledger before
the session ends.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from livegate.domain.market import Quote
from livegate.strategy.api import Strategy, StrategyContext


class DropProbe(Strategy):
    """Send a market order every ``every`` quotes, buy and sell in turn, until ``stop_file`` exists.

    Parameters (profile ``[strategy.params]``)
    ----------
    quantity:
        Order size (base units).
    every:
        Quotes between two orders.
    stop_file:
        Path of the file whose existence stops the trading.
    """

    name = "drop_probe"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.quantity = Decimal(str(params.get("quantity", "0.002")))
        self.every = int(str(params.get("every", 20)))
        self.stop_file = Path(str(params["stop_file"]))
        self._quotes = 0
        self._buy = True
        self._stopped = False

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Send the next order when due."""
        self._quotes += 1
        if self._stopped or self._quotes % self.every:
            return
        if self.stop_file.exists():
            self._stopped = True
            return
        decision = ctx.submit_order(
            symbol=quote.symbol,
            side="buy" if self._buy else "sell",
            quantity=self.quantity,
            order_type="market",
            time_in_force="ioc",
        )
        if decision.approved:  # a denied one (RECONCILING after a drop) is sent again later
            self._buy = not self._buy
