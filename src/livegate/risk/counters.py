"""Gate 4b: limits with memory — daily turnover and order count, rate, duplicates, loss and drawdown.

Counters are O(1) per intent and roll at the trading-day boundary (:mod:`livegate.risk.daily`).
Gates that count implement ``record_approved``: the pipeline calls it only once every
gate has allowed the intent, so a denied intent never uses up a budget.

Emergency closes (:func:`is_flatten`: an intent livegate built with ``flatten`` and
``reduce_only`` both set) pass the rate, duplicate, turnover and daily-count gates —
and only those — so a kill's flatten is never stuck behind a budget a strategy used up
(issue 9 §10). They are still counted. Reduce-only, price band, quote tripwires and
the notional caps still apply (flatten splits its orders to the per-order cap).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from livegate.domain.enums import DenialCode, Side
from livegate.domain.orders import OrderIntent
from livegate.risk.daily import DailyBook, EquityPeak
from livegate.risk.gate import Deny, RiskContext
from livegate.risk.killswitch import reduces_position
from livegate.risk.memo import ExposureMemo

_RATE_WINDOW_MS = 1000
#: Remembered duplicate keys above which each new key first looks at the two oldest keys: forgotten
#: when the window has passed them, else moved to the back. O(1) per approval, never a long sweep
#: (a sweep of every key, as before, paused one approval in 64 for 15-60 us: benchmarks/gates.py).
DUPLICATE_KEYS_KEPT = 256

# (symbol, buy, float(quantity), float(price)): the float of a Decimal is correctly rounded from its value,
# so equal amounts (0.010 and 0.01) land on one key whatever their spelling, and a float hashes in a few
# dozen CPU instructions where a fresh Decimal's hash is a modular power in libmpdec (~3,000; callgrind,
# stop 28). Different amounts may share a float; each key therefore holds its approvals with their exact
# Decimal amounts, and only an approval of the same amounts (Decimal equality) is a duplicate.
# (Keying by as_integer_ratio() was tried at stop 26: fewer instructions, slower by the clock.)
_DuplicateKey = tuple[str, bool, float, float | None]
#: One remembered approval: its exact quantity, price (None: market) and time (ms since the epoch).
_Approval = tuple[Decimal, Decimal | None, int]


def duplicate_key(intent: OrderIntent) -> _DuplicateKey:
    """Return the key under which :class:`DuplicateIntentGate` files an intent's approvals.

    Raises
    ------
    ValueError
        If the quantity or price is a signalling NaN (the gate then raises: ``GATE_ERROR``).
    """
    price = intent.price
    return (intent.symbol, intent.side is Side.BUY, float(intent.quantity), None if price is None else float(price))


def approved_at(approvals: tuple[_Approval, ...], quantity: Decimal, price: Decimal | None) -> int | None:
    """Return when the approval of exactly ``quantity`` at ``price`` among ``approvals`` was made, None if none was."""
    for q, p, ts in approvals:
        if q == quantity and p == price:
            return ts
    return None


def is_flatten(intent: OrderIntent) -> bool:
    """Return True for an emergency close: ``flatten`` and ``reduce_only`` both set."""
    return intent.flatten and intent.reduce_only


class DailyTurnoverGate:
    """Deny when today's turnover plus working and new order notional exceeds ``max_daily_turnover_usd``."""

    name = "daily_turnover"
    __slots__ = ("_cap", "_daily", "_memo")

    def __init__(self, cap_usd: Decimal, pad: Decimal, daily: DailyBook, memo: ExposureMemo | None = None) -> None:
        self._cap = cap_usd
        self._daily = daily
        self._memo = memo or ExposureMemo(pad)

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``DAILY_TURNOVER_CAP`` when traded today + working + this order > cap (USD); flatten passes."""
        if intent.flatten and intent.reduce_only:  # is_flatten, inline: the chain runs on every intent
            return None
        daily = self._daily
        if intent.ts_ms >= daily.next_boundary_ms:
            daily.roll(intent.ts_ms, ctx.portfolio, ctx.quotes)
        memo = self._memo
        if memo.intent is not intent:
            memo.load(intent, ctx)
        price = memo.price
        working = memo.working(intent, ctx)
        if price is None or working is None:
            return Deny(DenialCode.UNKNOWN_PRICE, f"order on {intent.symbol} with no quote: turnover unknown")
        total = daily.turnover_today(ctx.portfolio) + working + intent.quantity * price
        if total <= self._cap:
            return None
        return Deny(DenialCode.DAILY_TURNOVER_CAP, f"would be {total:,.2f} USD today > cap {self._cap:,.2f} USD")


class DailyOrderCountGate:
    """Deny the order that would exceed ``max_orders_per_day`` approved orders this trading day."""

    name = "daily_order_count"
    __slots__ = ("_cap", "_daily")

    def __init__(self, cap: int, daily: DailyBook) -> None:
        self._cap = cap
        self._daily = daily

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``DAILY_ORDER_COUNT_CAP`` when approved today (all sessions of the account) + 1 > cap."""
        daily = self._daily
        if intent.ts_ms >= daily.next_boundary_ms:
            daily.roll(intent.ts_ms, ctx.portfolio, ctx.quotes)
        if daily.orders_today < self._cap or (intent.flatten and intent.reduce_only):
            return None
        return Deny(
            DenialCode.DAILY_ORDER_COUNT_CAP, f"would be order {daily.orders_today + 1} today > cap {self._cap}"
        )

    def record_approved(self, intent: OrderIntent, ctx: RiskContext) -> None:
        """Count an approved order (durable before the venue call for a venue account)."""
        self._daily.count_order()


