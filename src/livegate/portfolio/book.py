"""Orders and positions as livegate knows them; the risk gates read this, the engine writes it.

The aggregates the risk gates read on every intent (working quantity per symbol and side,
limit-price range, working-order count, symbols with exposure, realized PnL, fees and
turnover) are maintained here on every change — order added, fill applied, order
terminal — so a gate reads them in O(1) instead of summing over orders per intent. A
symbol's aggregates are rebuilt from its working orders on each change of that symbol
(never patched by deltas), so they always equal a fresh sum over :meth:`working_orders`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableSet, Set
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import Fill, Order
from livegate.domain.positions import Position
from livegate.portfolio.working import NO_WORKING, WorkingTotals

_ZERO = Decimal(0)
MarkSource = Callable[[str], Decimal | None]


@dataclass(frozen=True, slots=True)
class PositionView:
    """Read-only position for strategies: signed quantity (base units), prices and PnL (quote currency)."""

    symbol: str
    quantity: Decimal
    average_price: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    fees: Decimal


class Portfolio:
    """Every order of the session, the working ones by symbol, and net positions.

    Only the execution engine mutates it (through :meth:`add_order`, :meth:`apply_fill`
    and :meth:`refresh`); gates and strategies read it.
    """

    __slots__ = (
        "_dirty",
        "_exposed",
        "_fees",
        "_fill_keys",
        "_open",
        "_orders",
        "_positions",
        "_realized",
        "_revive",
        "_totals",
        "_turnover",
        "_working",
        "_working_count",
        "fills_applied",
        "version",
    )

    def __init__(self, fill_keys: MutableSet[tuple[str, str]] | None = None) -> None:
        """Start an empty book; ``fill_keys``: where the applied fills' keys are kept (an empty set by default).

        The checkpoint job passes one on disk (:class:`livegate.ledger.scratch.ScratchKeys`).
        """
        self._orders: dict[str, Order] = {}
        #: (client order id, venue trade id) of each applied fill.
        self._fill_keys: MutableSet[tuple[str, str]] = set() if fill_keys is None else fill_keys
        self._working: dict[str, dict[str, Order]] = {}
        self._positions: dict[str, Position] = {}
        self._totals: dict[str, WorkingTotals] = {}
        self._dirty: set[str] = set()  # symbols whose totals are rebuilt at the next read
        self._open: dict[str, Position] = {}  # positions with a non-zero quantity
        self._exposed: set[str] = set()  # symbols with a non-zero position or a working order
        self._working_count = 0
        self._realized = _ZERO
        self._fees = _ZERO
        self._turnover = _ZERO
        self._revive: Callable[[str], Order | None] | None = None  # a let-go order back by id (revive_with)
        # +1 on every change to an order's or a position's figures: what a reader derives from
        # the book (the risk gates' exposure figures) stays valid while this is unchanged
        self.version = 0
        #: Fills applied by this book object (+1 per :meth:`apply_fill`): a reader that awaited between two
        #: reads of the book (the reconciliation, while it asks the venue) sees whether fills arrived meanwhile
        self.fills_applied = 0

    @classmethod
    def restored(
        cls,
        orders: Iterable[Order],
        positions: Iterable[Position],
        fill_keys: Set[tuple[str, str]],
        *,
        index: dict[str, Order] | None = None,
    ) -> Portfolio:
        """Return a book holding ``orders`` (in creation order), ``positions`` and the applied fill keys.

        For a book saved and read back (the ledger fold's checkpoint, :mod:`livegate.ledger.checkpoint`):
        every aggregate (working orders, exposure, realized PnL, fees, turnover) is derived
        here from the orders and positions, as the book derives them on every change.

        ``index``, when given, is the book's client order id -> order mapping, already
        holding every order of the book: ``orders`` then lists the ones it holds that are
        still working, and the finished ones are only in ``index`` (a checkpoint's archive,
        :class:`livegate.ledger.checkpoint_archive.Archive`, builds each on first lookup).

        Raises
        ------
        InvariantViolation
            If a client order id appears twice, or an order is not the one ``index`` holds.
        """
        book = cls()
        if index is not None:
            book._orders = index
        for order in orders:
            if index is not None:
                if index.get(order.client_order_id) is not order:
                    raise InvariantViolation(f"order {order.client_order_id} is not the one the book's index holds")
            elif order.client_order_id in book._orders:
                raise InvariantViolation(f"client order id {order.client_order_id} reused")
            else:
                book._orders[order.client_order_id] = order
            if not order.status.is_terminal:
                book._working.setdefault(order.symbol, {})[order.client_order_id] = order
                book._working_count += 1
        for pos in positions:
            book._positions[pos.symbol] = pos
            if pos.quantity != _ZERO:
                book._open[pos.symbol] = pos
        book._fill_keys = set(fill_keys)
        values = book._positions.values()
        book._realized = sum((p.realized_pnl for p in values), _ZERO)
        book._fees = sum((p.fees for p in values), _ZERO)
        book._turnover = sum((p.turnover for p in values), _ZERO)
        for symbol in {*book._working, *book._positions}:
            book._changed(symbol)
        return book

    def orders_by_id(self) -> Mapping[str, Order]:
        """Return the live client order id -> order mapping, in creation order (do not mutate)."""
        return self._orders

    def fill_keys(self) -> Set[tuple[str, str]]:
        """Return the live set of applied (client order id, venue trade id) keys (do not mutate)."""
        return self._fill_keys

    # orders -----------------------------------------------------------------
    def add_order(self, order: Order) -> None:
        """Track a new order (status ``new``) as working.

        Raises
        ------
        InvariantViolation
            If the client order id was used before (ids are never reused).
        """
        if order.client_order_id in self._orders or (
            self._revive is not None and self._revive(order.client_order_id) is not None
        ):
            raise InvariantViolation(f"client order id {order.client_order_id} reused")
        self._orders[order.client_order_id] = order
        symbol = order.symbol
        self._working.setdefault(symbol, {})[order.client_order_id] = order
        self._working_count += 1
        self.version += 1
        if symbol not in self._dirty:  # adding is O(1); a removal or fill rebuilds lazily
            totals = self._totals.get(symbol)
            if totals is None:
                totals = self._totals[symbol] = WorkingTotals()
            totals.add(order)
        self._exposed.add(symbol)

    def retire(self, client_order_id: str) -> None:
        """Let a finished order go from the book (its fill keys stay; :meth:`readmit` brings it back).

        For a fold that keeps only the orders still able to change
        (:mod:`livegate.ledger.fold_retire`).

        Raises
        ------
        InvariantViolation
            If the order is unknown or still working.
        """
        order = self._orders.get(client_order_id)
        if order is None or not order.status.is_terminal:
            raise InvariantViolation(f"order {client_order_id} is not a finished order of this book")
        del self._orders[client_order_id]

    def retire_finished(self, client_order_id: str) -> bool:
        """Let the order go if this book holds it finished (:meth:`retire`); return True if it did."""
        order = self._orders.get(client_order_id)
        if order is None or not order.status.is_terminal:
            return False
        del self._orders[client_order_id]
        return True

    def readmit(self, order: Order) -> None:
        """Take a retired finished order back, as it was (:meth:`retire`).

        Raises
        ------
        InvariantViolation
            If its client order id is held already or the order is not finished.
        """
        if order.client_order_id in self._orders or not order.status.is_terminal:
            raise InvariantViolation(f"order {order.client_order_id} cannot be readmitted")
        self._orders[order.client_order_id] = order

    def revive_with(self, revive: Callable[[str], Order | None]) -> None:
        """Let finished orders go (:meth:`retire`) knowing ``revive`` brings one back by client order id.

        ``revive`` returns a new copy of the order as its events in the ledger make it,
        or None for an id the ledger does not know
        (:meth:`livegate.ledger.fold_retire.Retirement.order_copy`). :meth:`order`, a fill
        and :meth:`add_order`'s reuse check then see a retired order as if it was never let go.
        """
        self._revive = revive

    def order(self, client_order_id: str) -> Order | None:
        """Return the order with this client order id, or None (a retired one is brought back first)."""
        order = self._orders.get(client_order_id)
        if order is None and self._revive is not None:
            order = self._revive(client_order_id)
            if order is not None:
                self.readmit(order)
        return order

    def refresh(self, order: Order) -> None:
        """Drop ``order`` from the working set once it reached a terminal status."""
        if order.status.is_terminal:
            per = self._working.get(order.symbol)
            if per is not None and per.pop(order.client_order_id, None) is not None:
                self._working_count -= 1
                self._changed(order.symbol)

    def working_totals(self, symbol: str) -> WorkingTotals:
        """Return the summed working orders of ``symbol`` (all zero when none).

        O(1), except for the first read after a fill or a removal on ``symbol``, which
        sums that symbol's working orders afresh.
        """
        if symbol in self._dirty:
            self._rebuild(symbol)
        return self._totals.get(symbol, NO_WORKING)

    def working_totals_by_symbol(self) -> Mapping[str, WorkingTotals]:
        """Return the live map of symbols with working orders to their totals (do not mutate)."""
        for symbol in list(self._dirty):
            self._rebuild(symbol)
        return self._totals

    def exposed_symbols(self) -> Set[str]:
        """Return the live set of symbols with a non-zero position or a working order (do not mutate); O(1)."""
        return self._exposed

    def open_positions(self) -> Iterable[Position]:
        """Return the positions with a non-zero quantity (unordered); O(1)."""
        return self._open.values()

    def working_orders(self, symbol: str | None = None) -> list[Order]:
        """Return orders not yet terminal (including ``new`` ones awaiting dispatch)."""
        if symbol is not None:
            return list(self._working.get(symbol, {}).values())
        return [o for per in self._working.values() for o in per.values()]

    def working_count(self) -> int:
        """Return the number of working orders across symbols."""
        return self._working_count

    def all_orders(self) -> Iterable[Order]:
        """Return every order of the session in creation order."""
        return self._orders.values()

    # positions --------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        """Return the (possibly flat) position in ``symbol``."""
        pos = self._positions.get(symbol)
        if pos is None:
            pos = Position(symbol)
            self._positions[symbol] = pos
        return pos

    def position_quantity(self, symbol: str) -> Decimal:
        """Return the signed quantity held in ``symbol`` (base units), 0 when never traded; read-only."""
        pos = self._positions.get(symbol)
        return _ZERO if pos is None else pos.quantity

    def positions(self) -> list[Position]:
        """Return every position ever touched, sorted by symbol."""
        return [self._positions[s] for s in sorted(self._positions)]

    def adopt_position(self, position: Position) -> None:
        """Start the book from ``position``, held at the venue before any order of this book.

        ``livegate flatten --venue`` adopts the venue's positions so the reduce-only gate
        measures its closing orders against them.

        Raises
        ------
        InvariantViolation
            If the book already has orders or a position in that symbol.
        """
        symbol = position.symbol
        if self.position_quantity(symbol) != 0 or symbol in self._working:
            raise InvariantViolation(f"cannot adopt a position in {symbol}: the book already trades it")
        self._positions[symbol] = position
        if position.quantity != _ZERO:
            self._open[symbol] = position
        self._changed(symbol)

    def has_fill(self, fill: Fill) -> bool:
        """Return True when this fill (client order id, venue trade id) was applied (docs/architecture.md §3.6)."""
        return (fill.client_order_id, fill.fill_id) in self._fill_keys

    def apply_fill(self, fill: Fill) -> Position:
        """Apply ``fill`` to its order and position, once per (client order id, venue trade id).

        Raises
        ------
        InvariantViolation
            If the fill belongs to no known order, overfills it, or was applied before
            (check :meth:`has_fill` first: a repeated report is not an error).
        """
        key = (fill.client_order_id, fill.fill_id)
        if key in self._fill_keys:
            raise InvariantViolation(f"fill {fill.fill_id} of {fill.client_order_id} applied twice")
        order = self.order(fill.client_order_id)
        if order is None:
            raise InvariantViolation(f"fill {fill.fill_id} for unknown order {fill.client_order_id}")
        order.apply_fill(fill)
        self._fill_keys.add(key)
        self.fills_applied += 1
        if order.status.is_terminal:
            per = self._working.get(order.symbol)
            if per is not None and per.pop(order.client_order_id, None) is not None:
                self._working_count -= 1
        self._changed(order.symbol)
        pos = self.position(fill.symbol)
        pos.apply_fill(fill)
        if pos.quantity == _ZERO:
            self._open.pop(pos.symbol, None)
        else:
            self._open[pos.symbol] = pos
        positions = self._positions.values()
        self._realized = sum((p.realized_pnl for p in positions), _ZERO)
        self._fees = sum((p.fees for p in positions), _ZERO)
        self._turnover = sum((p.turnover for p in positions), _ZERO)
        self._changed(pos.symbol)
        return pos

    def view(self, symbol: str, mark: Decimal | None) -> PositionView:
        """Return a read-only view of the position in ``symbol``."""
        pos = self.position(symbol)
        return PositionView(
            symbol=symbol,
            quantity=pos.quantity,
            average_price=pos.average_price,
            realized_pnl=pos.realized_pnl,
            unrealized_pnl=None if mark is None else pos.unrealized_pnl(mark),
            fees=pos.fees,
        )

    # aggregates -------------------------------------------------------------
    def realized_pnl(self) -> Decimal:
        """Return realized PnL across symbols in quote currency (gross of fees)."""
        return self._realized

    def fees(self) -> Decimal:
        """Return fees paid across symbols in quote currency."""
        return self._fees

    def turnover(self) -> Decimal:
        """Return traded notional across symbols in quote currency."""
        return self._turnover

    def unrealized_pnl(self, marks: MarkSource) -> Decimal | None:
        """Return unrealized PnL at ``marks``; None when an open position has no mark (unknown)."""
        total = _ZERO
        for pos in self._open.values():
            mark = marks(pos.symbol)
            if mark is None:
                return None
            total += pos.unrealized_pnl(mark)
        return total

    def equity_pnl(self, marks: MarkSource) -> Decimal | None:
        """Return realized + unrealized - fees in quote currency; None when unknown."""
        unrealized = self.unrealized_pnl(marks)
        if unrealized is None:
            return None
        return self._realized + unrealized - self._fees

    def working_notional(self, symbol: str | None, reference: MarkSource) -> Decimal | None:
        """Return the notional of working orders' remaining quantity (limit price or reference)."""
        total = _ZERO
        for order in self.working_orders(symbol):
            price = order.price if order.price is not None else reference(order.symbol)
            if price is None:
                return None
            total += order.remaining_quantity * price
        return total

    def signed_working_quantity(self, symbol: str, side: Side) -> Decimal:
        """Return the remaining quantity of working orders on ``side`` of ``symbol`` (base units)."""
        totals = self.working_totals(symbol)
        return totals.buy.quantity if side is Side.BUY else totals.sell.quantity

    def _changed(self, symbol: str) -> None:
        """Mark ``symbol``'s totals for a rebuild and update whether it holds exposure (O(1))."""
        self.version += 1
        self._dirty.add(symbol)
        pos = self._positions.get(symbol)
        if self._working.get(symbol) or (pos is not None and pos.quantity != _ZERO):
            self._exposed.add(symbol)
        else:
            self._exposed.discard(symbol)

    def _rebuild(self, symbol: str) -> None:
        """Sum ``symbol``'s working orders afresh into its totals."""
        self._dirty.discard(symbol)
        per = self._working.get(symbol)
        if not per:
            self._totals.pop(symbol, None)
            return
        totals = WorkingTotals()
        for order in per.values():
            totals.add(order)
        self._totals[symbol] = totals
