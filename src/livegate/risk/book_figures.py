"""The book's share of the limit gates' figures, recomputed only when the book changes.

Position, working quantities and limit-price ranges, working-order count, open positions,
realized PnL, fees and turnover change only when an order is added, filled or removed
(:attr:`~livegate.portfolio.book.Portfolio.version` moves then). :class:`BookFigures`
reads them once per book version for the fast path (:mod:`livegate.risk.fast_path`),
so an intent on an unchanged book pays only for its quote- and intent-dependent
arithmetic. Each figure is the expression the reference computes
(:mod:`livegate.risk.exposure`, :class:`~livegate.risk.memo.ExposureMemo`), the same
Decimal operations on the same values.
"""

from __future__ import annotations

from collections.abc import Set
from decimal import Decimal

from livegate.portfolio import Portfolio
from livegate.portfolio.working import WorkingSide

_ZERO = Decimal(0)

#: ``(position + working buys, position - working sells, |long side|, |short side|, max of the two, highest limit)``
SymbolFigures = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


class BookFigures:
    """Book-derived figures of one portfolio, valid while ``portfolio.version`` is unchanged.

    Call :meth:`sync` before reading; it returns at once when the book did not move.
    ``working`` lists ``(symbol, buy side, sell side)`` of every symbol with working
    orders, ``open`` lists ``(symbol, quantity, cost basis)`` of every open position (base
    units, quote currency), in the portfolio's own iteration order. ``symbols`` holds the
    :meth:`symbol` figures computed so far for this version.
    """

    __slots__ = (
        "_portfolio",
        "exposed",
        "fees",
        "open",
        "realized",
        "symbols",
        "turnover",
        "version",
        "working",
        "working_count",
    )

    def __init__(self, portfolio: Portfolio) -> None:
        self._portfolio = portfolio
        self.version = -1
        self.symbols: dict[str, SymbolFigures] = {}
        self.working_count = 0
        self.exposed: Set[str] = frozenset()
        self.working: tuple[tuple[str, WorkingSide, WorkingSide], ...] = ()
        self.open: tuple[tuple[str, Decimal, Decimal], ...] = ()
        self.realized = self.fees = self.turnover = _ZERO

    def sync(self) -> None:
        """Re-read the book when it changed since the last call (O(1) otherwise)."""
        portfolio = self._portfolio
        if portfolio.version == self.version:
            return
        self.symbols = {}
        self.working_count = portfolio.working_count()
        self.exposed = portfolio.exposed_symbols()  # the live set: it changes only with the version
        self.working = tuple((s, t.buy, t.sell) for s, t in portfolio.working_totals_by_symbol().items())
        self.open = tuple((p.symbol, p.quantity, p.cost_basis) for p in portfolio.open_positions())
        self.realized, self.fees, self.turnover = portfolio.realized_pnl(), portfolio.fees(), portfolio.turnover()
        self.version = portfolio.version

    def symbol(self, symbol: str) -> SymbolFigures:
        """Return ``symbol``'s exposure figures before any intent (:func:`~livegate.risk.exposure.symbol_exposure`)."""
        figures = self.symbols.get(symbol)
        if figures is None:
            portfolio = self._portfolio
            position = portfolio.position_quantity(symbol)
            totals = portfolio.working_totals(symbol)
            long_side = position + totals.buy.quantity
            short_side = position - totals.sell.quantity
            long_abs, short_abs = abs(long_side), abs(short_side)
            before = short_abs if short_abs > long_abs else long_abs
            figures = self.symbols[symbol] = (long_side, short_side, long_abs, short_abs, before, totals.high)
        return figures