class OrderRateGate:
    """Deny more than ``max_order_rate_per_sec`` approved orders in any sliding 1,000 ms window."""

    name = "order_rate"
    __slots__ = ("_cap", "_times")

    def __init__(self, cap_per_sec: int) -> None:
        self._cap = cap_per_sec
        self._times: deque[int] = deque()

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``ORDER_RATE`` when the last second already holds ``cap`` approved orders; flatten passes."""
        if intent.flatten and intent.reduce_only:
            return None
        times = self._times
        horizon = intent.ts_ms - _RATE_WINDOW_MS
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) < self._cap:
            return None
        return Deny(DenialCode.ORDER_RATE, f"would be {len(times) + 1} orders in 1 s > cap {self._cap}/s")

    def record_approved(self, intent: OrderIntent, ctx: RiskContext) -> None:
        """Remember the approval time."""
        self._times.append(intent.ts_ms)


class DuplicateIntentGate:
    """Deny an intent equal in symbol, side, quantity and price to one approved within ``duplicate_window_ms``."""

    name = "duplicate_intent"
    __slots__ = ("_found", "_key", "_key_for", "_last", "_order", "_window_ms")

    def __init__(self, window_ms: int) -> None:
        self._window_ms = window_ms
        self._last: dict[_DuplicateKey, tuple[_Approval, ...]] = {}
        # the keys of ``_last`` in filing order: the oldest is ``popleft``, O(1). ``next(iter(dict))``
        # after pops from a dict's front walks the deleted slots left there (~2 us a call at 256 keys)
        self._order: deque[_DuplicateKey] = deque()
        # the intent whose key ``check`` (or the fast path) built last, the key and what the memory held under
        # it then: the record of the same intent reuses both (nothing but a record changes the memory)
        self._key_for: object = None
        self._key: _DuplicateKey | None = None
        self._found: tuple[_Approval, ...] | None = None

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``DUPLICATE_INTENT`` when the same order was approved less than the window ago; flatten passes."""
        if intent.flatten and intent.reduce_only:
            return None
        # the key the fast path built for this very intent (its proof stopped here), else built now
        key = self._key if self._key_for is intent and self._key is not None else duplicate_key(intent)
        approvals = self._last.get(key)
        self._key, self._key_for, self._found = key, intent, approvals
        if approvals is None:
            return None
        last = approved_at(approvals, intent.quantity, intent.price)
        if last is None:
            return None
        age = intent.ts_ms - last
        if age >= self._window_ms:
            return None
        return Deny(
            DenialCode.DUPLICATE_INTENT,
            f"same {intent.side.value} {intent.quantity} {intent.symbol} @ {intent.price or 'market'} approved "
            f"{age} ms ago < window {self._window_ms} ms",
        )

    def record_approved(self, intent: OrderIntent, ctx: RiskContext) -> None:
        """Remember the approval; forget the approvals the window has passed."""
        key = self._key if self._key_for is intent else None
        if key is None:  # a flatten passed without ``check`` building its key
            key = duplicate_key(intent)
        self.remember(key, intent.quantity, intent.price, intent.ts_ms)

    def remember(self, key: _DuplicateKey, quantity: Decimal, price: Decimal | None, ts_ms: int) -> None:
        """Remember an approval of ``quantity`` at ``price`` (filed under ``key``) at ``ts_ms``.

        An approval of the same amounts already remembered keeps its amounts (their first
        spelling) and takes the new time; a key whose only approval the window has passed
        takes the new one in its place. Before a new key is filed, once more than
        :data:`DUPLICATE_KEYS_KEPT` are, the two oldest keys are looked at: the approvals
        the window has passed are forgotten (they can no longer deny, unless the clock
        steps back by more than the window), a key with any left moves to the back. Every
        key is looked at within half as many new keys as there are keys, so the memory
        stays within about twice the keys approved inside one window.
        """
        last = self._last
        approvals = last.get(key)
        if approvals is None:
            self.file_new(key, quantity, price, ts_ms)
            return
        if len(approvals) == 1 and ts_ms - approvals[0][2] >= self._window_ms:
            last[key] = ((quantity, price, ts_ms),)  # the key's one approval the window has passed is forgotten
            return
        for i, (q, p, _) in enumerate(approvals):
            if q == quantity and p == price:
                last[key] = (*approvals[:i], (q, p, ts_ms), *approvals[i + 1 :])
                return
        last[key] = (*approvals, (quantity, price, ts_ms))

    def file_new(self, key: _DuplicateKey, quantity: Decimal, price: Decimal | None, ts_ms: int) -> None:
        """File the first approval under ``key``, which the memory does not hold (see :meth:`remember`)."""
        last, order = self._last, self._order
        if len(last) >= DUPLICATE_KEYS_KEPT:
            horizon = ts_ms - self._window_ms
            for _ in range(2):
                oldest = order.popleft()
                filed = last.pop(oldest)
                if len(filed) == 1:  # the common case: one approval under the key
                    if filed[0][2] > horizon:
                        last[oldest] = filed
                        order.append(oldest)
                else:
                    kept = tuple(a for a in filed if a[2] > horizon)
                    if kept:
                        last[oldest] = kept
                        order.append(oldest)
        last[key] = ((quantity, price, ts_ms),)
        order.append(key)


class DailyLossGate:
    """Deny orders that do not reduce once today's loss reaches ``daily_loss_limit_usd``.

    Today's PnL is realized + unrealized - fees since the start of the trading day (issue 3).
    """

    name = "daily_loss"
    __slots__ = ("_daily", "_limit", "_memo")

    def __init__(self, limit_usd: Decimal, daily: DailyBook, memo: ExposureMemo | None = None) -> None:
        self._limit = limit_usd
        self._daily = daily
        self._memo = memo or ExposureMemo(Decimal(1))

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``DAILY_LOSS_LIMIT`` when loss >= limit and the intent does not reduce."""
        daily = self._daily
        if intent.ts_ms >= daily.next_boundary_ms:
            daily.roll(intent.ts_ms, ctx.portfolio, ctx.quotes)
        pnl = daily.pnl_from(self._memo.equity(intent, ctx))
        if pnl is None:
            return Deny(DenialCode.UNKNOWN_PRICE, "an open position has no mark: daily PnL unknown")
        if -pnl < self._limit or reduces_position(intent, ctx):
            return None
        return Deny(DenialCode.DAILY_LOSS_LIMIT, f"daily loss {-pnl:,.2f} USD >= limit {self._limit:,.2f} USD")


class DrawdownGate:
    """Deny orders that do not reduce once equity fell ``max_drawdown_usd`` below its peak."""

    name = "drawdown"
    __slots__ = ("_limit", "_memo", "_peak")

    def __init__(self, limit_usd: Decimal, peak: EquityPeak, memo: ExposureMemo | None = None) -> None:
        self._limit = limit_usd
        self._peak = peak
        self._memo = memo or ExposureMemo(Decimal(1))

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Deny ``DRAWDOWN_LIMIT`` when peak - equity >= limit and the intent does not reduce."""
        equity = self._memo.equity(intent, ctx)
        if equity is None:
            return Deny(DenialCode.UNKNOWN_PRICE, "an open position has no mark: equity unknown")
        drawdown = self._peak.drawdown(equity)
        if drawdown < self._limit or reduces_position(intent, ctx):
            return None
        return Deny(
            DenialCode.DRAWDOWN_LIMIT,
            f"drawdown {drawdown:,.2f} USD from peak {self._peak.peak:,.2f} >= limit {self._limit:,.2f} USD",
        )
